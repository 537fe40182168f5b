"""Minimum detectable effects of the TWFE integration terms, by simulation on the real design.

"No association" is only informative next to the effects the design could have detected
(methods.md section 6). The design (rows, areas, years, covariates, who is integrated when) is
held fixed; outcomes are simulated as

    y*(delta) = fitted null + v_g * residuals + delta * treat

with one Webb weight ``v_g`` per area and replicate (so each area's serial correlation is kept;
Burlig, Preonas and Woerman 2020), and the test is the package's CRV1 t with ``G - 1`` df at
level ``alpha``. The coefficient is linear in ``y`` and the residuals do not depend on
``delta`` (``treat`` is in the design), so ``b*(delta) = b*(0) + delta`` and the CRV1 SE are
computed once per replicate: the power at any delta costs one comparison, and the MDE (the
smallest delta with the target power) is found exactly from the replicates, without a grid
(:func:`exact_mde`).

Which residuals (``residuals=``):

- ``"cr2"`` (default): the full model's residuals, so a real integration effect is not
  mistaken for noise, each area's block multiplied by ``(I - H_gg)^(-1/2)`` (the CR2
  correction, ``H`` the hat matrix with the fixed effects), which undoes the shrinkage of the
  treated areas' residuals when they are few. Under homoskedastic errors the corrected
  residuals have the errors' covariance.
- ``"restricted"``: residuals of the fit with the null ``b_term = 0`` imposed, as the wild
  cluster bootstrap (WCR) uses them. They contain any real effect of the term, which then
  counts as noise. Kept for comparison.

Checked against the truth (the MDE of the CRV1 t(G-1) test on 4,000 fresh iid samples of a
32-area x 14-year design; 30 simulated panels, B = 2,000; mean and SD of simulated / true MDE):

============== ============== ============== ==========================
treated areas  ``cr2``        ``restricted`` ``restricted``, effect 6 SD
============== ============== ============== ==========================
12             1.04 (0.15)    1.02 (0.14)    1.58
5              0.98 (0.27)    0.97 (0.30)    2.46
2              0.94 (0.60)    1.10 (0.58)    3.92
============== ============== ============== ==========================

``cr2`` is unchanged by a real effect (its residuals do not contain it); on the demo data the
restricted MDE of a term with a strong effect (``lac_rate``, t = -9) was 6.8 SEs against 3.0.
With one treated area its noise cannot be told from the effect, so no MDE is computed.

With very few treated areas (the partial term has two in the demo data) the nominal CRV1
t(G-1) test over-rejects: its simulated rejection rate at ``delta = 0`` (``size``) can be far
above ``alpha``, and its "power" then counts false rejections. Next to the nominal MDE the
table therefore gives a size-adjusted MDE, for the test that rejects when ``|t|`` exceeds the
``1 - alpha`` quantile of the simulated null ``|t*|``, so that its simulated size is
``alpha``.

The headline reports the analysis plan's test, not CRV1, so the table also gives the MDE of
that test (``mde_plan_test``, :func:`mde_plan_test`): the same replicates, each tested with
the plan's test (for the wild cluster bootstrap, 199 Webb draws in each of the first 500
replicates, vectorised over replicates and draws, :class:`WcrReplicates`). And a pre-test
of parallel trends that passes is reassurance only if it could have failed (Roth 2022):
``pretrend_mde_slope`` is the smallest linear differential pre-trend that the joint test of
the event-study leads detects with the target power (:func:`pretrend_mde_slope`).

Public functions: :func:`simulated_power` (a power curve on a design), :func:`exact_mde`,
:func:`minimum_detectable_effect` (one indicator and term), :func:`pre_period_mean` (the
baseline level) and :func:`power_table` (all indicators, the rows of ``power.csv``); the figure
is :func:`integration_models.plots.power.plot_power`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from integration_models import memory
from integration_models.inference.cluster import (
    cr2_bell_mccaffrey,
    crv1,
    resampling_p_value,
    restricted_bootstrap_maps,
    webb_weights,
)
from integration_models.inference.design import (
    TwfeDesign,
    _extend_basis,
    design_from_arrays,
    design_from_model_data,
)
from integration_models.inference.identification import not_identified
from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.inference.permutation import (
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.scope import Scope, analysed, complete_rows
from integration_models.inference.table import period_key_of
from integration_models.memory import CHUNK_ELEMENTS
from integration_models.models.design import DesignError, ModelData, model_data

TERMS = ("integration_full", "integration_partial")
DEFAULT_SEED = 20240601
GRID_MAX_SE = 8.0  # the power curves kept for display: 0 to 8 CRV1 SEs in 0.025 steps
GRID_STEP_SE = 0.025
RESIDUALS = ("cr2", "restricted")
MIN_TREATED_AREAS = 2
_EIGEN_TOL = 1e-10
_NO_CURVE = np.empty(0)
OVER_REJECTION = 2.0  # flag the nominal test when its simulated size exceeds this times alpha
POWER_COLUMNS = [
    "indicator_id",
    "term",
    "scale",
    "n_obs",
    "n_areas",
    "n_treated_areas",
    "n_identifying_areas",
    "std_error",
    "mde",
    "mde_sd",
    "mde_resid_sd",
    "mde_units",
    "units_note",
    "pre_mean",
    "mde_pct_pre_mean",
    "size",
    "over_rejects",
    "mde_size_adjusted",
    "mde_size_adjusted_sd",
    "reps",
    "residuals",
    "note",
    "test",
    "mde_plan_test",
    "pretrend_mde_slope",
]
_TEXT = ("units_note", "residuals", "note", "reps", "test")
UNITS_NOTE = {
    "identity": "indicator units",
    "log": "% change (log-scale model: 100 * (exp(mde) - 1))",
}


@dataclass(frozen=True)
class PowerResult:
    """The minimum detectable effect of one term of one indicator and its power curves.

    Attributes
    ----------
    mde
        Smallest effect (outcome's model-scale units) detected with the target power by the
        nominal CRV1 t(G-1) test (:func:`exact_mde`); NaN only if no replicate is finite.
    mde_sd
        ``mde`` over the outcome's standard deviation across all rows (model scale).
    mde_resid_sd
        ``mde`` over the residual standard deviation of the TWFE fit.
    std_error
        CRV1 standard error of the term on the real outcome.
    sd, resid_sd
        The two standard deviations used above.
    size
        Simulated rejection rate of the nominal test at ``delta = 0``.
    mde_size_adjusted
        MDE of the size-adjusted test (critical value: the ``1 - alpha`` quantile of the
        simulated null ``|t*|``).
    deltas, power_curve, power_curve_size_adjusted
        A grid of effects (multiples of ``std_error``) and the simulated power of both tests
        at each, for display; the MDEs do not depend on it.
    n_obs, n_areas, n_treated_areas
        Rows, areas and areas with at least one row coded with the term.
    n_identifying_areas
        Partnerships whose exposure to the term changes within the indicator's years (the
        clusters that identify it, :attr:`~.design.TwfeDesign.identifying_areas`).
    residuals
        Which residuals the replicates resample (``"cr2"`` or ``"restricted"``).
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
    size: float = float("nan")
    mde_size_adjusted: float = float("nan")
    power_curve_size_adjusted: np.ndarray | None = None
    n_obs: int = 0
    n_areas: int = 0
    n_treated_areas: int = 0
    n_identifying_areas: int = 0
    residuals: str = "cr2"

    def as_row(self) -> dict[str, object]:
        """One tidy row (no curves)."""
        return {
            "indicator_id": self.indicator_id,
            "term": self.term,
            "n_obs": self.n_obs,
            "n_areas": self.n_areas,
            "n_treated_areas": self.n_treated_areas,
            "n_identifying_areas": self.n_identifying_areas,
            "std_error": self.std_error,
            "mde": self.mde,
            "mde_sd": self.mde_sd,
            "mde_resid_sd": self.mde_resid_sd,
            "size": self.size,
            "mde_size_adjusted": self.mde_size_adjusted,
            "mde_size_adjusted_sd": _ratio(self.mde_size_adjusted, self.sd),
            "reps": self.reps,
            "residuals": self.residuals,
        }


