"""Figures of the results, drawn from the tidy tables.

Three pure functions, each writing one figure as PNG (150 dpi) and SVG and returning the paths:

- :func:`plot_trends`: mean value by year of every indicator, for areas grouped by their
  integration history (small multiples);
- :func:`plot_forest`: the integration effects of every indicator and model, standardised by
  the SD of the modelled outcome so that indicators share an axis;
- :func:`plot_coefficients`: every term of both models for one indicator, in its own units.

The output is deterministic (no dates or versions in the files, a fixed SVG hash salt), so the
same tables give byte-identical files. Figures of a synthetic dataset carry a visible mark,
"SYNTHETIC DATA" written diagonally across the whole figure in translucent red, added by
:func:`save_figure` inside :func:`synthetic_figures` (the commands that draw set it from the
registry): a figure copied into a slide or a paper must not pass for real statistics. Colours
are the colour-blind-safe Okabe-Ito palette and every colour comes with its own marker. Text
taken from the data is drawn literally: dollar signs are escaped so that matplotlib never
interprets it as mathtext.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from integration_models.atomic import atomic_path  # noqa: E402
from integration_models.registry import DOMAINS  # noqa: E402

DPI = 150
SVG_SALT = "integration-models"
STYLE = {
    "svg.hashsalt": SVG_SALT,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
START_YEAR = 2015.5
START_LABEL = "partnerships start (2015/16)"
GROUPS = {  # integration history of an area -> colour, marker
    "full at any time": ("#0072B2", "o"),
    "partial (never full)": ("#E69F00", "s"),
    "never integrated": ("#000000", "^"),
}
MODELS = {  # model id -> colour, marker, label
    "mixed": ("#D55E00", "o", "multilevel model (mixed)"),
    "twfe": ("#009E73", "s", "two-way fixed effects (twfe)"),
}
EXTRA_STYLES = [("#CC79A7", "D"), ("#56B4E9", "^"), ("#F0E442", "v")]
TERMS = {
    "integration_full": "full integration (vs none)",
    "integration_partial": "partial integration (vs none)",
    "time": "time trend",
    "deprivation": "deprivation",
    "covid": "COVID-19 years",
    "log_density": "log population density",
    "deprivation_trend": "pre-integration deprivation x time",
}
EFFECTS = {
    "integration_full": "Full integration vs none",
    "integration_partial": "Partial integration vs none",
}
FOREST_XLABEL = "effect in SDs of the outcome (95% CI)"
SYNTHETIC_MARK = "SYNTHETIC DATA"
SYNTHETIC_MARK_ID = "synthetic-data-mark"  # the SVG group id of the mark
SYNTHETIC_MARK_STYLE = {"color": "#D00000", "alpha": 0.22, "weight": "bold"}
NEUTRAL = "#999999"

PANEL_COLUMNS = ["area_code", "year", "indicator_id", "value", "integration"]
REGISTRY_COLUMNS = ["indicator_id", "title", "domain", "unit"]
COEFFICIENT_COLUMNS = ["indicator_id", "model", "term", "estimate", "conf_low", "conf_high"]
FIT_COLUMNS = ["indicator_id", "model", "status", "outcome_sd"]


def _require(table: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ValueError naming the columns of ``columns`` that ``table`` lacks."""
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s): {', '.join(missing)}")


def _plain(text: object, width: int | None = None) -> str:
    """Return data text safe to draw literally (no mathtext), wrapped to ``width`` if given."""
    text = str(text)
    if width:
        text = textwrap.fill(text, width, break_on_hyphens=False)
    return text.replace("$", r"\$")


def _ordered(registry: pd.DataFrame, ids: Iterable[str], name: str) -> pd.DataFrame:
    """Return the registry sorted by domain, then file order; refuse ids it does not know."""
    unknown = sorted(set(ids) - set(registry["indicator_id"]))
    if unknown:
        raise ValueError(f"{name} has indicators missing from the registry: {', '.join(unknown)}")
    rank = registry["domain"].map({domain: i for i, domain in enumerate(DOMAINS)})
    order = rank.fillna(len(DOMAINS)).sort_values(kind="stable").index
    return registry.loc[order].reset_index(drop=True)


