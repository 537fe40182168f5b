"""Staggered difference-in-differences: Callaway-Sant'Anna group-time effects, in numpy.

Callaway and Sant'Anna (2021) estimate one effect per cohort ``g`` (first integration year)
and year ``t``, ``ATT(g, t)``, by comparing the change in the outcome from the base year
``g - 1`` to ``t`` in cohort ``g`` with the same change in the never-treated areas (integration
``none`` in every year). With a *universal* base period every year, before or after ``g``, is
compared with ``g - 1``, so the pre-period effects form a placebo event study and the effect
at event time ``-1`` is zero by construction.

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

Unbalanced panels: each cell uses the areas observed in both ``t`` and ``g - 1``.

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
from integration_models.models.base import (
    COEFFICIENT_COLUMNS,
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
    source = panel if exposure is None else exposure
    if "period_key" in source.columns:  # the exposure of the indicator's kind of period
        source = source[source["period_key"] == data["period_key"].iloc[0]]
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


def _group_time(
    wide: pd.DataFrame, covariate: pd.DataFrame | None, groups: pd.Series
) -> tuple[list[dict], np.ndarray] | None:
    """All ATT(g, t) with a universal base period and their influence functions (N x K)."""
    years = list(wide.columns)
    y = wide.to_numpy(dtype=float)
    x = None if covariate is None else covariate.reindex_like(wide).to_numpy(dtype=float)
    g_of = groups.reindex(wide.index).to_numpy()
    n_units = len(g_of)
    cells: list[dict] = []
    influence = []
    for g in sorted(set(g_of[g_of > 0])):
        base = g - 1
        if base not in years:
            continue
        b = years.index(base)
        for j, t in enumerate(years):
            if t == base:
                continue
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
            cells.append(
                {
                    "group": int(g),
                    "time": int(t),
                    "event_time": int(t - g),
                    "estimate": att,
                    "n_treated": int(treated.sum()),
                    "n_control": int((~treated).sum()),
                }
            )
    if not cells:
        return [], np.zeros((n_units, 0))
    return cells, np.column_stack(influence)


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


def _nan_summary() -> dict:
    return dict.fromkeys(SUMMARY_KEYS, math.nan)


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
        ``not_identified`` (the reason, "" when identified).
        Never raises on a numerical failure (e.g. a singular matrix from extreme values):
        it is returned as status ``failed`` with the exception in ``message``, so one
        indicator cannot stop the others.
    """
    result = _empty_result(indicator_id, scale, category, seed=seed, biters=biters)
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
        )
    except Exception as err:  # noqa: BLE001 - any numerical failure is the fit's, reported
        failed = _empty_result(indicator_id, scale, category, seed=seed, biters=biters)
        failed["message"] = f"{type(err).__name__}: {err}"
        return failed


def _empty_result(indicator_id: str, scale: str, category: str, *, seed: int, biters: int) -> dict:
    """Return what :func:`callaway_santanna` gives before estimating: failed, no numbers."""
    return {
        "model": MODEL,
        "indicator_id": indicator_id,
        "category": category,
        "scale": scale,
        "status": "failed",
        "message": "",
        "method": "",
        "fallback": "",
        "sample": {},
        "cohorts": {},
        "cohort_cells": {},
        "identifying": [],
        "n_identifying_areas": 0,
        "window": "",
        "not_identified": "",
        "n_obs": 0,
        "n_areas": 0,
        "n_treated_areas": 0,
        "n_control_areas": 0,
        "att_gt": pd.DataFrame(columns=ATT_GT_COLUMNS),
        "overall": _nan_summary(),
        "dynamic": pd.DataFrame(
            columns=["event_time", "estimate", "std_error", "conf_low", "conf_high", "n_cohorts"]
        ),
        "crit_uniform": math.nan,
        "pretrend": {
            "test": "",
            "statistic": math.nan,
            "df": 0,
            "p_value": math.nan,
            "event_times": [],
        },
        "inference": (
            f"multiplier bootstrap over areas (Rademacher, B={biters}, seed={seed}), IQR-scaled"
            " SE; pointwise normal CI"
        ),
        "seed": seed,
        "biters": biters,
    }


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
    estimated = _group_time(wide, x_wide, groups)
    if estimated is None:
        result["fallback"] = (
            f"outcome regression on {covariate} not feasible in every cell (fewer than "
            f"{MIN_CONTROLS_OR} control areas or no covariate variation): unconditional"
        )
        method = METHOD_UNCONDITIONAL
        estimated = _group_time(wide, None, groups)
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

    A cohort contributes an ATT(g, t) cell only if its base year ``g - 1`` is observed; one
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
        result["not_identified"] = (
            f"not identified: {len(partnerships)} partnership(s) change status within "
            f"{first}-{last} ({shown}); at least {min_partnerships} needed"
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
        return {
            "test": test,
            "statistic": math.nan,
            "df": 0,
            "p_value": math.nan,
            "event_times": [],
        }
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
