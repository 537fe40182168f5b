"""The estimators figure: every estimator's overall integration effects, per primary outcome.

Two-way fixed effects (``twfe``) is biased when effects differ between cohorts or grow over
time, because it compares newly integrated areas with already integrated ones; the
staggered difference-in-differences estimators (``csdid``, ``sunab``, ``bjs``, ``dcdh``) are
not. Setting their overall effects side by side, one panel per primary outcome, shows whether
the headline's estimator agrees with them. Each panel has one row per estimator and two
points per row (full and partial integration against none) with their 95% intervals, on the
outcome's model scale; an estimate without an interval (not identified, one treated area) is
a hollow point, and a note at the right of its row says why, as does a note for an effect
that was not estimated.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from integration_models.plots.base import (
    GREY_TEXT,
    NEUTRAL,
    STYLE,
    explain_empty,
    first_clause,
    new_figure,
    plain,
    require,
    save_figure,
    side_note,
)

ESTIMATORS = {
    "twfe": "twfe: two-way fixed effects",
    "csdid": "csdid: Callaway-Sant'Anna",
    "sunab": "sunab: Sun-Abraham",
    "bjs": "bjs: Borusyak-Jaravel-Spiess",
    "dcdh": "dcdh: de Chaisemartin-D'Haultfoeuille",
}
TERMS = {  # term -> colour, marker, label, vertical offset within the estimator's row
    "integration_full": ("#0072B2", "o", "full integration vs none", 0.16),
    "integration_partial": ("#D55E00", "s", "partial integration vs none", -0.16),
}
COEFFICIENT_COLUMNS = [
    "indicator_id",
    "model",
    "term",
    "estimate",
    "conf_low",
    "conf_high",
    "scale",
    "note",
]
FIT_COLUMNS = ["indicator_id", "model", "status", "message"]
REGISTRY_COLUMNS = ["indicator_id", "title", "unit"]
NO_OUTCOMES = "no primary outcomes with estimates"
PANEL_SIZE = (6.4, 2.7)  # inches per outcome
COLUMNS = 2
NOTE_SPACE = 0.9  # extra width right of the data, as a share of its range, for the notes


def short_reason(note: object) -> str:
    """Return the reason in a few words: ``not identified (1 partnership)``, ``only 1 ...``.

    From a coefficient's note (its first clause otherwise, shortened).
    """
    text = str(note or "")
    found = re.search(r"not identified: (\d+) partnership", text)
    if found:
        count = int(found.group(1))
        return f"not identified ({count} partnership{'' if count == 1 else 's'})"
    found = re.search(r"only (\d+) treated area", text)
    if found:
        count = int(found.group(1))
        return f"only {count} treated area{'' if count == 1 else 's'}"
    return first_clause(text, 40) or "no standard error"


def _rows(
    coefficients: pd.DataFrame, model_fit: pd.DataFrame, indicator_id: str, models: list[str]
) -> pd.DataFrame:
    """Return the integration rows of one outcome, with what the panel draws of each.

    ``drawn``: a point; ``bare``: no interval; ``why``: the note at the right of the row.
    """
    rows = coefficients[
        (coefficients["indicator_id"] == indicator_id)
        & coefficients["model"].isin(models)
        & coefficients["term"].isin(list(TERMS))
    ]
    fits = model_fit[FIT_COLUMNS].drop_duplicates(["indicator_id", "model"])
    rows = rows.merge(fits, on=["indicator_id", "model"], how="left")
    rows = rows.assign(status=rows["status"].fillna("no fit"), message=rows["message"].fillna(""))
    estimate = pd.to_numeric(rows["estimate"], errors="coerce")
    drawn = (rows["status"] == "ok") & np.isfinite(estimate)
    bare = drawn & ~(np.isfinite(rows["conf_low"]) & np.isfinite(rows["conf_high"]))
    why = []
    for row, is_drawn, is_bare in zip(rows.itertuples(), drawn, bare, strict=True):
        category = row.term.removeprefix("integration_")
        if not is_drawn:
            reason = first_clause(row.message, 40) if row.status != "ok" else ""
            reason = reason or first_clause(row.note, 40) or str(row.status)
            why.append(f"{category}: not estimated ({reason})")
        elif is_bare:
            why.append(f"{category}: no interval, {short_reason(row.note)}")
        else:
            why.append("")
    return rows.assign(drawn=drawn.to_numpy(), bare=bare.to_numpy(), why=why)


def _axis_label(rows: pd.DataFrame, unit: str) -> str:
    """Return the x-axis label: the outcome's unit, or the log scale."""
    if (rows["scale"] == "log").any():
        return "effect on the log scale (about a proportional change; 95% CI)"
    return f"effect in {plain(unit)} (95% CI)" if unit else "effect on the model scale (95% CI)"


