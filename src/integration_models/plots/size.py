"""The size figure: simulated rejection rates of the four tests under null DGPs, per term."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from integration_models.inference.size import DGPS, METHODS, SCOPE_TERMS
from integration_models.plots.base import STYLE, explain_empty, new_figure, require, save_figure

PLOT_COLUMNS = ["indicator_id", "term", "dgp", "method", "rejection_rate", "n_sims"]
METHOD_STYLES = {  # method -> colour, marker, legend label
    "crv1": ("#D55E00", "o", "CRV1 t(G-1)"),
    "cr2": ("#0072B2", "s", "CR2 Bell-McCaffrey"),
    "wcr": ("#009E73", "D", "wild cluster bootstrap (WCR)"),
    "ri": ("#CC79A7", "^", "randomization inference"),
}
TERM_TITLES = {
    "integration_full": "full integration vs none",
    "integration_partial": "partial integration vs none",
}
NO_ROWS = "no simulated rejection rates: the size table has no rows with a rate"
_SPREAD = 0.64  # width of one DGP's group of tests on the x axis


def mc_band(alpha: float, n_sims: int) -> tuple[float, float]:
    """Return ``alpha -+ 2 sqrt(alpha (1 - alpha) / n_sims)``: where an exact test's rate falls."""
    half = 2 * np.sqrt(alpha * (1 - alpha) / n_sims) if n_sims > 0 else 0.0
    return max(0.0, alpha - half), alpha + half


def _draw_term(ax: Axes, rows: pd.DataFrame, dgps: list[str], alpha: float) -> None:
    """Draw one term: per DGP, the four tests side by side, one dot per indicator."""
    n_sims = int(rows["n_sims"].max()) if len(rows) else 0
    low, high = mc_band(alpha, n_sims)
    ax.axhspan(low, high, color="#e5e5e5", lw=0, zorder=0)
    ax.axhline(alpha, color="#555555", lw=0.9, zorder=1)
    offsets = (np.arange(len(METHODS)) - (len(METHODS) - 1) / 2) * _SPREAD / len(METHODS)
    for d, dgp in enumerate(dgps):
        for m, method in enumerate(METHODS):
            colour, marker, _ = METHOD_STYLES[method]
            rates = rows.loc[
                (rows["dgp"] == dgp) & (rows["method"] == method), "rejection_rate"
            ].to_numpy(dtype=float)
            rates = rates[np.isfinite(rates)]
            x = np.full(rates.shape, d + offsets[m])
            ax.plot(x, rates, ls="none", marker=marker, color=colour, ms=3.5, alpha=0.45)
            if rates.size:
                ax.plot(
                    [d + offsets[m] - 0.05, d + offsets[m] + 0.05],
                    [np.median(rates)] * 2,
                    color=colour,
                    lw=2,
                )
    ax.set_xticks(range(len(dgps)), [dgp.replace("_", " ") for dgp in dgps])
    ax.set_xlim(-0.5, len(dgps) - 0.5)
    ax.grid(axis="y", color="#e5e5e5", lw=0.6)


def plot_size(table: pd.DataFrame, path_stem: str | Path, *, alpha: float = 0.05) -> list[Path]:
    """Draw the simulated rejection rates of every test, DGP and term.

    One panel per integration term; along the x axis the null DGPs simulated, within each
    the four tests side by side: one dot per indicator (its rate on its own design) and a
    bar at the median over indicators. The horizontal line is ``alpha``, the grey band
    ``alpha -+ 2`` Monte Carlo SEs of an exact test's rate (:func:`mc_band`): a dot above it
    is an over-rejecting cell (``over_rejects`` of the table). A table without rates gives a
    figure that says so.

    Parameters
    ----------
    table
        From :func:`integration_models.inference.size.combine_size` (at least
        ``PLOT_COLUMNS``).
    path_stem
        Target path without suffix; ``.png`` and ``.svg`` are written.
    alpha
        The level the table was simulated at.

    Returns
    -------
    list of pathlib.Path
        The PNG and SVG written (byte-identical for the same input).

    Raises
    ------
    ValueError
        If a column is missing.
    """
    require(table, PLOT_COLUMNS, "size table")
    rated = table.loc[np.isfinite(table["rejection_rate"].to_numpy(dtype=float))]
    dgps = [d for d in DGPS if d in set(rated["dgp"])]
    terms = [t for t in SCOPE_TERMS if t in set(rated["term"])]
    with matplotlib.rc_context(STYLE):
        fig = new_figure((4.2 * max(1, len(terms)) + 0.6, 4.6), layout="constrained")
        axes = fig.subplots(1, max(1, len(terms)), sharey=True, squeeze=False)[0]
        if terms:
            for ax, term in zip(axes, terms, strict=True):
                _draw_term(ax, rated.loc[rated["term"] == term], dgps, alpha)
                ax.set_title(TERM_TITLES.get(term, term))
            axes[0].set_ylabel(f"rejection rate at {alpha:g} under no effect")
            axes[0].set_ylim(bottom=0)
            n_sims = int(rated["n_sims"].max())
            fig.legend(handles=_legend_handles(alpha, n_sims), loc="outside lower center", ncols=3)
        else:
            explain_empty(axes[0], NO_ROWS, width=60)
        fig.suptitle("Size of the four tests on each indicator's design (one dot per indicator)")
        return save_figure(fig, path_stem)


def _legend_handles(alpha: float, n_sims: int) -> list:
    """Return the legend entries: the four tests, the median bar and the reference band."""
    handles: list = [
        Line2D([], [], ls="none", color=c, marker=m, label=label)
        for c, m, label in METHOD_STYLES.values()
    ]
    handles.append(Line2D([], [], color="#555555", lw=2, label="median over indicators"))
    handles.append(
        Patch(color="#e5e5e5", label=f"{alpha:g} ± 2 Monte Carlo SEs ({n_sims} samples)")
    )
    return handles
