"""The declared schema of every results table, checked where written and read.

A table's columns, their order, their types and the contracts its readers rely on (a p-value
lies in [0, 1], an interval's lower bound is not above its upper bound, a fit's status is one
of a known set, the stamp columns come last) are written down here once, as
:mod:`pandera` schemas, rather than implied by the code that happens to write them. The
shared CSV writer (:func:`integration_models.results.summarise.write_csv`) checks each results
table as written, that is the file as any reader will parse it, against the schema named by
the file's stem; a mismatch there is a bug in the step that built the table and stops it with
the table, column and check named. The report checks each table again as it reads it: a
table left by another version of the package, or edited by hand, is named on the page
instead of crashing the report (:mod:`integration_models.report.render`).

The column helpers, the check and its error are :mod:`integration_models.table_schema`; the
panel's schema (``panel.parquet``, checked by the step that writes it and by each model fit)
is :mod:`integration_models.data.schemas`. Both are imported here too (``PANEL``,
``check_panel``, ``TableSchemaError``, ``problems``, ...), so a reader of the tables needs this
module only; the steps before the tables import neither this module nor the stamp, so adding
or changing a results table here reruns none of them.

Types are checked as a CSV reader sees them: numbers are any numeric column (a float column
whose values are all whole is read back as integers), text is text or empty (an all-empty
text column is read back as floats), and flags (``sign_right``, ``false_positive``,
``changed``) are True, False or empty. A table with no rows (the known-effects tables of real
data) is checked for its columns only, as nothing types an empty column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from integration_models.data.schemas import CATEGORIES
from integration_models.data.schemas import PANEL as PANEL
from integration_models.data.schemas import check_panel as check_panel
from integration_models.results.stamp import STAMP_COLUMNS
from integration_models.table_schema import (
    NON_NEGATIVE,
    P_VALUE,
    PERCENT,
    TableSchemaError,
    flag,
    integer,
    number,
    one_of,
    problems,
    text,
    text_columns,
)

STATUSES = ("ok", "not_converged", "failed", "skipped")
CONCLUSIONS = ("+", "-", "ns")
# what an integration estimate under the headline test means for children (estimates.csv)
OUTCOMES = ("better", "worse", "unknown direction", "not significant", "not estimated")
# the analysis plan's multiplicity families of outcomes (integration_models.plan)
FAMILIES = ("primary", "secondary")


def _interval_ordered(frame: pd.DataFrame) -> pd.Series:
    low, high = frame["conf_low"], frame["conf_high"]
    finite = np.isfinite(low.astype(float)) & np.isfinite(high.astype(float))
    return ~finite | (low <= high)


INTERVAL = pa.Check(_interval_ordered, name="conf_low <= conf_high where both are finite")

STAMP = {"data": text(nullable=False), "config_hash": text(nullable=False),
         "inputs_hash": text(nullable=False)}  # fmt: skip


def _table(name: str, columns: dict[str, pa.Column], checks: Sequence[pa.Check] = ()):
    """Declare a results table: exactly ``columns``, then the stamp columns, in this order."""
    return pa.DataFrameSchema(
        {**columns, **STAMP}, checks=list(checks), strict=True, ordered=True, name=name
    )


ESTIMATE = {
    "estimate": number(),
    "std_error": number(NON_NEGATIVE),
    "statistic": number(),
    "p_value": number(P_VALUE),
    "conf_low": number(),
    "conf_high": number(),
}

COEFFICIENTS = _table(
    "coefficients",
    {
        "indicator_id": text(nullable=False),
        "model": text(nullable=False),
        "term": text(nullable=False),
        **ESTIMATE,
        "n_obs": integer(NON_NEGATIVE),
        "n_areas": integer(NON_NEGATIVE),
        # partnerships whose exposure to an integration term changes within the indicator's
        # years (inference.identification); empty for the other terms
        "n_identifying_areas": integer(NON_NEGATIVE, nullable=True),
        "inference": text(),
        "scale": text(nullable=False),
        "note": text(),
        "p_adjusted": number(P_VALUE),
        "adjustment": text(),
    },
    [INTERVAL],
)

MODEL_FIT = _table(
    "model_fit",
    {
        "indicator_id": text(nullable=False),
        "model": text(nullable=False),
        "n_obs": integer(NON_NEGATIVE),
        "n_areas": integer(NON_NEGATIVE),
        "n_years": number(NON_NEGATIVE),
        "converged": flag(nullable=False),
        "status": text(one_of(STATUSES), nullable=False),
        "message": text(),
        "optimiser": text(),
        "log_likelihood": number(),
        "r2_within": number(),
        "outcome_mean": number(),
        "outcome_sd": number(NON_NEGATIVE),
        "scale": text(nullable=False),
        "formula": text(),
        "warnings": text(),
    },
)

SUMMARY_FIXED = {
    "indicator_id": text(nullable=False),
    "title": text(),
    "domain": text(),
    "measure": text(),
    "scale": text(),
}


def _summary_layout(frame: pd.DataFrame) -> bool:
    """Tell whether the fixed columns come first, the stamp last, the rest conclusions."""
    columns = list(frame.columns)
    fixed, stamp = list(SUMMARY_FIXED), list(STAMP_COLUMNS)
    if columns[: len(fixed)] != fixed or columns[-len(stamp) :] != stamp:
        return False
    for column in columns[len(fixed) : -len(stamp)]:
        values = frame[column].dropna()
        if not values.map(lambda value: value in CONCLUSIONS).all():
            return False
    return True


# summary.csv has one column per model and term that the run fitted: the fixed columns and
# the stamp are checked by name, the others by their values (+, - or ns, or empty)
SUMMARY = pa.DataFrameSchema(
    {**SUMMARY_FIXED, **STAMP},
    checks=[
        pa.Check(
            _summary_layout,
            name=f"columns {', '.join(SUMMARY_FIXED)} first, {', '.join(STAMP_COLUMNS)} last, "
            f"the others one of {' '.join(CONCLUSIONS)}",
        )
    ],
    strict=False,
    name="summary",
)

HEADLINE = _table(
    "headline",
    {
        "model": text(nullable=False),
        "term": text(nullable=False),
        "family": text(nullable=False),
        "n_significant": integer(NON_NEGATIVE),
        "n_positive": integer(NON_NEGATIVE),
        "n_negative": integer(NON_NEGATIVE),
        "n_estimated": integer(NON_NEGATIVE),
        "statement": text(nullable=False),
        "inference": text(),
    },
)

# every model's terms counted as fitted, at the configured alpha (written by ``tables``; the
# headline appends them after the plan's rows)
MODEL_COUNTS = _table("model_counts", dict(HEADLINE.columns))

CONCLUSION = _table(
    "conclusion",
    {
        "family": text(one_of(FAMILIES), nullable=False),
        "term": text(nullable=False),
        "test": text(),
        "adjustment": text(),
        "alpha": number(P_VALUE),
        "n_indicators": integer(NON_NEGATIVE),
        "n_tested": integer(NON_NEGATIVE),
        "n_unadjusted": integer(NON_NEGATIVE),
        "n_significant": integer(NON_NEGATIVE),
        "n_better": integer(NON_NEGATIVE),
        "n_worse": integer(NON_NEGATIVE),
        "n_bh": integer(NON_NEGATIVE),
        "n_romano_wolf": integer(NON_NEGATIVE, nullable=True),
        "mde_test": text(),
        "n_mde": integer(NON_NEGATIVE),
        "mde_sd_median": number(NON_NEGATIVE),
        "mde_sd_min": number(NON_NEGATIVE),
        "mde_sd_max": number(NON_NEGATIVE),
        "bound": text(),
        "n_equivalence": integer(NON_NEGATIVE),
        "n_equivalent": integer(NON_NEGATIVE),
        "ruled_out_sd_median": number(NON_NEGATIVE),
        "ruled_out_sd_max": number(NON_NEGATIVE),
        "summary": text(nullable=False),
        "statement": text(nullable=False),
        "limits": text(nullable=False),
    },
)

INFERENCE = _table(
    "inference",
    {
        "indicator_id": text(nullable=False),
        "model": text(nullable=False),
        "term": text(nullable=False),
        **ESTIMATE,
        "n_obs": integer(NON_NEGATIVE),
        "n_areas": integer(NON_NEGATIVE),
        "n_identifying_areas": integer(NON_NEGATIVE),
        "inference": text(nullable=False),
        "family": text(one_of(FAMILIES), nullable=False),
        "p_adjusted": number(P_VALUE),
        "adjustment": text(),
        "p_romano_wolf": number(P_VALUE),
    },
    [INTERVAL],
)

SIZE = _table(
    "size",
    {
        "indicator_id": text(nullable=False),
        "term": text(nullable=False),
        "dgp": text(nullable=False),
        "method": text(nullable=False),
        "test": text(nullable=False),
        "alpha": number(P_VALUE),
        "n_sims": integer(NON_NEGATIVE),
        "reps": integer(NON_NEGATIVE),
        "rejections": integer(NON_NEGATIVE),
        "rejection_rate": number(P_VALUE),
        "mc_se": number(NON_NEGATIVE),
        "over_rejects": flag(),
        "n_obs": integer(NON_NEGATIVE),
        "n_areas": integer(NON_NEGATIVE),
        "n_switching_areas": integer(NON_NEGATIVE),
        "sigma": number(NON_NEGATIVE),
        "note": text(),
    },
)

POWER = _table(
    "power",
    {
        "indicator_id": text(nullable=False),
        "term": text(nullable=False),
        "scale": text(nullable=False),
        "n_obs": integer(NON_NEGATIVE),
        "n_areas": integer(NON_NEGATIVE),
        "n_treated_areas": integer(NON_NEGATIVE),
        "n_identifying_areas": integer(NON_NEGATIVE),
        "std_error": number(NON_NEGATIVE),
        "mde": number(NON_NEGATIVE),
        "mde_sd": number(NON_NEGATIVE),
        "mde_resid_sd": number(NON_NEGATIVE),
        "mde_units": number(),
        "units_note": text(),
        "pre_mean": number(),
        "mde_pct_pre_mean": number(),
        "size": number(P_VALUE),
        "over_rejects": flag(),
        "mde_size_adjusted": number(NON_NEGATIVE),
        "mde_size_adjusted_sd": number(NON_NEGATIVE),
        "reps": integer(NON_NEGATIVE),
        "residuals": text(),
        "note": text(),
        "test": text(),
        "mde_plan_test": number(NON_NEGATIVE),
        "pretrend_mde_slope": number(NON_NEGATIVE),
    },
)

SENSITIVITY = _table(
    "sensitivity",
    {
        "variant": text(nullable=False),
        "kind": text(nullable=False),
        "description": text(nullable=False),
        "indicator_id": text(nullable=False),
        "term": text(nullable=False),
        "estimate": number(),
        "std_error": number(NON_NEGATIVE),
        "statistic": number(),
        "df": number(NON_NEGATIVE),
        "p_value": number(P_VALUE),
        "conf_low": number(),
        "conf_high": number(),
        "p_adjusted": number(P_VALUE),
        "family": text(one_of(("primary", "secondary"))),
        "n_obs": integer(NON_NEGATIVE),
        "n_areas": integer(NON_NEGATIVE),
        "n_clusters": integer(NON_NEGATIVE),
        "n_treated_areas": integer(NON_NEGATIVE),
        "n_identifying_areas": integer(NON_NEGATIVE),
        "conclusion": text(one_of(CONCLUSIONS)),
        "changed": flag(),
        "inference": text(),
        "note": text(),
    },
    [INTERVAL],
)

SENSITIVITY_SUMMARY = _table(
    "sensitivity_summary",
    {
        "variant": text(nullable=False),
        "kind": text(nullable=False),
        "description": text(nullable=False),
        "term": text(nullable=False),
        "test": text(),
        "n_indicators": integer(NON_NEGATIVE),
        "n_tested": integer(NON_NEGATIVE),
        "n_significant": integer(NON_NEGATIVE),
        "n_positive": integer(NON_NEGATIVE),
        "n_negative": integer(NON_NEGATIVE),
        "n_changed": integer(NON_NEGATIVE),
        "changes": text(),
        "note": text(),
    },
)

EVENT_STUDY = _table(
    "event_study",
    {
        "indicator_id": text(nullable=False),
        "model": text(nullable=False),
        "category": text(nullable=False),
        "event_time": integer(),
        "estimate": number(),
        "std_error": number(NON_NEGATIVE),
        "conf_low": number(),
        "conf_high": number(),
    },
    [INTERVAL],
)

ESTIMATES = _table(
    "estimates",
    {
        "indicator_id": text(nullable=False),
        "title": text(),
        "higher_is_better": flag(nullable=False),
        "term": text(nullable=False),
        "family": text(one_of(FAMILIES), nullable=False),
        "test": text(),
        **{name: number() for name in ("estimate", "std_error", "conf_low", "conf_high")},
        "p_value": number(P_VALUE),
        "p_adjusted": number(P_VALUE),
        "p_romano_wolf": number(P_VALUE),
        "adjustment": text(),
        "p_family_adjusted": number(P_VALUE),
        "significant": flag(nullable=False),
        "outcome": text(one_of(OUTCOMES), nullable=False),
        "n_identifying_areas": integer(NON_NEGATIVE, nullable=True),
        "caveat": text(),
    },
    [INTERVAL],
)

MULTIPLICITY = _table(
    "multiplicity",
    {
        "test": text(nullable=False),
        "term": text(nullable=False),
        "family": text(one_of(FAMILIES), nullable=False),
        "tested": integer(NON_NEGATIVE),
        "significant": integer(NON_NEGATIVE),
        "after_bh": integer(NON_NEGATIVE),
        "after_romano_wolf": integer(NON_NEGATIVE, nullable=True),
    },
)

KNOWN_EFFECTS = _table(
    "known_effects",
    {
        "indicator_id": text(nullable=False),
        "model": text(nullable=False),
        "term": text(nullable=False),
        "scale": text(nullable=False),
        "truth": number(nullable=False),
        "estimate": number(),
        "conf_low": number(),
        "conf_high": number(),
        "p_value": number(P_VALUE),
        "covered": flag(),
        "sign_right": flag(),
        "significant": flag(),
        "false_positive": flag(),
    },
    [INTERVAL],
)

KNOWN_EFFECTS_SUMMARY = _table(
    "known_effects_summary",
    {
        "model": text(nullable=False),
        "term": text(nullable=False),
        "estimates": integer(NON_NEGATIVE),
        "with_interval": integer(NON_NEGATIVE),
        "covered": integer(NON_NEGATIVE),
        "coverage_pct": number(PERCENT),
        "nonzero_truth": integer(NON_NEGATIVE),
        "sign_right": integer(NON_NEGATIVE),
        "sign_right_pct": number(PERCENT),
        "zero_truth": integer(NON_NEGATIVE),
        "false_positives": integer(NON_NEGATIVE),
    },
)

DATA_SUMMARY = _table(
    "data_summary",
    {
        "indicator_id": text(nullable=False),
        "title": text(),
        "rows": integer(NON_NEGATIVE),
        "excluded": integer(NON_NEGATIVE),
        "areas": integer(NON_NEGATIVE),
        "first_year": integer(nullable=True),
        "last_year": integer(nullable=True),
    },
)

EXCLUSION_COUNTS = _table(
    "exclusion_counts",
    {
        "by": text(one_of(("reason", "file")), nullable=False),
        "value": text(),
        "rows": integer(NON_NEGATIVE),
    },
)

EXPOSURE_COUNTS = _table(
    "exposure_counts",
    {
        "year": integer(),
        "period_key": text(nullable=False),
        "full": integer(NON_NEGATIVE),
        "partial": integer(NON_NEGATIVE),
        "none": integer(NON_NEGATIVE),
    },
)


def _tost_ordered(frame: pd.DataFrame) -> pd.Series:
    low, high = frame["tost_low"], frame["tost_high"]
    finite = np.isfinite(low.astype(float)) & np.isfinite(high.astype(float))
    return ~finite | (low <= high)


# equivalence.csv: what the plan's test rules out, and the two one-sided tests (issue 15)
EQUIVALENCE = _table(
    "equivalence",
    {
        "indicator_id": text(nullable=False),
        "term": text(nullable=False),
        "scale": text(nullable=False),
        "test": text(nullable=False),
        "alpha": number(P_VALUE),
        "bound": number(NON_NEGATIVE),
        "bound_scale": text(one_of(("sd", "units"))),
        "bound_units": number(NON_NEGATIVE),
        "sd": number(NON_NEGATIVE),
        "estimate": number(),
        "conf_low": number(),
        "conf_high": number(),
        "tost_low": number(),
        "tost_high": number(),
        "p_lower": number(P_VALUE),
        "p_upper": number(P_VALUE),
        "tost_p": number(P_VALUE),
        "equivalent": flag(),
        "ruled_out_below": number(),
        "ruled_out_above": number(),
        "tolerance": number(NON_NEGATIVE),
        "conclusion": text(),
        "note": text(),
    },
    checks=[
        INTERVAL,
        pa.Check(_tost_ordered, name="tost_low <= tost_high where both are finite"),
    ],
)

# results table (file stem) -> its schema
TABLES: dict[str, pa.DataFrameSchema] = {
    schema.name: schema
    for schema in (
        COEFFICIENTS,
        MODEL_FIT,
        SUMMARY,
        HEADLINE,
        MODEL_COUNTS,
        CONCLUSION,
        INFERENCE,
        SIZE,
        POWER,
        SENSITIVITY,
        SENSITIVITY_SUMMARY,
        EVENT_STUDY,
        KNOWN_EFFECTS,
        KNOWN_EFFECTS_SUMMARY,
        ESTIMATES,
        MULTIPLICITY,
        DATA_SUMMARY,
        EXCLUSION_COUNTS,
        EXPOSURE_COUNTS,
        EQUIVALENCE,
    )
}


def check(frame: pd.DataFrame, table: str, path: str | Path) -> None:
    """Raise :class:`TableSchemaError` if results table ``table`` does not match its schema.

    Parameters
    ----------
    frame
        The table as read back from ``path`` (CSV types).
    table
        The table's name, a key of :data:`TABLES`.
    path
        The file, named in the error.

    Raises
    ------
    TableSchemaError
        Naming the table, the file and each failing column and check.
    """
    found = problems(frame, TABLES[table])
    if found:
        raise TableSchemaError(table, path, found)


def read_table(path: str | Path, table: str | None = None, **kwargs: object) -> pd.DataFrame:
    """Read a results CSV as its schema declares it: declared text columns stay text.

    A text cell that looks like a number (a stamp hash of decimal digits, or digits around
    one ``e``, such as ``7489432838854e17``) would otherwise be parsed as a float and lose
    its value. ``table`` names the schema (default: the file's stem); a file with no schema
    is read with pandas' defaults. ``kwargs`` go to :func:`pandas.read_csv`.
    """
    path = Path(path)
    schema = TABLES.get(table or path.stem)
    if schema is not None:
        header = pd.read_csv(path, nrows=0).columns
        declared = set(text_columns(schema))
        dtype = {column: str for column in header if column in declared}
        kwargs = {"dtype": {**dtype, **dict(kwargs.pop("dtype", None) or {})}, **kwargs}
    return pd.read_csv(path, **kwargs)


def check_csv(path: str | Path) -> None:
    """Check the CSV file ``path`` against the schema named by its stem, if there is one.

    A file whose stem names no schema (not a results table) passes unchecked.
    """
    path = Path(path)
    if path.stem in TABLES:
        check(read_table(path), path.stem, path)


# --------------------------------------------------------------------------------------------
# issue 16: TWFE diagnostics and HonestDiD (integration_models.diagnostics)


def _breakdown_in_grid(frame: pd.DataFrame) -> pd.Series:
    value = frame["breakdown"].astype(float)
    return ~np.isfinite(value) | ((value >= 0) & (frame["status"] == "ok"))


TWFE_DIAGNOSTICS = _table(
    "twfe_diagnostics",
    {
        "indicator_id": text(nullable=False),
        "term": text(one_of(("integration_full", "integration_partial")), nullable=False),
        "scale": text(nullable=False),
        "estimate": number(),
        "n_obs": integer(NON_NEGATIVE, nullable=True),
        "n_areas": integer(NON_NEGATIVE, nullable=True),
        "n_identifying_areas": integer(NON_NEGATIVE, nullable=True),
        "controls": text(),
        "n_weights": integer(NON_NEGATIVE, nullable=True),
        "n_negative": integer(NON_NEGATIVE, nullable=True),
        "negative_sum": number(pa.Check.le(0)),
        "negative_share": number(pa.Check.in_range(0, 1)),
        "sigma_fe": number(NON_NEGATIVE),
        "sigma_ratio": number(NON_NEGATIVE),
        "top_area": text(),
        "top_area_share": number(pa.Check.in_range(0, 1)),
        "early_weight_share": number(),
        "early_cell_share": number(pa.Check.in_range(0, 1)),
        "plain_estimate": number(),
        "plain_n_negative": integer(NON_NEGATIVE, nullable=True),
        "plain_negative_sum": number(pa.Check.le(0)),
        "plain_sigma_fe": number(NON_NEGATIVE),
        "library_difference": number(pa.Check.in_range(0, 1e-8)),
        "bacon_status": text(nullable=False),
        "bacon_estimate": number(),
        "bacon_never_weight": number(pa.Check.in_range(0, 1)),
        "bacon_earlier_weight": number(pa.Check.in_range(0, 1)),
        "bacon_forbidden_weight": number(pa.Check.in_range(0, 1)),
        "n_always_treated": integer(NON_NEGATIVE, nullable=True),
        "bacon_note": text(),
        "verdict": text(nullable=False),
    },
)

BACON = _table(
    "bacon",
    {
        "indicator_id": text(nullable=False),
        "term": text(one_of(("integration_full", "integration_partial")), nullable=False),
        "comparison": text(
            one_of(("treated_vs_never", "earlier_vs_later", "later_vs_earlier")), nullable=False
        ),
        "weight": number(pa.Check.in_range(0, 1), nullable=False),
        "estimate": number(),
        "n_comparisons": integer(NON_NEGATIVE),
        "twfe_estimate": number(),
        "note": text(),
    },
)

HONEST_DID = _table(
    "honest_did",
    {
        "indicator_id": text(nullable=False),
        "term": text(one_of(("integration_full", "integration_partial")), nullable=False),
        "scale": text(nullable=False),
        "mbar": number(NON_NEGATIVE, nullable=False),
        "lower": number(),
        "upper": number(),
        "conf_low": number(),
        "conf_high": number(),
        "excludes_zero": flag(nullable=False),
    },
    checks=[INTERVAL],
)

HONEST_DID_BREAKDOWN = _table(
    "honest_did_breakdown",
    {
        "indicator_id": text(nullable=False),
        "term": text(one_of(("integration_full", "integration_partial")), nullable=False),
        "scale": text(nullable=False),
        "status": text(nullable=False),
        "method": text(),
        "event_window": text(),
        "n_pre": integer(NON_NEGATIVE, nullable=True),
        "n_post": integer(NON_NEGATIVE, nullable=True),
        "n_identifying_areas": integer(NON_NEGATIVE, nullable=True),
        "estimate": number(),
        "std_error": number(NON_NEGATIVE),
        "breakdown": number(NON_NEGATIVE),
        "breakdown_text": text(nullable=False),
        "note": text(),
    },
    checks=[pa.Check(_breakdown_in_grid, name="a breakdown value only where status is ok")],
)

TABLES.update(
    {schema.name: schema for schema in (TWFE_DIAGNOSTICS, BACON, HONEST_DID, HONEST_DID_BREAKDOWN)}
)

# --- issue 16: synthetic control and synthetic DiD of the single early adopters -----------
# (integration_models.results.synthetic_control, integration_models.commands.synthetic_control)
SYNTHETIC_STATUSES = ("ok", "too few pre-periods", "no post-periods", "too few donors", "no data",
                      "failed")  # fmt: skip
SYNTHETIC_CONTROL = _table(
    "synthetic_control",
    {
        "indicator_id": text(nullable=False),
        "area_code": text(nullable=False),
        "area_name": text(),
        "hscp_code": text(nullable=False),
        "partnership": text(),
        "method": text(one_of(("scm", "sdid")), nullable=False),
        "go_live": text(),
        "go_live_year": integer(nullable=True),
        "category": text(one_of(CATEGORIES[:3])),
        "confidence": text(),
        "scale": text(nullable=False),
        "n_pre": integer(NON_NEGATIVE),
        "n_post": integer(NON_NEGATIVE),
        "first_pre_year": integer(nullable=True),
        "first_post_year": integer(nullable=True),
        "last_post_year": integer(nullable=True),
        "n_donors": integer(NON_NEGATIVE),
        "estimate": number(),
        "std_error": number(NON_NEGATIVE),
        "conf_low": number(),
        "conf_high": number(),
        "pre_rmspe": number(NON_NEGATIVE),
        "ratio": number(NON_NEGATIVE),
        "p_placebo": number(P_VALUE),
        "n_placebos": integer(NON_NEGATIVE, nullable=True),
        "p_placebo_library": number(P_VALUE),
        "n_placebos_library": integer(NON_NEGATIVE, nullable=True),
        "status": text(one_of(SYNTHETIC_STATUSES), nullable=False),
        "note": text(),
    },
    [INTERVAL],
)
SYNTHETIC_WEIGHTS = _table(
    "synthetic_weights",
    {
        "indicator_id": text(nullable=False),
        "area_code": text(nullable=False),
        "method": text(one_of(("scm", "sdid")), nullable=False),
        "rank": integer(pa.Check.ge(1)),
        "donor_code": text(nullable=False),
        "donor_name": text(),
        "weight": number(pa.Check.in_range(0, 1), nullable=False),
    },
)
TABLES.update({schema.name: schema for schema in (SYNTHETIC_CONTROL, SYNTHETIC_WEIGHTS)})


# --------------------------------------------------------------------------------------------
# issue 16: the checks of the design in words (integration_models.results.design_checks)

DESIGN_CHECKS = _table(
    "design_checks",
    {
        "check": text(
            one_of(("estimators", "twfe_weights", "honest_did", "synthetic_control")),
            nullable=False,
        ),
        "statement": text(nullable=False),
    },
)

ESTIMATOR_AGREEMENT = _table(
    "estimator_agreement",
    {
        "indicator_id": text(nullable=False),
        "term": text(one_of(("integration_full", "integration_partial")), nullable=False),
        "reference_estimate": number(),
        "n_estimators": integer(NON_NEGATIVE),
        "n_same_sign": integer(NON_NEGATIVE),
        "n_cover": integer(NON_NEGATIVE),
        "n_without_interval": integer(NON_NEGATIVE),
        "agree": flag(),
        "differing": text(),
    },
)

TABLES.update({schema.name: schema for schema in (DESIGN_CHECKS, ESTIMATOR_AGREEMENT)})
