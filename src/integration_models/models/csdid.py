"""Staggered difference-in-differences: Callaway-Sant'Anna group-time effects, in numpy.

Callaway and Sant'Anna (2021) estimate one effect per cohort ``g`` (first integration year)
and year ``t``, ``ATT(g, t)``, by comparing the change in the outcome from the base year
``g - 1`` to ``t`` in cohort ``g`` with the same change in the never-treated areas (integration
``none`` in every year). With a *universal* base period every year, before or after ``g``, is
compared with ``g - 1``, so the pre-period effects form a placebo event study and the effect
at event time ``-1`` is zero by construction. A series without a value in ``g - 1``
(biennial, or a year missing for every area) takes the last observed year before ``g`` as the
cohort's base, as R ``did`` and diff-diff do; that cohort's reference event time is then
earlier than ``-1``.

Estimators of one cell (``callaway_santanna(..., covariate=...)``):

- *outcome regression* (Sant'Anna and Zhao 2020, ``reg``): the change of the controls is
  regressed on ``1`` and the covariate at the base year (by default the area's
  pre-integration deprivation ``deprivation_baseline``, constant within the area: the
  covariate of ``twfe``'s ``deprivation_trend``, never the yearly series that changes with
  the SIMD edition), and the treated areas' predicted
  counterfactual change is subtracted from their observed change. It needs at least three
  control areas with varying covariate, but no minimum of treated areas, which matters here
  (Highland and Moray are one-area cohorts; a propensity score, hence the doubly robust
  estimator, is not identified for them, which is also why csdid's ``dr``/``reg`` return NA
  for those cohorts);
- *unconditional* (``covariate=None``): the plain difference of mean changes. If the outcome
  regression is not feasible in any cell, the whole run falls back to it and says so.

Inference follows ``did``/``csdid``: every estimate has an influence function over areas (so
clustering is by area), the simple and dynamic aggregations include the estimation effect of
the cohort-share weights, and standard errors come from a multiplier bootstrap with Rademacher
weights (``biters`` draws, fixed ``seed``), scaled by the interquartile range. Intervals are
pointwise normal intervals; a simultaneous (sup-t) critical value for the event study is also
returned. The pre-trend test is a joint Wald test that every pre-period event-time effect
(``e <= -2``) is zero, with the analytic influence-function covariance and chi-squared
degrees of freedom equal to its rank.

Cells with a missing year (``cells``; every demo and real panel has some): by default
(``within``) each ATT(g, t) uses the areas observed in both ``t`` and ``g - 1``, and compares
their changes; this is ``diff_diff.CallawaySantAnna``'s default panel path, cell for cell
(``tests/test_csdid_library.py``). The alternative, ``pooled``, is R ``did``'s and diff-diff's
``allow_unbalanced_panel=True``: the panel is treated as repeated cross-sections, and each
cell compares the mean over the areas observed at ``t`` with the mean over the areas
observed at ``g - 1`` (Sant'Anna and Zhao's ``reg_did_rc``; influence functions clustered
by area). The two are identical on a balanced panel. ``within`` is the convention of the
analysis, ``pooled`` a sensitivity variant
(:mod:`integration_models.results.sensitivity`, ``csdid_pooled_cells``), because a cell is
missing here when a small count was suppressed (or, for North Lanarkshire, after its switch),
not at random: the suppressed areas are mostly the small ones (the three island areas),
whose levels differ most from the rest. ``pooled`` then compares means over different sets of
areas, so the missing area's level, not any change over time, enters the effect: an area of
level ``a_m`` missing at ``g - 1`` from a cohort of ``n`` shifts every cell of that base by
``(a_m - mean of the others) / n`` (a constructed case in the tests). Its stationarity
assumption (the same population observed every year) fails by construction with 32 fixed
areas. ``within`` differences out each area's level and needs only that suppression is not
related to the area's change in that year (it is about the count's size, which is mostly the
area's level); its cost is that a cell rests on fewer areas. On the demo's ``kinship_care``
(identity scale, full integration) the 2016 cohort's base year lacks Orkney (about 100, the
others about 210) and, from 2019, North Lanarkshire (about 300): ``within`` gives 16.0,
``pooled`` -0.4.

Aggregation: the simple and event-time effects weight each cell by its cohort's share of the
areas (R ``did``'s fixed ``pg``), also when suppression leaves a cell fewer treated areas;
diff-diff's default panel path weights a cell by its own treated areas instead (the same on a
balanced panel; on ``kinship_care`` above, 18.5). diff-diff's ``allow_unbalanced_panel=True``
uses the fixed cohort shares, as here. Its standard errors with a covariate on that path are
too small (3.13.0: the controls' estimation effect is divided by the number of observations
twice); ours are checked against a numerical derivative.

Switchers (see :func:`treatment_cohorts`): an area's cohort is its first integration year and
its category the first category it was coded; years from the first change away from that
category on are dropped (North Lanarkshire, full 2016-2018 then partial: kept as a 2016 full
cohort up to 2018, and excluded from the partial analysis). A late adopter (Moray, none until
2019 then full) is an ordinary 2020 cohort. Highland (full from 2012) is its own cohort with
two pre-years (2010, 2011).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from integration_models.data.exposure import TRANSITION
from integration_models.inference.identification import not_identified
from integration_models.models.base import (
    COEFFICIENT_COLUMNS,
    failed_result,
    wald_row,
    with_identification,
    withhold_inference,
)
from integration_models.models.design import BASELINE_COLUMN, DesignError, model_data

CATEGORIES = ("full", "partial")
MODEL = "csdid"
EVENT_COLUMNS = [
    "indicator_id",
    "model",
    "category",
    "event_time",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
]
ATT_GT_COLUMNS = [
    "group",
    "time",
    "event_time",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "n_treated",
    "n_control",
]
REFERENCE_EVENT_TIME = -1
METHOD_OR = "outcome regression on {covariate} at the base year"
METHOD_UNCONDITIONAL = "unconditional"
MIN_CONTROLS_OR = 3
# How a cell treats areas not observed in both years (see the module docstring): ``within``
# (the default) differences each area observed in both; ``pooled`` averages every observed area.
CELLS = ("within", "pooled")
CELLS_POOLED_WORDS = (
    "cells pooled: each year's mean over the areas observed in it (repeated cross-sections, "
    "diff-diff allow_unbalanced_panel), not within-area changes"
)


# --------------------------------------------------------------------------------------------
# cohorts and the analysis sample


def treatment_cohorts(panel: pd.DataFrame) -> pd.DataFrame:
    """Return each area's first year coded full and partial, and how its coding ends.

    Parameters
    ----------
    panel
        The long panel's rows of one kind of period, with ``area_code``, ``year`` and
        ``integration`` (none, partial, full, transition).

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by ``area_code``: ``g_full`` and ``g_partial`` (first year
        coded full, resp. partial; 0 if never), ``first_category`` (category of the first
        exposed year, ``none`` if never integrated), ``g`` (first year touched by integration,
        a transition period straddling the go-live included, so that ``g - 1`` is wholly
        before it; 0 if never), ``end_year`` (first year after the first exposed year whose
        coding differs from ``first_category``, a transition period included, 0 if none: a
        switcher) and ``switcher`` (bool). Transition periods are out of the model rows
        (:func:`~.design.model_data`), so the cohort's cells in them are not estimated.
    """
    status = panel.drop_duplicates(["area_code", "year"])[["area_code", "year", "integration"]]
    status = status.sort_values(["area_code", "year"])
    rows = []
    for area, frame in status.groupby("area_code", sort=True):
        years = frame["year"].to_numpy()
        coding = frame["integration"].to_numpy()
        first = {c: int(years[coding == c].min()) if (coding == c).any() else 0 for c in CATEGORIES}
        touched = coding != "none"  # exposed, or a transition period straddling the go-live
        exposed = touched & (coding != TRANSITION)
        g = int(years[touched].min()) if touched.any() else 0
        category = str(coding[exposed][0]) if exposed.any() else "none"
        onset = int(years[exposed].min()) if exposed.any() else 0
        changed = (years > onset) & (coding != category) if onset else np.zeros(len(years), bool)
        end_year = int(years[changed].min()) if changed.any() else 0
        rows.append(
            {
                "area_code": area,
                "g_full": first["full"],
                "g_partial": first["partial"],
                "first_category": category,
                "g": g,
                "end_year": end_year,
                "switcher": bool(end_year),
            }
        )
    return pd.DataFrame(rows)


def exposure_of_period(exposure: pd.DataFrame, period_key: str) -> pd.DataFrame:
    """Return the rows of ``exposure`` of one kind of period (all if it has no ``period_key``).

    The classification's exposure is coded per kind of period (calendar, financial, school
    year); an indicator's cohorts come from the rows of its own kind.
    """
    if "period_key" in exposure.columns:
        return exposure[exposure["period_key"] == period_key]
    return exposure


def did_sample(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    category: str,
    exposure: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Build the rows of one category's analysis: its cohorts plus the never-treated areas.

    The cohorts (first year of exposure per area) come from ``exposure``, the classification's
    exposure of every area and year (``integration.parquet``), not from the indicator's own
    rows: an area integrated before the indicator's first observed year then keeps its true
    first year, so it is recognised as a cohort without a pre-period (it contributes no cell)
    instead of looking like an area first treated in the indicator's first year.

    Parameters
    ----------
    panel
        The long panel.
    indicator_id
        Which indicator.
    scale
        Outcome scale, ``identity`` or ``log`` (as :func:`~.design.model_data`).
    category
        ``full`` or ``partial``.
    exposure
        ``area_code, year, period_key, integration`` of every area and year
        (:func:`integration_models.data.exposure.exposure_table`); None takes the cohorts from
        ``panel``'s rows of the indicator's kind of period (every indicator's years).

    Returns
    -------
    tuple
        The sample (``area_code``, ``hscp_code``, ``year``, ``y``, ``deprivation``,
        ``deprivation_baseline``, ``g``; ``g`` = 0 for
        controls) and a dict recording what was left out: ``excluded_areas`` (integrated first
        in the other category), ``rows_dropped_after_switch`` and ``switch_areas``.

    Raises
    ------
    DesignError
        If the category is unknown or the indicator cannot be modelled on this scale.
    """
    if category not in CATEGORIES:
        raise DesignError(f"unknown category '{category}' (use one of {', '.join(CATEGORIES)})")
    data = model_data(panel, indicator_id, scale).frame
    source = exposure_of_period(panel if exposure is None else exposure, data["period_key"].iloc[0])
    cohorts = treatment_cohorts(source).set_index("area_code")
    frame = data[["area_code", "hscp_code", "year", "y", "deprivation", BASELINE_COLUMN]].copy()
    info = cohorts.reindex(frame["area_code"])
    first = info["first_category"].to_numpy()
    keep_area = (first == "none") | (first == category)
    excluded = sorted(set(frame.loc[~keep_area, "area_code"]))
    frame["g"] = np.where(first == category, info["g"].to_numpy(), 0).astype(int)
    end = info["end_year"].to_numpy()
    after_switch = keep_area & (first == category) & (end > 0) & (frame["year"].to_numpy() >= end)
    switched = sorted(set(frame.loc[after_switch, "area_code"]))
    frame = frame[keep_area & ~after_switch].reset_index(drop=True)
    record = {
        "excluded_areas": excluded,
        "rows_dropped_after_switch": int(after_switch.sum()),
        "switch_areas": switched,
    }
    return frame, record


