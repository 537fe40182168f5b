"""Sensitivity analyses of the headline ``twfe`` integration estimates.

The headline estimates are the two-way fixed effects integration terms of every indicator::

    y_it = a_i + g_t + b_full * full_it + b_partial * partial_it
           + b_trend * deprivation0_i * t10_t + e_it

clustered by council area (:mod:`integration_models.models.twfe`; ``deprivation0_i`` is the
area's pre-integration deprivation, :data:`~integration_models.inference.design.CONTROLS`). This
module reruns them under each of these *variants* and says whether any conclusion changes:

- ``baseline``: the panel as built;
- ``classification_<name>``: the ``integration`` column recomputed from each scenario
  classification of the config (``scenarios``), with no re-ingest;
- ``transition_exposed``: transition periods (straddling a go-live or switch-off, left out of
  the main models) counted as exposed to the category in force at their end;
- ``no_covid``: the COVID-19 periods dropped (at least half their days in the window,
  :data:`integration_models.data.exposure.COVID_PERIOD_SHARE`);
- ``drop_highland``: Highland (S12000017, a lead-agency model since 2012) dropped;
- ``alt_deprivation``: the deprivation baseline taken from the optional ``deprivation_alt``
  covariate (its value in the same baseline year, times time), reported as not available when
  the dataset has none;
- ``log_density``: log population density added as a control (it varies within areas only by
  interpolation and census rebasing, so the headline leaves it out);
- ``no_covariates``: no covariates at all, only area and year effects and the integration
  terms (the main estimates "with and without covariates");
- ``cluster_health_board``: the same estimates, clustered by the 14 health boards instead of
  the 32 council areas (each board holds whole areas; fewer, larger clusters);
- ``area_trends``: a linear time trend per council area added (each area's own trend, which
  also absorbs the deprivation baseline times time);
- ``population_weighted``: weighted least squares, each area-year weighted by its children
  aged 0-17, so the estimate averages over children rather than over councils;
- ``anticipation``: every partnership's exposure moved one year earlier (the plan's
  ``anticipation`` of 1: an effect that starts before the go-live date);
- ``csdid_pooled_cells``: not a ``twfe`` refit but ``csdid`` (Callaway-Sant'Anna, its outcome
  regression on the deprivation baseline) with the other convention for cells missing a year
  (:data:`integration_models.models.csdid.CELLS`): each year's mean over the areas observed
  in it (``pooled``, diff-diff's ``allow_unbalanced_panel``) instead of within-area changes.
  Its estimate, bootstrap SE and normal p-value are csdid's; its conclusion is compared with
  the ``twfe`` baseline like every variant's, and ``note`` points to the main (``within``)
  csdid row of ``coefficients.csv``, the comparison that isolates the convention (not
  refitted here: it would double the variant's cost);
- ``drop_<hscp_code>``: each partnership left out in turn (Clackmannanshire and Stirling
  share S37000005 and leave together).

The conclusion of every variant uses the test and level the analysis plan fixes for the
headline (``analysis_plan.yaml``: ``test`` and ``alpha``), so that "no conclusion changes"
compares what the headline concludes: ``wcr``, the restricted wild cluster bootstrap with Webb
weights (:func:`integration_models.inference.cluster.wild_cluster_bootstrap`,
:data:`SENSITIVITY_REPS` draws, the same weights for every design with the same number of
clusters, so variants differ by their data and not by their draws); ``crv1``; or ``cr2``
(the default without a plan). The plan's ``ri`` is not run per variant (it needs the
partnership histories of each variant); the wild bootstrap stands in and the label says so.
``estimate``, ``std_error``, ``df`` and the interval are always CR2 with Bell-McCaffrey df
(analytic; the figure's scale), ``statistic`` and ``p_value`` the plan's test, and
``inference`` names both. p-values are adjusted with Benjamini-Hochberg across the indicators
of one family of the plan (``family``: primary or secondary outcomes), per term and variant
(:func:`integration_models.inference.multiplicity.adjust_pvalues`). For the primary family
that is not the plan's Romano-Wolf, which needs the joint bootstrap draws of every variant's
refits (not kept); Benjamini-Hochberg is applied to the baseline and every variant alike, so
"changed" compares like with like. A
conclusion is ``+`` or ``-`` when the adjusted p-value is below ``alpha``, ``ns`` otherwise,
and ``changed`` compares it with the baseline conclusion of the same indicator and term. A
term the baseline concludes on that a variant cannot estimate (a leave-one-out that removes
the only partnership switching to it, one treated area left) counts as changed (``+ -> n/a``):
the conclusion did not survive. A variant this dataset cannot run (no ``deprivation_alt``) is
not a change.

A term with a single treated area keeps its estimate but gets no standard error, p-value or
conclusion (as ``fitting.MIN_TREATED_FOR_SE`` does for csdid): the cluster-robust variance
cannot see that area's own variability. On the demo design with iid normal outcomes (2,000
null draws, ``attendance`` rows) the CR2 Bell-McCaffrey test at 5% rejected 4.9% of the time
for full integration (13 treated areas, median df 21), 4.0% for partial (5 treated areas, df
5.5), but 67% for partial once only East Lothian is left partial (1 treated area, df 25).

Speed: about 49 variants x 25 indicators means about 1,200 designs. Each is assembled here from
numpy arrays (:func:`integration_models.inference.design.design_from_arrays`, with the area effects
projected out in closed form) instead of through pandas, and indicators
observed on the same rows share one design: the whole table took 3.9 s for the 25 demo
indicators (49 variants, 11 of them scenario classifications) on the shared 2-core machine,
about two thirds of it in the per-area eigendecompositions of ``cr2_bell_mccaffrey``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.exposure import (
    COVID_PERIOD_SHARE,
    TRANSITION,
    PeriodType,
    exposure_table,
)
from integration_models.data.panel import BASELINE_OF
from integration_models.data.reference import load_classification
from integration_models.errors import InputError
from integration_models.inference.cluster import (
    InferenceResult,
    cr2_bell_mccaffrey,
    crv1,
    webb_weights,
    wild_cluster_bootstrap,
)
from integration_models.inference.design import (
    CONTROLS,
    TERMS_OF_INTEREST,
    TwfeDesign,
    design_from_arrays,
    recluster,
)
from integration_models.inference.identification import (
    DEFAULT_MIN_PARTNERSHIPS,
    count_identifying,
    not_identified,
)
from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.inference.multiplicity import adjust_pvalues
from integration_models.inference.scope import Scope, blank_out
from integration_models.models.design import DesignError, model_data
from integration_models.plan.analysis_plan import AnalysisPlan

HIGHLAND = "S12000017"
ALT_DEPRIVATION = "deprivation_alt"
NOT_AVAILABLE = "not available in this dataset: covariates.csv has no deprivation_alt column"
INFERENCE = INFERENCE_LABELS["cr2"]
# Bootstrap draws per design for a plan test of wcr: a p-value near 0.05 has a Monte Carlo SD
# of about 0.007, and a whole demo table (about 1,200 designs) stays a few seconds.
SENSITIVITY_REPS = 999
DEFAULT_TEST = "cr2"
HEALTH_BOARD = "health_board_code"
CHILDREN = "population_0_17"
CATEGORIES = ("none", "partial", "full")
TERM_CATEGORY = {"integration_full": "full", "integration_partial": "partial"}
TERM_LABELS = {"integration_full": "full integration", "integration_partial": "partial integration"}
KINDS = (
    "baseline",
    "classification",
    "transition",
    "covid",
    "highland",
    "deprivation",
    "leave_one_out",
    "log_density",
    "no_covariates",
    "clustering",
    "trends",
    "weighting",
    "anticipation",
    "csdid_cells",
)
# The control column of each deprivation source, and log density (the sensitivity variants').
DEPRIVATION_CONTROL = CONTROLS[0]
ALT_DEPRIVATION_CONTROL = "deprivation_alt_trend"
LOG_DENSITY = "log_density"
NOT_ESTIMATED = "n/a"
TABLE_COLUMNS = [
    "variant",
    "kind",
    "description",
    "indicator_id",
    "term",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "conf_low",
    "conf_high",
    "p_adjusted",
    "family",
    "n_obs",
    "n_areas",
    "n_clusters",
    "n_treated_areas",
    "n_identifying_areas",
    "conclusion",
    "changed",
    "inference",
    "note",
]
SUMMARY_COLUMNS = [
    "variant",
    "kind",
    "description",
    "term",
    "test",
    "n_indicators",
    "n_tested",
    "n_significant",
    "n_positive",
    "n_negative",
    "n_changed",
    "changes",
    "note",
]
KIND_STYLES = {  # kind -> colour, marker, legend label (Okabe-Ito)
    "classification": ("#0072B2", "D", "other classification"),
    "transition": ("#56B4E9", "P", "transition periods as exposed"),
    "covid": ("#E69F00", "v", "COVID-19 periods excluded"),
    "highland": ("#009E73", "^", "Highland excluded"),
    "deprivation": ("#CC79A7", "s", "alternative deprivation"),
    "log_density": ("#56B4E9", "P", "log density added"),
    "no_covariates": ("#000000", "x", "without covariates"),
    "clustering": ("#999999", "|", "clustered by health board"),
    "trends": ("#D55E00", "*", "area-specific linear trends"),
    "weighting": ("#0072B2", "h", "weighted by children 0-17"),
    "anticipation": ("#E69F00", "<", "exposure one year earlier"),
    "csdid_cells": ("#CC79A7", "X", "csdid, missing cells pooled"),
}
CHANGED = "#D55E00"
EFFECT_TITLES = {
    "integration_full": "Full integration vs none",
    "integration_partial": "Partial integration vs none",
}
_NUMBERS = ("estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high")
# The default of the analysis plan's min_partnerships: fewest partnerships changing status
# behind a term for a standard error (with one, the cluster-robust variance cannot see that
# partnership's own variability).
MIN_TREATED_AREAS = DEFAULT_MIN_PARTNERSHIPS
# Fewest treated areas for a csdid standard error, as models.fit_job.MIN_TREATED_FOR_SE (not
# imported: that module would bring every estimator into this step's code).
MIN_TREATED_FOR_SE = 2


# --------------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One sensitivity variant: which rows are dropped and which data replace the baseline's.

    Attributes
    ----------
    variant
        Identifier, e.g. ``drop_S37000005``.
    kind
        One of ``KINDS`` (used to group variants in the summary and the figure).
    description
        Human description for tables and the report.
    drop_areas, drop_years
        Council areas and calendar years left out.
    drop_covid
        Whether COVID-19 periods (``covid`` at least ``COVID_PERIOD_SHARE``) are left out.
    integration
        Exposure replacing the panel's (a scenario: ``area_code, year, period_key,
        integration``), or ``None``.
    deprivation
        The model column used as the deprivation control (the baseline-times-time
        ``deprivation_trend`` of ``twfe``, or ``deprivation_alt_trend``); empty for none.
    log_density
        Whether log population density is added as a control.
    unavailable
        Why the variant cannot be run on this dataset (empty when it can).
    cluster
        What the standard errors and bootstrap weights are clustered by: ``area`` (council
        area) or ``health_board``.
    area_trends
        Whether a linear time trend per area is added as a control.
    weighted
        Whether the rows are weighted by their children aged 0-17 (weighted least squares).
    estimator
        ``twfe`` (every variant but one) or ``csdid_pooled``: Callaway-Sant'Anna with cells
        ``pooled`` (:func:`csdid_variant_rows`).
    """

    variant: str
    kind: str
    description: str
    drop_areas: frozenset[str] = frozenset()
    drop_years: frozenset[int] = frozenset()
    drop_covid: bool = False
    integration: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    deprivation: str = DEPRIVATION_CONTROL
    unavailable: str = ""
    log_density: bool = False
    cluster: str = "area"
    area_trends: bool = False
    weighted: bool = False
    estimator: str = "twfe"


