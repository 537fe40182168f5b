"""The data-summary tables count every row read once, as the report shows them."""

from __future__ import annotations

import pandas as pd

from integration_models.data.summary import (
    DUPLICATE,
    NO_REASON,
    exclusion_counts,
    exposure_counts,
    indicator_summary,
)

REGISTRY = pd.DataFrame({"indicator_id": ["b_rate", "a_rate", "empty"], "title": ["B", "A", "E"]})
PANEL = pd.DataFrame(
    {
        "indicator_id": ["a_rate"] * 3 + ["b_rate"] * 2 + ["stray"],
        "area_code": ["S1", "S1", "S2", "S1", "S3", "S1"],
        "year": [2014, 2015, 2015, 2016, 2019, 2012],
    }
)
EXCLUSIONS = pd.DataFrame(
    {
        "indicator_id": ["a_rate", "a_rate", "b_rate", "gone"],
        "file": ["values/a_rate.csv", "values/a_rate.csv", "values/b_rate.csv", "values/gone.csv"],
        "reason": ["exact duplicate of values/a_rate.csv:4", "exact duplicate of x:9", "", "c"],
    }
)


def test_every_row_read_is_counted_once_per_indicator():
    summary = indicator_summary(PANEL, EXCLUSIONS, REGISTRY)
    # registry order, then what the registry lacks, sorted
    assert summary["indicator_id"].tolist() == ["b_rate", "a_rate", "empty", "gone", "stray"]
    assert summary["rows"].sum() == len(PANEL) and summary["excluded"].sum() == len(EXCLUSIONS)
    a = summary.set_index("indicator_id").loc["a_rate"]
    assert (a["rows"], a["excluded"], a["areas"], a["first_year"], a["last_year"]) == (
        3, 2, 2, 2014, 2015
    )  # fmt: skip
    empty = summary.set_index("indicator_id").loc["empty"]
    assert empty["rows"] == 0 and pd.isna(empty["first_year"])


def test_exclusions_by_reason_and_file():
    counts = exclusion_counts(EXCLUSIONS)
    reasons = counts[counts["by"] == "reason"].set_index("value")["rows"].to_dict()
    assert reasons == {DUPLICATE: 2, NO_REASON: 1, "c": 1}
    files = counts[counts["by"] == "file"]
    assert files["value"].tolist()[0] == "values/a_rate.csv" and files["rows"].sum() == 4


def test_exposure_counts_every_area_once_per_year_and_period():
    integration = pd.DataFrame(
        {
            "area_code": ["S1", "S2", "S3"] * 2,
            "year": [2016] * 3 + [2017] * 3,
            "period_key": ["financial"] * 6,
            "integration": ["full", "none", "none", "full", "partial", "none"],
        }
    )
    counts = exposure_counts(integration)
    assert counts.columns.tolist() == ["year", "period_key", "full", "partial", "none"]
    assert counts[["full", "partial", "none"]].values.tolist() == [[1, 0, 2], [1, 1, 1]]