# --------------------------------------------------------------------------------------------
# group-time effects


def _cell(
    dy: np.ndarray, treated: np.ndarray, x: np.ndarray | None
) -> tuple[float, np.ndarray] | None:
    """ATT of one cell and its influence function over the cell's areas (None if infeasible)."""
    n = len(dy)
    n_t = int(treated.sum())
    p = n_t / n
    d = treated.astype(float)
    if x is None:
        mean_t, mean_c = dy[treated].mean(), dy[~treated].mean()
        psi = d * (dy - mean_t) / p - (1 - d) * (dy - mean_c) / (1 - p)
        return float(mean_t - mean_c), psi
    design = np.column_stack([np.ones(n), x])
    controls = design[~treated]
    if len(controls) < MIN_CONTROLS_OR or np.linalg.matrix_rank(controls) < design.shape[1]:
        return None
    beta = np.linalg.lstsq(controls, dy[~treated], rcond=None)[0]
    residual = dy - design @ beta
    att = float(residual[treated].mean())
    gram = (design * (1 - d)[:, None]).T @ design / n
    lever = np.linalg.solve(gram, design[treated].mean(axis=0))
    psi = d * (residual - att) / p - (1 - d) * residual * (design @ lever)
    return att, psi


def _base_index(years: list[int], g: int) -> int | None:
    """Position of cohort ``g``'s base year: the last observed year before ``g`` (None if none).

    That is ``g - 1`` for a yearly series; for a biennial or gapped one without ``g - 1`` it is
    the latest earlier year, as R ``did`` and diff-diff choose (dropping the cohort instead
    would throw away areas with pre-periods: real ``attendance``'s 2015 cohort, 3 of 13 areas).
    """
    before = [i for i, year in enumerate(years) if year < g]
    return before[-1] if before else None


