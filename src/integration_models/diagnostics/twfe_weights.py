"""The de Chaisemartin-D'Haultfoeuille weights of the ``twfe`` integration coefficients.

With area and year effects and controls ``X``, the least-squares coefficient of a 0/1
treatment ``D`` is ``b = sum_it e_it y_it / sum_it e_it D_it``, where ``e`` is the residual of
``D`` on the fixed effects and ``X`` (Frisch-Waugh-Lovell). If each treated area-year has its
own effect ``Delta_it`` (``y = a_i + g_t + X c + D Delta + u``), then
``E[b] = sum_{D_it = 1} w_it Delta_it`` with ``w_it = e_it / sum_{D = 1} e`` (de Chaisemartin and
D'Haultfoeuille 2020, Theorem 1; with controls their Theorem S4): the weights sum to one over
the treated area-years, and some can be negative. A negative weight means that a treated
area-year's effect *lowers* the coefficient: typically a late year of an early adopter, used
as a control for later switches. If effects grow with time since integration, enough negative
weight can shrink the coefficient towards zero or flip its sign although every effect has the
other sign.

Two designs, one binary treatment at a time:

- ``project``: the ``twfe`` model exactly (:func:`integration_models.models.twfe.fit_twfe`):
  area and year effects on the indicator's model rows, with the other integration dummy and
  ``deprivation_trend`` (where estimable) as controls. The weights are those of the
  coefficient the project reports; computed here in numpy, as the library takes no controls.
- ``plain``: the same rows, area and year effects only, the other category's area-years
  counted as untreated (``D = 0``). This is the design ``diff_diff.twowayfeweights`` handles,
  and it is computed both ways: the library's weights and ours agree to 1e-10 (tested), which
  checks the numpy code that the ``project`` design also uses.

``sigma_fe`` (the paper's Corollary 1, "sigma-bar"): the smallest standard deviation of the
treated area-years' effects under which they could all have the opposite sign to the
coefficient. ``sigma_ratio = sigma_fe / |b|``: below 1, heterogeneity smaller than the
coefficient itself could reverse its sign.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

# The verdict's threshold: a sum of negative weights ``S`` below this stops TWFE being trusted.
# Reason: with the positive weights summing to ``1 - S``, the coefficient can lie outside the
# range of the area-year effects by ``|S|`` times that range (it is at least
# ``min + S * (max - min)``). At ``S = -0.10``, effects from 0 to 2 over the years of exposure
# can give a coefficient of -0.2: the wrong sign with no effect below zero. Closer to 0 the
# overshoot is a small fraction of the effects' range. The same threshold for
# every indicator, term and dataset, fixed before the real data were seen (issue 16).
NEGATIVE_WEIGHT_LIMIT = -0.10
# event times counted as "early" in the share of weight on the first years of exposure
EARLY_EVENT_TIMES = (0, 1, 2)
_TOL = 1e-12


@dataclass(frozen=True)
class Weights:
    """The weights of one binary treatment's TWFE coefficient, row by row.

    Attributes
    ----------
    weights
        ``w_it = e_it / sum_{D = 1} e`` for every row (untreated rows too; only the treated
        rows' weights enter the decomposition).
    treated
        The rows with ``D = 1``.
    beta
        The TWFE coefficient of ``D`` (least squares with the same fixed effects and controls).
    """

    weights: np.ndarray
    treated: np.ndarray
    beta: float

    @property
    def n_weights(self) -> int:
        """Number of treated area-years (each carries one weight)."""
        return int(self.treated.sum())

    @property
    def treated_weights(self) -> np.ndarray:
        """The weights of the treated area-years."""
        return self.weights[self.treated]

    @property
    def n_negative(self) -> int:
        """Number of treated area-years with a negative weight."""
        return int((self.treated_weights < -_TOL).sum())

    @property
    def negative_sum(self) -> float:
        """Sum of the negative weights (0 if none)."""
        w = self.treated_weights
        return float(w[w < -_TOL].sum())

    @property
    def negative_share(self) -> float:
        """Share of the treated weights' absolute mass that is negative."""
        w = self.treated_weights
        total = float(np.abs(w).sum())
        return abs(self.negative_sum) / total if total > 0 else math.nan

    @property
    def sigma_fe(self) -> float:
        """Corollary 1's sigma-bar: ``|beta| / sd`` of the weights around 1 (equal shares)."""
        n1 = self.n_weights
        if n1 == 0 or not math.isfinite(self.beta):
            return math.nan
        paper = self.treated_weights * n1  # eps / mean_treated(eps)
        spread = float(np.mean((paper - 1.0) ** 2))
        return abs(self.beta) / math.sqrt(spread) if spread > _TOL else math.nan


def fe_design(area: np.ndarray, year: np.ndarray, controls: np.ndarray | None) -> np.ndarray:
    """Area dummies, year dummies but the first, and ``controls`` (rows x k), as one matrix."""
    _, area_codes = np.unique(np.asarray(area).astype(str), return_inverse=True)
    years, year_codes = np.unique(np.asarray(year), return_inverse=True)
    columns = [np.eye(area_codes.max() + 1)[area_codes], np.eye(len(years))[year_codes][:, 1:]]
    if controls is not None and controls.size:
        columns.append(np.asarray(controls, dtype=float).reshape(len(area_codes), -1))
    return np.column_stack(columns)


def twfe_weights(
    area: np.ndarray,
    year: np.ndarray,
    treatment: np.ndarray,
    outcome: np.ndarray,
    controls: np.ndarray | None = None,
) -> Weights:
    """Return the de Chaisemartin-D'Haultfoeuille weights of a 0/1 treatment's coefficient.

    Parameters
    ----------
    area, year
        Row identifiers (one row per area-year; unbalanced panels are fine).
    treatment
        0/1 per row.
    outcome
        The outcome, for the coefficient ``beta``.
    controls
        Further regressors (rows x k) or None: the project design passes the other
        integration dummy and ``deprivation_trend``.

    Returns
    -------
    Weights
        Residual-based weights normalised to sum to one over the treated rows.

    Raises
    ------
    ValueError
        If no row is treated, or the fixed effects and controls absorb the treatment (the
        treated residuals sum to zero).
    """
    d = np.asarray(treatment, dtype=float)
    treated = d > 0.5
    if not treated.any():
        raise ValueError("no treated area-year: no weights")
    design = fe_design(area, year, controls)
    fitted = design @ np.linalg.lstsq(design, d, rcond=None)[0]
    eps = d - fitted
    denominator = float(eps[treated].sum())
    if abs(denominator) < 1e-10:
        raise ValueError("the fixed effects and controls absorb the treatment: no weights")
    beta = float(eps @ np.asarray(outcome, dtype=float) / float(eps @ d))
    return Weights(weights=eps / denominator, treated=treated, beta=beta)


def library_weights(frame: pd.DataFrame, term: str) -> tuple[pd.DataFrame, object]:
    """``diff_diff.twowayfeweights`` of ``term`` on ``frame``'s rows (``y``, area, year).

    The ``plain`` design: area and year effects only. Returns the library's per-cell weights
    aligned with ``frame``'s rows (column ``weight``) and its result object.
    """
    import diff_diff

    data = frame[["area_code", "year", "y", term]].rename(columns={term: "d"})
    data["d"] = data["d"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = diff_diff.twowayfeweights(data, "y", unit="area_code", time="year", treatment="d")
    weights = result.weights.rename(columns={"weight": "weight"})
    aligned = data[["area_code", "year"]].merge(weights, on=["area_code", "year"], how="left")
    return aligned, result


def event_times(frame: pd.DataFrame, term: str, onset: dict[str, int] | None) -> np.ndarray:
    """Years since each area's first year in the term's category (NaN for untreated rows).

    ``onset`` maps area to its first year coded in the category (from the classification's
    exposure, so an area integrated before the indicator's window keeps its true onset);
    without it the area's first treated model row is used.
    """
    treated = frame[term].to_numpy() > 0.5
    if onset is None:
        onset = frame.loc[treated].groupby("area_code")["year"].min().to_dict()
    first = frame["area_code"].map(onset).to_numpy(dtype=float)
    return np.where(treated, frame["year"].to_numpy(dtype=float) - first, np.nan)


def concentration(frame: pd.DataFrame, weights: Weights) -> tuple[str, float]:
    """Return the area carrying most of the treated weights' absolute mass, and its share."""
    w = np.abs(weights.treated_weights)
    areas = frame["area_code"].to_numpy()[weights.treated]
    by_area = pd.Series(w).groupby(areas).sum()
    total = float(by_area.sum())
    if total <= 0:
        return "", math.nan
    top = str(by_area.idxmax())
    return top, float(by_area[top] / total)


def early_shares(times: np.ndarray, weights: Weights) -> tuple[float, float]:
    """Share of the weight, and of treated area-years, at :data:`EARLY_EVENT_TIMES`."""
    t = times[weights.treated]
    early = np.isin(t, EARLY_EVENT_TIMES)
    if not early.size:
        return math.nan, math.nan
    return float(weights.treated_weights[early].sum()), float(early.mean())


def verdict(negative_sum: float, sigma_ratio: float, reason: str = "") -> str:
    """Plain-language verdict on one coefficient's weights (:data:`NEGATIVE_WEIGHT_LIMIT`).

    ``reason`` (a ``not identified: ...`` or ``not estimable: ...`` text) comes first: such a
    term has no coefficient to trust or distrust.
    """
    if reason:
        return reason
    if not math.isfinite(negative_sum):
        return "no weights: not estimable"
    ratio = f"; sigma-bar {sigma_ratio:.2f} x |estimate|" if math.isfinite(sigma_ratio) else ""
    if negative_sum < NEGATIVE_WEIGHT_LIMIT:
        return (
            f"negative weights sum to {negative_sum:.2f} (limit {NEGATIVE_WEIGHT_LIMIT:.2f}): "
            f"TWFE not to be trusted{ratio}"
        )
    if negative_sum < -_TOL:
        return (
            f"negative weights sum to {negative_sum:.2f} (within {NEGATIVE_WEIGHT_LIMIT:.2f}): "
            f"TWFE usable{ratio}"
        )
    return f"no negative weights: TWFE is a convex average of the area-year effects{ratio}"