def _draw_outcome(ax, rows: pd.DataFrame, models: list[str], title: str, unit: str) -> None:
    """One outcome's panel: a row per estimator, full and partial points, notes at the right."""
    ax.set_title(plain(title, 60), fontsize=9)
    if not rows["drawn"].any():
        explain_empty(ax, "not estimated by any estimator")
        return
    position = {model: -i for i, model in enumerate(models)}
    ax.axvline(0, color=NEUTRAL, lw=1)
    for term, (colour, marker, _, offset) in TERMS.items():
        part = rows[(rows["term"] == term) & rows["drawn"]]
        y = part["model"].map(position).to_numpy(dtype=float) + offset
        full = ~part["bare"].to_numpy()
        ax.hlines(y[full], part["conf_low"][full], part["conf_high"][full], color=colour, lw=1.3)
        ax.plot(part["estimate"][full], y[full], ls="none", marker=marker, color=colour, ms=4.5)
        ax.plot(
            part["estimate"][~full],
            y[~full],
            ls="none",
            marker=marker,
            mfc="white",
            color=colour,
            ms=4.5,
        )
    values = pd.concat(
        [rows.loc[rows["drawn"], column] for column in ("estimate", "conf_low", "conf_high")]
    )
    values = values[np.isfinite(values)]
    low, high = min(values.min(), 0.0), max(values.max(), 0.0)
    span = (high - low) or 1.0
    noted = rows[rows["why"] != ""]
    right = high + span * (NOTE_SPACE if len(noted) else 0.08)
    ax.set_xlim(low - span * 0.08, right)
    for row in noted.itertuples():
        side_note(ax, position[row.model] + TERMS[row.term][3], row.why, fontsize=6.5)
    ax.set_yticks(list(position.values()), [ESTIMATORS.get(m, m) for m in models])
    ax.set_ylim(-len(models) + 0.5, 0.5)
    ax.set_xlabel(_axis_label(rows, unit))
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)


def plot_estimators(
    coefficients: pd.DataFrame,
    model_fit: pd.DataFrame,
    registry: pd.DataFrame,
    outcomes: list[str],
    out: str | Path,
) -> list[Path]:
    """Draw every estimator's full and partial effects, one panel per outcome.

    Parameters
    ----------
    coefficients
        Tidy coefficients (``indicator_id, model, term, estimate, conf_low, conf_high, scale,
        note``): the integration rows of the estimators of :data:`ESTIMATORS` are drawn.
    model_fit
        One row per indicator and model (``indicator_id, model, status, message``): only a fit
        with status ``ok`` gives a point; another says why in its row's note.
    registry
        The indicator registry (``indicator_id, title, unit``).
    outcomes
        The outcomes drawn, in order (the analysis plan's primary outcomes).
    out
        Target path; suffixes ``.png`` and ``.svg`` replace any suffix.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written.

    Raises
    ------
    ValueError
        If a column is missing or an outcome is not in the registry.
    """
    require(coefficients, COEFFICIENT_COLUMNS, "coefficients")
    require(model_fit, FIT_COLUMNS, "model_fit")
    require(registry, REGISTRY_COLUMNS, "registry")
    unknown = sorted(set(outcomes) - set(registry["indicator_id"]))
    if unknown:
        raise ValueError(f"outcomes missing from the registry: {', '.join(unknown)}")
    models = [model for model in ESTIMATORS if model in set(coefficients["model"])]
    shown = [o for o in outcomes if o in set(coefficients["indicator_id"])] if models else []
    columns = max(1, min(COLUMNS, len(shown)))
    lines = max(1, math.ceil(len(shown) / columns))
    width, height = PANEL_SIZE
    panel_height = height * max(1.0, len(models) / len(ESTIMATORS))
    titles = registry.set_index("indicator_id")
    with matplotlib.rc_context(STYLE):
        fig = new_figure((width * columns, panel_height * lines + 1.1), layout="constrained")
        axes = fig.subplots(lines, columns, squeeze=False)
        for ax in axes.flat[len(shown) :]:
            ax.set_axis_off()
        if not shown:
            explain_empty(axes[0][0], NO_OUTCOMES)
        for ax, outcome in zip(axes.flat, shown, strict=False):
            entry = titles.loc[outcome]
            unit = "" if pd.isna(entry["unit"]) else str(entry["unit"])
            rows = _rows(coefficients, model_fit, outcome, models)
            _draw_outcome(ax, rows, models, str(entry["title"]), unit)
        handles = [
            Line2D([], [], color=colour, marker=marker, label=f"{label} (95% CI)")
            for colour, marker, label, _ in TERMS.values()
        ]
        handles.append(
            Line2D([], [], color=GREY_TEXT, marker="o", mfc="white", ls="none", label="no interval")
        )
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
        heading = (
            "Overall integration effects by estimator, primary outcomes (twfe with its CRV1 "
            "interval as fitted; the headline test is in estimates.csv)"
        )
        fig.suptitle(textwrap.fill(heading, int(11 * width * columns)), fontsize=10)
        return save_figure(fig, out)