def _model_styles(models: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """Return colour, marker and label of every model: known ones first, others by name."""
    present = set(models)
    ordered = [m for m in MODELS if m in present] + sorted(present - set(MODELS))
    extra = iter(EXTRA_STYLES * (1 + len(ordered)))
    return {m: MODELS[m] if m in MODELS else (*next(extra), _plain(m)) for m in ordered}


def _offsets(count: int, spread: float = 0.36) -> np.ndarray:
    """Return vertical offsets that place ``count`` models side by side within a row."""
    if count <= 1:
        return np.zeros(max(count, 0))
    return np.linspace(spread / 2, -spread / 2, count)


def _draw_intervals(
    ax: Axes,
    y: np.ndarray,
    table: pd.DataFrame,
    style: tuple[str, str, str],
    scale: float | pd.Series = 1.0,
) -> None:
    """Draw points ``estimate`` with lines ``conf_low``-``conf_high`` at heights ``y``."""
    colour, marker, _ = style
    ax.hlines(y, table["conf_low"] / scale, table["conf_high"] / scale, color=colour, lw=1.3)
    ax.plot(table["estimate"] / scale, y, ls="none", marker=marker, color=colour, ms=4.5)


_synthetic: ContextVar[bool] = ContextVar("synthetic_figures", default=False)


@contextmanager
def synthetic_figures(synthetic: bool = True) -> Iterator[None]:
    """Mark every figure :func:`save_figure` writes in this block as synthetic, or not.

    The drawing commands wrap their plotting in this with the registry's
    :func:`integration_models.registry.is_synthetic`, so that every plotting function (here,
    and in ``did``, ``power`` and ``sensitivity``) gets the mark without a flag of its own.
    """
    token = _synthetic.set(bool(synthetic))
    try:
        yield
    finally:
        _synthetic.reset(token)


def mark_synthetic(fig: Figure) -> None:
    """Write :data:`SYNTHETIC_MARK` diagonally across ``fig``, translucent, above the axes.

    Diagonal and translucent, it is seen at any size without hiding a point or a line under
    it; sized from the figure's diagonal so it spans about half of it. It is a figure-level
    text outside the layout, so it moves nothing else. In the SVG it is the group
    :data:`SYNTHETIC_MARK_ID`, with the text itself in a comment.
    """
    width, height = fig.get_size_inches()
    diagonal = math.hypot(width, height)
    fig.text(
        0.5,
        0.5,
        SYNTHETIC_MARK,
        ha="center",
        va="center",
        rotation=math.degrees(math.atan2(height, width)),
        rotation_mode="anchor",
        fontsize=min(72.0, 4.5 * diagonal),
        zorder=10,
        gid=SYNTHETIC_MARK_ID,
        **SYNTHETIC_MARK_STYLE,
    )


def save_figure(fig: Figure, out: str | Path) -> list[Path]:
    """Save ``fig`` as ``out`` with suffixes ``.png`` (150 dpi) and ``.svg``, then close it.

    Inside :func:`synthetic_figures` the figure gets the SYNTHETIC DATA mark first
    (:func:`mark_synthetic`).

    Parameters
    ----------
    fig
        The figure to save.
    out
        Target path; its suffix, if any, is replaced. Missing folders are created.

    Returns
    -------
    list of pathlib.Path
        The PNG and the SVG path.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [out.with_suffix(".png"), out.with_suffix(".svg")]
    try:
        if _synthetic.get():
            mark_synthetic(fig)
        with plt.rc_context({"svg.hashsalt": SVG_SALT}):
            with atomic_path(paths[0]) as temporary:
                fig.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})
            with atomic_path(paths[1]) as temporary:
                fig.savefig(temporary, format="svg", metadata={"Date": None, "Creator": None})
    finally:
        plt.close(fig)
    return paths


def _areas(count: int) -> str:
    """Return "1 area" or "<count> areas"."""
    return f"{count} area" if count == 1 else f"{count} areas"


def _note(ax: Axes, y: float, text: str, colour: str = "#555555") -> None:
    """Write ``text`` at height ``y`` from the left edge of ``ax``, on a white background."""
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1}
    ax.text(
        0.01,
        y,
        _plain(text),
        color=colour,
        fontsize=8,
        va="center",
        bbox=box,
        transform=ax.get_yaxis_transform(),
    )


def _area_groups(panel: pd.DataFrame) -> pd.Series:
    """Return the integration-history group of every area (index ``area_code``)."""
    ever = panel.groupby("area_code")["integration"].agg(lambda s: set(s))
    full, partial, never = GROUPS
    return ever.map(
        lambda cats: full if "full" in cats else partial if "partial" in cats else never
    )


def _draw_trend(ax: Axes, means: pd.Series, indicator_id: str) -> None:
    """Draw one indicator's yearly means by group (``means`` indexed indicator, group, year)."""
    ax.axvline(START_YEAR, color=NEUTRAL, ls="--", lw=1)
    available = set(means.index.droplevel("year"))
    for group, (colour, marker) in GROUPS.items():
        if (indicator_id, group) in available:
            series = means.loc[(indicator_id, group)]
            ax.plot(series.index, series.to_numpy(), color=colour, marker=marker, ms=3, lw=1.2)
    if not any(key[0] == indicator_id for key in available):
        ax.text(0.5, 0.5, "no data", color="#555555", ha="center", transform=ax.transAxes)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)


