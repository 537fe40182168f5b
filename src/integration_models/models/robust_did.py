"""Heterogeneity-robust staggered difference-in-differences from ``diff_diff`` (issue 16).

Three estimators that, like ``csdid`` (:mod:`integration_models.models.csdid`), compare areas
whose integration starts at different times without the forbidden comparisons of two-way
fixed effects (already-integrated areas used as controls, whose effects then enter with
negative weights when effects grow over time). Each is fitted per indicator and category
(full, partial) by :func:`robust_did` and tabled by the shared row code of
:func:`integration_models.models.fit_job.fit_did`, as the models ``sunab``, ``bjs`` and ``dcdh``:

- ``sunab``: Sun and Abraham (2021), :class:`diff_diff.SunAbraham`. A regression with area and
  year effects and one dummy per cohort and event time (reference ``e = -1``), the
  never-integrated areas the only controls; the cohort effects are averaged with the cohorts'
  shares (interaction weights). Overall effect: the post-period event-time effects weighted by
  their treated observations. Standard errors CR1, clustered by partnership (``hscp_code``),
  with t(G - 1) tests and intervals (``df_convention="cluster"``).
- ``bjs``: Borusyak, Jaravel and Spiess (2024), :class:`diff_diff.ImputationDiD`. Area and
  year effects are fitted on the untreated area-years only (never-integrated areas and the
  not-yet-integrated years of the cohorts), each treated outcome minus its imputed untreated
  outcome is an effect, and the overall effect is their mean. The paper's conservative
  variance (Theorem 3), clustered by partnership, with its leave-one-out refinement
  (Appendix A.9) and the effects averaged by event time (``aux_partition="horizon"``) rather
  than by cohort and event time: Highland and Moray are cohorts of one area, whose effects
  are then their own averages and add nothing to the variance (on the real summary index the
  standard error was half; in a simulation of this design the default understated the
  spread by a sixth, this choice matched it); normal tests and intervals.
- ``dcdh``: de Chaisemartin and D'Haultfoeuille (2020, 2024),
  :class:`diff_diff.ChaisemartinDHaultfoeuille`. Each area whose treatment changes (on *or
  off*) is compared, ``l`` years after its first change, with the areas of the same treatment
  in the first year whose treatment has not changed yet (``DID_l``, ``l = 1 ..`` the last
  horizon at least half the switchers reach, as the paper advises); placebos compare the
  years before. The overall effect is the library's
  cost-benefit ``delta`` (the horizons weighted by the treatment they carry). Standard errors
  are the library's analytical cohort-recentred plug-in, clustered by *area*: the library
  clusters at its group only (``cluster=`` is not supported), and only Clackmannanshire and
  Stirling share a partnership. The library gives ``delta`` the standard error of independent
  horizons, which understates it (horizons share their base year; a simulation with AR(1)
  errors gave half the true spread), so the overall standard error here is the bound
  ``sum_l w_l SE_l`` (horizons perfectly correlated), valid whatever their correlation;
  normal tests and intervals.

Samples (one category at a time, against ``none``):

- ``sunab`` and ``bjs`` use ``csdid``'s sample (:func:`~.csdid.did_sample`): cohorts from the
  classification's exposure (``integration.parquet``), never-integrated controls, the areas
  first integrated in the other category left out, and an area's years from its first change
  away from its first category dropped (North Lanarkshire, full 2016-2018 then partial, is a
  2016 full cohort up to 2018 and out of the partial analysis). ``sunab`` also leaves out a
  cohort with no observed year ``g - 1``: its reference event time is ``-1``, without which
  the library would drop an arbitrary one of the cohort's dummies (rank deficiency) and
  measure its effects against that. These are cohorts integrated by the indicator's first
  year, which identify nothing, and, in a biennial series, a cohort whose ``g - 1`` falls
  between two observed years (its effects are then left to the other estimators). ``bjs``
  leaves out a treated area with no observed year before ``g`` (nothing to impute its area
  effect from).
- ``dcdh`` keeps treatment that switches off (:func:`dcdh_sample`): the treatment of an area
  and year is 1 if it is coded in the category; an area first integrated in the category keeps
  every year, and its years in the *other* category after its years in the category count as
  not treated (0): North Lanarkshire's partial years from 2019 make it a switch off full
  (its later years kept, not dropped), which measures full against partial, not against
  none. An area first integrated in the other category, or with years in the other category
  not preceded by years in this one, is left out (as in ``csdid``). East Lothian (partial
  2016-2018, then none) switches off partial. A transition period counts as the category at
  its end (``integration_exposed``), as dCDH needs consecutive years: its first horizon
  therefore includes the partly exposed period. The library drops an area not observed in
  the first year or with a gap in its years; they are left out here first, and named, as is
  an unchanged area whose first-year treatment no switcher shares (nobody's control: an area
  integrated in every year when none integrated in the first year switches off). An area
  switching twice (on, then off) is kept (``drop_larger_lower=False``), with the library's
  warning that its analytical standard error is not exact for such an area.

Every estimate uses ``deprivation_trend`` (the pre-integration deprivation baseline times
time, twfe's within-area control) as a covariate, unless an area has no baseline (then none,
said in the note). Identification is the project's rule
(:mod:`integration_models.inference.identification`), applied to each estimator's own sample
and treatment: the partnerships with an area whose treatment changes (on or off) within the
modelled rows; below the analysis plan's ``min_partnerships`` the estimate is kept and its
standard error, test and interval (and its event-time intervals) are withheld.

The library is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from integration_models.models.base import failed_result, wald_row, warning_text
from integration_models.models.csdid import (
    CATEGORIES,
    REFERENCE_EVENT_TIME,
    SUMMARY_KEYS,
    did_sample,
    exposure_of_period,
    nan_summary,
    no_pretrend,
    treatment_cohorts,
)
from integration_models.models.design import (
    BASELINE_COLUMN,
    TIME_CENTRE,
    TIME_UNIT,
    DesignError,
    model_data,
)

MODELS = ("sunab", "bjs", "dcdh")
COVARIATE = "deprivation_trend"
PRETREND_MIN_TREATED = 2  # as csdid's min_treated
CLUSTER = "hscp_code"
FORMULAS = {
    "sunab": (
        "Sun-Abraham interaction-weighted event study (diff_diff.SunAbraham): y ~ cohort x "
        "event-time dummies (reference e = -1) + deprivation_trend | area + year, "
        "never-integrated areas the only controls; overall = post-period effects weighted by "
        "their treated observations; CR1 SE clustered by partnership (hscp_code), t(G-1)"
    ),
    "bjs": (
        "Borusyak-Jaravel-Spiess imputation (diff_diff.ImputationDiD): y ~ deprivation_trend "
        "| area + year fitted on untreated area-years (never and not yet integrated), effect = "
        "treated outcome minus imputed; overall = mean over treated area-years; conservative "
        "(Theorem 3) SE clustered by partnership (hscp_code), leave-one-out, effects averaged "
        "by event time, normal"
    ),
    "dcdh": (
        "de Chaisemartin-D'Haultfoeuille DID_l (diff_diff.ChaisemartinDHaultfoeuille): areas "
        "switching on or off against areas with the same first-year treatment not yet "
        "switched, deprivation_trend residualised (DID^X), horizons that half the switchers "
        "reach, placebos before; a switch off kept, a transition counted as its end category; "
        "overall = cost-benefit delta; analytical SE clustered by area (the library clusters "
        "by area only), overall SE bounded by sum_l w_l SE_l"
    ),
}
METHODS = {
    "sunab": "Sun-Abraham interaction-weighted, never-integrated controls",
    "bjs": "Borusyak-Jaravel-Spiess imputation",
    "dcdh": "de Chaisemartin-D'Haultfoeuille DID_l, cost-benefit delta",
}


# --------------------------------------------------------------------------------------------
# samples


def _other(category: str) -> str:
    if category not in CATEGORIES:
        raise DesignError(f"unknown category '{category}' (use one of {', '.join(CATEGORIES)})")
    return CATEGORIES[1 - CATEGORIES.index(category)]


def _with_covariate(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``deprivation_trend`` (baseline x decades since 2016, as :func:`~.design.model_data`)."""
    trend = frame[BASELINE_COLUMN].to_numpy(dtype=float) * (
        (frame["year"].to_numpy() - TIME_CENTRE) / TIME_UNIT
    )
    return frame.assign(**{COVARIATE: trend})