def _cohort_cells(
    wide: pd.DataFrame, covariate: pd.DataFrame | None, groups: pd.Series
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, list[tuple]]:
    """Return the arrays of a group-time estimate and the cells it estimates.

    That is the outcome and the covariate (areas x years, None without one), each area's
    cohort (0: never treated) and the cells: every cohort ``g`` with a base year
    (:func:`_base_index`) and every other year ``t``, as ``(g, base position, t's position,
    t)``.
    """
    years = list(wide.columns)
    y = wide.to_numpy(dtype=float)
    x = None if covariate is None else covariate.reindex_like(wide).to_numpy(dtype=float)
    g_of = groups.reindex(wide.index).to_numpy()
    todo = []
    for g in sorted(set(g_of[g_of > 0])):
        b = _base_index(years, g)
        if b is None:
            continue
        todo.extend((g, b, j, t) for j, t in enumerate(years) if t != years[b])
    return y, x, g_of, todo


def _cell_row(g, t, att: float, n_treated: int, n_control: int) -> dict:
    """One ATT(g, t) row of a group-time estimate."""
    return {
        "group": int(g),
        "time": int(t),
        "event_time": int(t - g),
        "estimate": att,
        "n_treated": n_treated,
        "n_control": n_control,
    }


def _stacked(
    cells: list[dict], influence: list[np.ndarray], n_units: int
) -> tuple[list[dict], np.ndarray]:
    """Return the cells and their influence functions as an N x K array (N x 0 if no cell)."""
    if not cells:
        return [], np.zeros((n_units, 0))
    return cells, np.column_stack(influence)


def _group_time(
    wide: pd.DataFrame, covariate: pd.DataFrame | None, groups: pd.Series
) -> tuple[list[dict], np.ndarray] | None:
    """All ATT(g, t) with a universal base period and their influence functions (N x K)."""
    y, x, g_of, todo = _cohort_cells(wide, covariate, groups)
    n_units = len(g_of)
    cells: list[dict] = []
    influence = []
    for g, b, j, t in todo:
        observed = ~np.isnan(y[:, j]) & ~np.isnan(y[:, b])
        if x is not None:
            observed &= ~np.isnan(x[:, b])
        in_cell = observed & ((g_of == g) | (g_of == 0))
        treated = g_of[in_cell] == g
        if treated.sum() < 1 or (~treated).sum() < 2:
            continue
        dy = y[in_cell, j] - y[in_cell, b]
        out = _cell(dy, treated, None if x is None else x[in_cell, b])
        if out is None:
            return None
        att, psi = out
        column = np.zeros(n_units)
        column[in_cell] = psi * n_units / in_cell.sum()
        influence.append(column)
        cells.append(_cell_row(g, t, att, int(treated.sum()), int((~treated).sum())))
    return _stacked(cells, influence, n_units)