@plt.rc_context(STYLE)
def plot_trends(panel: pd.DataFrame, registry: pd.DataFrame, out: str | Path) -> list[Path]:
    """Draw the mean of every indicator by year for areas grouped by integration history.

    One panel per indicator (ordered by domain, then registry order), five per row. Areas are
    grouped by their whole history: "full at any time", "partial (never full)" or "never
    integrated"; the legend gives the number of areas in each group. A dashed line marks the
    start of the partnerships (between 2015 and 2016).

    Parameters
    ----------
    panel
        The long panel: ``area_code, year, indicator_id, value, integration``.
    registry
        The indicator registry: ``indicator_id, title, domain, unit``.
    out
        Target path without suffix.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written.

    Raises
    ------
    ValueError
        If a column is missing or the panel has an indicator the registry lacks.
    """
    _require(panel, PANEL_COLUMNS, "panel")
    _require(registry, REGISTRY_COLUMNS, "registry")
    indicators = _ordered(registry, panel["indicator_id"].unique(), "panel")
    groups = _area_groups(panel)
    sizes = groups.value_counts()
    means = (
        panel.assign(group=panel["area_code"].map(groups))
        .groupby(["indicator_id", "group", "year"])["value"]
        .mean()
    )
    ncols = min(5, max(len(indicators), 1))
    nrows = max(math.ceil(len(indicators) / ncols), 1)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.1 * ncols, 2.5 * nrows + 0.9), layout="constrained", squeeze=False
    )
    for ax, row in zip(axes.flat, indicators.itertuples(index=False), strict=False):
        _draw_trend(ax, means, row.indicator_id)
        ax.set_title(_plain(row.title, 34), loc="left")
        ax.set_ylabel(_plain(row.unit, 26))
    for ax in axes.flat[len(indicators) :]:
        ax.set_axis_off()
    handles = [
        Line2D([], [], color=c, marker=m, label=f"{g}: {_areas(sizes.get(g, 0))}")
        for g, (c, m) in GROUPS.items()
    ]
    handles.append(Line2D([], [], color=NEUTRAL, ls="--", label=START_LABEL))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle("Mean value by year, areas grouped by their integration history")
    return save_figure(fig, out)


