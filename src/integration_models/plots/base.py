"""What every figure shares: style, the SYNTHETIC DATA mark, deterministic saving, helpers.

Every figure is a :class:`matplotlib.figure.Figure` with an Agg canvas
(:func:`new_figure`), never one of pyplot's: no global figure manager to share or to close.

The output is deterministic (no dates or versions in the files, a fixed SVG hash salt), so the
same tables give byte-identical files. Figures of a synthetic dataset carry a visible mark,
"SYNTHETIC DATA" written diagonally across the whole figure in translucent red, added by
:func:`save_figure` inside :func:`synthetic_figures` (the commands that draw set it from the
registry): a figure copied into a slide or a paper must not pass for real statistics. Colours
are the colour-blind-safe Okabe-Ito palette and every colour comes with its own marker. Text
taken from the data is drawn literally: dollar signs are escaped so that matplotlib never
interprets it as mathtext. A panel or figure with nothing to show says why in words
(:func:`explain_empty`) instead of showing empty axes.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from integration_models.data.registry import DOMAINS
from integration_models.io import atomic_path

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
MODELS = {  # model id -> colour, marker, label
    "mixed": ("#D55E00", "o", "replication: multilevel model (mixed)"),
    "twfe": ("#009E73", "s", "two-way fixed effects (twfe)"),
    "csdid": ("#CC79A7", "D", "Callaway-Sant'Anna (csdid)"),
    "sunab": ("#56B4E9", "^", "Sun-Abraham (sunab)"),
    "bjs": ("#E69F00", "v", "Borusyak-Jaravel-Spiess (bjs)"),
    "dcdh": ("#0072B2", "P", "de Chaisemartin-D'Haultfoeuille (dcdh)"),
}
EXTRA_STYLES = [("#CC79A7", "D"), ("#56B4E9", "^"), ("#F0E442", "v")]
SYNTHETIC_MARK = "SYNTHETIC DATA"
SYNTHETIC_MARK_ID = "synthetic-data-mark"  # the SVG group id of the mark
SYNTHETIC_MARK_STYLE = {"color": "#D00000", "alpha": 0.22, "weight": "bold"}
EMPTY_PANEL_ID = "empty-panel-reason"  # the SVG group id of a sentence replacing a panel
NEUTRAL = "#999999"
GREY_TEXT = "#555555"


def new_figure(figsize: tuple[float, float], layout: str | None = None) -> Figure:
    """Return a figure of ``figsize`` inches with an Agg canvas, outside pyplot."""
    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def require(table: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise ValueError naming the columns of ``columns`` that ``table`` lacks."""
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s): {', '.join(missing)}")


def plain(text: object, width: int | None = None) -> str:
    """Return data text safe to draw literally (no mathtext), wrapped to ``width`` if given."""
    text = str(text)
    if width:
        text = textwrap.fill(text, width, break_on_hyphens=False)
    return text.replace("$", r"\$")


def ordered(registry: pd.DataFrame, ids: Iterable[str], name: str) -> pd.DataFrame:
    """Return the registry sorted by domain, then file order; refuse ids it does not know."""
    unknown = sorted(set(ids) - set(registry["indicator_id"]))
    if unknown:
        raise ValueError(f"{name} has indicators missing from the registry: {', '.join(unknown)}")
    rank = registry["domain"].map({domain: i for i, domain in enumerate(DOMAINS)})
    order = rank.fillna(len(DOMAINS)).sort_values(kind="stable").index
    return registry.loc[order].reset_index(drop=True)


def model_styles(models: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """Return colour, marker and label of every model: known ones first, others by name."""
    present = set(models)
    known = [m for m in MODELS if m in present] + sorted(present - set(MODELS))
    extra = iter(EXTRA_STYLES * (1 + len(known)))
    return {m: MODELS[m] if m in MODELS else (*next(extra), plain(m)) for m in known}


def offsets(count: int, spread: float = 0.36) -> np.ndarray:
    """Return vertical offsets that place ``count`` models side by side within a row."""
    if count <= 1:
        return np.zeros(max(count, 0))
    return np.linspace(spread / 2, -spread / 2, count)


def draw_intervals(
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


def areas(count: int) -> str:
    """Return "1 area" or "<count> areas"."""
    return f"{count} area" if count == 1 else f"{count} areas"


def note(ax: Axes, y: float, text: str, colour: str = GREY_TEXT, x: float = 0.01) -> None:
    """Write ``text`` at height ``y`` and axes fraction ``x`` of ``ax``, on a white background."""
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1}
    ax.text(
        x,
        y,
        plain(text),
        color=colour,
        fontsize=8,
        va="center",
        bbox=box,
        transform=ax.get_yaxis_transform(),
    )


def side_note(ax: Axes, y: float, text: str, fontsize: float = 7) -> None:
    """Write ``text`` small at height ``y``, right-aligned at the right edge of ``ax``.

    Used to say why points are drawn without an interval (SVG group ``no-interval-note``).
    """
    ax.text(
        0.99,
        y,
        plain(text),
        ha="right",
        va="center",
        fontsize=fontsize,
        color=GREY_TEXT,
        transform=ax.get_yaxis_transform(),
        gid="no-interval-note",
    )


def explain_empty(ax: Axes, text: str, width: int = 40) -> None:
    """Turn ``ax`` into a sentence: no ticks, no frame, ``text`` wrapped in its centre.

    A panel with nothing to show says why instead of showing empty axes; the sentence is the
    SVG group :data:`EMPTY_PANEL_ID`.
    """
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.text(
        0.5,
        0.5,
        plain(text, width),
        ha="center",
        va="center",
        fontsize=8,
        color=GREY_TEXT,
        transform=ax.transAxes,
        gid=EMPTY_PANEL_ID,
    )


def first_clause(text: object, width: int = 80) -> str:
    """Return the first ``;``-separated part of a note, shortened to ``width`` characters."""
    part = str(text).split(";")[0].strip()
    return textwrap.shorten(part, width, placeholder="...") if part else ""


_synthetic: ContextVar[bool] = ContextVar("synthetic_figures", default=False)


@contextmanager
def synthetic_figures(synthetic: bool = True) -> Iterator[None]:
    """Mark every figure :func:`save_figure` writes in this block as synthetic, or not.

    The drawing commands and jobs wrap their plotting in this with the registry's
    :func:`integration_models.data.registry.is_synthetic`, so that every plotting function gets the
    mark without a flag of its own. A context variable: each thread has its own.
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
    """Save ``fig`` as ``out`` with suffixes ``.png`` (150 dpi) and ``.svg``.

    Inside :func:`synthetic_figures` the figure gets the SYNTHETIC DATA mark first
    (:func:`mark_synthetic`). Both files are written atomically and carry no date or software
    version, so the same figure gives the same bytes.

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
    if _synthetic.get():
        mark_synthetic(fig)
    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT}):
        with atomic_path(paths[0]) as temporary:
            fig.savefig(temporary, format="png", dpi=DPI, metadata={"Software": None})
        # the SVG keeps the layout just computed: solving it again took half of the drawing
        # time (measured on the 25-panel trends figure: 3.3 s for both files, 2.3 s now)
        fig.set_layout_engine("none")
        with atomic_path(paths[1]) as temporary:
            fig.savefig(temporary, format="svg", metadata={"Date": None, "Creator": None})
    return paths