def load_scenarios(paths: Iterable[str | Path], areas: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Read scenario classifications (config ``scenarios``), keyed by file stem.

    Parameters
    ----------
    paths
        Classification files of the form of the baseline (``hscp_code, category, from_year,
        to_year, evidence``).
    areas
        The council-area reference table (:func:`integration_models.data.reference.load_areas`).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``{stem: classification}``, e.g. ``{"confirmed_only": ...}``, in the order given.

    Raises
    ------
    InputError
        From :func:`integration_models.data.reference.load_classification`, naming file and line.
        Also if two files share a stem (their variants would share an id).
    """
    out: dict[str, pd.DataFrame] = {}
    for path in map(Path, paths):
        if path.stem in out:
            raise InputError(path, f"another scenario file is also named '{path.stem}'")
        out[path.stem] = load_classification(path, areas)
    return out


def scenario_integration(scenario: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Return the exposure of every area-year and kind of period of the panel in a scenario.

    Parameters
    ----------
    scenario
        Either a dated classification (``hscp_code, category, from_date, to_date``, from
        :func:`integration_models.data.reference.load_classification`), expanded with
        :func:`integration_models.data.exposure.exposure_table` over the panel's areas, years and
        kinds of period exactly as ``classify`` does, or already ``area_code, year,
        integration`` (with ``period_key`` when it differs by kind of period).
    panel
        The long panel (``area_code, hscp_code, year, period_key``).

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, integration`` (and ``period_key``), one row per area, year and
        kind of period.

    Raises
    ------
    ValueError
        If the scenario has neither form, a category is unknown, or an area-year of the
        panel has no category.
    """
    columns = set(scenario.columns)
    if {"area_code", "year", "integration"} <= columns:
        keys = _exposure_keys(scenario)
        table = scenario[[*keys, "integration"]].copy()
    elif {"hscp_code", "category", "from_date", "to_date"} <= columns:
        areas = panel[["area_code", "hscp_code"]].drop_duplicates("area_code")
        years = list(range(int(panel["year"].min()), int(panel["year"].max()) + 1))
        kinds = [PeriodType.from_key(key) for key in sorted(set(panel["period_key"]))]
        table = exposure_table(scenario, areas.sort_values("area_code"), years, kinds)
        keys = _exposure_keys(table)
        table = table[[*keys, "integration"]]
    else:
        raise ValueError(
            "a scenario needs columns area_code, year, integration or a classification's "
            f"hscp_code, category, from_date, to_date (found: {', '.join(scenario.columns)})"
        )
    unknown = sorted(set(table["integration"]) - {*CATEGORIES, TRANSITION})
    if unknown:
        raise ValueError(f"unknown integration categories: {', '.join(map(str, unknown))}")
    table["area_code"] = table["area_code"].astype(str)
    table["year"] = table["year"].astype("int64")
    if table.duplicated(keys).any():
        raise ValueError("a scenario has several categories for one area, year and period")
    return table.reset_index(drop=True)


def _exposure_keys(table: pd.DataFrame) -> list[str]:
    """Return the columns an exposure table is joined on: area, year and any kind of period."""
    return ["area_code", "year", *(["period_key"] if "period_key" in table.columns else [])]


def relabel_integration(panel: pd.DataFrame, integration: pd.DataFrame) -> pd.DataFrame:
    """Return the panel with its ``integration`` column taken from ``integration``.

    Rows and their order are kept; only the category changes, as if the panel had been
    ingested with the scenario's classification.

    Raises
    ------
    ValueError
        If an area-year of the panel has no category in ``integration``.
    """
    on = _exposure_keys(integration)
    keys = panel[on].astype({"area_code": str, "year": "int64"})
    merged = keys.merge(integration, on=on, how="left", validate="m:1")
    missing = merged["integration"].isna()
    if missing.any():
        first = merged.loc[missing].iloc[0]
        raise ValueError(
            f"no integration category for area {first['area_code']} year {first['year']} "
            f"({int(missing.sum())} panel rows lack one)"
        )
    return panel.assign(integration=merged["integration"].to_numpy())


def build_variants(
    panel: pd.DataFrame,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    population: pd.DataFrame | None = None,
) -> list[Variant]:
    """List the sensitivity variants for a panel, baseline first.

    The list depends on the classification, the areas and the scenarios, not on which
    indicators ``panel`` holds, so one indicator's variants are those of all indicators.

    Parameters
    ----------
    panel
        The long panel, or one indicator's part of it (whether ``deprivation_alt`` is there).
    population
        Every area, year and kind of period with its partnership and exposure
        (:func:`integration_models.data.panel.area_exposure`): what scenarios relabel and which
        partnerships are left out in turn. Default: ``panel``.
    scenarios
        ``{name: classification or area-year table}`` (:func:`load_scenarios`); one variant
        ``classification_<name>`` each.

    Returns
    -------
    list of Variant
        ``baseline``, the classification scenarios, ``transition_exposed``, ``no_covid``,
        ``drop_highland``, ``alt_deprivation``, ``log_density``, ``no_covariates`` and one
        ``drop_<hscp_code>`` per partnership in the panel.
    """
    population = panel if population is None else population
    variants = [Variant("baseline", "baseline", "baseline: the panel as built")]
    for name, scenario in (scenarios or {}).items():
        variants.append(
            Variant(
                f"classification_{name}",
                "classification",
                f"integration coded by the '{name}' classification",
                integration=scenario_integration(scenario, population),
            )
        )
    exposed = population[[*_exposure_keys(population), "integration_exposed"]]
    variants.append(
        Variant(
            "transition_exposed",
            "transition",
            "transition periods (straddling a change of category; the main models leave "
            "them out) counted as exposed to the category in force at their end",
            integration=exposed.drop_duplicates().rename(
                columns={"integration_exposed": "integration"}
            ),
        )
    )
    variants.append(
        Variant(
            "no_covid",
            "covid",
            f"COVID-19 periods excluded (at least {COVID_PERIOD_SHARE:.0%} of their days in "
            "the window)",
            drop_covid=True,
        )
    )
    variants.append(
        Variant(
            "drop_highland",
            "highland",
            f"Highland ({HIGHLAND}, lead-agency model since 2012) excluded",
            drop_areas=frozenset({HIGHLAND}),
        )
    )
    available = ALT_DEPRIVATION in panel.columns and panel[ALT_DEPRIVATION].notna().any()
    variants.append(
        Variant(
            "alt_deprivation",
            "deprivation",
            "alternative deprivation measure (deprivation_alt) in place of deprivation",
            deprivation=ALT_DEPRIVATION_CONTROL,
            unavailable="" if available else NOT_AVAILABLE,
        )
    )
    variants.append(
        Variant(
            "log_density",
            "log_density",
            "log population density added as a control",
            log_density=True,
        )
    )
    variants.append(
        Variant(
            "no_covariates",
            "no_covariates",
            "without covariates (area and year effects and integration only)",
            deprivation="",
        )
    )
    variants += _design_variants(population)
    variants.append(
        Variant(
            "csdid_pooled_cells",
            "csdid_cells",
            "csdid (Callaway-Sant'Anna) with cells missing a year (suppressed, or after a "
            "switch) pooled: each year's mean over the areas observed in it, as diff-diff's "
            "allow_unbalanced_panel, instead of within-area changes (note: the main csdid)",
            estimator="csdid_pooled",
        )
    )
    areas = population[["hscp_code", "area_code", "area_name"]].drop_duplicates("area_code")
    for hscp, members in areas.sort_values("area_code").groupby("hscp_code", sort=True):
        names = ", ".join(members["area_name"].astype(str))
        variants.append(
            Variant(
                f"drop_{hscp}",
                "leave_one_out",
                f"partnership {hscp} left out ({names})",
                drop_areas=frozenset(members["area_code"].astype(str)),
            )
        )
    return variants


def _design_variants(population: pd.DataFrame) -> list[Variant]:
    """Return the variants of the clustering, the trends, the weights and exposure timing."""
    return [
        Variant(
            "cluster_health_board",
            "clustering",
            "standard errors clustered by the 14 health boards instead of the council areas",
            cluster="health_board",
        ),
        Variant(
            "area_trends",
            "trends",
            "a linear time trend per council area added (it absorbs the deprivation trend)",
            area_trends=True,
        ),
        Variant(
            "population_weighted",
            "weighting",
            "each area-year weighted by its children aged 0-17 (weighted least squares)",
            weighted=True,
        ),
        Variant(
            "anticipation",
            "anticipation",
            "exposure moved one year earlier (anticipation of one year)",
            integration=anticipated_integration(population),
        ),
    ]


def anticipated_integration(population: pd.DataFrame, years: int = 1) -> pd.DataFrame:
    """Return every area-year's exposure as it will be ``years`` years later.

    Each area (and kind of period) takes in year ``t`` the category of year ``t + years``,
    so a go-live or a switch-off counts from ``years`` earlier; a year whose later year is
    not in ``population`` keeps its own category.

    Parameters
    ----------
    population
        Every area, year and kind of period with its exposure ``integration``
        (:func:`integration_models.data.panel.area_exposure`, or the panel).

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, integration`` (and ``period_key``), for :func:`relabel_integration`.
    """
    keys = _exposure_keys(population)
    table = population[[*keys, "integration"]].drop_duplicates(keys)
    table = table.astype({"area_code": str, "year": "int64"})
    later = table.assign(year=table["year"] - years)
    moved = table[keys].merge(later, on=keys, how="left", validate="1:1")
    own = table["integration"].to_numpy()
    table["integration"] = moved["integration"].fillna(pd.Series(own)).to_numpy()
    return table.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Rows of one indicator, and a fast design
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorRows:
    """One indicator's model rows as arrays sorted by area then year (from ``model_data``)."""

    area: np.ndarray
    year: np.ndarray
    y: np.ndarray
    columns: dict[str, np.ndarray]
    board: np.ndarray


def indicator_rows(panel: pd.DataFrame, indicator_id: str, scale: str) -> IndicatorRows:
    """Model rows of one indicator: ``model_data`` plus the alternative deprivation control.

    ``deprivation_alt_trend`` (``deprivation_alt_baseline`` times ``time10``, as
    ``deprivation_trend`` is formed) is added when the panel has the alternative measure.

    Raises
    ------
    DesignError
        From :func:`integration_models.models.design.model_data` (no rows, constant outcome,
        non-positive values on the log scale).
    """
    frame = model_data(panel, indicator_id, scale).frame
    rows = panel.loc[panel["indicator_id"] == indicator_id]
    rows = rows.loc[rows["integration"] != TRANSITION]  # as model_data leaves them out
    extra = {}
    if ALT_DEPRIVATION in rows.columns:  # model_data keeps the panel's row order
        extra[ALT_DEPRIVATION] = rows[ALT_DEPRIVATION].to_numpy(dtype=float)
    alt_baseline = BASELINE_OF[ALT_DEPRIVATION]
    if alt_baseline in rows.columns:
        baseline = rows[alt_baseline].to_numpy(dtype=float)
        extra[ALT_DEPRIVATION_CONTROL] = baseline * frame["time10"].to_numpy(dtype=float)
    area = frame["area_code"].astype(str).to_numpy()
    year = frame["year"].to_numpy(dtype="int64")
    order = np.lexsort((year, area))
    names = [*TERMS_OF_INTEREST, *CONTROLS, LOG_DENSITY, "covid", "time10", CHILDREN]
    columns = {name: frame[name].to_numpy(dtype=float)[order] for name in names}
    columns.update({name: values[order] for name, values in extra.items()})
    board = rows[HEALTH_BOARD].astype(str).to_numpy() if HEALTH_BOARD in rows else area
    y = frame["y"].to_numpy(dtype=float)[order]
    return IndicatorRows(area[order], year[order], y, columns, board[order])


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def _variant_arrays(rows: IndicatorRows, variant: Variant) -> dict | str:
    """Return the rows of one indicator under a variant, or why it cannot be estimated."""
    keep = np.ones(len(rows.y), dtype=bool)
    if variant.drop_areas:
        keep &= ~np.isin(rows.area, list(variant.drop_areas))
    if variant.drop_years:
        keep &= ~np.isin(rows.year, list(variant.drop_years))
    if variant.drop_covid:
        keep &= ~(rows.columns["covid"] >= COVID_PERIOD_SHARE)
    # the headline's controls (CONTROLS), with the variant's deprivation column in place of
    # the baseline trend (or none), and log density where the variant adds it
    names = [variant.deprivation] if variant.deprivation else []
    names += [LOG_DENSITY] if variant.log_density else []
    controls = {}
    for name in names:
        values = rows.columns.get(name)
        if values is None:
            return NOT_AVAILABLE
        if np.isnan(values[keep]).any():
            return f"not estimated: {name} is missing in some rows"
        controls[DEPRIVATION_CONTROL if name != LOG_DENSITY else name] = values[keep]
    if not keep.any():
        return "not estimated: no rows left"
    if variant.area_trends:
        time10, area = rows.columns["time10"][keep], rows.area[keep]
        controls |= {f"trend_{a}": time10 * (area == a) for a in np.unique(area)}
    weights = None
    if variant.weighted:
        weights = rows.columns[CHILDREN][keep]
        if not (np.isfinite(weights).all() and (weights > 0).all()):
            return f"not estimated: {CHILDREN} is missing or not positive in some rows"
    return {
        "area": rows.area[keep],
        "year": rows.year[keep],
        "y": rows.y[keep],
        "treat": {t: rows.columns[t][keep] for t in TERMS_OF_INTEREST},
        "controls": controls,
        "weights": weights,
        "board": rows.board[keep],
    }


def _design_key(arrays: dict) -> bytes:
    """Bytes identifying a design: its rows, dummies and controls (not the outcome)."""
    parts = [arrays["area"].astype("U9").tobytes(), arrays["year"].tobytes()]
    parts += [v.tobytes() for v in arrays["treat"].values()]
    parts += [v.tobytes() for v in arrays["controls"].values()]
    parts += [b"" if arrays["weights"] is None else arrays["weights"].tobytes()]
    return b"|".join(parts)


@dataclass(frozen=True)
class PlanTest:
    """The test and level that decide every variant's conclusion (from the analysis plan).

    Attributes
    ----------
    test
        ``crv1``, ``cr2``, ``wcr`` or ``ri`` (:data:`integration_models.plan.analysis_plan.TESTS`;
        ``ri`` is run as ``wcr``, see the module docstring).
    alpha
        Level of the conclusions and the intervals.
    reps, seed
        Bootstrap draws and seed of the wild bootstrap.
    """

    test: str = DEFAULT_TEST
    alpha: float = 0.05
    reps: int = SENSITIVITY_REPS
    seed: int = 0

    @classmethod
    def of(cls, plan: AnalysisPlan | None, alpha: float, seed: int, reps: int) -> PlanTest:
        """Return the plan's test and level, or CR2 at ``alpha`` without a plan."""
        if plan is None:
            return cls(DEFAULT_TEST, alpha, reps, seed)
        return cls(plan.test, plan.alpha, reps, seed)

    @property
    def label(self) -> str:
        """The ``inference`` of the rows: the test of the conclusion, and what the SE is."""
        if self.test == "cr2":
            return INFERENCE
        if self.test == "ri":
            wcr = INFERENCE_LABELS["wcr"].format(reps=self.reps)
            test = f"{wcr} in place of the plan's randomization inference"
        else:
            test = INFERENCE_LABELS[self.test].format(reps=self.reps)
        return f"{test} (p-value, conclusion); SE, df and interval {INFERENCE}"

    def run(self, design: TwfeDesign, y: np.ndarray) -> tuple[InferenceResult, InferenceResult]:
        """Return the CR2 result (estimate, SE, df, interval) and the plan test's (t, p)."""
        shown = cr2_bell_mccaffrey(design, y, alpha=self.alpha)
        if self.test == "cr2":
            return shown, shown
        if self.test == "crv1":
            return shown, crv1(design, y, alpha=self.alpha)
        weights = webb_weights(design.n_clusters, self.reps, self.seed)
        return shown, wild_cluster_bootstrap(design, y, weights=weights)


def _blank_row(variant: Variant, indicator: str, term: str, note: str, **counts) -> dict:
    return {
        "variant": variant.variant,
        "kind": variant.kind,
        "description": variant.description,
        "indicator_id": indicator,
        "term": term,
        **dict.fromkeys(_NUMBERS, np.nan),
        "n_obs": counts.get("n_obs"),
        "n_areas": counts.get("n_areas"),
        "n_clusters": counts.get("n_clusters"),
        "n_treated_areas": counts.get("n_treated_areas"),
        "n_identifying_areas": counts.get("n_identifying_areas"),
        "inference": counts.get("inference", INFERENCE),
        "note": note,
    }


def _treated_areas(arrays: dict, term: str) -> int:
    """Areas with at least one row coded with ``term`` (ever treated; not the evidence)."""
    return int(np.unique(arrays["area"][arrays["treat"][term] > 0]).size)


def _identifying_areas(arrays: dict, term: str, hscp_of: Mapping[str, str] | None) -> int:
    """Partnerships whose exposure to ``term`` changes within the variant's rows.

    The clusters that identify the term (:mod:`integration_models.inference.identification`):
    a variant that drops years or relabels areas changes them, so they are counted per
    variant.
    """
    return count_identifying(arrays["area"], arrays["treat"][term], hscp_of)


def _not_identified(arrays: dict, n: int, min_partnerships: int) -> str:
    """Return the ``not identified: ...`` note of a term with ``n`` identifying partnerships."""
    years = arrays["year"]
    window = f"{int(years.min())}-{int(years.max())}"
    return not_identified(n, window, min_partnerships) + ": estimate only, no valid standard error"


def _dropped_term_note(arrays: dict, term: str) -> str:
    category = TERM_CATEGORY[term]
    if arrays["treat"][term].sum() == 0:
        return f"not estimable: no observations coded {category} in this sample"
    return f"not estimable: no area changes to or from {category} (absorbed by the area effects)"


def _group_design(variant: Variant, arrays: dict, y: np.ndarray) -> tuple[TwfeDesign, np.ndarray]:
    """Return the design of a variant's rows and the outcomes aligned with it (``N x J``).

    Weighted variants scale the outcomes by ``sqrt(weights)`` as the design's rows are
    (:func:`~integration_models.inference.design.design_from_arrays`); the health-board variant
    reorders rows into board blocks (:func:`~integration_models.inference.design.recluster`).

    Raises
    ------
    DesignError
        If no integration term can be estimated from the rows.
    """
    design = design_from_arrays(
        arrays["area"], arrays["year"], arrays["treat"], arrays["controls"], arrays["weights"]
    )
    if arrays["weights"] is not None:
        y = y * np.sqrt(arrays["weights"])[:, None]
    if variant.cluster == "health_board":
        design, order = recluster(design, arrays["board"])
        y = y[order]
    return design, y


def _n_clusters(variant: Variant, arrays: dict) -> int:
    units = arrays["board"] if variant.cluster == "health_board" else arrays["area"]
    return int(np.unique(units).size)


def _variant_rows(
    variant: Variant,
    rows_of: Mapping[str, IndicatorRows | str],
    indicator_ids: Sequence[str],
    test: PlanTest,
    hscp_of: Mapping[str, str] | None = None,
    min_partnerships: int = MIN_TREATED_AREAS,
) -> list[dict]:
    """Rows of one variant for every indicator and term (estimates before BH).

    Indicators observed on the same rows share one design and are tested together (the
    outcomes are columns of one matrix, the bootstrap draws shared). A term that fewer than
    ``min_partnerships`` partnerships identify in the variant's rows keeps its estimate but no
    standard error, test or interval (``hscp_of``: area -> partnership; without it each area
    is its own).
    """
    label = {"inference": test.label}
    if variant.unavailable:
        return [
            _blank_row(variant, i, t, variant.unavailable, **label)
            for i in indicator_ids
            for t in TERMS_OF_INTEREST
        ]
    out: dict[tuple[str, str], dict] = {}
    groups: dict[bytes, list[tuple[str, dict]]] = {}
    for indicator in indicator_ids:
        rows = rows_of[indicator]
        arrays = rows if isinstance(rows, str) else _variant_arrays(rows, variant)
        if isinstance(arrays, str):
            for term in TERMS_OF_INTEREST:
                out[(indicator, term)] = _blank_row(variant, indicator, term, arrays, **label)
            continue
        groups.setdefault(_design_key(arrays), []).append((indicator, arrays))
    for members in groups.values():
        arrays = members[0][1]
        counts = {
            "n_obs": len(arrays["y"]),
            "n_areas": int(np.unique(arrays["area"]).size),
            "n_clusters": _n_clusters(variant, arrays),
            **label,
        }
        try:
            design, y = _group_design(
                variant, arrays, np.column_stack([m[1]["y"] for m in members])
            )
        except DesignError as err:
            design, reason = None, f"not estimated: {err}"
        if design is not None:
            shown, tested = test.run(design, y)
        for o, (indicator, _) in enumerate(members):
            for term in TERMS_OF_INTEREST:
                term_counts = {
                    **counts,
                    "n_treated_areas": _treated_areas(arrays, term),
                    "n_identifying_areas": _identifying_areas(arrays, term, hscp_of),
                }
                if design is None or term not in design.terms:
                    note = reason if design is None else _dropped_term_note(arrays, term)
                    out[(indicator, term)] = _blank_row(
                        variant, indicator, term, note, **term_counts
                    )
                    continue
                j = design.terms.index(term)
                row = _blank_row(variant, indicator, term, "", **term_counts)
                identifying = term_counts["n_identifying_areas"]
                if identifying < min_partnerships:
                    row["estimate"] = float(shown.estimate[o, j])
                    row["note"] = _not_identified(arrays, identifying, min_partnerships)
                else:
                    row.update({name: float(getattr(shown, name)[o, j]) for name in _NUMBERS})
                    row["statistic"] = float(tested.statistic[o, j])
                    row["p_value"] = float(tested.p_value[o, j])
                out[(indicator, term)] = row
    return [out[(i, t)] for i in indicator_ids for t in TERMS_OF_INTEREST]


def csdid_variant_rows(
    variant: Variant,
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    population: pd.DataFrame | None,
    test: PlanTest,
    min_partnerships: int = MIN_TREATED_AREAS,
) -> list[dict]:
    """Rows of the ``csdid_pooled_cells`` variant: csdid with cells ``pooled``, per term.

    Each integration term is csdid's overall effect of its category against never-integrated
    areas (:func:`integration_models.models.csdid.callaway_santanna`, cohorts from
    ``population``, the plan's ``alpha``, the table's seed), with cells ``pooled``. As in the
    ``csdid`` fits, a term with one treated area, or identified by fewer than
    ``min_partnerships`` partnerships, keeps its estimate only. ``note`` gives the main
    (``within``) csdid estimate and p-value of the same term.
    """
    from integration_models.models.csdid import callaway_santanna, did_rows

    rows = []
    for indicator in indicator_ids:
        scale = scale_of.get(indicator, "identity")
        for term, category in TERM_CATEGORY.items():
            result = callaway_santanna(
                panel,
                indicator,
                scale,
                category,
                exposure=population,
                cells="pooled",
                seed=test.seed,
                alpha=test.alpha,
                min_partnerships=min_partnerships,
            )
            counts = {
                "n_obs": result["n_obs"],
                "n_areas": result["n_areas"],
                "n_clusters": result["n_areas"],
                "n_treated_areas": result["n_treated_areas"],
                "n_identifying_areas": result["n_identifying_areas"],
                "inference": result["inference"],
            }
            if result["status"] != "ok":
                reason = result["message"] or result["status"]
                rows.append(
                    _blank_row(variant, indicator, term, f"not estimated: {reason}", **counts)
                )
                continue
            coefficient = did_rows(result, indicator)[0]
            row = _blank_row(variant, indicator, term, coefficient["note"], **counts)
            row.update({name: coefficient[name] for name in _NUMBERS if name != "df"})
            if result["n_treated_areas"] < MIN_TREATED_FOR_SE:
                row.update(dict.fromkeys(_NUMBERS[1:], np.nan))
                row["note"] = f"only 1 treated area: no valid standard error; {row['note']}"
            row["note"] = f"{COMPARE_WITHIN}; {row['note']}"
            rows.append(row)
    return rows


COMPARE_WITHIN = "compare: model csdid (within-area cells) in coefficients.csv"


def _conclusion(estimate: float, p_adjusted: float, alpha: float) -> str:
    if not (np.isfinite(estimate) and np.isfinite(p_adjusted)):
        return NOT_ESTIMATED
    if p_adjusted < alpha:
        return "+" if estimate > 0 else "-"
    return "ns"


def sensitivity_table(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    *,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    alpha: float = 0.05,
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
    min_partnerships: int = MIN_TREATED_AREAS,
    plan: AnalysisPlan | None = None,
    seed: int = 0,
    reps: int = SENSITIVITY_REPS,
) -> pd.DataFrame:
    """Rerun the headline ``twfe`` integration estimates under every sensitivity variant.

    Per variant (:func:`build_variants`) and indicator, the model
    ``y ~ integration_full + integration_partial + deprivation_trend | area + year`` (the
    controls of ``twfe``, :data:`~integration_models.inference.design.CONTROLS`) is refitted on the
    variant's rows with CR2 standard errors and Bell-McCaffrey df (analytic; honest with few
    treated clusters, methods.md section 4) and tested with the plan's test (the module
    docstring); p-values are adjusted by Benjamini-Hochberg across indicators, per variant and
    term. The bootstrap draws come from ``seed``, so the table is identical on every run.

    Parameters
    ----------
    panel
        The long panel (:func:`integration_models.data.ingest.build_panel`), optionally with a
        ``deprivation_alt`` column.
    indicator_ids
        Indicators, in the order of the output.
    scale_of
        Indicator -> outcome scale (``identity`` or ``log``); missing means ``identity``.
    scenarios
        ``{name: classification}`` (:func:`load_scenarios`) or ``{name: area_code, year,
        integration}``; each gives a ``classification_<name>`` variant.
    alpha
        Level of the intervals (1 - alpha) and of the conclusions after BH, when there is no
        ``plan`` (the plan's ``alpha`` otherwise).
    scope
        The terms the main ``twfe`` fits estimated (:mod:`integration_models.inference.scope`): in
        every variant only these are estimated and enter the adjustment; the others keep
        their rows with the reason in ``note``.
    population
        Every area, year and kind of period with its partnership and exposure
        (:func:`integration_models.data.panel.area_exposure`), for :func:`build_variants`.
        Default: ``panel``.
    min_partnerships
        The analysis plan's ``identification.min_partnerships``: a term that fewer
        partnerships identify in a variant's rows (their exposure changes within its years)
        keeps its estimate only, with ``not identified: ...`` in ``note``;
        ``n_identifying_areas`` counts them (``n_treated_areas`` the areas ever coded).
    plan
        The analysis plan: its ``test`` and ``alpha`` decide the conclusions (:class:`PlanTest`);
        without one, CR2 at ``alpha``.
    seed, reps
        Seed and number of draws of the wild cluster bootstrap (plan test ``wcr``).

    Returns
    -------
    pandas.DataFrame
        ``TABLE_COLUMNS``: one row per variant, indicator and integration term. A term that
        cannot be estimated (no treated area left, a variant not available in this dataset,
        an indicator that cannot be modelled) has NaN numbers, conclusion ``n/a`` and the
        reason in ``note``. ``changed`` is True/False against the baseline conclusion, and
        missing (NA) where either conclusion is ``n/a``.
    """
    rows = sensitivity_rows(
        panel, indicator_ids, scale_of, scenarios=scenarios, alpha=alpha, scope=scope,
        population=population, min_partnerships=min_partnerships, plan=plan, seed=seed,
        reps=reps,
    )  # fmt: skip
    return combine_sensitivity([rows], plan.alpha if plan is not None else alpha)


def sensitivity_rows(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    *,
    scenarios: Mapping[str, pd.DataFrame] | None = None,
    alpha: float = 0.05,
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
    min_partnerships: int = MIN_TREATED_AREAS,
    plan: AnalysisPlan | None = None,
    seed: int = 0,
    reps: int = SENSITIVITY_REPS,
) -> pd.DataFrame:
    """Return the rows of :func:`sensitivity_table` before the adjustment across indicators.

    Parameters and rows as :func:`sensitivity_table`, without ``p_adjusted``, ``conclusion``
    and ``changed``; computed one indicator at a time by the workflow and joined by
    :func:`combine_sensitivity`.
    """
    indicator_ids = list(indicator_ids)
    test = PlanTest.of(plan, alpha, seed, reps)
    variants = build_variants(panel, scenarios, population)
    hscp_of = dict(zip(panel["area_code"].astype(str), panel["hscp_code"].astype(str), strict=True))
    cache: dict[int, dict[str, IndicatorRows | str]] = {}

    def rows_for(source: pd.DataFrame) -> dict[str, IndicatorRows | str]:
        if id(source) not in cache:
            rows: dict[str, IndicatorRows | str] = {}
            for indicator in indicator_ids:
                try:
                    rows[indicator] = indicator_rows(
                        source, indicator, scale_of.get(indicator, "identity")
                    )
                except DesignError as err:
                    rows[indicator] = f"not estimated: {err}"
            cache[id(source)] = rows
        return cache[id(source)]

    records: list[dict] = []
    for variant in variants:
        if variant.estimator == "csdid_pooled":
            records.extend(
                csdid_variant_rows(
                    variant, panel, indicator_ids, scale_of, population, test, min_partnerships
                )
            )
            continue
        source = panel
        if variant.integration is not None:
            source = relabel_integration(panel, variant.integration)
        records.extend(
            _variant_rows(variant, rows_for(source), indicator_ids, test, hscp_of, min_partnerships)
        )
        if source is not panel:
            cache.pop(id(source))
    table = pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)
    for column in ("n_obs", "n_areas", "n_clusters", "n_treated_areas", "n_identifying_areas"):
        table[column] = table[column].astype("Int64")
    if scope is not None:
        numbers = TABLE_COLUMNS[TABLE_COLUMNS.index("estimate") : TABLE_COLUMNS.index("p_adjusted")]
        table = blank_out(table, scope, numbers, "note")
    return table.drop(columns=["p_adjusted", "conclusion", "changed"])


