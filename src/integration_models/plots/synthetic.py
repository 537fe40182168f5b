"""Figure of the synthetic controls: each early adopter's path against its synthetic control.

One row per primary outcome (at most :data:`MAX_OUTCOMES`, in the plan's order), one column
per treated area (Highland, Moray by default): the treated area's values and its synthetic
control's, with the go-live marked between the last pre-year and the first post-year, and the
estimate, pre-RMSPE and placebo p-value in the panel's title. A panel that was not fitted (too
few pre-periods, no post-period) says why in words.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from integration_models.plots.base import (
    GREY_TEXT,
    NEUTRAL,
    explain_empty,
    first_clause,
    new_figure,
    plain,
    save_figure,
)

# rows drawn at most: the demo's registry has no roles, so all 25 indicators are primary
MAX_OUTCOMES = 8
TREATED_STYLE = {"color": "#000000", "marker": "o", "markersize": 3, "linewidth": 1.4}
SYNTHETIC_STYLE = {"color": "#0072B2", "marker": "s", "markersize": 3, "linewidth": 1.4,
                   "linestyle": "--"}  # fmt: skip


def _title(row: pd.Series) -> str:
    p = row["p_placebo"]
    placebo = (
        f"placebo p = {p:.2f} (n = {int(row['n_placebos'])})" if math.isfinite(p) else "no placebo"
    )
    return (
        f"ATT {row['estimate']:.3g}, pre-RMSPE {row['pre_rmspe']:.3g}, {placebo}; "
        f"SDID {row['sdid_estimate']:.3g}"
        if math.isfinite(row.get("sdid_estimate", math.nan))
        else f"ATT {row['estimate']:.3g}, pre-RMSPE {row['pre_rmspe']:.3g}, {placebo}"
    )


def plot_synthetic(
    estimates: pd.DataFrame,
    paths: pd.DataFrame,
    outcomes: list[str],
    titles: dict[str, str],
    out: str | Path,
) -> list[Path]:
    """Draw the figure as ``out`` .png and .svg.

    Parameters
    ----------
    estimates
        ``synthetic_control.csv`` (its ``scm`` and ``sdid`` rows).
    paths
        The treated and synthetic values by indicator, area and year (the jobs' path parts).
    outcomes
        The primary outcomes, in order; the first :data:`MAX_OUTCOMES` are drawn.
    titles
        Indicator -> title (registry).
    """
    scm = estimates[estimates["method"] == "scm"]
    sdid = estimates[estimates["method"] == "sdid"].set_index(["indicator_id", "area_code"])
    area_order = scm.drop_duplicates("area_code")[["area_code", "area_name", "go_live"]]
    shown = [o for o in outcomes if o in set(scm["indicator_id"])][:MAX_OUTCOMES]
    n_rows, n_cols = max(len(shown), 1), max(len(area_order), 1)
    fig = new_figure((4.2 * n_cols, 2.4 * n_rows + 0.8), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    left_out = len([o for o in outcomes if o in set(scm["indicator_id"])]) - len(shown)
    heading = "Synthetic control: treated area (black) against its synthetic control (blue dashed)"
    if left_out > 0:
        heading += f"; the first {len(shown)} primary outcomes ({left_out} more in the table)"
    fig.suptitle(plain(heading, 95))
    if not shown:
        explain_empty(axes[0][0], "no primary outcome has a synthetic control row")
        return save_figure(fig, out)
    for i, indicator in enumerate(shown):
        for j, area in enumerate(area_order.itertuples(index=False)):
            ax = axes[i][j]
            match = scm[(scm["indicator_id"] == indicator) & (scm["area_code"] == area.area_code)]
            label = f"{area.area_name} (live {area.go_live}): {titles.get(indicator, indicator)}"
            ax.set_title(plain(label, 62), loc="left", fontsize=7.5)
            if match.empty:
                explain_empty(ax, "not analysed")
                continue
            row = match.iloc[0].copy()
            key = (indicator, area.area_code)
            row["sdid_estimate"] = (
                float(sdid.loc[key, "estimate"]) if key in sdid.index else math.nan
            )
            if row["status"] != "ok":
                explain_empty(ax, f"{row['status']}: {first_clause(row['note'])}")
                continue
            path = paths[
                (paths["indicator_id"] == indicator) & (paths["area_code"] == area.area_code)
            ]
            path = path.sort_values("year")
            ax.plot(path["year"], path["treated"], **TREATED_STYLE)
            ax.plot(path["year"], path["synthetic"], **SYNTHETIC_STYLE)
            go_live = (row["first_post_year"] + _last_pre(path, row)) / 2
            ax.axvline(go_live, color=NEUTRAL, linewidth=0.8, linestyle=":")
            ax.text(0.01, 0.02, plain(_title(row), 70), transform=ax.transAxes, fontsize=6.5,
                    color=GREY_TEXT, va="bottom")  # fmt: skip
            ax.set_ylabel(f"value ({row['scale']} scale)")
    return save_figure(fig, out)


def _last_pre(path: pd.DataFrame, row: pd.Series) -> float:
    """Return the last pre-year of a drawn path (the year before the first post-year if none)."""
    before = path.loc[path["year"] < row["first_post_year"], "year"]
    return float(before.max()) if len(before) else float(row["first_post_year"]) - 1
