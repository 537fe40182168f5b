"""The forest figure: the integration effects of every indicator and model, in outcome SDs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from integration_models.plots.base import (
    NEUTRAL,
    STYLE,
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

EFFECTS = {
    "integration_full": "Full integration vs none",
    "integration_partial": "Partial integration vs none",
}
FOREST_XLABEL = "effect in SDs of the outcome (95% CI)"
REGISTRY_COLUMNS = ["indicator_id", "title", "domain", "unit", "higher_is_better"]
COEFFICIENT_COLUMNS = ["indicator_id", "model", "term", "estimate", "conf_low", "conf_high"]
FIT_COLUMNS = ["indicator_id", "model", "status", "outcome_sd"]
NO_EFFECTS = "no integration effects: the registry has no indicators"
ROW_NOTE_CHARS = 70


def _forest_rows(indicators: pd.DataFrame) -> tuple[dict[str, float], list[tuple]]:
    """Lay out forest rows top down: a header per domain, then its indicators.

    Returns the height of every indicator and the ticks as ``(height, label, is_header)``.
    """
    positions: dict[str, float] = {}
    ticks: list[tuple] = []
    y = 0.0
    for domain, block in indicators.groupby("domain", sort=False, dropna=False):
        ticks.append((y, plain(str(domain).capitalize()), True))
        y -= 1
        for row in block.itertuples(index=False):
            better = "higher" if row.higher_is_better else "lower"
            positions[row.indicator_id] = y
            suffix = f"({better} is better)".replace(" ", "\u00a0")  # kept on one line
            ticks.append((y, plain(f"{row.title} {suffix}", 56), False))
            y -= 1
        y -= 0.3
    return positions, ticks


def _effects(coefficients: pd.DataFrame, model_fit: pd.DataFrame) -> pd.DataFrame:
    """Return the integration rows with their fit's status and ``outcome_sd``, and ``usable``.

    ``usable`` marks an estimate of a fit that is ``ok`` with a positive finite outcome SD;
    ``reason`` says, for every other row, why it shows no point.
    """
    effects = coefficients.loc[coefficients["term"].isin(list(EFFECTS))]
    extra = [c for c in ("message",) if c in model_fit.columns]
    fits = model_fit[FIT_COLUMNS + extra].drop_duplicates(["indicator_id", "model"])
    table = effects.merge(fits, on=["indicator_id", "model"], how="left")
    sd = pd.to_numeric(table["outcome_sd"], errors="coerce")
    ok = table["status"] == "ok"
    estimated = table["estimate"].notna()
    table = table.assign(usable=ok & estimated & (sd > 0) & np.isfinite(sd))
    notes = table["note"] if "note" in table.columns else pd.Series("", index=table.index)
    messages = table["message"] if "message" in table.columns else notes
    reasons = np.where(
        table["status"].isna(),
        "no fit",
        np.where(
            ~ok,
            table["status"].astype(str) + [_in_brackets(m) for m in messages],
            np.where(
                ~estimated, [first_clause(n) or "no estimate" for n in notes], "outcome SD not > 0"
            ),
        ),
    )
    return table.assign(reason=reasons)


def _in_brackets(message: object) -> str:
    """Return " (<first clause of message>)", or "" for an empty message."""
    text = first_clause(message) if isinstance(message, str) else ""
    return f" ({text})" if text else ""


def _not_estimated(rows: pd.DataFrame) -> str:
    """Return "not estimated (<models>): <reason>", one clause per distinct reason."""
    if rows.empty:
        return "not estimated: no coefficients"
    models: dict[str, list[str]] = {}
    for model, reason in zip(rows["model"], rows["reason"], strict=True):
        models.setdefault(reason, []).append(model)
    return "; ".join(f"not estimated ({', '.join(m)}): {r}" for r, m in models.items())


def _row_notes(ax, effects: pd.DataFrame, positions: dict[str, float]) -> None:
    """Say why a row has no point, and why a drawn point has no interval."""
    for indicator, y in positions.items():
        rows = effects.loc[effects["indicator_id"] == indicator]
        drawn = rows.loc[rows["usable"]]
        if drawn.empty:
            note(ax, y, textwrap.shorten(_not_estimated(rows), ROW_NOTE_CHARS))
            continue
        bare = drawn.loc[drawn[["conf_low", "conf_high"]].isna().any(axis=1)]
        if len(bare):
            notes = bare["note"] if "note" in bare.columns else pd.Series("", index=bare.index)
            why = "; ".join(
                f"{m}: {first_clause(n, 60) or 'no standard error'}"
                for m, n in zip(bare["model"], notes.fillna(""), strict=True)
            )
            side_note(ax, y, f"no interval ({why})")


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
    not estimated show no point; a row without any point says why ("not estimated: twfe:
    skipped (too little data ...)"), and a point drawn without an interval says why too
    ("no interval (csdid: only 1 treated area ...)").

    Parameters
    ----------
    coefficients
        Tidy coefficients: ``indicator_id, model, term, estimate, conf_low, conf_high``, and
        optionally ``note``.
    model_fit
        One row per indicator and model: ``indicator_id, model, status, outcome_sd``, and
        optionally ``message``.
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
    require(coefficients, COEFFICIENT_COLUMNS, "coefficients")
    require(model_fit, FIT_COLUMNS, "model_fit")
    require(registry, REGISTRY_COLUMNS, "registry")
    indicators = ordered(registry, coefficients["indicator_id"].unique(), "coefficients")
    positions, ticks = _forest_rows(indicators)
    styles = model_styles(coefficients["model"].dropna().unique())
    effects = _effects(coefficients, model_fit)
    height = 0.4 * len(ticks) + 1.6
    with matplotlib.rc_context(STYLE):
        fig = new_figure((12, height), layout="constrained")
        axes = fig.subplots(1, 2, sharey=True)
        for ax, (term, title) in zip(axes, EFFECTS.items(), strict=True):
            ax.set_title(title)
            if not positions:
                explain_empty(ax, NO_EFFECTS)
                continue
            ax.axvline(0, color=NEUTRAL, lw=1)
            shown = effects.loc[effects["term"] == term]
            usable = shown.loc[shown["usable"]]
            for (model, style), offset in zip(styles.items(), offsets(len(styles)), strict=True):
                rows = usable.loc[usable["model"] == model]
                y = rows["indicator_id"].map(positions).to_numpy() + offset
                draw_intervals(ax, y, rows, style, scale=rows["outcome_sd"].astype(float))
            _row_notes(ax, shown, positions)
            ax.set_xlabel(FOREST_XLABEL)
            ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        if positions:
            heights, labels, headers = zip(*ticks, strict=True)
            axes[0].set_yticks(heights, labels)
            for tick, header in zip(axes[0].get_yticklabels(), headers, strict=True):
                tick.set_fontweight("bold" if header else "normal")
            axes[0].set_ylim(min(heights) - 0.7, 0.7)
        handles = [Line2D([], [], color=c, marker=m, label=lab) for c, m, lab in styles.values()]
        if handles:
            fig.legend(
                handles=handles, loc="outside lower center", ncols=len(handles), frameon=False
            )
        fig.suptitle("Integration effects, standardised by the SD of each outcome")
        return save_figure(fig, out)
