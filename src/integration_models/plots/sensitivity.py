"""The sensitivity figure: how far each variant moves the twfe integration estimates.

Drawn by the ``sensitivity`` step with its table (:mod:`integration_models.results.sensitivity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from integration_models.plots.base import (
    EMPTY_PANEL_ID,
    NEUTRAL,
    STYLE,
    new_figure,
    ordered,
    plain,
    save_figure,
)
from integration_models.results.sensitivity import (
    CHANGED,
    EFFECT_TITLES,
    KIND_STYLES,
    NOT_ESTIMATED,
    TERMS_OF_INTEREST,
    _changed,
)

# the ring around a variant whose conclusion differs from the baseline's (and its legend entry)
CHANGED_RING = {"ls": "none", "marker": "o", "mfc": "none", "mec": CHANGED}


def plot_sensitivity(
    table: pd.DataFrame, registry: pd.DataFrame, path_stem: str | Path
) -> list[Path]:
    """Draw every indicator's baseline estimate and how far the variants move it.

    One row per indicator (grouped by domain), one panel per term. Estimates are divided by
    the baseline standard error of the same indicator and term, so indicators on different
    scales share an axis and a shift of 1 is one baseline SE. Black: baseline estimate with
    its CR2 interval; grey bar: the range of the leave-one-partnership-out estimates; coloured
    markers: the other variants (one colour per kind); a red ring marks a conclusion that
    differs from the baseline's. The baseline conclusion (``+``/``-``/``ns``) follows each
    indicator's title.

    Parameters
    ----------
    table
        From :func:`integration_models.results.sensitivity.sensitivity_table`.
    registry
        The indicator registry (``indicator_id, title, domain``).
    path_stem
        Target path without suffix; PNG and SVG are written by
        :func:`integration_models.plots.base.save_figure` (deterministic SVG).

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written.
    """
    indicators = ordered(registry, table["indicator_id"].unique(), "sensitivity table")
    indicators = indicators.loc[indicators["indicator_id"].isin(set(table["indicator_id"]))]
    base = table.loc[table["variant"] == "baseline"].set_index(["indicator_id", "term"])
    positions = {ind: -float(i) for i, ind in enumerate(indicators["indicator_id"])}
    with matplotlib.rc_context(STYLE):
        fig = new_figure((11, 0.3 * len(positions) + 1.9), layout="constrained")
        axes = fig.subplots(1, len(TERMS_OF_INTEREST), sharey=True, squeeze=False)
        for ax, term in zip(axes[0], TERMS_OF_INTEREST, strict=True):
            _draw_sensitivity_term(ax, table.loc[table["term"] == term], base, term, positions)
        labels = [
            plain(f"{row.title} [{_baseline_conclusion(base, row.indicator_id)}]")
            for row in indicators.itertuples(index=False)
        ]
        axes[0, 0].set_yticks(list(positions.values()), labels)
        axes[0, 0].set_ylim(min(positions.values(), default=0) - 0.7, 0.7)
        handles = [
            Line2D([], [], color="black", marker="o", label="baseline (CR2 95% CI)"),
            Line2D([], [], color=NEUTRAL, lw=6, alpha=0.5, label="leave one partnership out"),
        ]
        handles += [
            Line2D([], [], ls="none", color=c, marker=m, label=lab)
            for kind, (c, m, lab) in KIND_STYLES.items()
            if (table["kind"] == kind).any()
        ]
        handles.append(
            Line2D([], [], **CHANGED_RING, mew=1.5, ms=9, label="conclusion differs from baseline")
        )
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        fig.suptitle("Sensitivity of the twfe integration estimates (in baseline SEs)")
        return save_figure(fig, path_stem)


def _baseline_conclusion(base: pd.DataFrame, indicator: str) -> str:
    parts = []
    for term, short in zip(TERMS_OF_INTEREST, ("full", "partial"), strict=True):
        key = (indicator, term)
        value = base["conclusion"].get(key, NOT_ESTIMATED) if key in base.index else NOT_ESTIMATED
        parts.append(f"{short} {value}")
    return ", ".join(parts)


def _draw_sensitivity_term(
    ax, rows: pd.DataFrame, base: pd.DataFrame, term: str, positions: Mapping[str, float]
) -> None:
    """Draw one term's panel: baseline intervals, leave-one-out ranges, variant markers."""
    ax.axvline(0, color=NEUTRAL, lw=1)
    scale = base.xs(term, level="term")["std_error"]
    rows = rows.assign(
        y=rows["indicator_id"].map(positions),
        x=rows["estimate"] / rows["indicator_id"].map(scale).to_numpy(),
    )
    notes = rows["note"].dropna().astype(str) if "note" in rows else pd.Series(dtype=str)
    rows = rows.loc[np.isfinite(rows["x"].to_numpy(dtype=float))]
    if rows.empty:  # say why instead of empty axes (the y axis is shared: its labels stay)
        reason = notes[notes != ""].value_counts()
        why = f" (commonest reason: {reason.index[0]})" if len(reason) else ""
        ax.text(
            0.5,
            0.5,
            plain(f"No estimate of this term in any variant{why}.", 40),
            ha="center",
            va="center",
            fontsize=8,
            color="#555555",
            transform=ax.transAxes,
            gid=EMPTY_PANEL_ID,
        )
    loo = rows.loc[rows["kind"] == "leave_one_out"].groupby("y")["x"].agg(["min", "max"])
    ax.hlines(loo.index, loo["min"], loo["max"], color=NEUTRAL, lw=6, alpha=0.5)
    baseline = rows.loc[rows["kind"] == "baseline"]
    se = baseline["std_error"].to_numpy(dtype=float)
    ax.hlines(
        baseline["y"],
        baseline["conf_low"] / se,
        baseline["conf_high"] / se,
        color="black",
        lw=1.3,
    )
    ax.plot(baseline["x"], baseline["y"], ls="none", marker="o", color="black", ms=4.5)
    kinds = list(KIND_STYLES)
    offsets = dict(zip(kinds, np.linspace(0.24, -0.24, len(kinds)), strict=True))
    for kind, (colour, marker, _) in KIND_STYLES.items():
        shown = rows.loc[rows["kind"] == kind]
        ax.plot(
            shown["x"], shown["y"] + offsets[kind], ls="none", marker=marker, color=colour, ms=3.5
        )
    changed = rows.loc[_changed(rows["changed"])]
    offset = np.array([offsets.get(str(kind), 0.0) for kind in changed["kind"]])
    ax.plot(changed["x"], changed["y"] + offset, **CHANGED_RING, mew=1.2, ms=8)
    for indicator, y in positions.items():
        if not np.isfinite(scale.get(indicator, np.nan)):
            ax.text(
                0.01,
                y,
                "baseline not tested",
                color="#555555",
                fontsize=7,
                va="center",
                transform=ax.get_yaxis_transform(),
            )
    ax.set_title(EFFECT_TITLES[term])
    ax.set_xlabel("estimate / baseline standard error")
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