# --------------------------------------------------------------------------------------------
# Simulation on one design
# --------------------------------------------------------------------------------------------


def _fwl_weights(design: TwfeDesign) -> np.ndarray:
    """Return the ``N x k`` weights giving coefficient ``j`` as ``w_j' y`` (Frisch-Waugh-Lovell)."""
    tilde = design.residualise_w(design.treat)
    return tilde @ np.linalg.inv(tilde.T @ tilde)


def cr2_residuals(design: TwfeDesign, y: np.ndarray) -> np.ndarray:
    """Return the full model's residuals with the CR2 correction ``(I - H_gg)^(-1/2)`` per area.

    ``H_gg`` is the area's diagonal block of the hat matrix of the full design (fixed effects,
    covariates and integration dummies). Least squares residuals have covariance ``sigma^2 (I
    - H)`` under homoskedastic errors, and for a treated area among few ``H_gg`` is large
    (the dummy nearly fits its post-period mean), so raw residuals understate its noise. The
    inverse square root is taken on the non-null eigenspace (the area effect always makes
    ``I - H_gg`` singular along the area's constant, where the residuals are zero anyway).

    Parameters
    ----------
    design
        From :func:`integration_models.inference.design.build_design`.
    y
        ``N`` outcome aligned with ``design.frame``.

    Returns
    -------
    numpy.ndarray
        ``N`` corrected residuals.
    """
    resid = design.residualise_full(np.asarray(y, dtype=float)[:, None])[:, 0]
    out = np.zeros_like(resid)
    basis = design.basis_full
    for g in range(design.n_clusters):
        rows = slice(design.bounds[g], design.bounds[g + 1])
        block = basis[rows]
        values, vectors = np.linalg.eigh(np.eye(block.shape[0]) - block @ block.T)
        keep = values > _EIGEN_TOL
        root = (vectors[:, keep] / np.sqrt(values[keep])) @ vectors[:, keep].T
        out[rows] = root @ resid[rows]
    return out


