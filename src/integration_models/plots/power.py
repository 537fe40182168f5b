"""The power figure: minimum detectable effects of the integration terms, in outcome SDs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from integration_models.inference.power import OVER_REJECTION
from integration_models.plots.base import (
    STYLE,
    explain_empty,
    first_clause,
    new_figure,
    note,
    ordered,
    plain,
    require,
    save_figure,
)

PLOT_COLUMNS = ["indicator_id", "term", "mde_sd", "over_rejects", "mde_size_adjusted_sd", "note"]
TERM_STYLES = {  # term -> colour, marker, label, vertical offset within the row
    "integration_full": ("#0072B2", "o", "full integration vs none", 0.14),
    "integration_partial": ("#E69F00", "s", "partial integration vs none", -0.14),
}
NO_ROWS = "no minimum detectable effects: the power table has no rows (no indicator analysed)"


def _plot_rows(registry: pd.DataFrame, ids: Sequence[str]) -> tuple[dict[str, float], list]:
    """Return heights and wrapped titles of the indicators, in registry order, top down."""
    indicators = ordered(registry, ids, "power table")
    indicators = indicators.loc[indicators["indicator_id"].isin(set(ids))]
    positions = {ind: -float(i) for i, ind in enumerate(indicators["indicator_id"])}
    labels = [plain(title, 48) for title in indicators["title"]]
    return positions, labels


def _missing_reason(text: object) -> str:
    """Return why a term has no MDE, from its note: its first clause, or "no MDE"."""
    return first_clause(text, 60) if isinstance(text, str) and text.strip() else "no MDE"


def _draw_term(ax: Axes, rows: pd.DataFrame, style: tuple, positions: dict) -> np.ndarray:
    """Draw one term's MDEs (filled: nominal; hollow: size-adjusted where it over-rejects).

    A term without an MDE gets its reason on its row ("partial integration: not estimated:
    ..."). Returns the values drawn, so that the caller can set the axis limits.
    """
    colour, marker, label, offset = style
    y = rows["indicator_id"].map(positions).to_numpy(dtype=float) + offset
    x = rows["mde_sd"].to_numpy(dtype=float)
    x = np.where(x > 0, x, np.nan)  # a log axis; an MDE of 0 only with a useless test
    ax.plot(x, y, ls="none", marker=marker, color=colour, ms=5)
    adjusted = rows["mde_size_adjusted_sd"].to_numpy(dtype=float)
    # decided in power.csv (power.power_table): the nominal test's simulated size is too high
    flagged = rows["over_rejects"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    flagged &= np.isfinite(x)
    flagged &= np.isfinite(adjusted) & (adjusted > 0)
    ax.hlines(y[flagged], x[flagged], adjusted[flagged], color=colour, lw=0.8, ls=":")
    ax.plot(adjusted[flagged], y[flagged], ls="none", marker=marker, mfc="white", color=colour)
    for height, value, text in zip(y, x, rows["note"], strict=True):
        if not np.isfinite(value):
            note(ax, height, f"{label.split(' vs')[0]}: {_missing_reason(text)}", colour)
    return np.concatenate([x[np.isfinite(x)], adjusted[flagged]])


def _set_log_axis(ax: Axes, values: np.ndarray) -> None:
    """Log x axis over the values drawn, ticks at 1, 2 and 5 times powers of ten."""
    low, high = (values.min(), values.max()) if values.size else (0.1, 1.0)
    ax.set_xscale("log")
    ax.set_xlim(low / 1.3, high * 1.3)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(axis="x", color="#e5e5e5", lw=0.6)


def plot_power(
    table: pd.DataFrame,
    registry: pd.DataFrame,
    path_stem: str | Path,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> list[Path]:
    """Draw the minimum detectable effects of every indicator, in SDs of the outcome.

    One row per indicator (registry title, domain order as in the forest plot); full and
    partial integration side by side in each row, on a log axis (MDEs span two orders of
    magnitude). Filled markers: MDE of the nominal CRV1 t(G-1) test (``mde_sd``). Where that
    test over-rejects (``over_rejects`` of the table: simulated size above twice ``alpha``) a
    dotted line leads to a hollow marker at the size-adjusted MDE (``mde_size_adjusted_sd``).
    Terms without an MDE say why (the first clause of their ``note``); a table without rows
    gives a figure that says so instead of empty axes.

    Parameters
    ----------
    table
        From :func:`integration_models.inference.power.power_table` (at least ``PLOT_COLUMNS``).
    registry
        The indicator registry: ``indicator_id, title, domain``.
    path_stem
        Target path without suffix; ``.png`` and ``.svg`` are written.
    alpha, power
        The level and power the table was computed at (for the flag and the title).

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written (byte-identical for the same input).

    Raises
    ------
    ValueError
        If a column is missing or an indicator is missing from the registry.
    """
    require(table, PLOT_COLUMNS, "power table")
    require(registry, ["indicator_id", "title", "domain"], "registry")
    positions, labels = _plot_rows(registry, list(dict.fromkeys(table["indicator_id"])))
    with matplotlib.rc_context(STYLE):
        fig = new_figure((8.5, 0.36 * len(positions) + 2.6), layout="constrained")
        ax = fig.subplots()
        if positions:
            drawn = [
                _draw_term(ax, table.loc[table["term"] == term], style, positions)
                for term, style in TERM_STYLES.items()
            ]
            _set_log_axis(ax, np.concatenate(drawn))
            ax.set_yticks(list(positions.values()), labels)
            ax.set_ylim(min(positions.values()) - 0.7, 0.7)
            ax.set_xlabel(_caption(table, alpha))
            fig.legend(
                handles=_legend_handles(), loc="outside lower center", ncols=3, frameon=False
            )
        else:
            explain_empty(ax, NO_ROWS, width=60)
        fig.suptitle(f"Minimum detectable effects ({power:.0%} power, two-sided {alpha:g} test)")
        return save_figure(fig, path_stem)


def _legend_handles() -> list[Line2D]:
    """Return the legend entries: the two terms, and what a hollow marker means."""
    handles = [
        Line2D([], [], ls="none", color=c, marker=m, label=label)
        for c, m, label, _ in TERM_STYLES.values()
    ]
    handles.append(
        Line2D([], [], ls=":", color="#555555", marker="o", mfc="white", label="size-adjusted")
    )
    return handles


def _caption(table: pd.DataFrame, alpha: float) -> str:
    """Return the axis label: the units, the test and what the hollow markers are."""
    reps = int(table["reps"].max()) if "reps" in table.columns and len(table) else 0
    return "\n".join(
        [
            "minimum detectable effect in SDs of the outcome as modelled (log axis;",
            "rates and counts are modelled on the log scale)",
            f"filled: CRV1 t(G-1) test, simulated on each indicator's design ({reps} replicates)",
            "hollow: size-adjusted MDE, where that test's simulated size exceeds "
            f"{OVER_REJECTION * alpha:g}",
        ]
    )