def _forest_rows(indicators: pd.DataFrame) -> tuple[dict[str, float], list[tuple]]:
    """Lay out forest rows top down: a header per domain, then its indicators.

    Returns the height of every indicator and the ticks as ``(height, label, is_header)``.
    """
    positions: dict[str, float] = {}
    ticks: list[tuple] = []
    y = 0.0
    for domain, block in indicators.groupby("domain", sort=False, dropna=False):
        ticks.append((y, _plain(str(domain).capitalize()), True))
        y -= 1
        for row in block.itertuples(index=False):
            better = "higher" if row.higher_is_better else "lower"
            positions[row.indicator_id] = y
            suffix = f"({better} is better)".replace(" ", "\u00a0")  # kept on one line
            ticks.append((y, _plain(f"{row.title} {suffix}", 56), False))
            y -= 1
        y -= 0.3
    return positions, ticks


def _standardised_effects(coefficients: pd.DataFrame, model_fit: pd.DataFrame) -> pd.DataFrame:
    """Return the estimable integration effects of fitted models, with ``outcome_sd``."""
    effects = coefficients.loc[coefficients["term"].isin(list(EFFECTS))]
    fits = model_fit[FIT_COLUMNS].drop_duplicates(["indicator_id", "model"])
    table = effects.merge(fits, on=["indicator_id", "model"], how="inner")
    sd = pd.to_numeric(table["outcome_sd"], errors="coerce")
    usable = (table["status"] == "ok") & table["estimate"].notna() & (sd > 0) & np.isfinite(sd)
    return table.loc[usable]


@plt.rc_context(STYLE)
def plot_forest(
    coefficients: pd.DataFrame,
    model_fit: pd.DataFrame,
    registry: pd.DataFrame,
    out: str | Path,
) -> list[Path]:
    """Draw the integration effects of every indicator and model as a forest plot.

    Effects and confidence limits are divided by the SD of the modelled outcome
    (``outcome_sd`` of ``model_fit``) so that all indicators share one axis. Left panel: full
    integration against none; right panel: partial against none. One row per indicator,
    grouped by domain, the models side by side. Models whose status is not ``ok`` and terms
    not estimated show no point; a row without any point says "not estimated".

    Parameters
    ----------
    coefficients
        Tidy coefficients: ``indicator_id, model, term, estimate, conf_low, conf_high``.
    model_fit
        One row per indicator and model: ``indicator_id, model, status, outcome_sd``.
    registry
        The indicator registry: ``indicator_id, title, domain, unit, higher_is_better``.
    out
        Target path without suffix.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written.

    Raises
    ------
    ValueError
        If a column is missing or an indicator is missing from the registry.
    """
    _require(coefficients, COEFFICIENT_COLUMNS, "coefficients")
    _require(model_fit, FIT_COLUMNS, "model_fit")
    _require(registry, [*REGISTRY_COLUMNS, "higher_is_better"], "registry")
    indicators = _ordered(registry, coefficients["indicator_id"].unique(), "coefficients")
    positions, ticks = _forest_rows(indicators)
    styles = _model_styles(coefficients["model"].dropna().unique())
    effects = _standardised_effects(coefficients, model_fit)
    height = 0.4 * len(ticks) + 1.6
    fig, axes = plt.subplots(1, 2, figsize=(12, height), sharey=True, layout="constrained")
    for ax, (term, title) in zip(axes, EFFECTS.items(), strict=True):
        ax.axvline(0, color=NEUTRAL, lw=1)
        shown = effects.loc[effects["term"] == term]
        for (model, style), offset in zip(styles.items(), _offsets(len(styles)), strict=True):
            rows = shown.loc[shown["model"] == model]
            y = rows["indicator_id"].map(positions).to_numpy() + offset
            _draw_intervals(ax, y, rows, style, scale=rows["outcome_sd"].astype(float))
        for indicator in sorted(set(positions) - set(shown["indicator_id"])):
            _note(ax, positions[indicator], "not estimated")
        ax.set_title(title)
        ax.set_xlabel(FOREST_XLABEL)
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
    heights, labels, headers = zip(*ticks, strict=True)
    axes[0].set_yticks(heights, labels)
    for tick, header in zip(axes[0].get_yticklabels(), headers, strict=True):
        tick.set_fontweight("bold" if header else "normal")
    axes[0].set_ylim(min(heights) - 0.7, 0.7)
    handles = [Line2D([], [], color=c, marker=m, label=lab) for c, m, lab in styles.values()]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle("Integration effects, standardised by the SD of each outcome")
    return save_figure(fig, out)


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