def staggered_sample(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    category: str,
    model: str,
    exposure: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Return ``csdid``'s sample for ``sunab`` or ``bjs``, less the areas they cannot use.

    ``sunab`` leaves out a cohort none of whose areas is observed in year ``g - 1`` (no
    reference event time ``-1``); ``bjs`` a treated area not observed before ``g`` (no
    untreated year).

    Returns
    -------
    tuple
        The rows (``area_code, hscp_code, year, y, deprivation, deprivation_baseline, g,
        deprivation_trend``) and what was left out: :func:`~.csdid.did_sample`'s record and
        ``no_pre_period`` (the areas left out here).
    """
    frame, record = did_sample(panel, indicator_id, scale, category, exposure)
    treated = frame["g"] > 0
    if model == "sunab":
        based = frame.loc[treated & (frame["year"] == frame["g"] - 1), "g"].unique()
        drop = treated & ~frame["g"].isin(based)
    else:
        before = frame.loc[treated & (frame["year"] < frame["g"]), "area_code"].unique()
        drop = treated & ~frame["area_code"].isin(before)
    record["no_pre_period"] = sorted(set(frame.loc[drop, "area_code"]))
    frame = _with_covariate(frame[~drop].reset_index(drop=True))
    exposed = (frame["g"] > 0) & (frame["year"] >= frame["g"])
    frame[f"integration_{category}"] = exposed.to_numpy(dtype=float)
    return frame, record


def dcdh_sample(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    category: str,
    exposure: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Return the rows of one category's dCDH analysis, with the on/off treatment ``D``.

    Parameters are those of :func:`~.csdid.did_sample`. See the module's docstring for the
    rules (switch-offs kept, the other category's later years as not treated, transitions as
    their end category, areas with a gap left out).

    Returns
    -------
    tuple
        The rows (``area_code, hscp_code, year, y, deprivation_baseline, deprivation_trend,
        D`` and ``integration_<category>`` = ``D``) and what was left out or kept:
        ``excluded_areas`` (first integrated in, or with years in, the other category),
        ``incomplete_areas`` (not observed in the first year, or with a gap),
        ``no_peer_areas`` (treatment unchanged and no switcher with the same first-year
        treatment: nobody's control, e.g. an area integrated in every year when no area
        integrated in the first year switches off),
        ``other_years_untreated`` (rows in the other category counted as not treated, after a
        switch off), ``switch_off_areas`` and ``multi_switch_areas``.

    Raises
    ------
    DesignError
        If the category is unknown or the indicator cannot be modelled on this scale.
    """
    other = _other(category)
    rows = panel[panel["indicator_id"] == indicator_id]
    exposed = rows.assign(integration=rows["integration_exposed"])  # a transition: its end
    data = model_data(exposed, indicator_id, scale).frame
    source = exposure_of_period(panel if exposure is None else exposure, data["period_key"].iloc[0])
    first = (
        treatment_cohorts(source)
        .set_index("area_code")["first_category"]
        .reindex(data["area_code"])
        .to_numpy()
    )
    frame = data[["area_code", "hscp_code", "year", "y", BASELINE_COLUMN, COVARIATE]].copy()
    frame["D"] = data[f"integration_{category}"].to_numpy()
    in_other = data[f"integration_{other}"].to_numpy() == 1
    onset = frame.loc[frame["D"] == 1].groupby("area_code")["year"].min()
    after = frame["year"].to_numpy() > frame["area_code"].map(onset).fillna(np.inf).to_numpy()
    unusable = set(frame.loc[in_other & ~after, "area_code"]) | set(
        frame.loc[first == other, "area_code"]
    )
    frame["_other_after"] = in_other & after  # counted below, on the rows kept
    frame = frame[~frame["area_code"].isin(unusable)].reset_index(drop=True)
    years = sorted(frame["year"].unique())
    position = {year: i for i, year in enumerate(years)}
    incomplete = []
    for area, block in frame.groupby("area_code", sort=True):
        index = sorted(position[year] for year in block["year"])
        if index[0] != 0 or index[-1] - index[0] + 1 != len(index):
            incomplete.append(area)
    frame = frame[~frame["area_code"].isin(incomplete)]
    frame = frame.sort_values(["area_code", "year"]).reset_index(drop=True)
    changes = frame.groupby("area_code")["D"].apply(lambda d: int((d.diff().abs() > 0).sum()))
    ends = frame.groupby("area_code")["D"].agg(["first", "last"])
    # an area is compared only with areas of its first-year treatment: one whose first-year
    # treatment no switcher shares is nobody's control (and the library's covariate step
    # fails on such a stratum when it is small)
    peered = set(ends.loc[changes > 0, "first"])
    no_peer = sorted(ends.index[(changes == 0) & ~ends["first"].isin(peered)])
    frame = frame[~frame["area_code"].isin(no_peer)].reset_index(drop=True)
    changes, ends = changes.drop(no_peer), ends.drop(no_peer)
    untreated_other = int(frame.pop("_other_after").sum())
    frame[f"integration_{category}"] = frame["D"].astype(float)
    record = {
        "excluded_areas": sorted(unusable),
        "incomplete_areas": incomplete,
        "no_peer_areas": no_peer,
        "other_years_untreated": untreated_other,
        "switch_off_areas": sorted(ends.index[(ends["last"] < ends["first"]) | (changes > 1)]),
        "multi_switch_areas": sorted(changes.index[changes > 1]),
    }
    return frame, record


# --------------------------------------------------------------------------------------------
# the library calls


def fit_sunab(sample: pd.DataFrame, covariates: list[str] | None, alpha: float):
    """Sun-Abraham on ``sample`` (never-treated controls, CR1 by partnership, t(G-1))."""
    from diff_diff import SunAbraham

    estimator = SunAbraham(
        control_group="never_treated", alpha=alpha, cluster=CLUSTER, df_convention="cluster"
    )
    return estimator.fit(
        sample, outcome="y", unit="area_code", time="year", first_treat="g", covariates=covariates
    )


def fit_bjs(sample: pd.DataFrame, covariates: list[str] | None, alpha: float):
    """Fit Borusyak-Jaravel-Spiess imputation on ``sample`` (clustered by partnership).

    The conservative variance with the leave-one-out refinement, its auxiliary averages by
    event time (see the module's docstring).
    """
    from diff_diff import ImputationDiD

    estimator = ImputationDiD(
        alpha=alpha,
        cluster=CLUSTER,
        pretrends=True,
        leave_one_out=True,
        aux_partition="horizon",
    )
    return estimator.fit(
        sample, outcome="y", unit="area_code", time="year", first_treat="g", covariates=covariates
    )


def dcdh_horizons(sample: pd.DataFrame) -> int:
    """Return the last horizon ``l`` that at least half the switchers reach (at least 1).

    A switcher first changing in the ``k``-th of the sample's years (``k`` from 0) and last
    observed in the ``m``-th reaches horizons ``1 .. m - k + 1``. The dynamic paper advises
    against reporting horizons that fewer than half the switchers reach (the library warns
    beyond them); they rest on the earliest cohorts alone.
    """
    position = {year: i for i, year in enumerate(sorted(sample["year"].unique()))}
    reach = []
    for _, block in sample.sort_values("year").groupby("area_code"):
        changed = block["D"].diff().abs().to_numpy() > 0
        if changed.any():
            years = block["year"].to_numpy()
            reach.append(position[years[-1]] - position[years[changed.argmax()]] + 1)
    if not reach:
        return 1
    reach = np.sort(np.array(reach))[::-1]
    return max(1, int(reach[(len(reach) - 1) // 2]))


def fit_dcdh(sample: pd.DataFrame, covariates: list[str] | None, alpha: float):
    """Fit dCDH ``DID_l`` on ``sample`` up to :func:`dcdh_horizons` (switching twice: kept)."""
    from diff_diff import ChaisemartinDHaultfoeuille

    twice = bool(
        (sample.groupby("area_code")["D"].apply(lambda d: (d.diff().abs() > 0).sum()) > 1).any()
    )
    estimator = ChaisemartinDHaultfoeuille(
        alpha=alpha, twfe_diagnostic=False, drop_larger_lower=not twice
    )
    horizons = dcdh_horizons(sample)
    return estimator.fit(
        sample,
        outcome="y",
        unit="area_code",
        time="year",
        treatment="D",
        L_max=horizons,
        covariates=covariates,
    )


FITS = {"sunab": fit_sunab, "bjs": fit_bjs, "dcdh": fit_dcdh}


# --------------------------------------------------------------------------------------------
# the library's results as csdid's result dict


def _summary(estimate, se, statistic, p_value, interval) -> dict:
    return dict(
        zip(SUMMARY_KEYS, map(float, (estimate, se, statistic, p_value, *interval)), strict=True)
    )


def _dynamic(records: list[tuple]) -> pd.DataFrame:
    """Return event-time rows (``event_time, estimate, std_error, conf_low, conf_high``).

    The reference ``-1`` is 0 without interval; effects that are not finite are left out.
    """
    table = pd.DataFrame(
        records, columns=["event_time", "estimate", "std_error", "conf_low", "conf_high"]
    )
    table = table[np.isfinite(table["estimate"].astype(float))]
    table = table[table["event_time"] != REFERENCE_EVENT_TIME]
    reference = pd.DataFrame(
        [[REFERENCE_EVENT_TIME, 0.0, math.nan, math.nan, math.nan]], columns=table.columns
    )
    table = pd.concat([table, reference], ignore_index=True).astype(
        {"event_time": int, "estimate": float, "std_error": float}
    )
    return table.sort_values("event_time").reset_index(drop=True)


def _tested_leads(sample: pd.DataFrame) -> list[int]:
    """Return the pre-period event times (``e <= -2``) a pre-trend test includes.

    Those observed in at least :data:`PRETREND_MIN_TREATED` treated areas, as ``csdid``'s
    test: with one treated area the clustered variance cannot see its variability and the
    test over-rejects.
    """
    treated = sample[sample["g"] > 0]
    event = treated["year"] - treated["g"]
    counts = treated.groupby(event)["area_code"].nunique()
    return sorted(int(e) for e, n in counts.items() if e <= -2 and n >= PRETREND_MIN_TREATED)


def _overall(fitted) -> dict:
    """Return the overall effect of a ``sunab`` or ``bjs`` fit (both name its fields alike)."""
    return _summary(
        fitted.overall_att,
        fitted.overall_se,
        fitted.overall_t_stat,
        fitted.overall_p_value,
        fitted.overall_conf_int,
    )


def _sunab_results(fitted, sample: pd.DataFrame) -> dict:
    records = [
        (int(e), eff["effect"], eff["se"], *eff["conf_int"])
        for e, eff in fitted.event_study_effects.items()
    ]
    pretrend = no_pretrend()
    index = list(fitted.event_study_vcov_index or [])
    leads = set(_tested_leads(sample))
    pre = [i for i, e in enumerate(index) if int(e) in leads]
    if pre and fitted.event_study_vcov is not None:
        theta = np.array([fitted.event_study_effects[index[i]]["effect"] for i in pre])
        covariance = np.asarray(fitted.event_study_vcov)[np.ix_(pre, pre)]
        rank = int(np.linalg.matrix_rank(covariance))
        statistic = float(theta @ np.linalg.pinv(covariance) @ theta)
        pretrend = {
            "test": (
                f"joint Wald, pre-period event-time effects (e <= -2, >= {PRETREND_MIN_TREATED} "
                "treated areas) = 0; CR1; chi2(rank)"
            ),
            "statistic": statistic,
            "df": rank,
            "p_value": float(stats.chi2.sf(statistic, rank)) if rank else math.nan,
            "event_times": [int(index[i]) for i in pre],
        }
    clusters = int(sample[CLUSTER].nunique())
    return {
        "overall": _overall(fitted),
        "dynamic": _dynamic(records),
        "pretrend": pretrend,
        "inference": f"CR1 clustered by partnership (hscp_code, {clusters} clusters), "
        f"t({clusters - 1})",
    }


def _bjs_results(fitted, sample: pd.DataFrame) -> dict:
    events = fitted.aggregate("event_study")
    records = list(
        zip(
            np.asarray(events.event_time, dtype=int),
            events.att,
            events.se,
            events.conf_int_lower,
            events.conf_int_upper,
            strict=True,
        )
    )
    pretrend = no_pretrend()
    leads = _tested_leads(sample)
    # the library tests the leads -2, -3, ... -(n + 1): as many as are observed in enough areas
    n_leads = next((i for i, e in enumerate(range(-2, -2 - len(leads) - 1, -1)) if e not in leads))
    test = None
    if n_leads:
        try:
            test = fitted.pretrend_test(n_leads=n_leads)
        except Exception:  # noqa: BLE001 - the test is a diagnostic: without it, no p-value
            test = None
    if test is not None and math.isfinite(float(test.get("p_value", math.nan))):
        pretrend = {
            "test": (
                f"BJS pre-trend test (leads -2 to -{n_leads + 1} in the untreated model), "
                "cluster-robust Wald F"
            ),
            "statistic": float(test["f_stat"]),
            "df": int(test["n_leads"]),
            "p_value": float(test["p_value"]),
            "event_times": [],
        }
    clusters = int(sample[CLUSTER].nunique())
    return {
        "overall": _overall(fitted),
        "dynamic": _dynamic(records),
        "pretrend": pretrend,
        "inference": "BJS conservative variance (Theorem 3, leave-one-out, averaged by event "
        f"time) clustered by partnership (hscp_code, {clusters} clusters), normal",
    }


def dcdh_overall_se(fitted) -> float:
    """Return the standard error of dCDH's overall effect: ``sum_l w_l SE_l`` for ``delta``.

    The bound on the standard error of a weighted sum of horizons whatever their correlation
    (it is attained when they are perfectly correlated); the library's own treats them as
    independent. With one horizon (``L_max = 1``) the overall effect is ``DID_1`` and its
    standard error the library's.
    """
    delta = fitted.cost_benefit_delta
    if not delta or not delta.get("weights"):
        return float(fitted.overall_se)
    total = 0.0
    for horizon, weight in delta["weights"].items():
        if weight <= 0:
            continue
        se = float(fitted.event_study_effects[horizon]["se"])
        if not math.isfinite(se):
            return math.nan
        total += weight * se
    return total


def _dcdh_results(fitted, sample: pd.DataFrame, alpha: float) -> dict:
    records = [
        (int(horizon) - 1, eff["effect"], eff["se"], *eff["conf_int"])
        for horizon, eff in (fitted.event_study_effects or {}).items()
    ]
    records += [
        (int(lag) - 1, eff["effect"], eff["se"], *eff["conf_int"])  # key -l: year F_g - 1 - l
        for lag, eff in (fitted.placebo_event_study or {}).items()
    ]
    se = dcdh_overall_se(fitted)
    overall = wald_row(float(fitted.overall_att), se, alpha) if math.isfinite(se) else None
    if overall is None:
        overall = nan_summary()
        overall["estimate"] = float(fitted.overall_att)
    areas = int(sample["area_code"].nunique())
    return {
        "overall": overall,
        "dynamic": _dynamic(records),
        "pretrend": no_pretrend(),
        "inference": "dCDH analytical cohort-recentred plug-in SE clustered by area "
        f"({areas} areas; the library clusters by area only), normal; overall: SE bound "
        "sum_l w_l SE_l",
    }


# --------------------------------------------------------------------------------------------
# one category of one indicator


def _names_of(panel: pd.DataFrame, areas) -> str:
    """Area names (codes where the panel has none), joined by commas."""
    if "area_name" in panel.columns:
        lookup = dict(zip(panel["area_code"], panel["area_name"], strict=False))
    else:
        lookup = {}
    return ", ".join(str(lookup.get(area, area)) for area in areas)


def _design_words(model: str, sample: pd.DataFrame, record: dict, panel: pd.DataFrame) -> str:
    """Return the note's account of the sample: cohorts or switchers, what was left out."""
    parts = []
    if model == "dcdh":
        changes = sample.groupby("area_code")["D"].agg(["first", "last"])
        ever = sample.groupby("area_code")["D"].agg(lambda d: d.min() != d.max())
        on = ever & (changes["first"] == 0)
        parts.append(
            f"switchers: {int(on.sum())} on, {int((ever & (changes['first'] == 1)).sum())} off "
            f"(first change), {int((~ever).sum())} area(s) unchanged"
        )
        if record["switch_off_areas"]:
            twice = set(record["multi_switch_areas"])
            shown = [
                _names_of(panel, [area]) + (" (on, then off)" if area in twice else "")
                for area in record["switch_off_areas"]
            ]
            words = f"switch off kept, later years not dropped: {', '.join(shown)}"
            if record["other_years_untreated"]:
                words += (
                    f"; {record['other_years_untreated']} row(s) in the other category counted"
                    " as not treated"
                )
            if twice:
                words += "; fitted with drop_larger_lower=False"
            parts.append(words)
        if record["no_peer_areas"]:
            parts.append(
                f"left out: {len(record['no_peer_areas'])} unchanged area(s) whose first-year "
                f"treatment no switcher shares ({', '.join(record['no_peer_areas'])})"
            )
        if record["incomplete_areas"]:
            parts.append(
                f"left out: {len(record['incomplete_areas'])} area(s) not observed in every "
                f"year from the first (dCDH needs consecutive years: "
                f"{', '.join(record['incomplete_areas'])})"
            )
    else:
        groups = sample.groupby("area_code")["g"].first()
        cohorts = groups[groups > 0].value_counts().sort_index()
        words = ", ".join(f"{int(g)}: {int(n)} area(s)" for g, n in cohorts.items())
        parts.append(
            f"cohorts (first year: areas) {words or 'none'}; "
            f"{int((groups == 0).sum())} never-integrated controls"
        )
        if record.get("switch_areas"):
            parts.append(
                f"{record['rows_dropped_after_switch']} row(s) after a change of category "
                f"dropped ({_names_of(panel, record['switch_areas'])})"
            )
        if record.get("no_pre_period"):
            why = "no year g - 1" if model == "sunab" else "no year before g"
            parts.append(
                f"left out: {len(record['no_pre_period'])} treated area(s) with {why} "
                f"({', '.join(record['no_pre_period'])})"
            )
    if record.get("excluded_areas"):
        parts.append(f"left out: {len(record['excluded_areas'])} area(s) of the other category")
    return "; ".join(parts)


def _empty_result(model: str, indicator_id: str, scale: str, category: str) -> dict:
    """Return what :func:`robust_did` gives before estimating: failed, no numbers."""
    return failed_result(
        model,
        indicator_id,
        scale,
        category,
        design="",
        sample={},
        cohorts={},
        n_obs=0,
        n_areas=0,
        n_treated_areas=0,
        n_identifying_areas=0,
        identification=None,
        min_partnerships=2,
        not_identified="",
        overall=nan_summary(),
        dynamic=pd.DataFrame(
            columns=["event_time", "estimate", "std_error", "conf_low", "conf_high"]
        ),
        pretrend=no_pretrend(),
        inference="",
        warnings=[],
    )


def robust_did(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    category: str,
    *,
    model: str,
    alpha: float = 0.05,
    exposure: pd.DataFrame | None = None,
    min_partnerships: int = 2,
    classification: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
) -> dict:
    """Estimate one category's effect against ``none`` with ``sunab``, ``bjs`` or ``dcdh``.

    Parameters
    ----------
    panel, indicator_id, scale, category
        As :func:`~.csdid.callaway_santanna`.
    model
        ``sunab``, ``bjs`` or ``dcdh``.
    alpha
        1 - confidence level of the intervals.
    exposure
        The classification's exposure of every area and year (``integration.parquet``), the
        source of the cohorts and first categories; None takes them from ``panel``.
    min_partnerships, classification, names
        The identification rule: the analysis plan's ``min_partnerships``, the dated
        classification (to flag a change resting on an assumed row) and the partnership names
        of the ``not identified`` note
        (:func:`integration_models.inference.identification.identification`).

    Returns
    -------
    dict
        The keys of :func:`~.csdid.callaway_santanna`'s result that the shared row code reads
        (``model``, ``category``, ``scale``, ``status``, ``message``, ``method``, ``fallback``,
        ``overall``, ``dynamic``, ``pretrend``, ``inference``, ``n_obs``, ``n_areas``,
        ``n_treated_areas``, ``n_identifying_areas``, ``not_identified``), with ``design`` (the
        sample in words, for the note), ``sample`` (what was left out), ``identification``
        (:class:`~integration_models.inference.identification.Identification` of the sample's
        treatment), ``min_partnerships`` and ``warnings`` (the library's, as text). Never
        raises on a library failure: status ``failed``, the exception in ``message``.
    """
    from integration_models.inference.identification import identification

    if model not in MODELS:
        raise ValueError(f"unknown model '{model}' (use one of {', '.join(MODELS)})")
    result = _empty_result(model, indicator_id, scale, category)
    result["min_partnerships"] = min_partnerships
    try:
        if model == "dcdh":
            sample, record = dcdh_sample(panel, indicator_id, scale, category, exposure)
        else:
            sample, record = staggered_sample(panel, indicator_id, scale, category, model, exposure)
    except DesignError as err:
        result["message"] = str(err)
        return result
    term = f"integration_{category}"
    ident = identification(sample, term, classification, names)
    treated = sample.groupby("area_code")[term].max()
    result.update(
        sample=record,
        design=_design_words(model, sample, record, panel),
        n_obs=len(sample),
        n_areas=int(sample["area_code"].nunique()),
        n_treated_areas=int((treated > 0).sum()),
        identification=ident,
        n_identifying_areas=ident.n_identifying_areas,
        not_identified=ident.reason(min_partnerships),
        method=METHODS[model],
    )
    covariates = [COVARIATE]
    if sample[COVARIATE].isna().any():
        lacking = sorted(set(sample.loc[sample[COVARIATE].isna(), "area_code"]))
        result["fallback"] = (
            f"{BASELINE_COLUMN} missing for {len(lacking)} area(s) ({', '.join(lacking[:5])}); "
            f"not imputed: no covariate"
        )
        covariates = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitted = FITS[model](sample, covariates, alpha)
            if model == "sunab":
                out = _sunab_results(fitted, sample)
            elif model == "bjs":
                out = _bjs_results(fitted, sample)
            else:
                out = _dcdh_results(fitted, sample, alpha)
        except Exception as err:  # noqa: BLE001 - any library failure is the fit's, reported
            result["message"] = f"{type(err).__name__}: {err}"
            out = None
    result["warnings"] = warning_text(caught)
    if out is None:
        return result
    result.update(out)
    se = result["overall"]["std_error"]
    if math.isfinite(result["overall"]["estimate"]) and math.isfinite(se) and se > 0:
        result["status"] = "ok"
    elif not math.isfinite(result["overall"]["estimate"]):
        result["message"] = f"no effect of {category} integration estimable in this sample"
    else:
        result["message"] = "standard error of the overall effect not finite or zero"
    return result


__all__ = [
    "FORMULAS",
    "MODELS",
    "dcdh_horizons",
    "dcdh_overall_se",
    "dcdh_sample",
    "fit_bjs",
    "fit_dcdh",
    "fit_sunab",
    "robust_did",
    "staggered_sample",
]