def _replicate_maps(
    design: TwfeDesign, y: np.ndarray, j: int, residuals: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return the maps from cluster weights to ``b*(0)`` (``G``) and CRV1 scores (``G x G``)."""
    if residuals == "restricted":
        beta_map, score_map, _ = restricted_bootstrap_maps(design, y, j)
        return beta_map[0], score_map[0]
    if residuals != "cr2":
        raise ValueError(f"unknown residuals '{residuals}' (use one of {', '.join(RESIDUALS)})")
    w = _fwl_weights(design)[:, j]
    split = np.zeros((design.n_obs, design.n_clusters))
    split[np.arange(design.n_obs), design.cluster] = cr2_residuals(design, y)
    score_map = design.cluster_sum(w[:, None] * design.residualise_full(split))
    return w @ split, score_map


def _null_replicates(
    design: TwfeDesign, y: np.ndarray, term: str, weights: np.ndarray, residuals: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return estimates and CRV1 SEs of ``term`` in the null replicates (``B`` each).

    ``weights`` are ``G x B`` cluster weights aligned with ``design.cluster_labels``.
    """
    if term not in design.terms:
        raise DesignError(f"term '{term}' is not estimable in this design")
    if weights.shape[0] != design.n_clusters:
        raise ValueError("weights must have one row per cluster of the design")
    j = design.terms.index(term)
    beta_map, score_map = _replicate_maps(design, np.asarray(y, dtype=float), j, residuals)
    beta0 = beta_map @ weights
    se = np.sqrt(design.crv1_factor * ((score_map @ weights) ** 2).sum(axis=0))
    return beta0, se


def _rejection_rate(
    beta0: np.ndarray, se: np.ndarray, crit: float, deltas: np.ndarray
) -> np.ndarray:
    """Share of replicates with ``|beta0 + delta| > crit * se``, for each delta."""
    return (np.abs(beta0[:, None] + deltas[None, :]) > crit * se[:, None]).mean(axis=0)


def _size_adjusted_critical_value(beta0: np.ndarray, se: np.ndarray, alpha: float) -> float:
    """Return the ``1 - alpha`` quantile of the null ``|t*|`` (upper order statistic)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(beta0 / se)
    t = np.where(np.isnan(t), 0.0, t)
    return float(np.quantile(t, 1 - alpha, method="higher"))


def simulated_power(
    design: TwfeDesign,
    y: np.ndarray,
    term: str,
    deltas: np.ndarray,
    *,
    alpha: float = 0.05,
    reps: int = 2000,
    seed: int | np.random.Generator | None = None,
    weights: np.ndarray | None = None,
    residuals: str = "cr2",
) -> np.ndarray:
    """Simulate the power of the CRV1 t(G-1) test of ``term`` at each effect in ``deltas``.

    Replicates are ``fitted null + v_g * residuals + delta * treat`` (module docstring). The
    CRV1 factor ``G/(G-1) (N-1)/(N-K)`` counts the fixed effects in ``K`` and so is
    conservative in this design; the simulated power reflects that, as the test reported does.

    Parameters
    ----------
    design
        From :func:`integration_models.inference.design.build_design`.
    y
        ``N`` outcome aligned with ``design.frame``.
    term
        One of ``design.terms``.
    deltas
        Effects to evaluate (outcome units).
    alpha, reps, seed
        Test level, number of replicates and seed of the Webb weights (common to all deltas).
    weights
        Optional ``G x B`` cluster weights aligned with ``design.cluster_labels`` (then
        ``reps`` and ``seed`` are ignored); pass weights indexed by area to share draws across
        indicators.
    residuals
        ``"cr2"`` (CR2-corrected full-model residuals) or ``"restricted"`` (null imposed).

    Returns
    -------
    numpy.ndarray
        Power (share of replicates rejecting) per delta.
    """
    if weights is None:
        weights = webb_weights(design.n_clusters, reps, seed)
    beta0, se = _null_replicates(design, y, term, weights, residuals)
    crit = stats.t.ppf(1 - alpha / 2, design.n_clusters - 1)
    return _rejection_rate(beta0, se, crit, np.asarray(deltas, dtype=float))


def exact_mde(beta0: np.ndarray, se: np.ndarray, crit: float, power: float) -> float:
    """Return the smallest effect ``delta >= 0`` at which the simulated power reaches ``power``.

    Replicate ``b`` accepts the null at effect ``delta`` when ``|beta0_b + delta| <= crit *
    se_b``, that is when ``delta`` lies in ``[lo_b, hi_b] = [-crit se_b - beta0_b, crit se_b -
    beta0_b]``. The power at ``delta`` is one minus the share of these intervals that contain
    it, a step function that can only rise just after some ``hi_b``; so the MDE is the first
    of ``0`` and the ``hi_b`` (ascending) after which at most ``(1 - power) B`` intervals still
    contain ``delta``. Exact for the replicates (no grid, no interpolation) and never "off the
    grid", however heavy the tails of ``t*``.

    Parameters
    ----------
    beta0, se
        Estimates and CRV1 SEs of the ``B`` null replicates.
    crit
        Critical value of ``|t|``.
    power
        Target power.

    Returns
    -------
    float
        The MDE (NaN if no replicate has a finite interval).
    """
    ok = np.isfinite(beta0) & np.isfinite(se)
    if not ok.any():
        return float("nan")
    lo = np.sort(-crit * se[ok] - beta0[ok])
    hi = np.sort(crit * se[ok] - beta0[ok])
    allowed = np.floor((1.0 - power) * ok.sum() + 1e-9)
    candidates = np.concatenate([[0.0], hi[hi > 0]])
    # intervals containing points just right of each candidate x: lo_b <= x < hi_b
    inside = np.searchsorted(lo, candidates, side="right") - np.searchsorted(
        hi, candidates, side="right"
    )
    return float(candidates[np.nonzero(inside <= allowed)[0][0]])


def _ratio(value: float, scale: float) -> float:
    """``value / scale``, NaN when the scale is not positive."""
    return value / scale if scale > 0 else float("nan")


def _default_grid() -> np.ndarray:
    """Effects in multiples of the CRV1 SE: 0 to ``GRID_MAX_SE`` in ``GRID_STEP_SE`` steps."""
    return np.linspace(0.0, GRID_MAX_SE, round(GRID_MAX_SE / GRID_STEP_SE) + 1)


def _mde_on_design(
    indicator_id: str,
    design: TwfeDesign,
    y: np.ndarray,
    term: str,
    weights: np.ndarray,
    *,
    power: float,
    alpha: float,
    grid: np.ndarray | None,
    residuals: str,
    min_partnerships: int = MIN_TREATED_AREAS,
) -> PowerResult:
    """Simulate both MDEs of ``term`` on a built design with given ``G x B`` weights.

    Raises DesignError when fewer than ``min_partnerships`` partnerships change status
    within the design's years (:attr:`~.design.TwfeDesign.identifying_areas`): the areas
    coded with the term in every year are absorbed by their area effects, so counting them
    ("ever treated") would simulate power for evidence the design does not have.
    """
    j = design.terms.index(term)
    n_treated = int(design.treated_areas[j])
    n_identifying = int(design.identifying_areas[j])
    if n_identifying < min_partnerships:
        years = design.frame["year"]
        window = f"{int(years.min())}-{int(years.max())}"
        raise DesignError(
            not_identified(n_identifying, window, min_partnerships) + ", no simulation"
        )
    se = float(crv1(design, y).std_error[0, design.terms.index(term)])
    multiples = _default_grid() if grid is None else np.asarray(grid, dtype=float)
    deltas = multiples * se
    beta0, se_star = _null_replicates(design, y, term, weights, residuals)
    crit = stats.t.ppf(1 - alpha / 2, design.n_clusters - 1)
    curve = _rejection_rate(beta0, se_star, crit, deltas)
    crit_adj = _size_adjusted_critical_value(beta0, se_star, alpha)
    curve_adj = _rejection_rate(beta0, se_star, crit_adj, deltas)
    size = float(_rejection_rate(beta0, se_star, crit, np.zeros(1))[0])
    resid = design.residualise_full(y[:, None])[:, 0]
    resid_sd = float(np.sqrt(resid @ resid / (design.n_obs - design.n_params)))
    sd = float(np.std(y, ddof=1))
    mde = exact_mde(beta0, se_star, crit, power)
    return PowerResult(
        indicator_id=indicator_id,
        term=term,
        mde=mde,
        mde_sd=_ratio(mde, sd),
        mde_resid_sd=_ratio(mde, resid_sd),
        std_error=se,
        sd=sd,
        resid_sd=resid_sd,
        deltas=deltas,
        power_curve=curve,
        reps=weights.shape[1],
        size=size,
        mde_size_adjusted=exact_mde(beta0, se_star, crit_adj, power),
        power_curve_size_adjusted=curve_adj,
        n_obs=design.n_obs,
        n_areas=design.n_clusters,
        n_treated_areas=n_treated,
        n_identifying_areas=n_identifying,
        residuals=residuals,
    )


def _design(data: ModelData) -> tuple[TwfeDesign, np.ndarray]:
    """Build the TWFE design of ``data``; DesignError if too few areas for a clustered test."""
    design, y = design_from_model_data(data)
    if design.n_clusters < 3:
        raise DesignError(f"only {design.n_clusters} area(s): a clustered test needs 3 or more")
    return design, y


def minimum_detectable_effect(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    term: str = "integration_full",
    power: float = 0.8,
    alpha: float = 0.05,
    reps: int = 2000,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    grid: np.ndarray | None = None,
    residuals: str = "cr2",
    min_partnerships: int = MIN_TREATED_AREAS,
) -> PowerResult:
    """Simulate the minimum detectable effect of an integration term on the indicator's design.

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
        Replicates and the seed of their weights (drawn for this design's areas only; see
        :func:`power_table` for weights shared across indicators).
    grid
        Effects at which the power curves are reported, in multiples of the CRV1 SE (default
        0 to 8 in steps of 0.025); the MDEs are exact and do not depend on it.
    residuals
        ``"cr2"`` or ``"restricted"`` (module docstring).
    min_partnerships
        The analysis plan's ``min_partnerships``: fewest partnerships changing status for
        the term to be simulated.

    Returns
    -------
    PowerResult
        MDE in the outcome's model-scale units and in SDs, with the power curves.

    Raises
    ------
    DesignError
        If the indicator cannot be modelled, the term is not estimable or fewer than
        ``min_partnerships`` partnerships change status within its years.
    """
    design, y = _design(model_data(panel, indicator_id, scale))
    if term not in design.terms:
        raise DesignError(f"term '{term}' is not estimable for '{indicator_id}'")
    weights = webb_weights(design.n_clusters, reps, seed)
    return _mde_on_design(
        indicator_id,
        design,
        y,
        term,
        weights,
        power=power,
        alpha=alpha,
        grid=grid,
        residuals=residuals,
        min_partnerships=min_partnerships,
    )


# --------------------------------------------------------------------------------------------
# Units: the pre-period mean and the conversions
# --------------------------------------------------------------------------------------------


def first_partnership_year(panel: pd.DataFrame) -> int:
    """Return the year the first partnership went live: the smallest ``hscp_start_year``.

    Without that column (or with it empty), the first year any area-year is coded other than
    ``none``. Raises DesignError if neither can be found.
    """
    if "hscp_start_year" in panel.columns and panel["hscp_start_year"].notna().any():
        return int(panel["hscp_start_year"].min())
    coded = panel.loc[panel["integration"] != "none", "year"]
    if coded.empty:
        raise DesignError("no area-year is integrated: no pre-integration period")
    return int(coded.min())


def pre_period_mean(panel: pd.DataFrame, indicator_id: str, first_year: int) -> tuple[float, int]:
    """Return the mean of an indicator in its own units over the pre-integration period.

    The pre-integration period is every row of the indicator with ``year < first_year`` (the
    year the first partnership went live, :func:`first_partnership_year`) and integration
    category ``none`` (so Highland's lead-agency years from 2012 are left out). The mean is
    the plain mean over those area-years of ``value`` (not population weighted), so it is the
    typical area's level before integration.

    Returns
    -------
    tuple of (float, int)
        The mean (NaN when there is no such row) and the number of area-years behind it.
    """
    rows = panel.loc[
        (panel["indicator_id"] == indicator_id)
        & (panel["year"] < first_year)
        & (panel["integration"] == "none"),
        "value",
    ]
    values = pd.to_numeric(rows, errors="coerce").dropna()
    return (float(values.mean()) if len(values) else float("nan")), len(values)


def units_of_mde(mde: float, scale: str, pre_mean: float) -> tuple[float, float]:
    """Convert an MDE to the indicator's units and to a percentage of the pre-period mean.

    On the identity scale the MDE is already in the indicator's units, and as a percentage of
    the pre-period mean it is ``100 * mde / pre_mean`` (NaN unless ``pre_mean > 0``). On the
    log scale an effect ``mde`` multiplies the outcome by ``exp(mde)``: it is reported as the
    proportional change ``100 * (exp(mde) - 1)`` per cent (an increase; the detectable decrease
    ``100 * (1 - exp(-mde))`` is smaller), which is also its percentage of any mean level,
    the pre-period mean included.

    Returns
    -------
    tuple of (float, float)
        ``mde_units`` (see ``UNITS_NOTE``) and ``mde_pct_pre_mean``.
    """
    if scale == "log":
        pct = 100.0 * float(np.expm1(mde))
        return pct, pct
    pct = 100.0 * mde / pre_mean if pre_mean > 0 else float("nan")
    return mde, pct


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TableSettings:
    """What every indicator of a power table shares: the weights, the period, the test."""

    all_areas: np.ndarray  # sorted area codes of the panel
    weights_all: np.ndarray  # one row of Webb weights per area of ``all_areas``
    first_year: int
    alpha: float
    power: float
    residuals: str
    plan: PlanTest
    population: pd.DataFrame
    min_partnerships: int = MIN_TREATED_AREAS

    @property
    def reps(self) -> int:
        """Number of replicates."""
        return self.weights_all.shape[1]

    def weights_for(self, design: TwfeDesign) -> np.ndarray:
        """Return the ``G x B`` weights of the design's areas."""
        return self.weights_all[np.searchsorted(self.all_areas, design.cluster_labels)]

    def draws_for(self, design: TwfeDesign) -> np.ndarray:
        """Return the ``G x PLAN_TEST_DRAWS`` bootstrap weights of the design's areas."""
        return self.plan.draws_all[np.searchsorted(self.all_areas, design.cluster_labels)]


def _empty_row(indicator: str, term: str, scale: str, reps: int, note: str) -> dict[str, object]:
    """Return a row for a term that could not be simulated, saying why."""
    row: dict[str, object] = dict.fromkeys(POWER_COLUMNS, float("nan"))
    row.update(
        indicator_id=indicator,
        term=term,
        scale=scale,
        n_obs=0,
        n_areas=0,
        n_treated_areas=0,
        n_identifying_areas=0,
        units_note=UNITS_NOTE.get(scale, ""),
        reps=reps,
        residuals="",
        note=note,
        test="",
    )
    return row


def _notes(result: PowerResult, settings: _TableSettings, pre_n: int) -> str:
    """Return why a number of the row is missing or should be read with care ("" if none)."""
    notes = []
    if np.isnan(result.mde):
        notes.append("no finite replicate: MDE not computed")
    if result.size > OVER_REJECTION * settings.alpha:
        notes.append(
            f"CRV1 t(G-1) over-rejects here (simulated size {result.size:.2f} at alpha "
            f"{settings.alpha:g}, {result.n_identifying_areas} identifying partnerships): read "
            "mde_size_adjusted"
        )
    if pre_n == 0:
        notes.append(f"no pre-period rows (category none, years before {settings.first_year})")
    return "; ".join(notes)


def _term_row(
    panel: pd.DataFrame,
    indicator: str,
    scale: str,
    design: TwfeDesign,
    y: np.ndarray,
    term: str,
    settings: _TableSettings,
) -> dict[str, object]:
    """Return the row of one estimable term of one indicator."""
    try:
        result = _mde_on_design(
            indicator,
            design,
            y,
            term,
            settings.weights_for(design),
            power=settings.power,
            alpha=settings.alpha,
            grid=_NO_CURVE,  # the table needs the MDEs only (exact), not the curves
            residuals=settings.residuals,
            min_partnerships=settings.min_partnerships,
        )
    except DesignError as err:
        row = _empty_row(indicator, term, scale, settings.reps, f"not estimated: {err}")
        j = design.terms.index(term)
        row.update(
            n_obs=design.n_obs,
            n_areas=design.n_clusters,
            n_treated_areas=int(design.treated_areas[j]),
            n_identifying_areas=int(design.identifying_areas[j]),
        )
        return row
    pre_mean, pre_n = pre_period_mean(panel, indicator, settings.first_year)
    mde_units, mde_pct = units_of_mde(result.mde, scale, pre_mean)
    row = _empty_row(indicator, term, scale, settings.reps, "")
    row.update(result.as_row())
    plan_mde = result.mde  # the nominal CRV1 t(G-1) test is the plan's: nothing more to simulate
    if settings.plan.test != "crv1":
        plan_mde = mde_plan_test(
            design, y, term, settings.weights_for(design), settings.plan,
            settings.draws_for(design), alpha=settings.alpha, power=settings.power,
            population=settings.population,
        )  # fmt: skip
    row.update(
        mde_units=mde_units,
        pre_mean=pre_mean,
        mde_pct_pre_mean=mde_pct,
        note=_notes(result, settings, pre_n),
        test=PLAN_TEST_LABELS[settings.plan.test],
        mde_plan_test=plan_mde,
    )
    return row


def _indicator_rows(
    panel: pd.DataFrame, indicator: str, scale: str, settings: _TableSettings
) -> list[dict[str, object]]:
    """Return the two rows (full, partial) of one indicator."""
    try:
        data = model_data(panel, indicator, scale)
        design, y = _design(data)
    except DesignError as err:
        note = f"not estimated: {err}"
        return [_empty_row(indicator, term, scale, settings.reps, note) for term in TERMS]
    rows = []
    pretrend = pretrend_mde_slope(
        design, y, settings.weights_for(design), alpha=settings.alpha, power=settings.power
    )
    for term in TERMS:
        if term in design.terms:
            row = _term_row(panel, indicator, scale, design, y, term, settings)
            row["pretrend_mde_slope"] = pretrend
            rows.append(row)
            continue
        reason = data.not_estimable.get(term, "not estimable: no change within areas")
        note = f"not estimated: {reason.removeprefix('not estimable: ')}"
        rows.append(_empty_row(indicator, term, scale, settings.reps, note))
    return rows


def power_table(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    *,
    reps: int = 2000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    power: float = 0.8,
    residuals: str = "cr2",
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
    min_partnerships: int = MIN_TREATED_AREAS,
    test: str = "crv1",
) -> pd.DataFrame:
    """Simulate the minimum detectable effects of both integration terms for many indicators.

    One Webb weight per area and replicate is drawn once from ``seed`` and shared by all
    indicators and both terms (each design takes the rows of its own areas), as
    :func:`integration_models.inference.table.few_cluster_table` shares its bootstrap weights; so
    the table is deterministic for a seed and an indicator's rows do not depend on which
    other indicators are in the table. The simulation of 25 indicators x 2 terms x 2,000
    replicates takes about 0.5 s on one core (building the 25 designs about as long again),
    so indicators are simulated one after the other.

    Parameters
    ----------
    panel
        The long panel (:func:`integration_models.data.ingest.build_panel`).
    indicator_ids
        Indicators, in the order of the output; one that cannot be modelled gets two rows
        saying why in ``note``.
    scale_of
        Indicator -> outcome scale (``identity`` or ``log``); missing means ``identity``.
    reps, seed
        Number of simulated replicates and the seed of their weights.
    alpha, power
        Level of the two-sided test and the target power.
    residuals
        ``"cr2"`` (default) or ``"restricted"`` (module docstring).
    scope
        The terms the ``twfe`` fits estimated (:mod:`integration_models.inference.scope`): only
        these are simulated; the others keep their rows, with the reason in ``note``.
    population
        Every area and year with its partnership (:func:`integration_models.data.panel.
        area_exposure`): the areas weights are drawn for and the first go-live year. Default:
        ``panel``.
    min_partnerships
        The analysis plan's ``identification.min_partnerships``: a term with fewer
        partnerships changing status within the indicator's years is not simulated, and its
        row says ``not estimated: not identified: ...``.
    test
        The analysis plan's test (``crv1``, ``cr2``, ``wcr`` or ``ri``) whose MDE
        ``mde_plan_test`` simulates (:func:`mde_plan_test`); its draws inside each replicate
        come from ``seed`` too, per area (WCR) or partnership (RI).

    Returns
    -------
    pandas.DataFrame
        Columns ``POWER_COLUMNS``, two rows per indicator (``integration_full``, then
        ``integration_partial``):

        - ``n_obs``, ``n_areas``, ``n_treated_areas``: rows, areas, areas coded with the term
          (ever treated);
        - ``n_identifying_areas``: partnerships whose exposure changes within the years (the
          clusters that identify the term; the simulation needs ``min_partnerships``);
        - ``std_error``: CRV1 SE of the term on the real outcome;
        - ``mde``: MDE of the nominal CRV1 t(G-1) test on the model scale;
        - ``mde_sd``, ``mde_resid_sd``: ``mde`` in SDs of the modelled outcome (all rows, as
          ``outcome_sd`` of ``model_fit``) and in residual SDs of the TWFE fit;
        - ``mde_units``: in the indicator's units (identity scale) or as a % change (log
          scale), as ``units_note`` says;
        - ``pre_mean``, ``mde_pct_pre_mean``: the pre-period mean (:func:`pre_period_mean`)
          and the MDE as a percentage of it (:func:`units_of_mde`);
        - ``size``: simulated rejection rate of the nominal test when there is no effect;
        - ``over_rejects``: whether that rate exceeds ``OVER_REJECTION`` times ``alpha``
          (the test misleads there; empty without a simulated size);
        - ``mde_size_adjusted``, ``mde_size_adjusted_sd``: MDE of the size-adjusted test;
        - ``reps``, ``residuals``: the simulation;
        - ``note``: why a row is empty or should be read with care;
        - ``test``, ``mde_plan_test``: the plan's test and its simulated MDE (model scale);
        - ``pretrend_mde_slope``: the smallest linear pre-trend (model-scale units per year,
          in the areas ever integrated) the joint pre-test of the event-study leads detects
          with the target power (:func:`pretrend_mde_slope`); the same on both rows.

    Raises
    ------
    ValueError
        If ``residuals`` is not one of ``RESIDUALS``.
    """
    if residuals not in RESIDUALS:
        raise ValueError(f"unknown residuals '{residuals}' (use one of {', '.join(RESIDUALS)})")
    population = panel if population is None else population
    all_areas = np.sort(population["area_code"].unique())
    if test not in PLAN_TEST_LABELS:
        raise ValueError(f"unknown test '{test}' (use one of {', '.join(PLAN_TEST_LABELS)})")
    # the plan test's own draws: a separate stream, so the replicates' weights are unchanged
    wcr_seed, ri_seed = np.random.SeedSequence([seed, 15]).spawn(2)
    n_draws = PLAN_TEST_DRAWS if test == "wcr" else 0
    draws_all = webb_weights(len(all_areas), n_draws, np.random.default_rng(wcr_seed))
    settings = _TableSettings(
        all_areas=all_areas,
        weights_all=webb_weights(len(all_areas), reps, np.random.default_rng(seed)),
        first_year=first_partnership_year(population),
        alpha=alpha,
        power=power,
        residuals=residuals,
        plan=PlanTest(test, draws_all, int(ri_seed.generate_state(1)[0])),
        population=population,
        min_partnerships=min_partnerships,
    )
    rows = []
    for indicator in analysed(indicator_ids, scope):
        scale = scale_of.get(indicator, "identity")
        rows.extend(_indicator_rows(panel, indicator, scale, settings))
    table = pd.DataFrame(rows, columns=POWER_COLUMNS)
    if scope is not None:
        blank = [c for c in POWER_COLUMNS[POWER_COLUMNS.index("std_error") :] if c not in _TEXT]
        defaults = {
            "n_obs": 0,
            "n_areas": 0,
            "n_treated_areas": 0,
            "n_identifying_areas": 0,
            "reps": reps,
            "residuals": "",
            "test": "",
        }
        table = complete_rows(table, scope, blank, "note", defaults).reset_index(drop=True)
        table["scale"] = table["indicator_id"].map(lambda i: scale_of.get(i, "identity"))
        table["units_note"] = table["scale"].map(UNITS_NOTE).fillna("")
    size = table["size"].to_numpy(dtype=float)
    flags = pd.array(size > OVER_REJECTION * alpha, dtype="boolean")
    flags[~np.isfinite(size)] = pd.NA
    table["over_rejects"] = flags
    counts = ("n_obs", "n_areas", "n_treated_areas", "n_identifying_areas", "reps")
    return table.astype(dict.fromkeys(counts, int))


# --------------------------------------------------------------------------------------------
# The plan's test: its MDE, and the power of the pre-trend test
# --------------------------------------------------------------------------------------------

# bootstrap draws (WCR) or permutations (RI) inside each replicate; the replicates used
PLAN_TEST_DRAWS = memory.PLAN_TEST_DRAWS
# the tests' own labels (inference.labels), with the draws each replicate's test has
PLAN_TEST_LABELS = {
    test: label.format(reps=f"{PLAN_TEST_DRAWS} per replicate")
    for test, label in INFERENCE_LABELS.items()
}
# the plan test's simulation uses the first replicates only: a WCR or RI test inside each one
# costs B = 199 draws; 500 replicates give the power to +-0.018 (one MC SE at 0.8)
WCR_MAX_REPLICATES = memory.PLAN_TEST_REPLICATES
RI_MAX_REPLICATES = 400  # RI refits every permutation of every replicate: fewer still
MAX_LEAD = 5  # event-study leads -2 .. -5, the earliest binned ("-5 or earlier")
_SEARCH_DOUBLINGS = 40
_SEARCH_TOL = 2e-3  # MDE searches stop when the bracket is this fraction of its upper end


def smallest_with_power(power_at: Callable[[float], float], start: float, target: float) -> float:
    """Return the smallest ``x > 0`` with ``power_at(x) >= target``, by doubling and bisection.

    ``power_at`` is a simulated rejection rate, a step function that rises with ``x`` apart
    from simulation noise; bisection finds one crossing, to ``_SEARCH_TOL`` of its value. NaN
    if the power never reaches the target within ``_SEARCH_DOUBLINGS`` doublings of ``start``.
    """
    low, high = 0.0, float(start)
    if not high > 0 or not np.isfinite(high):
        return float("nan")
    for _ in range(_SEARCH_DOUBLINGS):
        if power_at(high) >= target:
            break
        low, high = high, 2 * high
    else:
        return float("nan")
    while high - low > _SEARCH_TOL * high:
        middle = (low + high) / 2
        low, high = (low, middle) if power_at(middle) >= target else (middle, high)
    return high


def _split(design: TwfeDesign, values: np.ndarray) -> np.ndarray:
    """``N x G``: ``values`` split by cluster (zero outside the row's own cluster)."""
    out = np.zeros((design.n_obs, design.n_clusters))
    out[np.arange(design.n_obs), design.cluster] = values
    return out


@dataclass(frozen=True)
class WcrReplicates:
    """The restricted wild cluster bootstrap of every replicate ``E v_r + delta d`` at once.

    A replicate's outcome is ``y_r = E v_r + delta d`` (``E``: the CR2 residuals split by
    area, ``v_r`` its Webb weights, ``d`` the term's dummy; the null fit in the span of the
    fixed effects changes no test). Everything the WCR test of ``b = 0`` on ``y_r`` computes is
    linear in ``(v_r, delta)``: with ``M_r`` the residual maker of the restricted model,
    ``rho = M_r E v_r + delta M_r d``, a bootstrap draw ``u`` gives ``b** = u'(P v_r + delta
    p_d)`` and CRV1 scores ``(T v_r + delta T_d) u`` with ``P``, ``T`` (``G x G x G``),
    ``p_d``, ``T_d`` computed once per design and term. So the draws of all replicates at any
    ``delta`` cost ``O(R B)`` given the sums ``A = |S0|^2``, ``X = S0'S1`` and ``C = |S1|^2``
    of the scores ``S0 = (T v_r) u`` and ``S1 = T_d u``. One set of ``B`` bootstrap draws
    ``u`` serves every replicate (common random numbers: each replicate's test is a WCR test).
    """

    beta0: np.ndarray  # R: the replicate's estimate at delta = 0
    se: np.ndarray  # R: its CRV1 SE (does not depend on delta)
    n0: np.ndarray  # R x B
    n1: np.ndarray  # B
    a: np.ndarray  # R x B
    x: np.ndarray  # R x B
    c: np.ndarray  # B
    factor: float

    def p_values(self, delta: float) -> np.ndarray:
        """WCR p-values (symmetric, ``(hits + 1) / (B + 1)``) of every replicate at ``delta``."""
        observed = np.abs((self.beta0 + delta) / self.se)
        variance = self.factor * (self.a + 2 * delta * self.x + delta**2 * self.c[None])
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = np.abs((self.n0 + delta * self.n1[None]) / np.sqrt(variance))
        valid = np.isfinite(draws)
        hits = (np.where(valid, draws, 0.0) >= observed[:, None] * (1 - 1e-12)) & valid
        return resampling_p_value(hits.sum(axis=1), valid.sum(axis=1))


def wcr_replicates(
    design: TwfeDesign, y: np.ndarray, term: str, weights: np.ndarray, draws: np.ndarray
) -> WcrReplicates:
    """Build :class:`WcrReplicates`: ``weights`` ``G x R`` replicate, ``draws`` ``G x B``."""
    j = design.terms.index(term)
    w = _fwl_weights(design)[:, j]
    e = _split(design, cr2_residuals(design, y))
    d = design.treat[:, j]
    others = np.delete(design.treat, j, axis=1)
    basis_r = _extend_basis(design.basis_w, others)
    r_e = e - basis_r @ (basis_r.T @ e)  # M_r E, N x G
    r_d = d - basis_r @ (basis_r.T @ d)
    onehot = _split(design, np.ones(design.n_obs))
    g = design.n_clusters
    p = design.cluster_sum(w[:, None] * r_e)  # G x G
    p_d = design.cluster_sum(w * r_d)  # G
    # T[h, g, m] = sum over rows i of area h of w_i [M_full (1_g * r_e[:, m])]_i. With
    # M_full = I - Q Q', the identity part is P on the diagonal h = g, and the projection part
    # is WQ_h (Q_g' r_e,g) with WQ = cluster sums of w Q: no N x G x G array is formed
    q = design.basis_full
    wq = design.cluster_sum(w[:, None] * q)  # G x K
    qr = design.cluster_sum(q[:, :, None] * r_e[:, None, :])  # G x K x G: Q_g' r_e,g
    t = -np.einsum("hk,gkm->hgm", wq, qr)
    t[np.arange(g), np.arange(g), :] += p
    t_d = design.cluster_sum(w[:, None] * design.residualise_full(onehot * r_d[:, None]))
    s1 = t_d @ draws  # G x B
    beta0, se = _null_replicates(design, y, term, weights, "cr2")
    n_rep = weights.shape[1]
    a = np.empty((n_rep, draws.shape[1]))
    x = np.empty_like(a)
    step = max(1, CHUNK_ELEMENTS // max(1, g * g * draws.shape[1]))
    for start in range(0, n_rep, step):
        v = weights[:, start : start + step]  # G x r
        maps = np.einsum("hgm,mr->rhg", t, v)  # r x G x G
        s0 = maps @ draws  # r x G x B
        a[start : start + v.shape[1]] = (s0**2).sum(axis=1)
        x[start : start + v.shape[1]] = (s0 * s1[None]).sum(axis=1)
    return WcrReplicates(
        beta0=beta0,
        se=se,
        n0=(p @ weights).T @ draws,
        n1=p_d @ draws,
        a=a,
        x=x,
        c=(s1**2).sum(axis=0),
        factor=design.crv1_factor,
    )


@dataclass(frozen=True)
class PlanTest:
    """The plan's test and the draws its MDE simulation uses inside each replicate."""

    test: str
    draws_all: np.ndarray  # one row of ``PLAN_TEST_DRAWS`` Webb weights per area (WCR)
    seed: int


def mde_plan_test(
    design: TwfeDesign,
    y: np.ndarray,
    term: str,
    weights: np.ndarray,
    plan: PlanTest,
    draws: np.ndarray | None,
    *,
    alpha: float,
    power: float,
    population: pd.DataFrame | None = None,
) -> float:
    """Return the MDE of ``term`` under the plan's test, simulated on the replicates.

    The replicates are those of the nominal MDE (``fitted null + v_g * CR2 residuals + delta
    * treat``, ``weights`` ``G x R``); each is tested with the plan's own test at ``alpha``:

    - ``crv1``: the nominal CRV1 t(G-1) test, so the value equals ``mde``;
    - ``cr2``: the CR2 SE and Bell-McCaffrey df of each replicate (exact in ``delta``,
      :func:`exact_mde`);
    - ``wcr``: a WCR test of ``PLAN_TEST_DRAWS`` Webb draws in each of the first
      ``WCR_MAX_REPLICATES`` replicates (:class:`WcrReplicates`, vectorised over replicates
      and draws);
    - ``ri``: randomisation inference with ``PLAN_TEST_DRAWS`` permutations on the first
      ``RI_MAX_REPLICATES`` replicates (each refits every permutation).

    A resampling test with ``B + 1 = 200`` attains p-values in steps of ``1 / 200``, so its
    level at ``alpha = 0.05`` is exact; its power is slightly below that of ``B = 9999``.
    The smallest ``delta`` with the target power is found by :func:`smallest_with_power`.
    """
    j = design.terms.index(term)
    if plan.test in ("crv1", "cr2"):
        replicates = _split(design, cr2_residuals(design, y)) @ weights  # N x R
        method = crv1 if plan.test == "crv1" else cr2_bell_mccaffrey
        result = method(design, replicates)
        crit = stats.t.ppf(1 - alpha / 2, result.df[0, j])
        return exact_mde(result.estimate[:, j], result.std_error[:, j], float(crit), power)
    se = float(crv1(design, y).std_error[0, j])
    if plan.test == "wcr":
        reps = wcr_replicates(design, y, term, weights[:, :WCR_MAX_REPLICATES], draws)
        return smallest_with_power(lambda d: float((reps.p_values(d) <= alpha).mean()), se, power)
    if plan.test == "ri":
        population = design.frame if population is None else population
        histories = partnership_histories(population, period_key_of(design))
        perms = draw_permutations(histories, PLAN_TEST_DRAWS, np.random.default_rng(plan.seed))
        base = _split(design, cr2_residuals(design, y)) @ weights[:, :RI_MAX_REPLICATES]
        d = design.treat[:, j][:, None]

        def rate(delta: float) -> float:
            res = randomization_inference(design, base + delta * d, histories, permutations=perms)
            return float((res.p_value[:, j] <= alpha).mean())

        return smallest_with_power(rate, se, power)
    raise ValueError(f"unknown test '{plan.test}'")


def _event_leads(design: TwfeDesign) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Lead dummies ``lead_2`` .. ``lead_5`` and each row's event time (0: never treated).

    An area's event time counts from the first year of its rows coded with any integration
    term; leads ``-2`` to ``-MAX_LEAD`` (``-1`` the reference, earlier years binned into
    ``-MAX_LEAD``) for the areas ever coded; never-coded areas have no leads.
    """
    year = design.frame["year"].to_numpy(dtype=int)
    coded = design.treat.any(axis=1)
    first = np.full(design.n_clusters, np.iinfo(np.int64).max)
    np.minimum.at(first, design.cluster[coded], year[coded])
    ever = first[design.cluster] < np.iinfo(np.int64).max
    event = np.where(ever, year - np.where(ever, first[design.cluster], 0), 0)
    leads = {
        f"lead_{k}": (ever & ((event == -k) | ((k == MAX_LEAD) & (event < -k)))).astype(float)
        for k in range(2, MAX_LEAD + 1)
    }
    return leads, event * ever


def event_study_design(design: TwfeDesign) -> tuple[TwfeDesign, np.ndarray] | None:
    """Return the design with the leads of :func:`_event_leads` added, and the trend.

    Rows as ``design``'s (same order); None if the leads cannot be estimated.
    """
    leads, event = _event_leads(design)
    frame = design.frame
    try:
        es = design_from_arrays(
            frame["area_code"].to_numpy(dtype=str),
            frame["year"].to_numpy(dtype="int64"),
            {**leads, **{t: design.treat[:, i] for i, t in enumerate(design.terms)}},
            {c: frame[c].to_numpy(dtype=float) for c in design.controls},
        )
    except DesignError:
        return None
    if not any(t.startswith("lead_") for t in es.terms) or es.n_clusters < 3:
        return None
    return es, event.astype(float)


@dataclass(frozen=True)
class PretrendReplicates:
    """The joint CRV1 Wald statistic of the leads in every replicate, at any slope.

    Replicate ``r`` at slope ``s`` is ``E v_r + s * trend`` (``E``: the event study's CR2
    residuals split by area); its lead estimates are ``b0_r + s b1`` and its CRV1 scores
    ``S0_r + s S1``, so each slope costs ``R`` small ``q x q`` solves.
    """

    b0: np.ndarray  # q x R
    b1: np.ndarray  # q
    gram00: np.ndarray  # R x q x q: S0_r' S0_r
    gram01: np.ndarray  # R x q x q: S0_r' S1
    gram11: np.ndarray  # q x q: S1' S1
    factor: float
    n_clusters: int

    @property
    def q(self) -> int:
        """Number of leads tested."""
        return len(self.b1)

    def wald(self, slope: float) -> np.ndarray:
        """Return the Wald statistics ``b' V^-1 b`` (``R``), ``V`` the leads' CRV1 covariance."""
        b = (self.b0 + slope * self.b1[:, None]).T  # R x q
        cross = self.gram01 + self.gram01.transpose(0, 2, 1)
        cov = self.factor * (self.gram00 + slope * cross + slope**2 * self.gram11[None])
        return np.einsum("ri,ri->r", b, np.linalg.solve(cov, b[:, :, None])[:, :, 0])

    def rate(self, slope: float, alpha: float) -> float:
        """Share of replicates whose pre-test ``W / q > F_{1-alpha}(q, G - 1)`` rejects."""
        crit = stats.f.ppf(1 - alpha, self.q, self.n_clusters - 1)
        return float((self.wald(slope) / self.q > crit).mean())


def pretrend_replicates(
    design: TwfeDesign, y: np.ndarray, weights: np.ndarray
) -> PretrendReplicates | None:
    """Build :class:`PretrendReplicates` (``weights`` ``G x R``); None without leads."""
    built = event_study_design(design)
    if built is None:
        return None
    es, trend = built
    lead_cols = [i for i, t in enumerate(es.terms) if t.startswith("lead_")]
    w = _fwl_weights(es)[:, lead_cols]  # N x q
    split = _split(es, cr2_residuals(es, y))  # E, N x G
    score_map = es.cluster_sum(w[:, :, None] * es.residualise_full(split)[:, None, :])
    s0 = np.einsum("hqg,gr->rhq", score_map, weights)  # R x G x q
    s1 = es.cluster_sum(w * es.residualise_full(trend[:, None]))  # G x q
    return PretrendReplicates(
        b0=w.T @ split @ weights,
        b1=w.T @ trend,
        gram00=np.einsum("rhi,rhj->rij", s0, s0),
        gram01=np.einsum("rhi,hj->rij", s0, s1),
        gram11=s1.T @ s1,
        factor=es.crv1_factor,
        n_clusters=es.n_clusters,
    )


def pretrend_mde_slope(
    design: TwfeDesign,
    y: np.ndarray,
    weights: np.ndarray,
    *,
    alpha: float,
    power: float,
) -> float:
    """Return the smallest linear pre-trend the event-study pre-test detects with ``power``.

    A passed pre-test is reassurance only if it could have failed (Roth 2022). The pre-test
    is the joint CRV1 Wald test that the event-study leads are zero (``F = W / q`` against
    ``F(q, G - 1)``), on the design with the leads ``-2 .. -5`` (:func:`_event_leads`) added
    to the integration terms. The trend is ``slope * event time`` in the areas ever coded
    (all their years; other areas 0): a differential linear trend, the violation of parallel
    trends Roth studies. Replicates are ``v_g * CR2 residuals + slope * trend`` of the event
    study (``weights`` ``G x R``, :class:`PretrendReplicates`). The slope is in the outcome's
    model-scale units per year; NaN if the leads cannot be estimated.
    """
    replicates = pretrend_replicates(design, y, weights)
    if replicates is None:
        return float("nan")
    sd = float(np.std(y, ddof=1))
    start = sd / 100 if sd > 0 else 1.0
    try:
        return smallest_with_power(lambda s: replicates.rate(s, alpha), start, power)
    except np.linalg.LinAlgError:
        return float("nan")
