"""The diagnostics tables from the per-indicator job files, in registry order, with fixed columns.

``twfe_diagnostics.csv`` (one row per indicator and term), ``bacon.csv`` (indicator, term,
comparison type), ``honest_did.csv`` (indicator, term, ``Mbar``) and
``honest_did_breakdown.csv`` (one row per primary outcome and term, the breakdown value or,
in ``breakdown_text``, why there is none).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from integration_models.diagnostics.honest import excludes_zero

TWFE_DIAGNOSTICS_COLUMNS = [
    "indicator_id",
    "term",
    "scale",
    "estimate",
    "n_obs",
    "n_areas",
    "n_identifying_areas",
    "controls",
    "n_weights",
    "n_negative",
    "negative_sum",
    "negative_share",
    "sigma_fe",
    "sigma_ratio",
    "top_area",
    "top_area_share",
    "early_weight_share",
    "early_cell_share",
    "plain_estimate",
    "plain_n_negative",
    "plain_negative_sum",
    "plain_sigma_fe",
    "library_difference",
    "bacon_status",
    "bacon_estimate",
    "bacon_never_weight",
    "bacon_earlier_weight",
    "bacon_forbidden_weight",
    "n_always_treated",
    "bacon_note",
    "verdict",
]
BACON_COLUMNS = [
    "indicator_id",
    "term",
    "comparison",
    "weight",
    "estimate",
    "n_comparisons",
    "twfe_estimate",
    "note",
]
HONEST_COLUMNS = [
    "indicator_id",
    "term",
    "scale",
    "mbar",
    "lower",
    "upper",
    "conf_low",
    "conf_high",
    "excludes_zero",
]
BREAKDOWN_COLUMNS = [
    "indicator_id",
    "term",
    "scale",
    "status",
    "method",
    "event_window",
    "n_pre",
    "n_post",
    "n_identifying_areas",
    "estimate",
    "std_error",
    "breakdown",
    "breakdown_text",
    "note",
]
TABLE_COLUMNS = {
    "twfe_diagnostics": TWFE_DIAGNOSTICS_COLUMNS,
    "bacon": BACON_COLUMNS,
    "honest_did": HONEST_COLUMNS,
    "honest_did_breakdown": BREAKDOWN_COLUMNS,
}
INTEGER_COLUMNS = (
    "n_obs",
    "n_areas",
    "n_identifying_areas",
    "n_weights",
    "n_negative",
    "plain_n_negative",
    "n_always_treated",
    "n_comparisons",
    "n_pre",
    "n_post",
)


def breakdown_text(row: pd.Series) -> str:
    """Return the breakdown value in words: the number, or why there is none."""
    if row["status"] != "ok":
        return str(row["status"])
    value = row["breakdown"]
    if value is None or not math.isfinite(float(value)):
        return f"none: {row['note']}"
    text = f"{float(value):.2f}"
    return f"{text} ({row['note']})" if row["note"] else text


def combine(paths: Sequence[str | Path]) -> dict[str, pd.DataFrame]:
    """Read every job file and return the four tables, rows in the order of ``paths``."""
    rows: dict[str, list[dict]] = {name: [] for name in TABLE_COLUMNS}
    for path in paths:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        for name in TABLE_COLUMNS:
            rows[name] += payload.get(name, [])
    tables = {}
    for name, columns in TABLE_COLUMNS.items():
        frame = pd.DataFrame(rows[name], columns=[c for c in columns if c != "breakdown_text"])
        if name == "honest_did":
            frame["excludes_zero"] = [
                excludes_zero(low, high)
                for low, high in zip(frame["conf_low"], frame["conf_high"], strict=True)
            ]
        if name == "honest_did_breakdown":
            frame["breakdown_text"] = [breakdown_text(row) for _, row in frame.iterrows()]
        for column in INTEGER_COLUMNS:
            if column in frame.columns:
                frame[column] = pd.array(frame[column], dtype="Int64")
        tables[name] = frame[columns]
    return tables
