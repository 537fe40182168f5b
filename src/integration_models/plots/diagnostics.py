"""The figures of the TWFE diagnostics and of the HonestDiD breakdown values.

``twfe_weights``: per indicator (rows) and term (panels), the sum of the negative
de Chaisemartin-D'Haultfoeuille weights of the ``twfe`` coefficient (bar to the left, the
verdict's limit dashed) and the Goodman-Bacon weight of the forbidden comparisons (later- vs
earlier-treated areas, bar to the right). ``honest_did``: per primary outcome and term the
breakdown value ``Mbar``, or in words why there is none.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from integration_models.diagnostics.twfe_weights import NEGATIVE_WEIGHT_LIMIT
from integration_models.plots.base import explain_empty, new_figure, require, save_figure

TERM_TITLES = {
    "integration_full": "full integration vs none",
    "integration_partial": "partial integration vs none",
}
NEGATIVE_COLOUR = "#D55E00"
FORBIDDEN_COLOUR = "#0072B2"
BREAKDOWN_COLOUR = "#009E73"
WEIGHT_COLUMNS = ["indicator_id", "term", "negative_sum", "bacon_forbidden_weight"]
BREAKDOWN_COLUMNS = ["indicator_id", "term", "status", "breakdown", "breakdown_text"]
SHORT_STATUS = {
    "not identified": "not identified",
    "no pre-periods": "no pre-periods",
    "no post-periods": "no post-periods",
    "not computable: event time 0": "event time 0 missing",
}


def _value(value: object) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number


def _label(status: object) -> str:
    """Return a short label of a row without a breakdown value (from its status)."""
    status = str(status) if isinstance(status, str) else ""
    if status == "ok":
        return "interval covers zero at Mbar = 0"
    for start, label in SHORT_STATUS.items():
        if status.startswith(start):
            return label
    return "not computable"


def _term_panels(table: pd.DataFrame) -> tuple[list[str], Figure, np.ndarray, np.ndarray]:
    """Return the indicators in table order, a figure of a panel per term and their heights."""
    indicators = list(dict.fromkeys(table["indicator_id"]))
    height = max(2.5, 0.22 * len(indicators) + 1.2)
    fig = new_figure((8.0, height), layout="constrained")
    axes = fig.subplots(1, len(TERM_TITLES), sharey=True, squeeze=False)[0]
    return indicators, fig, axes, np.arange(len(indicators))


def plot_twfe_weights(table: pd.DataFrame, path_stem: str | Path) -> list[Path]:
    """Draw the negative-weight sums and the forbidden-comparison weights; return the files."""
    require(table, WEIGHT_COLUMNS, "twfe_diagnostics")
    indicators, fig, axes, y = _term_panels(table)
    for ax, (term, title) in zip(axes, TERM_TITLES.items(), strict=True):
        rows = table[table["term"] == term].set_index("indicator_id").reindex(indicators)
        if rows["negative_sum"].isna().all() and rows["bacon_forbidden_weight"].isna().all():
            explain_empty(ax, f"{title}: no indicator with this term estimable")
            continue
        negative = np.array([_value(v) for v in rows["negative_sum"]])
        forbidden = np.array([_value(v) for v in rows["bacon_forbidden_weight"]])
        ax.barh(y, np.nan_to_num(negative), height=0.7, color=NEGATIVE_COLOUR,
                label="sum of negative dCDH weights")  # fmt: skip
        ax.barh(y, np.nan_to_num(forbidden), height=0.7, color=FORBIDDEN_COLOUR,
                label="Bacon weight, later vs earlier treated")  # fmt: skip
        for i in np.flatnonzero(~np.isfinite(negative)):
            ax.text(0.01, i, "not estimable", va="center", fontsize=6, color="#555555")
        for i in np.flatnonzero(np.isfinite(negative) & ~np.isfinite(forbidden)):
            ax.text(0.01, i, "Bacon n/a", va="center", fontsize=6, color="#555555")
        ax.axvline(NEGATIVE_WEIGHT_LIMIT, color="#555555", ls="--", lw=0.8)
        ax.axvline(0, color="#222222", lw=0.6)
        ax.set_title(title)
        ax.set_xlabel("weight")
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        ax.set_xlim(min(-0.5, np.nanmin(np.append(negative, 0)) - 0.05),
                    max(0.5, np.nanmax(np.append(forbidden, 0)) + 0.05))  # fmt: skip
    axes[0].set_yticks(y, indicators)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    return save_figure(fig, path_stem)


def plot_honest_did(table: pd.DataFrame, path_stem: str | Path) -> list[Path]:
    """Draw each primary outcome's breakdown values, with the reason where there is none."""
    require(table, BREAKDOWN_COLUMNS, "honest_did_breakdown")
    indicators, fig, axes, y = _term_panels(table)
    if not indicators:
        for ax in axes:
            explain_empty(ax, "no primary outcome: no HonestDiD bounds")
        return save_figure(fig, path_stem)
    values = np.array([_value(v) for v in table["breakdown"]])
    top = max(1.0, np.nanmax(values) if np.isfinite(values).any() else 1.0)
    for ax, (term, title) in zip(axes, TERM_TITLES.items(), strict=True):
        rows = table[table["term"] == term].set_index("indicator_id").reindex(indicators)
        breakdown = np.array([_value(v) for v in rows["breakdown"]])
        ax.barh(y, np.nan_to_num(breakdown), height=0.7, color=BREAKDOWN_COLOUR)
        for i, (status, value) in enumerate(zip(rows["status"], breakdown, strict=True)):
            label = f"{value:.2f}" if np.isfinite(value) else _label(status)
            ax.text(max(value, 0) + 0.02 * top if np.isfinite(value) else 0.02 * top, i, label,
                    va="center", fontsize=6, color="#333333")  # fmt: skip
        ax.axvline(1.0, color="#555555", ls="--", lw=0.8)
        ax.set_xlim(0, top * 1.05)
        ax.set_title(title)
        ax.set_xlabel("breakdown value Mbar")
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    axes[0].set_yticks(y, indicators)
    axes[0].invert_yaxis()
    return save_figure(fig, path_stem)
