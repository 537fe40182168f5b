"""The Goodman-Bacon decomposition of one integration term's TWFE coefficient (``diff-diff``).

Goodman-Bacon (2021) writes the two-way fixed effects coefficient of a binary, staggered,
absorbing treatment on a balanced panel as a weighted average of 2x2 comparisons: treated
against never-treated areas, earlier- against later-treated areas (before the later ones
switch), and later- against earlier-treated areas *after* the earlier ones switched - the
"forbidden" comparisons, whose controls are already treated and whose estimates carry the
change of the earlier areas' effects. Areas treated from the panel's first year are untreated
controls throughout (the library puts them with the never-treated, Goodman-Bacon's footnote
11): comparisons against them also use already-treated areas as controls, so their number is
reported (``n_always_treated``).

The decomposition needs what the project's panels often lack, so it is run on a sub-panel
and the table says which:

- *binary*: ``D`` is the term's dummy; the other category's area-years count as untreated
  (the ``plain`` design of :mod:`~integration_models.diagnostics.twfe_weights`), and there are
  no covariates: it decomposes that regression's coefficient, not the project's ``twfe``
  (which adds the other dummy and ``deprivation_trend``);
- *absorbing*: an area whose ``D`` switches off (North Lanarkshire leaving ``full`` in 2019)
  is left out;
- *balanced*: only areas observed in every year of the indicator's window are kept (a
  suppressed cell drops its area).

Not applicable (with the reason) when no switching area or no comparison remains.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

COMPARISON_TYPES = ("treated_vs_never", "earlier_vs_later", "later_vs_earlier")
FORBIDDEN = "later_vs_earlier"
MIN_AREAS = 2


def absorbing_balanced(frame: pd.DataFrame, term: str) -> tuple[pd.DataFrame, dict]:
    """Return the balanced sub-panel of areas whose ``term`` never switches off.

    Returns the rows (``area_code``, ``year``, ``y``, ``first_treat``: first year with the term
    on, 0 if never) and what was left out: ``switch_off`` and ``unbalanced`` area codes.
    """
    rows = frame[["area_code", "year", "y", term]].sort_values(["area_code", "year"])
    d = rows[term].to_numpy(dtype=float)
    switch_off = set()
    for area, group in rows.groupby("area_code", sort=True):
        values = group[term].to_numpy(dtype=float)
        if (np.diff(values) < -0.5).any():
            switch_off.add(str(area))
    years = set(rows["year"])
    counts = rows.groupby("area_code")["year"].nunique()
    unbalanced = {str(a) for a, n in counts.items() if n < len(years)}
    keep = ~rows["area_code"].astype(str).isin(switch_off | unbalanced)
    rows = rows.assign(d=d)[keep]
    first = rows[rows["d"] > 0.5].groupby("area_code")["year"].min()
    rows = rows.assign(first_treat=rows["area_code"].map(first).fillna(0).astype(int))
    record = {"switch_off": sorted(switch_off), "unbalanced": sorted(unbalanced - switch_off)}
    return rows[["area_code", "year", "y", "first_treat"]].reset_index(drop=True), record


def sub_panel_words(record: dict, kept: int) -> str:
    """Describe the sub-panel in words, for the table's note."""
    parts = [f"balanced absorbing sub-panel of {kept} area(s)"]
    if record["switch_off"]:
        parts.append(f"left out, switch off: {', '.join(record['switch_off'])}")
    if record["unbalanced"]:
        parts.append(f"left out, missing years: {len(record['unbalanced'])} area(s)")
    return "; ".join(parts)


def decompose(frame: pd.DataFrame, term: str) -> dict:
    """Goodman-Bacon decomposition of ``term`` on ``frame``'s (model) rows.

    Returns a dict: ``applicable`` (bool), ``reason`` (why not), ``note`` (the sub-panel),
    ``twfe_estimate`` (the decomposed coefficient), ``n_always_treated``, and ``by_type``:
    one dict per comparison type with ``weight``, ``estimate`` (weight-averaged 2x2 estimate,
    NaN without weight) and ``n_comparisons``.
    """
    from diff_diff import BaconDecomposition

    sample, record = absorbing_balanced(frame, term)
    kept = int(sample["area_code"].nunique())
    out = {
        "applicable": False,
        "reason": "",
        "note": sub_panel_words(record, kept),
        "twfe_estimate": math.nan,
        "n_always_treated": 0,
        "by_type": [],
    }
    first_year = int(sample["year"].min()) if len(sample) else 0
    groups = sample.groupby("area_code")["first_treat"].first()
    switching = int((groups > first_year).sum())
    if kept < MIN_AREAS or switching == 0:
        out["reason"] = (
            f"not applicable: no area switches on within the balanced absorbing sub-panel "
            f"({out['note']})"
        )
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = BaconDecomposition().fit(sample, "y", "area_code", "year", "first_treat")
        except (ValueError, np.linalg.LinAlgError) as err:
            out["reason"] = f"not applicable: the library stopped: {err}".split("\n")[0]
            return out
    by_type = []
    for kind in COMPARISON_TYPES:
        members = [c for c in result.comparisons if c.comparison_type == kind]
        weight = float(sum(c.weight for c in members))
        estimate = (
            float(sum(c.weight * c.estimate for c in members) / weight) if weight > 0 else math.nan
        )
        by_type.append(
            {
                "comparison": kind,
                "weight": weight,
                "estimate": estimate,
                "n_comparisons": len(members),
            }
        )
    out.update(
        applicable=True,
        twfe_estimate=float(result.twfe_estimate),
        n_always_treated=int(result.n_always_treated_remapped),
        by_type=by_type,
    )
    return out
