"""Minimum detectable effects of the TWFE integration terms, by simulation on the real design.

"No association" is only informative next to the effects the design could have detected
(methods.md section 6). The design (rows, areas, years, covariates, who is integrated when) is
held fixed; outcomes are simulated as

    y*(delta) = fitted null + v_g * restricted residuals + delta * treat

with the null ``b_term = 0`` imposed in the fit, one Webb weight ``v_g`` per area and replicate
(so each area's serial correlation is kept; Burlig, Preonas and Woerman 2020), and the test is
the package's CRV1 t with ``G - 1`` df at level ``alpha``. The coefficient is linear in ``y``
and the residuals do not depend on ``delta`` (``treat`` is in the design), so ``b*(delta) =
b*(0) + delta`` and the CRV1 SE are computed once per replicate and the power curve over a
grid of deltas costs one comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from integration_models.inference import (
    TwfeDesign,
    crv1,
    design_from_model_data,
    restricted_bootstrap_maps,
    webb_weights,
)
from integration_models.models.design import DesignError, model_data


@dataclass(frozen=True)
class PowerResult:
    """The minimum detectable effect of one term of one indicator and its power curve.

    Attributes
    ----------
    mde
        Smallest effect (outcome's model-scale units) detected with the target power; NaN if
        the grid never reaches it.
    mde_sd
        ``mde`` over the outcome's standard deviation across all rows.
    mde_resid_sd
        ``mde`` over the residual standard deviation of the TWFE fit.
    std_error
        CRV1 standard error of the term on the real outcome.
    deltas, power_curve
        The grid of effects and the simulated power at each.
    """

    indicator_id: str
    term: str
    mde: float
    mde_sd: float
    mde_resid_sd: float
    std_error: float
    sd: float
    resid_sd: float
    deltas: np.ndarray
    power_curve: np.ndarray
    reps: int

    def as_row(self) -> dict[str, object]:
        """One tidy row (no curve)."""
        return {
            "indicator_id": self.indicator_id,
            "term": self.term,
            "mde": self.mde,
            "mde_sd": self.mde_sd,
            "mde_resid_sd": self.mde_resid_sd,
            "std_error": self.std_error,
            "reps": self.reps,
        }


def simulated_power(
    design: TwfeDesign,
    y: np.ndarray,
    term: str,
    deltas: np.ndarray,
    *,
    alpha: float = 0.05,
    reps: int = 2000,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Simulate the power of the CRV1 t(G-1) test of ``term`` at each effect in ``deltas``.

    Replicates are ``fitted null + v_g * restricted residuals + delta * treat``. The residuals
    are not rescaled: the estimate is a weighted sum with weights orthogonal to the area
    effects, so the area-effect leverage that shrinks least squares residuals does not shrink
    the replicates' sampling variance of the estimate (only the year-effect leverage, about
    ``1/G``, does). The CRV1 factor ``G/(G-1) (N-1)/(N-K)`` counts the fixed effects in ``K``
    and so is conservative in this design; the simulated power reflects that, as the test
    reported does.

    Parameters
    ----------
    design
        From :func:`integration_models.inference.build_design`.
    y
        ``N`` outcome aligned with ``design.frame``.
    term
        One of ``design.terms``.
    deltas
        Effects to evaluate (outcome units).
    alpha, reps, seed
        Test level, number of replicates and seed of the Webb weights (common to all deltas).

    Returns
    -------
    numpy.ndarray
        Power (share of replicates rejecting) per delta.
    """
    if term not in design.terms:
        raise DesignError(f"term '{term}' is not estimable in this design")
    j = design.terms.index(term)
    beta_map, score_map, _ = restricted_bootstrap_maps(design, np.asarray(y, dtype=float), j)
    factor = design.crv1_factor
    weights = webb_weights(design.n_clusters, reps, seed)
    beta0 = beta_map[0] @ weights
    se = np.sqrt(factor * ((score_map[0] @ weights) ** 2).sum(axis=0))
    crit = stats.t.ppf(1 - alpha / 2, design.n_clusters - 1)
    deltas = np.asarray(deltas, dtype=float)
    reject = np.abs(beta0[:, None] + deltas[None, :]) > crit * se[:, None]
    return reject.mean(axis=0)


def _first_crossing(deltas: np.ndarray, curve: np.ndarray, target: float) -> float:
    """Smallest delta where the (interpolated) power curve reaches ``target``."""
    above = np.nonzero(curve >= target)[0]
    if above.size == 0:
        return float("nan")
    i = above[0]
    if i == 0:
        return float(deltas[0])
    d0, d1, p0, p1 = deltas[i - 1], deltas[i], curve[i - 1], curve[i]
    return float(d0 + (target - p0) * (d1 - d0) / (p1 - p0))


def minimum_detectable_effect(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    term: str = "integration_full",
    power: float = 0.8,
    alpha: float = 0.05,
    reps: int = 2000,
    seed: int | np.random.Generator | None = 20240601,
    grid: np.ndarray | None = None,
) -> PowerResult:
    """Minimum detectable effect of an integration term, simulated on the indicator's design.

    Parameters
    ----------
    panel
        The long panel.
    indicator_id, scale
        The indicator and its outcome scale (as for ``model_data``).
    term
        ``integration_full`` or ``integration_partial``.
    power, alpha
        Target power and test level (two-sided CRV1 t(G-1), the package's headline test).
    reps, seed
        Replicates and the seed of their weights.
    grid
        Effects to scan, in multiples of the CRV1 SE (default 0 to 8 in steps of 0.025); the
        MDE is interpolated linearly between grid points.

    Returns
    -------
    PowerResult
        MDE in the outcome's model-scale units and in SDs, with the power curve.
    """
    data = model_data(panel, indicator_id, scale)
    design, y = design_from_model_data(data)
    if term not in design.terms:
        raise DesignError(f"term '{term}' is not estimable for '{indicator_id}'")
    j = design.terms.index(term)
    se = float(crv1(design, y).std_error[0, j])
    multiples = np.linspace(0.0, 8.0, 321) if grid is None else np.asarray(grid, dtype=float)
    deltas = multiples * se
    curve = simulated_power(design, y, term, deltas, alpha=alpha, reps=reps, seed=seed)
    mde = _first_crossing(deltas, curve, power)
    resid = design.residualise_full(y[:, None])[:, 0]
    resid_sd = float(np.sqrt(resid @ resid / (design.n_obs - design.n_params)))
    sd = float(np.std(y, ddof=1))
    return PowerResult(
        indicator_id=indicator_id,
        term=term,
        mde=mde,
        mde_sd=mde / sd if sd > 0 else float("nan"),
        mde_resid_sd=mde / resid_sd if resid_sd > 0 else float("nan"),
        std_error=se,
        sd=sd,
        resid_sd=resid_sd,
        deltas=deltas,
        power_curve=curve,
        reps=reps,
    )
