"""The coefficient figure of one indicator: every term of every linear model, with 95% CIs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from integration_models.plots import LINEAR_MODELS
from integration_models.plots.base import (
    GREY_TEXT,
    NEUTRAL,
    STYLE,
    areas,
    draw_intervals,
    explain_empty,
    first_clause,
    model_styles,
    new_figure,
    note,
    offsets,
    ordered,
    plain,
    require,
    save_figure,
    side_note,
)

TERMS = {
    "integration_full": "full integration (vs none)",
    "integration_partial": "partial integration (vs none)",
    "time": "time trend",
    "deprivation": "deprivation",
    "covid": "COVID-19 years",
    "log_density": "log population density",
    "deprivation_trend": "pre-integration deprivation x time",
}
REGISTRY_COLUMNS = ["indicator_id", "title", "domain", "unit"]
COEFFICIENT_COLUMNS = ["indicator_id", "model", "term", "estimate", "conf_low", "conf_high"]
ROW_HEIGHT = 0.85  # inches per term, for up to three models
ROW_HEIGHT_PER_EXTRA_MODEL = 0.15
LEGEND_COLUMNS = 2  # the labels carry the sample sizes: three do not fit the width
NO_COEFFICIENTS = (
    "no coefficients for this indicator: no linear model ({}) was fitted to it".format(
        ", ".join(LINEAR_MODELS)
    )
)


def _scale_label(table: pd.DataFrame, unit: str) -> str:
    """Return the x label: the indicator's unit, and which models work on the log scale."""
    if "scale" not in table.columns:
        return f"estimate in {unit} (95% CI)"
    scales = table.groupby("model")["scale"].first()
    logged = sorted(scales.index[scales == "log"])
    if not logged:
        return f"estimate in {unit} (95% CI)"
    if len(logged) == len(scales):
        return f"estimate on the log scale (outcome in {unit}; 95% CI)"
    return f"estimate in {unit} (95% CI); log scale for: {', '.join(logged)}"


def plot_coefficients(
    coefficients: pd.DataFrame, registry: pd.DataFrame, indicator_id: str, out: str | Path
) -> list[Path]:
    """Draw every term of every model for one indicator, with 95% confidence intervals.

    One small panel per term (its own x axis, in the indicator's units, as terms differ in
    size), the models side by side within it. A term a model did not estimate (absorbed, or
    the model failed) is written out on its row as "not estimated (<model>): <note>"; a panel
    in which no model estimated its term has no x axis, only those sentences. A point drawn
    without an interval says why ("no interval (csdid): only 1 treated area"). An indicator
    without any coefficient gets one sentence saying so instead of axes.

    Parameters
    ----------
    coefficients
        Tidy coefficients: ``indicator_id, model, term, estimate, conf_low, conf_high``, and
        optionally ``note``, ``scale`` (``identity`` or ``log``), ``n_obs`` and ``n_areas``.
    registry
        The indicator registry: ``indicator_id, title, domain, unit``.
    indicator_id
        The indicator to draw.
    out
        Target path without suffix.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written.

    Raises
    ------
    ValueError
        If a column is missing or ``indicator_id`` is not in the registry.
    """
    require(coefficients, COEFFICIENT_COLUMNS, "coefficients")
    require(registry, REGISTRY_COLUMNS, "registry")
    entry = ordered(registry, [indicator_id], "indicator_id").set_index("indicator_id")
    entry = entry.loc[indicator_id]
    table = coefficients.loc[coefficients["indicator_id"] == indicator_id]
    if "note" in table.columns:
        table = table.assign(note=table["note"].replace("", np.nan))
    terms = [t for t in TERMS if t in set(table["term"])]
    terms += sorted(set(table["term"].dropna()) - set(TERMS))
    styles = model_styles(table["model"].dropna().unique())
    rows = max(len(terms), 1)
    height = ROW_HEIGHT + ROW_HEIGHT_PER_EXTRA_MODEL * max(0, len(styles) - 3)
    with matplotlib.rc_context(STYLE):
        fig = new_figure((8, height * rows + 1.6), layout="constrained")
        axes = fig.subplots(rows, 1, squeeze=False)
        for ax, term in zip(axes[:, 0], terms, strict=False):
            _draw_term(ax, table.loc[table["term"] == term], styles)
            ax.set_yticks([0], [plain(TERMS.get(term, term), 30)])
        if terms:
            axes[-1, 0].set_xlabel(plain(_scale_label(table, entry["unit"])))
        else:
            explain_empty(axes[0, 0], NO_COEFFICIENTS, width=60)
        handles = [
            Line2D([], [], color=c, marker=m, label=lab + _sample(table, model))
            for model, (c, m, lab) in styles.items()
        ]
        if handles:
            fig.legend(
                handles=handles,
                loc="outside lower center",
                ncols=min(len(handles), LEGEND_COLUMNS),
                frameon=False,
            )
        fig.suptitle(plain(entry["title"], 70))
        return save_figure(fig, out)


def _sample(table: pd.DataFrame, model: str) -> str:
    """Return ", n = <obs> in <areas>" for a model's rows, or "" without those columns."""
    if not {"n_obs", "n_areas"} <= set(table.columns):
        return ""
    sizes = table.loc[table["model"] == model, ["n_obs", "n_areas"]].dropna().drop_duplicates()
    if len(sizes) != 1:
        return ""
    n_obs, n_areas = sizes.iloc[0]
    return f", n = {int(n_obs)} in {areas(int(n_areas))}"


def _notes(rows: pd.DataFrame) -> pd.Series:
    """Return the rows' notes, or empty ones for a table without a ``note`` column."""
    return rows["note"] if "note" in rows.columns else pd.Series(np.nan, index=rows.index)


def _draw_term(ax: Axes, rows: pd.DataFrame, styles: dict[str, tuple[str, str, str]]) -> None:
    """Draw one term's row: a point and interval per model, or why it was not estimated.

    A panel where no model estimated the term has no x axis and no frame, only the reasons.
    """
    anything = rows["estimate"].notna().any()
    if anything:
        ax.axvline(0, color=NEUTRAL, lw=1)
    bare = []
    missing: dict[str, list[tuple[str, float, str]]] = {}  # reason -> (model, offset, colour)
    spread = max(0.36, 0.13 * (len(styles) - 1))
    for (model, style), offset in zip(styles.items(), offsets(len(styles), spread), strict=True):
        found = rows.loc[rows["model"] == model]
        estimated = found.loc[found["estimate"].notna()]
        if estimated.empty:
            reasons = _notes(found).dropna()
            reason = f": {textwrap.shorten(str(reasons.iloc[0]), 80)}" if len(reasons) else ""
            missing.setdefault(reason, []).append((model, offset, style[0]))
            continue
        draw_intervals(ax, np.full(len(estimated), offset), estimated, style)
        if estimated[["conf_low", "conf_high"]].isna().any(axis=None):
            why = first_clause(_notes(estimated).dropna().astype(str).str.cat(sep="; "), 50)
            bare.append((offset, f"no interval ({model}): {why or 'no standard error'}"))
    # models not estimated for the same reason share one line (the difference-in-differences
    # models' "not part of the design"), in the model's colour when it is alone
    for reason, entries in missing.items():
        models = ", ".join(model for model, _, _ in entries)
        offset = float(np.mean([offset for _, offset, _ in entries]))
        colour = entries[0][2] if len(entries) == 1 else GREY_TEXT
        note(ax, offset, f"not estimated ({models}){reason}", colour)
    for offset, text in bare:
        side_note(ax, offset, text)
    if not anything:
        ax.set_xticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    ax.set_ylim(-0.5, 0.5)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
