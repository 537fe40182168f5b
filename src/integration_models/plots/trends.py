"""The trends figure: mean value by year of every indicator, areas grouped by integration."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from integration_models.plots.base import (
    NEUTRAL,
    STYLE,
    areas,
    explain_empty,
    new_figure,
    ordered,
    plain,
    require,
    save_figure,
)

START_YEAR = 2015.5
START_LABEL = "partnerships start (2015/16)"
GROUPS = {  # integration history of an area -> colour, marker
    "full at any time": ("#0072B2", "o"),
    "partial (never full)": ("#E69F00", "s"),
    "never integrated": ("#000000", "^"),
}
PANEL_COLUMNS = ["area_code", "year", "indicator_id", "value", "integration"]
REGISTRY_COLUMNS = ["indicator_id", "title", "domain", "unit"]
NO_ROWS = "no data: no value of this indicator is in the panel (exclusions.csv says why)"
NO_VALUES = "no data: every value of this indicator in the panel is missing"
NO_INDICATORS = "no indicators: the registry is empty, so there is no trend to draw"


def area_groups(panel: pd.DataFrame) -> pd.Series:
    """Return the integration-history group of every area (index ``area_code``)."""
    ever = panel.groupby("area_code")["integration"].agg(lambda s: set(s))
    full, partial, never = GROUPS
    return ever.map(
        lambda cats: full if "full" in cats else partial if "partial" in cats else never
    )


def _draw_trend(ax: Axes, means: pd.Series, indicator_id: str, reason: str) -> None:
    """Draw one indicator's yearly means by group, or ``reason`` if it has none."""
    available = {key for key in means.dropna().index.droplevel("year") if key[0] == indicator_id}
    if not available:
        explain_empty(ax, reason, width=34)
        return
    ax.axvline(START_YEAR, color=NEUTRAL, ls="--", lw=1)
    for group, (colour, marker) in GROUPS.items():
        if (indicator_id, group) in available:
            series = means.loc[(indicator_id, group)]
            ax.plot(series.index, series.to_numpy(), color=colour, marker=marker, ms=3, lw=1.2)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)


def plot_trends(panel: pd.DataFrame, registry: pd.DataFrame, out: str | Path) -> list[Path]:
    """Draw the mean of every indicator by year for areas grouped by integration history.

    One panel per indicator (ordered by domain, then registry order), five per row. Areas are
    grouped by their whole history: "full at any time", "partial (never full)" or "never
    integrated"; the legend gives the number of areas in each group. A dashed line marks the
    start of the partnerships (between 2015 and 2016). An indicator without values in the
    panel gets a sentence saying so instead of empty axes.

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
    require(panel, PANEL_COLUMNS, "panel")
    require(registry, REGISTRY_COLUMNS, "registry")
    indicators = ordered(registry, panel["indicator_id"].unique(), "panel")
    groups = area_groups(panel)
    sizes = groups.value_counts()
    means = (
        panel.assign(group=panel["area_code"].map(groups))
        .groupby(["indicator_id", "group", "year"])["value"]
        .mean()
    )
    in_panel = set(panel["indicator_id"])
    ncols = min(5, max(len(indicators), 1))
    nrows = max(math.ceil(len(indicators) / ncols), 1)
    with matplotlib.rc_context(STYLE):
        fig = new_figure((3.1 * ncols, 2.5 * nrows + 0.9), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        for ax, row in zip(axes.flat, indicators.itertuples(index=False), strict=False):
            reason = NO_VALUES if row.indicator_id in in_panel else NO_ROWS
            _draw_trend(ax, means, row.indicator_id, reason)
            ax.set_title(plain(row.title, 34), loc="left")
            if ax.lines:
                ax.set_ylabel(plain(row.unit, 26))
        for ax in axes.flat[len(indicators) :]:
            ax.set_axis_off()
        if indicators.empty:
            explain_empty(axes.flat[0], NO_INDICATORS)
            axes.flat[0].set_axis_on()
        handles = [
            Line2D([], [], color=c, marker=m, label=f"{g}: {areas(sizes.get(g, 0))}")
            for g, (c, m) in GROUPS.items()
        ]
        handles.append(Line2D([], [], color=NEUTRAL, ls="--", label=START_LABEL))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
        fig.suptitle("Mean value by year, areas grouped by their integration history")
        return save_figure(fig, out)
