"""HonestDiD relative-magnitude bounds for an overall integration effect, and the breakdown value.

Rambachan and Roth (2023): if parallel trends fail after integration by at most ``Mbar`` times
the largest change between consecutive pre-period event-time effects, the effect lies in an
identified set that grows with ``Mbar``, and a robust confidence interval covers it. The
*breakdown value* is the largest ``Mbar`` under which that interval still excludes zero: the
conclusion "there is an effect" survives violations of parallel trends up to ``Mbar`` times
the worst one seen before integration. ``Mbar = 0`` is the ordinary interval under parallel
trends.

The event study (``diff_diff.CallawaySantAnna``, as :mod:`integration_models.models.csdid`
runs it: the project's ``did_sample`` - cohorts from the classification's exposure, areas
first integrated in the other category left out, a switcher's years after its switch dropped
- never-integrated controls, outcome regression on ``deprivation_baseline`` where every area
has it, analytical influence-function covariance) has a *universal* base period (``e = -1``),
which the relative-magnitude restriction presumes.

The event window: event times estimated from at least ``min_treated`` treated areas, the
contiguous run around ``e = -1``. An event time carried by one area (Highland's long pre- and
post-periods) has a standard error blind to that area's own variability, and its jumps would
set the pre-period maximum alone. The target is the library's default: the equal-weight
average of the post-period (``e >= 0``) effects in the window.

Reported instead of a number: ``not identified: ...`` (fewer than the plan's
``min_partnerships`` partnerships with a pre- and post-period year, the rule of every other
estimate, :mod:`integration_models.inference.identification`); ``no pre-periods: not
computable`` (no ``e <= -2`` in the window: the restriction has nothing to scale); ``no
post-periods``; event time 0 missing (:data:`GAP`); and ``interval covers zero under parallel
trends`` where even ``Mbar = 0`` gives no conclusion to break down.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from integration_models.models.csdid import did_sample
from integration_models.models.design import BASELINE_COLUMN, DesignError

MBAR_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
BREAKDOWN_TOL = 1e-3
NO_PRE = "no pre-periods: not computable"
NO_POST = "no post-periods: not computable"
REFERENCE = -1
GAP = (
    "not computable: event time 0 is a transition period (out of the model rows) for too many "
    "cohorts, and the bounds need consecutive event times"
)


def excludes_zero(low: float, high: float) -> bool:
    """Whether a finite interval lies wholly on one side of zero."""
    return math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0)


def breakdown(
    interval_at: Callable[[float], tuple[float, float]],
    grid: Sequence[float] = MBAR_GRID,
    tol: float = BREAKDOWN_TOL,
) -> tuple[float, str]:
    """Return the largest ``Mbar`` whose robust interval excludes zero, and a note.

    The relative-magnitude set grows with ``Mbar``, so the intervals are nested and the
    ``Mbar`` excluding zero form an interval ``[0, m*)``: the grid brackets ``m*`` and
    bisection narrows it to ``tol``, returning the bracket's lower end (an ``Mbar`` known to
    exclude zero).

    Returns
    -------
    tuple
        ``(m*, "")``; ``(nan, reason)`` if the interval covers zero already at ``Mbar = 0``;
        ``(max(grid), "beyond the grid")`` if it excludes zero at every grid point.
    """
    grid = sorted(grid)
    excluded = [excludes_zero(*interval_at(m)) for m in grid]
    if not excluded[0]:
        return math.nan, "interval covers zero under parallel trends (Mbar = 0)"
    if all(excluded):
        return float(grid[-1]), f"excludes zero at every Mbar up to {grid[-1]:g}: beyond the grid"
    last = max(i for i, flag in enumerate(excluded) if flag and all(excluded[: i + 1]))
    low, high = grid[last], grid[last + 1]
    while high - low > tol:
        middle = (low + high) / 2
        if excludes_zero(*interval_at(middle)):
            low = middle
        else:
            high = middle
    return float(low), ""


def treated_counts(sample: pd.DataFrame) -> dict[int, int]:
    """Count the treated areas observed at each event time and at their base year ``g - 1``."""
    treated = sample[sample["g"] > 0]
    years = treated.groupby("area_code")["year"].apply(set)
    onset = treated.groupby("area_code")["g"].first()
    counts: dict[int, int] = {}
    for area, observed in years.items():
        g = int(onset[area])
        if g - 1 not in observed:
            continue
        for year in observed:
            e = int(year - g)
            counts[e] = counts.get(e, 0) + 1
    return counts


def event_window(counts: Mapping[int, int], min_treated: int) -> list[int]:
    """Return the contiguous event times around ``-1`` with ``min_treated`` treated areas.

    Event time 0 alone may be missing: for indicators of academic and financial years the
    go-live year is a transition period, left out of the model rows, so most cohorts have no
    ``e = 0``. The post-period then starts at ``e = 1``; :func:`honest_did` reports such a
    window as not computable (:data:`GAP`), as the relative-magnitude restriction bounds the
    change between consecutive event times and a two-year step would be held to a one-year
    bound (the library refuses it too).
    """
    if counts.get(REFERENCE, 0) < min_treated:
        return []
    window = [REFERENCE]
    e = REFERENCE - 1
    while counts.get(e, 0) >= min_treated:
        window.insert(0, e)
        e -= 1
    e = 0 if counts.get(0, 0) >= min_treated else 1
    while counts.get(e, 0) >= min_treated:
        window.append(e)
        e += 1
    return window


def identifying(sample: pd.DataFrame) -> list[str]:
    """Partnerships of treated areas observed at their base year and after their onset."""
    treated = sample[sample["g"] > 0]
    codes = set()
    for (_area, hscp), rows in treated.groupby(["area_code", "hscp_code"]):
        g = int(rows["g"].iloc[0])
        years = set(rows["year"])
        if g - 1 in years and any(year >= g for year in years):
            codes.add(str(hscp))
    return sorted(codes)


def event_study(sample: pd.DataFrame, alpha: float) -> tuple[object, str]:
    """``diff_diff.CallawaySantAnna`` with a universal base and an event-study aggregation.

    Outcome regression on ``deprivation_baseline`` (as ``csdid``) where every area has it,
    else unconditional; the method used is returned with the result.
    """
    from diff_diff import CallawaySantAnna

    covariates = None if sample[BASELINE_COLUMN].isna().any() else [BASELINE_COLUMN]
    estimator = CallawaySantAnna(
        control_group="never_treated",
        base_period="universal",
        estimation_method="reg",
        alpha=alpha,
        allow_unbalanced_panel=True,
    )
    data = sample[["area_code", "year", "y", "g", BASELINE_COLUMN]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = estimator.fit(
                data, "y", "area_code", "year", "g", covariates=covariates,
                aggregate="event_study",
            )  # fmt: skip
            method = "outcome regression on deprivation_baseline" if covariates else ""
        except (ValueError, np.linalg.LinAlgError):
            if covariates is None:
                raise
            result = estimator.fit(data, "y", "area_code", "year", "g", aggregate="event_study")
            method = ""
    return result, method or "unconditional"


def restrict(result: object, window: Sequence[int]) -> object:
    """Return a copy of a Callaway-Sant'Anna result whose event study keeps only ``window``.

    HonestDiD reads the event-time effects and subsets the covariance by their event times,
    so dropping the others from ``event_study_effects`` restricts the whole computation.
    """
    kept = copy.copy(result)
    kept.event_study_effects = {
        e: value for e, value in result.event_study_effects.items() if int(e) in set(window)
    }
    return kept


def honest_bounds(
    result: object, grid: Sequence[float] = MBAR_GRID, alpha: float = 0.05
) -> tuple[list[dict], float, str, dict]:
    """Relative-magnitude bounds over ``grid`` and the breakdown value, from the library.

    Returns the grid rows (``mbar``, ``lower``, ``upper``: identified set; ``conf_low``,
    ``conf_high``: robust interval), the breakdown value and its note, and the original
    estimate (``estimate``, ``std_error``).
    """
    from diff_diff import HonestDiD

    honest = HonestDiD(method="relative_magnitude", alpha=alpha)
    cache: dict[float, object] = {}

    def fit(m: float) -> object:
        if m not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[m] = honest.fit(result, M=m)
        return cache[m]

    rows = []
    for m in grid:
        bounds = fit(float(m))
        rows.append(
            {
                "mbar": float(m),
                "lower": float(bounds.lb),
                "upper": float(bounds.ub),
                "conf_low": float(bounds.ci_lb),
                "conf_high": float(bounds.ci_ub),
            }
        )
    value, note = breakdown(lambda m: (fit(m).ci_lb, fit(m).ci_ub), grid)
    first = fit(0.0)
    original = {
        "estimate": float(first.original_estimate),
        "std_error": float(first.original_se),
    }
    return rows, value, note, original


def honest_did(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    category: str,
    *,
    exposure: pd.DataFrame | None = None,
    alpha: float = 0.05,
    min_treated: int = 2,
    min_partnerships: int = 2,
    names: Mapping[str, str] | None = None,
    grid: Sequence[float] = MBAR_GRID,
) -> tuple[list[dict], dict]:
    """HonestDiD bounds of one category's overall effect: grid rows and a summary.

    The summary has ``status`` (``ok``, or the reason: not identified, no pre-periods, ...),
    ``event_window``, ``n_pre``, ``n_post``, ``estimate``, ``std_error``, ``breakdown``
    (NaN where not computable) and ``note``.
    """
    names = names or {}
    summary = {
        "status": "",
        "method": "",
        "event_window": "",
        "n_pre": 0,
        "n_post": 0,
        "n_identifying_areas": 0,
        "estimate": math.nan,
        "std_error": math.nan,
        "breakdown": math.nan,
        "note": "",
    }
    try:
        sample, _ = did_sample(panel, indicator_id, scale, category, exposure)
    except DesignError as err:
        summary["status"] = f"not computable: {err}"
        return [], summary
    partnerships = identifying(sample)
    summary["n_identifying_areas"] = len(partnerships)
    if len(partnerships) < min_partnerships:
        first, last = int(sample["year"].min()), int(sample["year"].max())
        shown = ", ".join(names.get(p, p) for p in partnerships) or "none"
        summary["status"] = (
            f"not identified: {len(partnerships)} partnership(s) change status within "
            f"{first}-{last} ({shown}); at least {min_partnerships} needed"
        )
        return [], summary
    window = event_window(treated_counts(sample), min_treated)
    pre = [e for e in window if e < REFERENCE]
    post = [e for e in window if e >= 0]
    summary.update(
        event_window=f"[{window[0]}, {window[-1]}]" if window else "",
        n_pre=len(pre),
        n_post=len(post),
    )

    if not post:
        summary["status"] = NO_POST
        return [], summary
    if not pre:
        summary["status"] = NO_PRE
        return [], summary
    if post[0] != 0:
        summary["status"] = GAP
        return [], summary
    try:
        result, method = event_study(sample, alpha)
    except (ValueError, np.linalg.LinAlgError) as err:
        summary["status"] = f"not computable: {err}".split("\n")[0][:300]
        return [], summary
    summary["method"] = method
    try:
        rows, value, note, original = honest_bounds(restrict(result, window), grid, alpha)
    except ValueError as err:  # e.g. a singular event-study covariance
        summary["status"] = f"not computable: {err}".split("\n")[0][:300]
        return [], summary
    summary.update(status="ok", breakdown=value, note=note, **original)
    return rows, summary