def combine_sensitivity(
    parts: Sequence[pd.DataFrame], alpha: float, families: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Join :func:`sensitivity_rows` of several calls and adjust within families.

    Rows come variant by variant (in the order of :func:`build_variants`, the same in every
    part), then in the order of the parts; ``p_adjusted`` is Benjamini-Hochberg per variant,
    term and family across the family's indicators (``families``: indicator -> ``primary``
    or ``secondary``, from
    :meth:`~integration_models.plan.analysis_plan.AnalysisPlan.families_of`; None: one family
    of all indicators), then ``conclusion`` and ``changed`` (see
    :func:`sensitivity_table`).
    """
    table = pd.concat(list(parts), ignore_index=True)
    family_of = families or {}
    table["family"] = [family_of.get(i, "primary") for i in table["indicator_id"]]
    variant_order = {v: i for i, v in enumerate(dict.fromkeys(table["variant"]))}
    table = table.sort_values(
        "variant", key=lambda column: column.map(variant_order), kind="stable"
    ).reset_index(drop=True)
    table = _add_conclusions(table, alpha)
    return table[TABLE_COLUMNS]


def _add_conclusions(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Add ``p_adjusted`` (BH per variant, term and family), ``conclusion`` and ``changed``.

    ``changed`` is True where the conclusion differs from the baseline's, including a
    baseline conclusion the variant cannot reach (``n/a``: not estimable or untestable there);
    missing where the baseline has none or the variant is not available in this dataset.
    """
    table = table.copy()
    table["p_adjusted"] = np.nan
    families = table.groupby(["variant", "term", "family"], sort=False, dropna=False)
    for _, index in families.groups.items():
        table.loc[index, "p_adjusted"] = adjust_pvalues(table.loc[index, "p_value"].to_numpy())
    table["conclusion"] = [
        _conclusion(e, p, alpha)
        for e, p in zip(table["estimate"], table["p_adjusted"], strict=True)
    ]
    base = table.loc[table["variant"] == "baseline"].set_index(["indicator_id", "term"])
    reference = pd.MultiIndex.from_frame(table[["indicator_id", "term"]])
    baseline = base["conclusion"].reindex(reference).to_numpy()
    current = table["conclusion"].to_numpy()
    run = table["note"].fillna("").to_numpy() != NOT_AVAILABLE
    comparable = (baseline != NOT_ESTIMATED) & ((current != NOT_ESTIMATED) | run)
    changed = pd.array(current != baseline, dtype="boolean")
    changed[~comparable] = pd.NA
    table["changed"] = changed
    return table


