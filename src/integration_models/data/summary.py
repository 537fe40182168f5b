"""What the data preparation kept and left out, counted once for the report to display.

Three small tables, written by the ``data-summary`` step from the panel, the exclusions and
the classified exposure: the rows, exclusions, areas and years of each indicator; the
exclusions counted by reason and by file; and the council areas in each integration category
per year and kind of period. The report shows them as they are; it counts nothing itself.
"""

from __future__ import annotations

import pandas as pd

CATEGORIES = ("full", "partial", "none")
DUPLICATE = "exact duplicate of an earlier row"
NO_REASON = "(no reason given)"


def indicator_summary(
    panel: pd.DataFrame, exclusions: pd.DataFrame, registry: pd.DataFrame
) -> pd.DataFrame:
    """Return one row per indicator: rows in the panel, rows excluded, areas, first and last year.

    Every registry indicator has a row (zeros and empty years where nothing was kept), in
    registry order, followed by any indicator of the panel or the exclusions that the registry
    lacks (sorted), so nothing read is left out of the count.
    """
    ids = [str(i) for i in registry["indicator_id"]]
    seen = set(panel["indicator_id"].astype(str)) | set(exclusions["indicator_id"].astype(str))
    ids += sorted(seen - set(ids))
    titles = dict(zip(registry["indicator_id"], registry["title"], strict=True))
    kept = panel.groupby(panel["indicator_id"].astype(str))
    excluded = exclusions["indicator_id"].astype(str).value_counts()
    rows = kept.size().reindex(ids, fill_value=0)
    years = kept["year"].agg(["min", "max"]).reindex(ids)
    return pd.DataFrame(
        {
            "indicator_id": ids,
            "title": [titles.get(i, "") for i in ids],
            "rows": rows.to_numpy(dtype=int),
            "excluded": excluded.reindex(ids, fill_value=0).to_numpy(dtype=int),
            "areas": kept["area_code"].nunique().reindex(ids, fill_value=0).to_numpy(dtype=int),
            "first_year": years["min"].astype("Int64").to_numpy(),
            "last_year": years["max"].astype("Int64").to_numpy(),
        }
    )


def exclusion_counts(exclusions: pd.DataFrame) -> pd.DataFrame:
    """Return the excluded rows counted by reason and by file (``by``, ``value``, ``rows``).

    Reasons naming the earlier row a duplicate repeats are one group; most rows first, then
    by value, so the order does not depend on the order of the exclusions.
    """
    reasons = exclusions["reason"].fillna("").astype(str).map(_reason_group)
    files = exclusions["file"].fillna("").astype(str)
    parts = [_counted(reasons, "reason"), _counted(files, "file")]
    return pd.concat(parts, ignore_index=True)


def exposure_counts(integration: pd.DataFrame) -> pd.DataFrame:
    """Return the council areas per year, kind of period and integration category, as classified.

    ``integration`` is ``integration.parquet`` (one row per area, year and ``period_key``);
    one row per year and kind of period with a count per category (zero where none).
    """
    counts = (
        integration.pivot_table(
            index=["year", "period_key"],
            columns="integration",
            values="area_code",
            aggfunc="size",
            fill_value=0,
            observed=True,
        )
        .reindex(columns=list(CATEGORIES), fill_value=0)
        .reset_index()
        .sort_values(["year", "period_key"], kind="stable")
    )
    counts.columns.name = None
    return counts.astype({"year": int, **dict.fromkeys(CATEGORIES, int)}).reset_index(drop=True)


def _reason_group(reason: str) -> str:
    if reason.startswith("exact duplicate of"):
        return DUPLICATE
    return " ".join(reason.split()) or NO_REASON


def _counted(values: pd.Series, by: str) -> pd.DataFrame:
    counts = values.value_counts().rename_axis("value").reset_index(name="rows")
    counts = counts.sort_values(["rows", "value"], ascending=[False, True], kind="stable")
    return counts.assign(by=by)[["by", "value", "rows"]]
