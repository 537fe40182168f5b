"""Equivalence: which effects of integration the data rule out, under the plan's test.

"No association" alone is not a finding (issue 15): a p-value above ``alpha`` says only that
zero is not rejected. The conclusion has to say which effects are ruled out. For each
indicator and integration term this module gives, under the analysis plan's primary test
(``crv1``, ``cr2``, ``wcr`` or ``ri``):

- the ``1 - alpha`` confidence interval ``[conf_low, conf_high]``: effects below ``conf_low``
  or above ``conf_high`` are ruled out at level ``alpha`` (``ruled_out_below``,
  ``ruled_out_above``), and an end that no finite value reaches is infinite ("the data cannot
  rule out effects of any size in this direction");
- the two one-sided tests (TOST, Schuirmann 1987) of ``H0: beta <= -bound`` and
  ``H0: beta >= +bound`` at ``alpha``, with ``bound`` the plan's equivalence bound in the
  outcome's units, ``tost_p`` the larger of their p-values, and the ``1 - 2 alpha`` interval
  ``[tost_low, tost_high]``: equivalence is declared when that interval lies inside
  ``(-bound, +bound)``.

The tests of ``H0: beta = c`` for any ``c`` are the test of ``beta = 0`` on the shifted outcome
``y - c * d`` (``d`` the term's dummy), computed with the same draws for every ``c`` (the same
Webb weights for the wild cluster bootstrap, the same permutations for randomisation
inference), so the p-value is a deterministic function of ``c`` and the intervals are found
by bisection (:func:`invert`). CRV1 and CR2 are t-tests with closed-form intervals.

The bound is in standard deviations of the outcome over the area-years of the reference
period (years up to :data:`~integration_models.data.indices.REFERENCE_LAST_YEAR`, before most
partnerships went live) on the scale it is modelled on (:func:`reference_sd`), or in the
indicator's units, as the plan says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from integration_models.data.indices import REFERENCE_LAST_YEAR
from integration_models.inference.cluster import (
    cr2_bell_mccaffrey,
    crv1,
    resampling_p_value,
    restricted_bootstrap_maps,
    webb_weights,
)
from integration_models.inference.design import TwfeDesign, design_from_model_data
from integration_models.inference.permutation import (
    PartnershipHistories,
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.scope import Scope, analysed
from integration_models.inference.table import INFERENCE_LABELS, period_key_of
from integration_models.models.design import DesignError, ModelData, model_data
from integration_models.plan.analysis_plan import AnalysisPlan

SIDES = ("two", "greater", "less")  # H1: beta != c, beta > c, beta < c
TOLERANCE_SE = 1e-4  # the ends of a resampling interval are found to this many CRV1 SEs
MAX_DOUBLINGS = 12  # a bracket 2 x 2^12 CRV1 half-widths wide without rejection: unbounded
_TIE = 1e-12  # relative tolerance that keeps ties of a draw with the observed t as hits
NOT_IDENTIFIED = "not estimated: not identified"
# what a not-identified term keeps: who, which test and bound, and the point estimate
_KEPT = ("indicator_id", "term", "scale", "test", "alpha", "bound", "bound_scale", "bound_units",
         "sd", "estimate")  # fmt: skip
EQUIVALENCE_COLUMNS = [
    "indicator_id",
    "term",
    "scale",
    "test",
    "alpha",
    "bound",
    "bound_scale",
    "bound_units",
    "sd",
    "estimate",
    "conf_low",
    "conf_high",
    "tost_low",
    "tost_high",
    "p_lower",
    "p_upper",
    "tost_p",
    "equivalent",
    "ruled_out_below",
    "ruled_out_above",
    "tolerance",
    "conclusion",
    "note",
]


# --------------------------------------------------------------------------------------------
# The outcome's reference SD
# --------------------------------------------------------------------------------------------


def reference_sd(data: ModelData, last_year: int = REFERENCE_LAST_YEAR) -> float:
    """Return the SD of the modelled outcome over the reference period's area-years.

    The bound is a size that would matter, fixed before the results: the spread of the
    outcome across areas and years before most partnerships went live (years up to
    ``last_year``), on the scale the indicator is modelled on (``data.frame["y"]``: the value,
    or its log), so integration cannot move it. NaN with fewer than two such rows.
    """
    y = data.frame.loc[data.frame["year"] <= last_year, "y"].to_numpy(dtype=float)
    y = y[np.isfinite(y)]
    return float(np.std(y, ddof=1)) if len(y) > 1 else float("nan")


# --------------------------------------------------------------------------------------------
# The tests of H0: beta = c, for any c
# --------------------------------------------------------------------------------------------


class ShiftedTest:
    """A test of ``H0: beta_term = c`` for vectors of ``c``: p-values by side.

    Subclasses give :meth:`p_values`; ``estimate`` and ``std_error`` are the CRV1 values (the
    scale the interval search starts from).
    """

    estimate: float
    std_error: float

    def p_values(self, shifts: np.ndarray, sides: Sequence[str]) -> np.ndarray:
        """Return the p-value of ``H0: beta = shifts[i]`` against ``sides[i]`` (``SIDES``)."""
        raise NotImplementedError


class TTest(ShiftedTest):
    """A t-test with a given estimate, standard error and df (CRV1 or CR2)."""

    def __init__(self, estimate: float, std_error: float, df: float) -> None:
        self.estimate, self.std_error, self.df = float(estimate), float(std_error), float(df)

    def p_values(self, shifts: np.ndarray, sides: Sequence[str]) -> np.ndarray:
        """Student-t p-values of ``(estimate - c) / se`` with ``df`` degrees of freedom."""
        t = (self.estimate - np.asarray(shifts, dtype=float)) / self.std_error
        return _t_p_values(t, np.asarray(sides), self.df)

    def interval(self, level: float) -> tuple[float, float]:
        """Return the closed-form two-sided ``level`` interval ``estimate -+ t_q se``."""
        half = stats.t.ppf(0.5 + level / 2, self.df) * self.std_error
        return self.estimate - half, self.estimate + half


def _t_p_values(t: np.ndarray, sides: np.ndarray, df: float) -> np.ndarray:
    return np.select(
        [sides == "two", sides == "greater"],
        [2 * stats.t.sf(np.abs(t), df), stats.t.sf(t, df)],
        stats.t.cdf(t, df),
    )


def _resampled_p_values(
    observed: np.ndarray, draws: np.ndarray, sides: Sequence[str]
) -> np.ndarray:
    """``(hits + 1) / (B + 1)`` per column of ``draws`` (``B x K``), the hits by side.

    ``two``: ``|t*| >= |t|`` (symmetric, as the package's WCR and RI p-values); ``greater``:
    ``t* >= t``; ``less``: ``t* <= t``. Draws that are not finite are dropped.
    """
    sides = np.asarray(sides)
    valid = np.isfinite(draws)
    d = np.where(valid, draws, 0.0)
    slack = _TIE * np.abs(observed)[None]
    hits = np.select(
        [sides[None] == "two", sides[None] == "greater"],
        [np.abs(d) >= np.abs(observed)[None] - slack, d >= observed[None] - slack],
        d <= observed[None] + slack,
    )
    return resampling_p_value((hits & valid).sum(axis=0), valid.sum(axis=0))


class WcrTest(ShiftedTest):
    """The restricted wild cluster bootstrap (WCR) of ``H0: beta = c`` for any ``c``.

    The test of ``beta = c`` is the WCR test of ``beta = 0`` on ``y - c d``
    (:func:`~.cluster.wild_cluster_bootstrap`). Every piece is linear in the outcome, so with
    the maps of ``y`` and of ``d`` (:func:`~.cluster.restricted_bootstrap_maps`) a draw's
    estimate is ``b_y - c b_d`` and its squared CRV1 SE ``f (A - 2 c X + c^2 C)``, and the
    p-value at any ``c`` costs ``O(B)`` with the same ``G x B`` weights for every ``c``.
    """

    def __init__(self, design: TwfeDesign, y: np.ndarray, j: int, weights: np.ndarray) -> None:
        base = crv1(design, y)
        self.estimate = float(base.estimate[0, j])
        self.std_error = float(base.std_error[0, j])
        beta_map, score_map, _ = restricted_bootstrap_maps(
            design, np.column_stack([y, design.treat[:, j]]), j
        )
        self._beta = beta_map @ weights  # 2 x B
        scores = score_map @ weights  # 2 x G x B
        self._a = (scores[0] ** 2).sum(axis=0)
        self._x = (scores[0] * scores[1]).sum(axis=0)
        self._c = (scores[1] ** 2).sum(axis=0)
        self._factor = design.crv1_factor

    def statistics(self, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observed t (``K``) and bootstrap t* (``B x K``) of ``H0: beta = shifts``."""
        c = np.asarray(shifts, dtype=float)[None, :]
        numerator = self._beta[0][:, None] - c * self._beta[1][:, None]
        variance = self._a[:, None] - 2 * c * self._x[:, None] + c**2 * self._c[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = numerator / np.sqrt(self._factor * np.maximum(variance, 0.0))
        return (self.estimate - c[0]) / self.std_error, draws

    def p_values(self, shifts: np.ndarray, sides: Sequence[str]) -> np.ndarray:
        """Bootstrap p-values (:func:`_resampled_p_values`)."""
        return _resampled_p_values(*self.statistics(shifts), sides)


class RiTest(ShiftedTest):
    """Randomisation inference of ``H0: beta = c``: the RI test of ``beta = 0`` on ``y - c d``.

    The same permutations for every ``c``; the shifted outcomes of one call are columns of one
    :func:`~.permutation.randomization_inference`.
    """

    def __init__(
        self,
        design: TwfeDesign,
        y: np.ndarray,
        j: int,
        histories: PartnershipHistories,
        permutations: np.ndarray,
    ) -> None:
        base = crv1(design, y)
        self.estimate = float(base.estimate[0, j])
        self.std_error = float(base.std_error[0, j])
        self._design, self._y, self._j = design, np.asarray(y, dtype=float), j
        self._histories, self._permutations = histories, permutations

    def statistics(self, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observed t (``K``) and permuted t (``B x K``) of ``H0: beta = shifts``."""
        shifts = np.asarray(shifts, dtype=float)
        d = self._design.treat[:, self._j]
        outcomes = self._y[:, None] - d[:, None] * shifts[None, :]
        result = randomization_inference(
            self._design, outcomes, self._histories, permutations=self._permutations
        )
        return result.statistic[:, self._j], result.draws[:, :, self._j]

    def p_values(self, shifts: np.ndarray, sides: Sequence[str]) -> np.ndarray:
        """Randomisation p-values (:func:`_resampled_p_values`)."""
        return _resampled_p_values(*self.statistics(shifts), sides)


# --------------------------------------------------------------------------------------------
# Inverting a test: interval ends by bisection
# --------------------------------------------------------------------------------------------


def invert(
    test: ShiftedTest,
    alpha: float,
    sides: tuple[str, str],
    start: float,
    tol: float,
) -> tuple[float, float]:
    """Return the ends of ``{c : p(c) > alpha}`` around the estimate, by bisection.

    The lower end uses the test against ``sides[0]``, the upper against ``sides[1]``: the
    two-sided test for a ``1 - alpha`` interval (``("two", "two")``), or the one-sided tests
    ``("greater", "less")`` for the equal-tailed ``1 - 2 alpha`` interval of the TOST. At the
    estimate itself ``t = 0`` is never rejected. Each end is bracketed between the estimate
    and ``estimate -+ 2 * start`` (``start``: the CRV1 half-width), the outer point moved out
    by doubling until the test rejects there; if it still does not after
    :data:`MAX_DOUBLINGS`, that end is infinite (the data cannot bound the effect on that
    side, which happens with very few treated clusters). Then bisection until the bracket is
    narrower than ``tol``; both ends are evaluated in one call of ``test.p_values``.

    A resampling p-value is a step function of ``c`` (steps of ``1 / (B + 1)``), so the end is
    defined to ``tol``: the value returned is not rejected (``p > alpha``) and the value
    ``tol`` further out is (``p <= alpha``). Bisection finds one crossing per side; if the
    p-value is not monotone in ``c`` the accepted set may have holes, which this does not
    look for.

    Returns
    -------
    tuple of float
        ``(low, high)``; ``-inf`` / ``inf`` for an end no finite value reached.
    """
    centre = test.estimate
    inner = np.array([centre, centre])
    direction = np.array([-1.0, 1.0])
    distance = np.full(2, 2.0 * max(start, tol))
    rejected = np.zeros(2, dtype=bool)
    for _ in range(MAX_DOUBLINGS + 1):
        outer = centre + direction * distance
        todo = ~rejected
        p = test.p_values(outer, sides)
        rejected |= todo & (p <= alpha)
        if rejected.all():
            break
        inner = np.where(todo & ~rejected, outer, inner)
        distance = np.where(rejected, distance, 2 * distance)
    outer = centre + direction * distance
    while np.any(rejected & (np.abs(outer - inner) > tol)):
        middle = (inner + outer) / 2
        p = test.p_values(middle, sides)
        accept = p > alpha
        inner = np.where(rejected & accept, middle, inner)
        outer = np.where(rejected & ~accept, middle, outer)
    ends = np.where(rejected, inner, direction * np.inf)
    return float(ends[0]), float(ends[1])


# --------------------------------------------------------------------------------------------
# TOST and the interval on one design
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Equivalence:
    """The interval, the two one-sided tests and what they rule out, for one term.

    Attributes
    ----------
    estimate
        The TWFE estimate (model scale).
    conf_low, conf_high
        The ``1 - alpha`` interval of the plan's test: effects outside it are ruled out.
    tost_low, tost_high
        The ``1 - 2 alpha`` interval (equal-tailed: the one-sided tests inverted).
    p_lower, p_upper
        One-sided p-values of ``H0: beta <= -bound`` and of ``H0: beta >= bound``.
    bound
        The equivalence bound in the outcome's model-scale units.
    tolerance
        How precisely the interval ends are found (0 for the closed-form t intervals).
    """

    estimate: float
    conf_low: float
    conf_high: float
    tost_low: float
    tost_high: float
    p_lower: float
    p_upper: float
    bound: float
    tolerance: float

    @property
    def tost_p(self) -> float:
        """The TOST p-value: the larger of the two one-sided p-values."""
        return max(self.p_lower, self.p_upper)

    @property
    def equivalent(self) -> bool:
        """Whether the ``1 - 2 alpha`` interval lies inside ``(-bound, bound)``."""
        return bool(-self.bound < self.tost_low and self.tost_high < self.bound)


def make_test(
    design: TwfeDesign,
    y: np.ndarray,
    term: str,
    test: str,
    *,
    weights: np.ndarray | None = None,
    histories: PartnershipHistories | None = None,
    permutations: np.ndarray | None = None,
) -> ShiftedTest:
    """Return the plan's ``test`` (``crv1``, ``cr2``, ``wcr`` or ``ri``) of ``term``.

    ``weights`` (``G x B``, aligned with the design's areas) are needed for ``wcr``;
    ``histories`` and ``permutations`` for ``ri``.
    """
    j = design.terms.index(term)
    if test in ("crv1", "cr2"):
        result = (crv1 if test == "crv1" else cr2_bell_mccaffrey)(design, y)
        return TTest(result.estimate[0, j], result.std_error[0, j], float(result.df[0, j]))
    if test == "wcr":
        if weights is None:
            raise ValueError("the wild cluster bootstrap needs its weights")
        return WcrTest(design, y, j, weights)
    if test == "ri":
        if histories is None or permutations is None:
            raise ValueError("randomisation inference needs the histories and permutations")
        return RiTest(design, y, j, histories, permutations)
    raise ValueError(f"unknown test '{test}'")


def equivalence_test(test: ShiftedTest, alpha: float, bound: float) -> Equivalence:
    """TOST against ``[-bound, bound]`` and the intervals of one test (module docstring).

    The one-sided p-values come from the same test as the intervals: the test of
    ``beta = -bound`` against ``beta > -bound`` and of ``beta = bound`` against
    ``beta < bound``, one call. For t-tests the intervals are closed form; otherwise
    :func:`invert` finds them to ``TOLERANCE_SE`` CRV1 standard errors.
    """
    p_lower, p_upper = test.p_values(np.array([-bound, bound]), ("greater", "less"))
    if isinstance(test, TTest):
        (low, high), (t_low, t_high) = test.interval(1 - alpha), test.interval(1 - 2 * alpha)
        tol = 0.0
    else:
        tol = TOLERANCE_SE * test.std_error
        half = stats.norm.ppf(1 - alpha / 2) * test.std_error
        low, high = invert(test, alpha, ("two", "two"), half, tol)
        t_low, t_high = invert(test, alpha, ("greater", "less"), half, tol)
    return Equivalence(
        estimate=test.estimate,
        conf_low=low,
        conf_high=high,
        tost_low=t_low,
        tost_high=t_high,
        p_lower=float(p_lower),
        p_upper=float(p_upper),
        bound=float(bound),
        tolerance=float(tol),
    )


# --------------------------------------------------------------------------------------------
# The rows of equivalence.csv
# --------------------------------------------------------------------------------------------


def conclusion(result: Equivalence, alpha: float, scale: str, with_tost: bool = True) -> str:
    """Say in words what the interval rules out and (``with_tost``) whether equivalence holds."""
    unit = " (log points)" if scale == "log" else ""
    level = f"{100 * (1 - alpha):g}%"
    low, high = result.conf_low, result.conf_high
    if not np.isfinite(low) and not np.isfinite(high):
        ruled = f"the data cannot rule out effects of any size ({level} interval unbounded)"
    elif not np.isfinite(low):
        ruled = f"effects above {high:.3g}{unit} are ruled out; no bound below"
    elif not np.isfinite(high):
        ruled = f"effects below {low:.3g}{unit} are ruled out; no bound above"
    else:
        ruled = f"effects outside [{low:.3g}, {high:.3g}]{unit} are ruled out"
    if not with_tost:
        return f"{ruled} ({level}){unit}; no equivalence bound"
    if result.equivalent:
        verdict = f"equivalent to no effect within +-{result.bound:.3g}"
    else:
        largest = max(abs(low), abs(high))
        verdict = f"the data cannot rule out effects as large as {largest:.3g}"
    return f"{ruled} ({level}); {verdict}{unit} (TOST p = {result.tost_p:.3g})"


@dataclass(frozen=True)
class _Draws:
    """The resampling draws shared by every indicator, as the inference table draws them."""

    all_areas: np.ndarray
    weights_all: np.ndarray
    ri_seed: np.random.SeedSequence
    reps: int

    def weights_for(self, design: TwfeDesign) -> np.ndarray:
        return self.weights_all[np.searchsorted(self.all_areas, design.cluster_labels)]


def _shared_draws(population: pd.DataFrame, reps: int, seed: int, test: str) -> _Draws:
    """Draw the WCR weights and the RI seed exactly as :func:`~.table.few_cluster_rows` does.

    So the p-value of ``beta = 0`` here equals the inference table's row of the same test.
    """
    wcr_seed, ri_seed = np.random.SeedSequence(seed).spawn(2)
    all_areas = np.sort(population["area_code"].unique())
    size = reps if test == "wcr" else 0
    weights = webb_weights(len(all_areas), size, np.random.default_rng(wcr_seed))
    return _Draws(all_areas, weights, ri_seed, reps)


def _row(
    indicator: str, term: str, scale: str, plan: AnalysisPlan, label: str
) -> dict[str, object]:
    bound = plan.bound(indicator)
    row: dict[str, object] = dict.fromkeys(EQUIVALENCE_COLUMNS, float("nan"))
    row.update(
        indicator_id=indicator,
        term=term,
        scale=scale,
        test=label,
        alpha=plan.alpha,
        bound=bound.size,
        bound_scale=bound.scale,
        equivalent=pd.NA,
        conclusion="",
        note="",
    )
    return row


def _indicator_rows(
    panel: pd.DataFrame,
    indicator: str,
    scale: str,
    plan: AnalysisPlan,
    draws: _Draws,
    population: pd.DataFrame,
    scope: Scope | None,
    label: str,
) -> list[dict[str, object]]:
    """Return the rows of one indicator, one per plan term."""
    rows = [_row(indicator, term, scale, plan, label) for term in plan.terms]
    try:
        data = model_data(panel, indicator, scale)
        design, y = design_from_model_data(data)
    except DesignError as err:
        for row in rows:
            row["note"] = f"not estimated: {err}"
        return rows
    sd = reference_sd(data)
    bound = plan.bound(indicator).in_units(sd)
    for row in rows:
        term = str(row["term"])
        row.update(sd=sd, bound_units=bound)
        if scope is not None and not scope.includes(indicator, term):
            row["note"] = scope.reason(indicator, term) or "not estimated"
            continue
        if term not in design.terms:
            reason = data.not_estimable.get(term, "not estimable: no change within areas")
            row["note"] = f"not estimated: {reason.removeprefix('not estimable: ')}"
            continue
        bounded = bool(np.isfinite(bound))
        histories = permutations = None
        if plan.test == "ri":
            histories = partnership_histories(population, period_key_of(design))
            rng = np.random.default_rng(draws.ri_seed)
            permutations = draw_permutations(histories, draws.reps, rng)
        test = make_test(
            design, y, term, plan.test, weights=draws.weights_for(design), histories=histories,
            permutations=permutations,
        )  # fmt: skip
        # without a bound (no reference-period SD) the interval still says what is ruled out
        result = equivalence_test(test, plan.alpha, bound if bounded else 0.0)
        row.update(
            estimate=result.estimate,
            conf_low=result.conf_low,
            conf_high=result.conf_high,
            ruled_out_below=result.conf_low,
            ruled_out_above=result.conf_high,
            tolerance=result.tolerance,
            conclusion=conclusion(result, plan.alpha, scale, with_tost=bounded),
        )
        if not bounded:
            row["note"] = "no reference-period SD: no equivalence bound, so no TOST"
            continue
        row.update(
            tost_low=result.tost_low,
            tost_high=result.tost_high,
            p_lower=result.p_lower,
            p_upper=result.p_upper,
            tost_p=result.tost_p,
            equivalent=result.equivalent,
        )
    return rows


def equivalence_rows(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    plan: AnalysisPlan,
    *,
    reps: int = 9999,
    seed: int = 20240601,
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Equivalence rows (``EQUIVALENCE_COLUMNS``) of the plan's terms for some indicators.

    Parameters
    ----------
    panel
        The long panel, or one indicator's part of it.
    indicator_ids
        Indicators, in the order of the rows; each gets one row per plan term.
    scale_of
        Indicator -> outcome scale; missing means ``identity``.
    plan
        The analysis plan: its ``test``, ``alpha``, terms and bounds.
    reps, seed, population
        As for :func:`~.table.few_cluster_rows`, whose draws (the same weights per area and
        permutations) these tests use, so at ``c = 0`` they give its p-values.
    scope
        The terms the ``twfe`` fits estimated; the others keep a row saying why.

    Returns
    -------
    pandas.DataFrame
        One row per indicator and plan term; ``ruled_out_below`` / ``ruled_out_above`` are
        the interval's ends (effects beyond them are ruled out; infinite when unbounded).
    """
    population = panel if population is None else population
    draws = _shared_draws(population, reps, seed, plan.test)
    label = INFERENCE_LABELS[plan.test].format(reps=reps)
    rows = []
    for indicator in indicator_ids:
        scale = scale_of.get(indicator, "identity")
        if scope is not None and indicator not in analysed([indicator], scope):
            for row in (r := [_row(indicator, t, scale, plan, label) for t in plan.terms]):
                row["note"] = scope.reason(indicator, str(row["term"])) or "not estimated"
            rows.extend(r)
            continue
        rows.extend(_indicator_rows(panel, indicator, scale, plan, draws, population, scope, label))
    return _typed(pd.DataFrame(rows, columns=EQUIVALENCE_COLUMNS))


def withhold_not_identified(table: pd.DataFrame, inference_rows: pd.DataFrame) -> pd.DataFrame:
    """Blank the interval and the tests of every term the inference rows call not identified.

    Where too few partnerships change status (:mod:`~.identification`) the few-cluster rows
    carry no p-value; no interval, equivalence test or ruled-out effect is reported for that
    term either, only the estimate and the reason (in ``note`` and ``conclusion``).
    """
    labels = inference_rows["inference"].astype(str)
    reasons = (
        inference_rows.loc[labels.str.startswith(NOT_IDENTIFIED), ["indicator_id", "term"]]
        .assign(reason=labels.str.removeprefix("not estimated: "))
        .drop_duplicates(["indicator_id", "term"])
        .set_index(["indicator_id", "term"])["reason"]
    )
    keys = pd.MultiIndex.from_frame(table[["indicator_id", "term"]])
    withheld = keys.isin(reasons.index)
    if not withheld.any():
        return table
    out = table.astype({"equivalent": "boolean"})
    blank = [c for c in EQUIVALENCE_COLUMNS if c not in _KEPT]
    out.loc[withheld, [c for c in blank if c not in ("equivalent", "conclusion", "note")]] = np.nan
    out.loc[withheld, "equivalent"] = pd.NA
    reason = reasons.reindex(keys[withheld]).to_numpy()
    out.loc[withheld, "conclusion"] = "not identified: no interval or equivalence test"
    out.loc[withheld, "note"] = reason
    return out


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    text = ("indicator_id", "term", "scale", "test", "bound_scale", "conclusion", "note")
    numbers = [c for c in EQUIVALENCE_COLUMNS if c not in (*text, "equivalent")]
    return table.astype({**dict.fromkeys(numbers, float), "equivalent": "boolean"})


def combine_equivalence(
    parts: Sequence[pd.DataFrame], indicator_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Join per-indicator equivalence rows into the table ``equivalence.csv`` (no stamp).

    Nothing spans indicators here (no adjustment): the rows are concatenated, in the order of
    ``indicator_ids`` when given.
    """
    table = pd.concat(list(parts), ignore_index=True) if parts else pd.DataFrame()
    table = table.reindex(columns=EQUIVALENCE_COLUMNS)
    if indicator_ids is not None:
        order = {indicator: i for i, indicator in enumerate(indicator_ids)}
        table = table.sort_values(
            "indicator_id", key=lambda s: s.map(order), kind="stable"
        ).reset_index(drop=True)
    return _typed(table)