def _pooled_cell(
    y_t: np.ndarray,
    y_s: np.ndarray,
    treated: np.ndarray,
    x_t: np.ndarray | None,
    x_s: np.ndarray | None,
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """ATT of one cell from pooled observations, and each area's influence at ``t`` and ``s``.

    ``y_t``, ``y_s`` are the outcomes of the cell's areas at ``t`` and at the base year
    (NaN where not observed), ``treated`` whether each area is in the cohort, ``x_t``,
    ``x_s`` the covariate in each year (or None). The estimator is Sant'Anna and Zhao's (2020)
    outcome regression for repeated cross-sections (``DRDID::reg_did_rc``): the controls'
    outcome is regressed on ``1`` and ``x`` separately in ``t`` and in ``s``, and

        ATT = mean_{treated at t} y - mean_{treated at s} y - mean_{treated, t and s} (m_t - m_s)(x)

    which without a covariate is the difference of the four means. Returns the ATT and two
    arrays (over the cell's areas) of each observation's contribution to the estimate's
    deviation (zero where the area is not observed), or None when a regression is not
    feasible (fewer than :data:`MIN_CONTROLS_OR` controls in a period or no covariate
    variation).
    """
    n = len(treated)
    ones = np.ones((n, 1))
    design_t = ones if x_t is None else np.column_stack([ones, x_t])
    design_s = ones if x_s is None else np.column_stack([ones, x_s])
    design = {"ct": design_t, "cs": design_s}
    at_t, at_s = ~np.isnan(y_t), ~np.isnan(y_s)
    groups = {
        "gt": treated & at_t,
        "gs": treated & at_s,
        "ct": ~treated & at_t,
        "cs": ~treated & at_s,
    }
    fits = {}
    for key, y in (("ct", y_t), ("cs", y_s)):
        rows = design[key][groups[key]]
        if x_t is not None and (len(rows) < MIN_CONTROLS_OR or np.linalg.matrix_rank(rows) < 2):
            return None
        gram_inv = np.linalg.inv(rows.T @ rows)
        beta = gram_inv @ rows.T @ y[groups[key]]
        fits[key] = (beta, gram_inv)
    # the regression adjustment is averaged over every treated observation (t and s)
    n_gt, n_gs = int(groups["gt"].sum()), int(groups["gs"].sum())
    treated_x = np.vstack([design_t[groups["gt"]], design_s[groups["gs"]]])
    change = treated_x @ (fits["ct"][0] - fits["cs"][0])
    eta_post, eta_pre = y_t[groups["gt"]].mean(), y_s[groups["gs"]].mean()
    eta_cont = change.mean()
    att = float(eta_post - eta_pre - eta_cont)
    x_bar = treated_x.mean(axis=0)
    n_treated_obs = n_gt + n_gs
    psi_t, psi_s = np.zeros(n), np.zeros(n)
    psi_t[groups["gt"]] = (y_t[groups["gt"]] - eta_post) / n_gt
    psi_t[groups["gt"]] -= (change[:n_gt] - eta_cont) / n_treated_obs
    psi_s[groups["gs"]] = -(y_s[groups["gs"]] - eta_pre) / n_gs
    psi_s[groups["gs"]] -= (change[n_gt:] - eta_cont) / n_treated_obs
    for key, y, psi, sign in (("ct", y_t, psi_t, -1.0), ("cs", y_s, psi_s, 1.0)):
        beta, gram_inv = fits[key]
        rows = design[key][groups[key]]
        residual = y[groups[key]] - rows @ beta
        psi[groups[key]] = sign * residual * (rows @ gram_inv @ x_bar)
    return att, psi_t, psi_s


def _group_time_pooled(
    wide: pd.DataFrame, covariate: pd.DataFrame | None, groups: pd.Series
) -> tuple[list[dict], np.ndarray] | None:
    """All ATT(g, t) with every area observed in each year (cells ``pooled``), as _group_time.

    Each cell compares the cohort's and the controls' mean outcome at ``t`` over the areas
    observed at ``t`` with their means in the base year over the areas observed then
    (:func:`_pooled_cell`; ``did::att_gt(allow_unbalanced_panel=TRUE)``, diff-diff's
    ``allow_unbalanced_panel=True``). An area's influence is the sum of its two observations'
    (clustered by area). On a balanced panel it equals :func:`_group_time`, without a
    covariate or with one constant within areas (the deprivation baseline); a yearly covariate
    would differ, being taken in each observation's own year.
    """
    y, x, g_of, todo = _cohort_cells(wide, covariate, groups)
    n_units = len(g_of)
    cells: list[dict] = []
    influence = []
    for g, b, j, t in todo:
        in_group = (g_of == g) | (g_of == 0)
        y_t, y_s = y[in_group, j].copy(), y[in_group, b].copy()
        x_t = x_s = None
        if x is not None:  # an observation without its covariate is left out
            x_t, x_s = x[in_group, j], x[in_group, b]
            y_t[np.isnan(x_t)] = np.nan
            y_s[np.isnan(x_s)] = np.nan
        treated = g_of[in_group] == g
        counts = [
            int((treated & ~np.isnan(y_t)).sum()),
            int((treated & ~np.isnan(y_s)).sum()),
            int((~treated & ~np.isnan(y_t)).sum()),
            int((~treated & ~np.isnan(y_s)).sum()),
        ]
        if min(counts[:2]) < 1 or min(counts[2:]) < 2:
            continue
        out = _pooled_cell(y_t, y_s, treated, x_t, x_s)
        if out is None:
            return None
        att, psi_t, psi_s = out
        column = np.zeros(n_units)
        column[in_group] = (psi_t + psi_s) * n_units
        influence.append(column)
        cells.append(_cell_row(g, t, att, counts[0], counts[2]))
    return _stacked(cells, influence, n_units)


def _aggregate(
    cells: list[dict],
    influence: np.ndarray,
    keep: np.ndarray,
    shares: np.ndarray,
    member: np.ndarray,
) -> tuple[float, np.ndarray]:
    """Cohort-share weighted mean of the kept cells and its influence function (with weights').

    ``shares`` are the cohort shares of the kept cells, ``member`` (N x kept) the indicators
    that an area belongs to each kept cell's cohort.
    """
    att = np.array([cell["estimate"] for cell in cells])[keep]
    total = shares.sum()
    weights = shares / total
    estimate = float(weights @ att)
    deviation = member - shares[None, :]
    wif = deviation / total - np.outer(deviation.sum(axis=1), shares / total**2)
    return estimate, influence[:, keep] @ weights + wif @ att


def _bootstrap_se(influence: np.ndarray, biters: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiplier-bootstrap SEs (Rademacher, IQR-scaled) and the centred draws (B x K)."""
    n = influence.shape[0]
    rng = np.random.default_rng(seed)
    draws = rng.choice(np.array([-1.0, 1.0]), size=(biters, n))
    boot = draws @ influence / n
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    return se, boot


SUMMARY_KEYS = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


def nan_summary() -> dict:
    """Return an overall effect with no numbers."""
    return dict.fromkeys(SUMMARY_KEYS, math.nan)


def no_pretrend(test: str = "") -> dict:
    """Return a pre-trend test with no numbers (``test`` its description)."""
    return {"test": test, "statistic": math.nan, "df": 0, "p_value": math.nan, "event_times": []}


def callaway_santanna(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    category: str,
    *,
    covariate: str | None = BASELINE_COLUMN,
    seed: int = 20230831,
    biters: int = 999,
    alpha: float = 0.05,
    min_treated: int = 2,
    exposure: pd.DataFrame | None = None,
    min_partnerships: int = 2,
    names: Mapping[str, str] | None = None,
    cells: str = "within",
) -> dict:
    """Estimate Callaway-Sant'Anna effects of one integration category against ``none``.

    Parameters
    ----------
    panel
        The long panel.
    indicator_id
        Which indicator.
    scale
        Outcome scale, ``identity`` or ``log``.
    category
        ``full`` or ``partial``; areas first integrated in the other category are left out.
    covariate
        Sample column used at the base year in an outcome regression (``deprivation_baseline``
        by default, as ``twfe``), or None for the unconditional estimator. Falls back to
        unconditional (recorded in ``fallback``) when any cell has too few control areas or no
        covariate variation, or when the covariate is missing for an area (never imputed).
    seed, biters
        Multiplier bootstrap: seed and number of draws.
    alpha
        1 - confidence level of the intervals.
    min_treated
        Fewest treated areas behind an event-time effect for it to enter the pre-trend test;
        with fewer treated areas in total the result's ``message`` warns that the intervals
        are too narrow.
    exposure
        The classification's exposure of every area and year (``integration.parquet``), the
        source of the cohorts (:func:`did_sample`); None takes them from ``panel``.
    min_partnerships
        The analysis plan's ``min_partnerships``: the overall effect is identified only when
        the cohorts with at least one post-period cell (event time >= 0) hold at least this
        many partnerships; otherwise ``not_identified`` says why, and :func:`did_rows`
        withholds its standard error, test and interval.
    names
        ``hscp_code`` -> partnership name, for that message (codes where missing).
    cells
        ``within`` (default): each ATT(g, t) uses the areas observed in both ``t`` and
        ``g - 1`` (their changes); ``pooled``: the mean of every area observed at ``t``
        against the mean of every area observed at ``g - 1`` (repeated cross-sections, as
        ``diff-diff``'s ``allow_unbalanced_panel=True``), the sensitivity variant. See the
        module docstring for why ``within`` is the default. Identical on a balanced panel
        without covariate.

    Returns
    -------
    dict
        ``indicator_id``, ``category``, ``scale``, ``status`` (ok or failed), ``message``,
        ``method``, ``fallback``, ``sample`` (what was left out), ``cohorts`` (first year ->
        number of areas), ``n_obs``, ``n_areas``, ``n_treated_areas``, ``n_control_areas``,
        ``att_gt`` (DataFrame, :data:`ATT_GT_COLUMNS`), ``overall`` (simple aggregation:
        estimate, std_error, statistic, p_value, conf_low, conf_high), ``dynamic`` (DataFrame
        by event time, reference ``-1`` fixed at 0 with missing SE, with ``n_cohorts`` and
        ``n_treated``),
        ``crit_uniform`` (sup-t critical value of the dynamic effects), ``pretrend`` (joint
        Wald test of pre-period event-time effects), ``inference``, ``seed``, ``biters``;
        ``cohort_cells`` (first year -> number of ATT(g, t) cells it contributes, 0 for a
        cohort treated by the indicator's first observed year, which has no pre-period),
        ``identifying`` (the partnerships of the cohorts with a post-period cell),
        ``n_identifying_areas`` (their number), ``window`` (first-last observed year) and
        ``not_identified`` (the reason, "" when identified); ``cells`` (the convention).
        Never raises on a numerical failure (e.g. a singular matrix from extreme values):
        it is returned as status ``failed`` with the exception in ``message``, so one
        indicator cannot stop the others.
    """
    if cells not in CELLS:
        raise ValueError(f"unknown cells '{cells}' (use one of {', '.join(CELLS)})")
    result = _empty_result(indicator_id, scale, category, seed=seed, biters=biters)
    result["cells"] = cells
    try:
        return _estimate(
            result,
            panel,
            covariate=covariate,
            seed=seed,
            biters=biters,
            alpha=alpha,
            min_treated=min_treated,
            exposure=exposure,
            min_partnerships=min_partnerships,
            names=names,
            cells=cells,
        )
    except Exception as err:  # noqa: BLE001 - any numerical failure is the fit's, reported
        failed = _empty_result(indicator_id, scale, category, seed=seed, biters=biters)
        failed["message"] = f"{type(err).__name__}: {err}"
        failed["cells"] = cells
        return failed


def _empty_result(indicator_id: str, scale: str, category: str, *, seed: int, biters: int) -> dict:
    """Return what :func:`callaway_santanna` gives before estimating: failed, no numbers."""
    return failed_result(
        MODEL,
        indicator_id,
        scale,
        category,
        sample={},
        cohorts={},
        cohort_cells={},
        identifying=[],
        n_identifying_areas=0,
        window="",
        not_identified="",
        n_obs=0,
        n_areas=0,
        n_treated_areas=0,
        n_control_areas=0,
        att_gt=pd.DataFrame(columns=ATT_GT_COLUMNS),
        overall=nan_summary(),
        dynamic=pd.DataFrame(
            columns=["event_time", "estimate", "std_error", "conf_low", "conf_high", "n_cohorts"]
        ),
        crit_uniform=math.nan,
        pretrend=no_pretrend(),
        inference=(
            f"multiplier bootstrap over areas (Rademacher, B={biters}, seed={seed}), IQR-scaled"
            " SE; pointwise normal CI"
        ),
        seed=seed,
        biters=biters,
    )


def _estimate(
    result: dict,
    panel: pd.DataFrame,
    *,
    covariate: str | None,
    seed: int,
    biters: int,
    alpha: float,
    min_treated: int,
    exposure: pd.DataFrame | None = None,
    min_partnerships: int = 2,
    names: Mapping[str, str] | None = None,
    cells: str = "within",
) -> dict:
    """Fill ``result`` (from :func:`_empty_result`) with the estimates; see callaway_santanna."""
    indicator_id, scale, category = result["indicator_id"], result["scale"], result["category"]
    try:
        sample, record = did_sample(panel, indicator_id, scale, category, exposure)
    except DesignError as err:
        result["message"] = str(err)
        return result
    result["sample"] = record
    groups = sample.groupby("area_code")["g"].first()
    result.update(
        n_obs=len(sample),
        n_areas=int(groups.size),
        n_treated_areas=int((groups > 0).sum()),
        n_control_areas=int((groups == 0).sum()),
        cohorts={int(g): int(n) for g, n in groups[groups > 0].value_counts().sort_index().items()},
    )
    wide = sample.pivot(index="area_code", columns="year", values="y")  # noqa: PD010
    wide = wide.sort_index(axis=1)
    x_wide = None
    method = METHOD_UNCONDITIONAL
    if covariate is not None and sample[covariate].isna().any():
        lacking = sorted(set(sample.loc[sample[covariate].isna(), "area_code"]))
        result["fallback"] = (
            f"{covariate} missing for {len(lacking)} area(s) ({', '.join(lacking[:5])}); "
            "not imputed: unconditional"
        )
        covariate = None
    if covariate is not None:
        x_wide = sample.pivot(index="area_code", columns="year", values=covariate)  # noqa: PD010
        method = METHOD_OR.format(covariate=covariate)
    group_time = _group_time_pooled if cells == "pooled" else _group_time
    estimated = group_time(wide, x_wide, groups)
    if estimated is None:
        result["fallback"] = (
            f"outcome regression on {covariate} not feasible in every cell (fewer than "
            f"{MIN_CONTROLS_OR} control areas or no covariate variation): unconditional"
        )
        method = METHOD_UNCONDITIONAL
        estimated = group_time(wide, None, groups)
    cells, influence = estimated
    result["method"] = method
    _identify(result, sample, cells, min_partnerships, names or {})
    if not cells or not any(cell["event_time"] >= 0 for cell in cells):
        result["message"] = f"no cohort coded {category} with a base year and a control group"
        return result
    g_of = groups.reindex(wide.index).to_numpy()
    n_units = len(g_of)
    cohort_share = {g: float((g_of == g).mean()) for g in set(g_of[g_of > 0])}
    cell_groups = np.array([cell["group"] for cell in cells])
    event = np.array([cell["event_time"] for cell in cells])

    def aggregate(keep: np.ndarray) -> tuple[float, np.ndarray]:
        shares = np.array([cohort_share[g] for g in cell_groups[keep]])
        member = (g_of[:, None] == cell_groups[keep][None, :]).astype(float)
        return _aggregate(cells, influence, keep, shares, member)

    columns = [influence]
    overall, overall_if = aggregate(event >= 0)
    columns.append(overall_if[:, None])
    event_times = sorted(set(event))
    dynamic = []
    for e in event_times:
        keep = event == e
        estimate, if_e = aggregate(keep)
        treated = int(sum(cells[i]["n_treated"] for i in np.flatnonzero(keep)))
        dynamic.append((e, estimate, int(keep.sum()), treated))
        columns.append(if_e[:, None])
    everything = np.column_stack(columns)
    se, boot = _bootstrap_se(everything, biters, seed)
    z = stats.norm.ppf(1 - alpha / 2)
    k = len(cells)
    att_gt = pd.DataFrame(cells)
    att_gt["std_error"] = se[:k]
    att_gt["conf_low"] = att_gt["estimate"] - z * att_gt["std_error"]
    att_gt["conf_high"] = att_gt["estimate"] + z * att_gt["std_error"]
    result["att_gt"] = att_gt[ATT_GT_COLUMNS]
    overall_se = float(se[k])
    result["overall"] = wald_row(overall, overall_se, alpha)
    dyn_se = se[k + 1 :]
    dyn = pd.DataFrame(dynamic, columns=["event_time", "estimate", "n_cohorts", "n_treated"])
    dyn["std_error"] = dyn_se
    dyn["conf_low"] = dyn["estimate"] - z * dyn["std_error"]
    dyn["conf_high"] = dyn["estimate"] + z * dyn["std_error"]
    valid = dyn_se > 0
    if valid.any():
        t_max = np.abs(boot[:, k + 1 :][:, valid] / dyn_se[valid]).max(axis=1)
        result["crit_uniform"] = float(np.quantile(t_max, 1 - alpha))
    reference = pd.DataFrame(
        [
            {
                "event_time": REFERENCE_EVENT_TIME,
                "estimate": 0.0,
                "n_cohorts": 0,
                "n_treated": 0,
                "std_error": math.nan,
                "conf_low": math.nan,
                "conf_high": math.nan,
            }
        ]
    )
    dyn = pd.concat([dyn, reference], ignore_index=True).sort_values("event_time")
    result["dynamic"] = dyn[
        ["event_time", "estimate", "std_error", "conf_low", "conf_high", "n_cohorts", "n_treated"]
    ].reset_index(drop=True)
    result["pretrend"] = _pretrend(dynamic, everything[:, k + 1 :], n_units, min_treated)
    if overall_se > 0 and math.isfinite(overall_se):
        result["status"] = "ok"
    else:
        result["message"] = "standard error of the overall effect not finite or zero"
    if result["n_treated_areas"] < min_treated:
        result["message"] = (
            f"only {result['n_treated_areas']} treated area(s): the bootstrap SE ignores the "
            "treated area's own variability, so intervals are too narrow (use randomisation "
            "inference)"
        )
    return result


def _identify(
    result: dict,
    sample: pd.DataFrame,
    cells: list[dict],
    min_partnerships: int,
    names: Mapping[str, str],
) -> None:
    """Record each cohort's contributing cells and the partnerships identifying the effect.

    A cohort contributes an ATT(g, t) cell only if a base year before ``g`` is observed; one
    first treated by the indicator's first observed year has none (no pre-period) and tells
    nothing about the effect, however many areas it has. The overall effect averages the
    post-period cells (event time >= 0), so it rests on the partnerships of the cohorts that
    have one (Clackmannanshire and Stirling count once); fewer than ``min_partnerships`` of
    them: not identified (the same rule as the other models,
    :mod:`integration_models.inference.identification`).
    """
    counts: dict[int, int] = {}
    for cell in cells:
        counts[cell["group"]] = counts.get(cell["group"], 0) + 1
    result["cohort_cells"] = {g: counts.get(g, 0) for g in result["cohorts"]}
    post = {cell["group"] for cell in cells if cell["event_time"] >= 0}
    treated = sample[sample["g"].isin(post)]
    partnerships = sorted(set(treated["hscp_code"].astype(str)))
    first, last = int(sample["year"].min()), int(sample["year"].max())
    result.update(
        identifying=partnerships,
        n_identifying_areas=len(partnerships),
        window=f"{first}-{last}",
    )
    if len(partnerships) < min_partnerships:
        shown = ", ".join(names.get(p, p) for p in partnerships) if partnerships else "none"
        result["not_identified"] = not_identified(
            len(partnerships), f"{first}-{last}", min_partnerships, shown
        )


def _cohort_words(result: dict) -> str:
    """Each cohort with its areas and contributing cells, those without a pre-period marked."""
    first = int(result["window"].split("-")[0]) if result["window"] else None
    parts = []
    for g, n in result["cohorts"].items():
        cells = result["cohort_cells"].get(g, 0)
        text = f"{g}: {n} area(s), {cells} cell(s)"
        if cells == 0 and first is not None and g - 1 < first:
            text += " (treated by the first observed year: no pre-period)"
        parts.append(text)
    return ", ".join(parts)


def _pretrend(dynamic: list[tuple], influence: np.ndarray, n_units: int, min_treated: int) -> dict:
    """Joint Wald test that the pre-period event-time effects (e <= -2) are all zero.

    Event times estimated from fewer than ``min_treated`` treated areas are left out: with one
    treated area the influence function has no treated-side variance and the test over-rejects.
    """
    pre = [i for i, (e, _, _, n) in enumerate(dynamic) if e <= -2 and n >= min_treated]
    test = (
        f"joint Wald, pre-period event-time effects (e <= -2, >= {min_treated} treated areas) = 0;"
        " IF covariance; chi2(rank)"
    )
    if not pre:
        return no_pretrend(test)
    theta = np.array([dynamic[i][1] for i in pre])
    psi = influence[:, pre]
    covariance = psi.T @ psi / n_units**2
    rank = int(np.linalg.matrix_rank(covariance))
    statistic = float(theta @ np.linalg.pinv(covariance) @ theta)
    return {
        "test": test,
        "statistic": statistic,
        "df": rank,
        "p_value": float(stats.chi2.sf(statistic, rank)) if rank else math.nan,
        "event_times": [int(dynamic[i][0]) for i in pre],
    }


# --------------------------------------------------------------------------------------------
# second implementation: saturated event-study regression


def saturated_event_study(sample: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Least squares with area and year effects and cohort x event-time dummies (no covariates).

    Every treated cohort gets one dummy per event time except ``-1``; the never-treated areas
    (``g`` = 0) identify the year effects. On a balanced panel the coefficients equal the
    unconditional Callaway-Sant'Anna ATT(g, t) with a universal base period, and their
    cohort-size weighted means the dynamic effects.

    Parameters
    ----------
    sample
        ``area_code``, ``year``, ``y``, ``g`` (as from :func:`did_sample`).

    Returns
    -------
    tuple of pandas.DataFrame
        ``(group, event_time, estimate)`` per dummy, and ``(event_time, estimate)`` aggregated
        with weights proportional to the number of areas per cohort.
    """
    frame = sample.dropna(subset=["y"]).reset_index(drop=True)
    areas = pd.get_dummies(frame["area_code"], dtype=float)
    years = pd.get_dummies(frame["year"], dtype=float).iloc[:, 1:]
    event = frame["year"] - frame["g"]
    labels = [
        (int(g), int(e))
        for g, e in sorted(set(zip(frame["g"], event, strict=True)))
        if g > 0 and e != REFERENCE_EVENT_TIME
    ]
    dummies = np.column_stack(
        [((frame["g"] == g) & (event == e)).to_numpy(dtype=float) for g, e in labels]
    )
    design = np.column_stack([areas.to_numpy(), years.to_numpy(), dummies])
    coefficients = np.linalg.lstsq(design, frame["y"].to_numpy(dtype=float), rcond=None)[0]
    cells = pd.DataFrame(labels, columns=["group", "event_time"])
    cells["estimate"] = coefficients[-len(labels) :]
    sizes = frame.groupby("area_code")["g"].first().value_counts()
    cells["weight"] = cells["group"].map(sizes).astype(float)
    dynamic = (
        cells.groupby("event_time")
        .apply(
            lambda c: float(np.average(c["estimate"], weights=c["weight"])), include_groups=False
        )
        .rename("estimate")
        .reset_index()
    )
    return cells.drop(columns="weight"), dynamic


# --------------------------------------------------------------------------------------------
# tidy output


def did_rows(result: dict, indicator_id: str) -> list[dict]:
    """Return the overall ATT as one coefficient row (:data:`COEFFICIENT_COLUMNS`).

    The term is ``integration_full`` or ``integration_partial``; the note records the estimator,
    any fallback, the cohorts (or the result's ``design``, the sample in words) and the
    pre-trend p-value. The row is of the result's ``model`` (``csdid`` by default; the
    estimators of :mod:`integration_models.models.robust_did` return results of this form).
    A result carrying its ``identification`` (and ``min_partnerships``) is withheld and
    flagged by the rule every model shares
    (:func:`integration_models.models.base.with_identification`); otherwise by its
    ``not_identified`` reason.
    """
    category = result["category"]
    overall = result["overall"]
    pretrend = result["pretrend"]
    parts = [f"status {result['status']}"]
    if result["message"]:
        parts.append(result["message"])
    if result["method"]:
        parts.append(f"estimator: {result['method']}")
    if result.get("cells") == "pooled":
        parts.append(CELLS_POOLED_WORDS)
    if result["fallback"]:
        parts.append(f"fallback: {result['fallback']}")
    if result.get("design"):
        parts.append(result["design"])
    elif result["cohorts"]:
        parts.append(
            f"cohorts (first year: areas, cells) {_cohort_words(result)}; never-treated controls"
        )
    if math.isfinite(pretrend["p_value"]):
        parts.append(f"pre-trend Wald p = {pretrend['p_value']:.3g} (df {pretrend['df']})")
    row = {
        "indicator_id": indicator_id,
        "model": result.get("model", MODEL),
        "term": f"integration_{category}",
        **{key: float(overall[key]) for key in SUMMARY_KEYS},
        "n_obs": result["n_obs"],
        "n_areas": result["n_areas"],
        "n_identifying_areas": result.get("n_identifying_areas", 0),
        "inference": result["inference"] if result["status"] == "ok" else "",
        "scale": result["scale"],
        "note": "; ".join(parts),
    }
    if result.get("identification") is not None:
        row = with_identification(row, result["identification"], result["min_partnerships"])
    elif result.get("not_identified"):
        row = withhold_inference(row, result["not_identified"])
        row["inference"] = ""
    return [{column: row[column] for column in COEFFICIENT_COLUMNS}]


def event_study_rows(result: dict, indicator_id: str) -> list[dict]:
    """Return the dynamic (event-time) effects as rows with :data:`EVENT_COLUMNS`.

    The reference period ``-1`` is included with estimate 0 and missing interval.
    """
    rows = []
    for record in result["dynamic"].to_dict("records"):
        rows.append(
            {
                "indicator_id": indicator_id,
                "model": result.get("model", MODEL),
                "category": result["category"],
                "event_time": int(record["event_time"]),
                **{key: float(record[key]) for key in EVENT_COLUMNS[4:]},
            }
        )
    return rows


def event_term(category: str, event_time: int) -> str:
    """Name of an event-time term, e.g. ``event_full_-3`` or ``event_full_+4``."""
    return f"event_{category}_{event_time:+d}"


__all__ = [
    "ATT_GT_COLUMNS",
    "EVENT_COLUMNS",
    "callaway_santanna",
    "did_rows",
    "did_sample",
    "event_study_rows",
    "event_term",
    "saturated_event_study",
    "treatment_cohorts",
]