@plt.rc_context(STYLE)
def plot_coefficients(
    coefficients: pd.DataFrame, registry: pd.DataFrame, indicator_id: str, out: str | Path
) -> list[Path]:
    """Draw every term of every model for one indicator, with 95% confidence intervals.

    One small panel per term (its own x axis, in the indicator's units, as terms differ in
    size), the models side by side within it. A term a model did not estimate (absorbed, or
    the model failed) is written out on its row as "not estimated (<model>): <note>".

    Parameters
    ----------
    coefficients
        Tidy coefficients: ``indicator_id, model, term, estimate, conf_low, conf_high``, and
        optionally ``note`` and ``scale`` (``identity`` or ``log``).
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
    _require(coefficients, COEFFICIENT_COLUMNS, "coefficients")
    _require(registry, REGISTRY_COLUMNS, "registry")
    entry = (
        _ordered(registry, [indicator_id], "indicator_id")
        .set_index("indicator_id")
        .loc[indicator_id]
    )
    table = coefficients.loc[coefficients["indicator_id"] == indicator_id]
    if "note" in table.columns:
        table = table.assign(note=table["note"].replace("", np.nan))
    terms = [t for t in TERMS if t in set(table["term"])]
    terms += sorted(set(table["term"].dropna()) - set(TERMS))
    styles = _model_styles(table["model"].dropna().unique())
    fig, axes = plt.subplots(
        max(len(terms), 1),
        1,
        figsize=(8, 0.85 * max(len(terms), 1) + 1.6),
        layout="constrained",
        squeeze=False,
    )
    for ax, term in zip(axes[:, 0], terms, strict=False):
        _draw_term(ax, table.loc[table["term"] == term], styles)
        ax.set_yticks([0], [_plain(TERMS.get(term, term), 30)])
    if not terms:
        axes[0, 0].text(0.5, 0.5, "no coefficients for this indicator", ha="center", va="center")
        axes[0, 0].set_yticks([])
    axes[-1, 0].set_xlabel(_plain(_scale_label(table, entry["unit"])))
    handles = [
        Line2D([], [], color=c, marker=m, label=lab + _sample(table, model))
        for model, (c, m, lab) in styles.items()
    ]
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    fig.suptitle(_plain(entry["title"], 70))
    return save_figure(fig, out)


def _sample(table: pd.DataFrame, model: str) -> str:
    """Return ", n = <obs> in <areas>" for a model's rows, or "" without those columns."""
    if not {"n_obs", "n_areas"} <= set(table.columns):
        return ""
    sizes = table.loc[table["model"] == model, ["n_obs", "n_areas"]].dropna().drop_duplicates()
    if len(sizes) != 1:
        return ""
    n_obs, n_areas = sizes.iloc[0]
    return f", n = {int(n_obs)} in {_areas(int(n_areas))}"


def _draw_term(ax: Axes, rows: pd.DataFrame, styles: dict[str, tuple[str, str, str]]) -> None:
    """Draw one term's row: a point and interval per model, or why it was not estimated."""
    ax.axvline(0, color=NEUTRAL, lw=1)
    for (model, style), offset in zip(styles.items(), _offsets(len(styles)), strict=True):
        found = rows.loc[rows["model"] == model]
        estimated = found.loc[found["estimate"].notna()]
        _draw_intervals(ax, np.full(len(estimated), offset), estimated, style)
        if estimated.empty:
            note = found["note"].dropna() if "note" in found.columns else pd.Series(dtype=object)
            reason = f": {textwrap.shorten(str(note.iloc[0]), 80)}" if len(note) else ""
            _note(ax, offset, f"not estimated ({model}){reason}", style[0])
    if rows["estimate"].isna().all():
        ax.set_xticks([])
    ax.set_ylim(-0.5, 0.5)
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)
