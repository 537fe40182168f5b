"""The event-study figure of one indicator: each difference-in-differences model's effects.

By years since integration: one row of panels per model, one column per category.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import pandas as pd

from integration_models.models.csdid import CATEGORIES, EVENT_COLUMNS, MODEL, REFERENCE_EVENT_TIME
from integration_models.plots import EVENT_STUDY_MODELS
from integration_models.plots.base import (
    GREY_TEXT,
    NEUTRAL,
    SVG_SALT,
    explain_empty,
    new_figure,
    plain,
    save_figure,
)

COLOURS = {"pre": ("#E69F00", "s"), "post": ("#0072B2", "o")}  # Okabe-Ito, with markers
STYLE = {
    "svg.hashsalt": SVG_SALT,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
TITLE_CHARS_PER_INCH = 10  # characters of a 10 pt title that fit one inch, with margin
NO_ROWS_REASON = "not estimated: no event-time effects for this category"
NO_INTERVAL_NOTE = "no interval: standard error not valid"
MODEL_NAMES = {
    "csdid": "Callaway-Sant'Anna",
    "sunab": "Sun-Abraham",
    "bjs": "Borusyak-Jaravel-Spiess",
    "dcdh": "de Chaisemartin-D'Haultfoeuille",
}
ROW_HEIGHT = 3.0  # inches per model


def event_study_reasons(
    coefficients: pd.DataFrame, indicator_id: str
) -> dict[tuple[str, str], str]:
    """Return, per model and category, the note of the overall effect of ``indicator_id``.

    Read from coefficient rows (columns ``indicator_id``, ``model``, ``term``, ``note``) of
    the event-study models (:data:`~integration_models.plots.EVENT_STUDY_MODELS`), keyed by
    ``(model, category)``: the note says why a category was not estimated (e.g. no area
    first integrated as partial) or why its intervals are withheld (one treated area, not
    identified); :func:`plot_event_study` draws it.
    """
    needed = {"indicator_id", "model", "term", "note"}
    if not needed <= set(coefficients.columns):
        return {}
    rows = coefficients[
        (coefficients["indicator_id"] == indicator_id)
        & coefficients["model"].isin(EVENT_STUDY_MODELS)
    ]
    reasons = {}
    for (model, term), notes in rows.groupby(["model", "term"], sort=False)["note"]:
        category = str(term).removeprefix("integration_")
        notes = notes.dropna()
        if category in CATEGORIES and len(notes):
            reasons[(str(model), category)] = str(notes.iloc[0])
    return reasons


def _empty_reason(reason: str) -> str:
    """Return the sentence an empty panel shows: the result's message, as 'not estimated'."""
    parts = [p.strip() for p in reason.split(";") if p.strip()]
    parts = [p for p in parts if not p.startswith(("status ", "estimator:"))]
    if not parts:
        return NO_ROWS_REASON
    text = parts[0]
    return text if text.startswith("not estimated") else f"not estimated: {text}"


def _interval_note(reason: str) -> str:
    """Return the short note for points drawn without intervals, from the category's reason."""
    found = re.search(r"only (\d+) treated area", reason)
    if found:
        count = int(found.group(1))
        return f"no interval: only {count} treated area" + ("" if count == 1 else "s")
    found = re.search(r"not identified: (\d+) partnership", reason)
    if found:
        count = int(found.group(1))
        return f"no interval: not identified ({count} partnership" + (")" if count == 1 else "s)")
    return NO_INTERVAL_NOTE


def _draw_category(ax, part: pd.DataFrame, reason: str) -> None:
    """Draw one category's event-time effects, or the sentence saying why there are none."""
    estimated = part[part["event_time"] != REFERENCE_EVENT_TIME]
    if estimated.empty or not estimated["estimate"].notna().any():
        explain_empty(ax, _empty_reason(reason))
        return
    ax.axhline(0, color=NEUTRAL, lw=1)
    ax.axvline(REFERENCE_EVENT_TIME + 0.5, color=NEUTRAL, ls=":", lw=1)
    ref = part[part["event_time"] == REFERENCE_EVENT_TIME]
    if len(ref):
        ax.plot(
            ref["event_time"],
            ref["estimate"],
            ls="none",
            marker="o",
            ms=5,
            mfc="white",
            color="#000000",
            label="reference (e = -1)",
        )
    for period, mask in (
        ("pre", part["event_time"] < REFERENCE_EVENT_TIME),
        ("post", part["event_time"] >= 0),
    ):
        colour, marker = COLOURS[period]
        sub = part[mask]
        ax.vlines(sub["event_time"], sub["conf_low"], sub["conf_high"], color=colour, lw=1.2)
        ax.plot(
            sub["event_time"],
            sub["estimate"],
            ls="none",
            marker=marker,
            ms=4.5,
            color=colour,
            label=f"{period}-period effect (95% CI)",
        )
    drawn = estimated[estimated["estimate"].notna()]
    if drawn[["conf_low", "conf_high"]].isna().any(axis=None):
        ax.text(
            0.02,
            0.98,
            _interval_note(reason),
            ha="left",
            va="top",
            fontsize=7.5,
            color=GREY_TEXT,
            transform=ax.transAxes,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1},
            gid="no-interval-note",
        )
    ax.set_xlabel("years since integration (event time)")
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)