# --------------------------------------------------------------------------------------------
# Summary and words
# --------------------------------------------------------------------------------------------


def _changed(column: pd.Series) -> np.ndarray:
    """Return ``changed`` as a plain boolean mask (missing = not changed)."""
    return column.astype("boolean").fillna(False).to_numpy(dtype=bool)


def conclusion_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per variant and term: how many indicators are significant, how many conclusions changed.

    Parameters
    ----------
    table
        From :func:`sensitivity_table`.

    Returns
    -------
    pandas.DataFrame
        ``SUMMARY_COLUMNS``, variants in table order. ``n_tested`` counts indicators with a
        conclusion (not ``n/a``); ``changes`` lists the changed conclusions as
        ``indicator (baseline -> variant)``; ``note`` gives the reasons for untested ones.
    """
    base = table.loc[table["variant"] == "baseline"].set_index(["indicator_id", "term"])
    rows = []
    for (variant, term), block in table.groupby(["variant", "term"], sort=False):
        tested = block.loc[block["conclusion"] != NOT_ESTIMATED]
        changed = block.loc[_changed(block["changed"])]
        changes = [
            f"{r.indicator_id} ({base.loc[(r.indicator_id, term), 'conclusion']} -> {r.conclusion})"
            for r in changed.itertuples(index=False)
        ]
        notes = block.loc[block["conclusion"] == NOT_ESTIMATED, "note"]
        rows.append(
            {
                "variant": variant,
                "kind": block["kind"].iloc[0],
                "description": block["description"].iloc[0],
                "term": term,
                "test": _test_of(block),
                "n_indicators": len(block),
                "n_tested": len(tested),
                "n_significant": int(tested["conclusion"].isin(["+", "-"]).sum()),
                "n_positive": int((tested["conclusion"] == "+").sum()),
                "n_negative": int((tested["conclusion"] == "-").sum()),
                "n_changed": len(changed),
                "changes": "; ".join(changes),
                "note": "; ".join(dict.fromkeys(notes)),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _test_of(block: pd.DataFrame) -> str:
    """Return the test behind a block's conclusions (the ``inference`` label up to the SE)."""
    labels = [str(text) for text in block["inference"].dropna() if str(text)]
    return labels[0].split(" (p-value, conclusion)")[0] if labels else ""