def plot_event_study(
    rows: list[dict] | pd.DataFrame,
    registry: pd.DataFrame,
    indicator_id: str,
    out: str | Path,
    reasons: dict[tuple[str, str], str] | None = None,
    models: Sequence[str] | None = None,
) -> list[Path]:
    """Plot the event-time effects of one indicator, one panel per model and category.

    One row of panels per model (in the order of
    :data:`~integration_models.plots.EVENT_STUDY_MODELS`), one column per category.
    Pre-period points (orange squares) and post-period points (blue circles) with 95%
    intervals, a zero line, and the reference period (``-1``, fixed at 0) marked by a dashed
    line and a hollow marker. Every panel is drawn: one with nothing to show has no axes but
    a sentence saying why (from ``reasons``); one whose points have no intervals says so
    ("no interval: only 1 treated area", "no interval: not identified (1 partnership)").
    The title is wrapped to the figure's width. Output is deterministic (fixed SVG hash salt,
    no dates).

    Parameters
    ----------
    rows
        Rows as from :func:`integration_models.models.csdid.event_study_rows` (any models,
        categories and indicators).
    registry
        Indicator registry with ``indicator_id``, ``title`` and ``unit``.
    indicator_id
        Which indicator to draw.
    out
        Target path; suffixes ``.png`` and ``.svg`` replace any suffix.
    reasons
        Per ``(model, category)``, the message or note of its result (see
        :func:`event_study_reasons`): why it was not estimated, or why its intervals are
        missing.
    models
        The models to draw a row for (those fitted); None: the models of ``rows``, or
        ``csdid`` alone if there are none.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG paths.
    """
    reasons = reasons or {}
    table = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    table = table[table["indicator_id"] == indicator_id]
    present = set(table["model"]) if models is None else set(models)
    drawn_models = [model for model in EVENT_STUDY_MODELS if model in present] or [MODEL]
    entry = registry[registry["indicator_id"] == indicator_id]
    title = str(entry["title"].iloc[0]) if len(entry) else indicator_id
    unit = str(entry["unit"].iloc[0]) if len(entry) and "unit" in entry else ""
    width = 4.2 * len(CATEGORIES)
    with matplotlib.rc_context(STYLE):
        fig = new_figure((width, 0.4 + ROW_HEIGHT * len(drawn_models)))
        axes = fig.subplots(len(drawn_models), len(CATEGORIES), squeeze=False)
        for row, model in zip(axes, drawn_models, strict=True):
            for ax, category in zip(row, CATEGORIES, strict=True):
                heading = f"{category} integration vs none"
                if len(drawn_models) > 1:
                    heading = f"{MODEL_NAMES.get(model, model)} ({model}): {category} vs none"
                ax.set_title(heading, fontsize=9)
                part = table[(table["model"] == model) & (table["category"] == category)]
                _draw_category(
                    ax, part.sort_values("event_time"), reasons.get((model, category), "")
                )
        label = "effect on the model scale" + (f"\n({plain(unit)})" if unit else "")
        drawn_axes = [ax for ax in axes.flat if ax.get_legend_handles_labels()[0]]
        if drawn_axes:
            handles, labels = drawn_axes[0].get_legend_handles_labels()
            drawn_axes[0].legend(handles, labels, fontsize=7, frameon=False, loc="best")
        for row in axes:
            shown = [ax for ax in row if ax.get_legend_handles_labels()[0]]
            if shown:
                shown[0].set_ylabel(label)
        names = (
            MODEL_NAMES.get(drawn_models[0], drawn_models[0])
            if len(drawn_models) == 1
            else "difference-in-differences"
        )
        heading = textwrap.fill(
            f"{title}: {names} event " + ("study" if len(drawn_models) == 1 else "studies"),
            int(TITLE_CHARS_PER_INCH * width),
            break_on_hyphens=False,
        )
        fig.suptitle(plain(heading), fontsize=10)
        fig.tight_layout()
        return save_figure(fig, out)