def _join(items: Sequence[str]) -> str:
    """Join words as ``a``, ``a and b`` or ``a, b and c``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _label(term: str) -> str:
    return TERM_LABELS.get(term, term)


def _describe_leave_one_out(changed: pd.DataFrame, n_variants: int) -> str:
    """One sentence for the leave-one-partnership-out variants: each change and when."""
    when: dict[str, list[str]] = {}
    for row in changed.itertuples(index=False):
        for item in row.changes.split("; "):
            key = f"{item.replace(' (', f', {_label(row.term)} (', 1)}"
            when.setdefault(key, []).append(row.variant.removeprefix("drop_"))
    listed = "; ".join(
        f"{change} when leaving out {_join(codes).replace(' and ', ' or ')}"
        for change, codes in when.items()
    )
    n_changed = changed["variant"].nunique()
    return (
        f"Leaving out one partnership at a time ({n_variants} variants), conclusions change "
        f"in {n_changed}: {listed}."
    )


def describe_sensitivity(summary: pd.DataFrame) -> str:
    """Say in words whether any conclusion changes across the variants.

    Parameters
    ----------
    summary
        From :func:`conclusion_summary`.

    Returns
    -------
    str
        A short paragraph: the baseline conclusions; then "No conclusion changes under any of
        the N variants" or one sentence per variant whose conclusions change ("Under
        <description>, <k> conclusion(s) change: ..."); then the variants that could not be
        run on this dataset and the terms that could not be tested under some variants.
    """
    base = summary.loc[summary["variant"] == "baseline"]
    others = summary.loc[summary["variant"] != "baseline"]
    sentences = []
    if not base.empty:
        counts = [f"{_label(r.term)} for {r.n_significant}" for r in base.itertuples(index=False)]
        test = base["test"].iloc[0] if "test" in base and base["test"].iloc[0] else INFERENCE
        sentences.append(
            f"At baseline (twfe, {test}, Benjamini-Hochberg across indicators) the "
            f"association is significant for {_join(counts)} of "
            f"{int(base['n_indicators'].max())} indicators."
        )
    tested = others.groupby("variant", sort=False)["n_tested"].sum()
    run, not_run = list(tested.index[tested > 0]), list(tested.index[tested == 0])
    changed = others.loc[others["n_changed"] > 0]
    if changed.empty:
        sentences.append(f"No conclusion changes under any of the {len(run)} variants.")
    else:
        single = changed.loc[changed["kind"] != "leave_one_out"]
        for _, block in single.groupby("variant", sort=False):
            total = int(block["n_changed"].sum())
            listed = "; ".join(f"{_label(r.term)}: {r.changes}" for r in block.itertuples())
            verb = "conclusion changes" if total == 1 else "conclusions change"
            sentences.append(f"Under {block['description'].iloc[0]}, {total} {verb}: {listed}.")
        loo = changed.loc[changed["kind"] == "leave_one_out"]
        if not loo.empty:
            n_loo = int((others.drop_duplicates("variant")["kind"] == "leave_one_out").sum())
            sentences.append(_describe_leave_one_out(loo, n_loo))
        rest = len(run) - changed["variant"].nunique()
        sentences.append(f"No conclusion changes under the other {rest} variants.")
    for variant in not_run:
        block = others.loc[others["variant"] == variant]
        sentences.append(f"Not run: {block['description'].iloc[0]} ({block['note'].iloc[0]}).")
    baseline_tested = base.set_index("term")["n_tested"]
    fewer = others.loc[
        others["variant"].isin(run)
        & (others["n_tested"] < others["term"].map(baseline_tested).fillna(0).to_numpy())
    ]
    for term, block in fewer.groupby("term", sort=False):
        untested = [
            f"{r.variant} ({r.n_indicators - r.n_tested} untested)"
            for r in block.itertuples(index=False)
        ]
        sentences.append(
            f"{_label(term).capitalize()} could not be tested for every indicator under "
            f"{_join(untested)}; the table's note column says why."
        )
    return " ".join(sentences)
