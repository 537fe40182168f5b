import re

import pandas as pd
import pytest

from integration_models.data.exposure import PeriodType, exposure_table
from integration_models.data.reference import (
    code_lookup,
    load_classification,
    name_lookup,
    normalise_name,
)
from integration_models.errors import InputError
from tests.conftest import CLASSIFICATION_DIR

YEARS = list(range(2010, 2024))


def test_areas_counts(areas):
    assert len(areas) == 32
    assert areas["area_code"].is_unique
    assert areas["hscp_code"].nunique() == 31
    assert areas["health_board_code"].nunique() == 14
    shared = areas.groupby("hscp_code")["area_name"].apply(sorted)
    assert shared["S37000005"] == ["Clackmannanshire", "Stirling"]
    assert set(areas["hscp_start_year"]) <= {2015, 2016}


def test_former_codes_map_to_current(areas):
    codes = code_lookup(areas)
    assert codes["S12000015"] == "S12000047"  # Fife
    assert codes["S12000024"] == "S12000048"  # Perth and Kinross
    assert codes["S12000046"] == "S12000049"  # Glasgow City
    assert codes["S12000044"] == "S12000050"  # North Lanarkshire
    assert len(codes) == 36


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ("Edinburgh City", "S12000036"),
        ("Edinburgh, City of", "S12000036"),
        ("Eilean Siar", "S12000013"),
        ("Argyll & Bute", "S12000035"),
        ("Perth  &  Kinross", "S12000048"),
        ("dumfries and galloway", "S12000006"),
    ],
)
def test_name_variants(areas, variant, code):
    assert name_lookup(areas)[normalise_name(variant)] == code


def test_time_varying_coding(areas, baseline):
    kinds = [PeriodType("financial"), PeriodType("calendar")]
    coded = exposure_table(baseline, areas, YEARS, kinds).set_index(
        ["area_code", "period_key", "year"]
    )
    category = coded["integration"]
    assert len(coded) == 32 * len(YEARS) * 2
    # Highland: lead agency from 1 April 2012: financial 2011-12 none, 2012-13 full; the
    # calendar year 2012 straddles the go-live
    highland = category.xs("S12000017", level="area_code")
    assert highland[("financial", 2012)] == "none" and highland[("financial", 2013)] == "full"
    assert highland[("calendar", 2011)] == "none" and highland[("calendar", 2012)] == "transition"
    # Moray switches from none to full (1 April 2020)
    moray = category.xs("S12000020", level="area_code")
    assert moray[("financial", 2020)] == "none" and moray[("financial", 2021)] == "full"
    # before a partnership starts (1 April 2016), no integration
    glasgow = category.xs("S12000049", level="area_code")
    assert glasgow[("financial", 2016)] == "none" and glasgow[("financial", 2017)] == "full"
    assert glasgow[("calendar", 2016)] == "transition" and glasgow[("calendar", 2017)] == "full"
    # the two councils of one partnership share its coding
    assert (
        category.xs("S12000005", level="area_code") == category.xs("S12000030", level="area_code")
    ).all()


def _write(tmp_path, rows):
    path = tmp_path / "classification.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def base_rows(baseline):
    """The baseline in the years-only form of earlier versions (still read)."""
    rows = baseline.drop(columns=["lineno", "from_date", "to_date", "confidence"]).copy()
    rows["to_year"] = rows["to_year"].astype("string").fillna("")
    return rows.to_dict("records")


@pytest.fixture
def dated_rows(baseline):
    """The baseline in its dated form, as in the file."""
    rows = baseline.drop(columns=["lineno", "from_year", "to_year"]).copy()
    return rows.to_dict("records")


def test_dated_periods_give_the_years_they_cover(baseline):
    periods = baseline.set_index(["hscp_code", "from_date"])
    highland = periods.loc[("S37000016", "2012-04-01")]
    assert highland["from_year"] == 2012 and pd.isna(highland["to_year"])
    north_lanarkshire = periods.loc[("S37000035", "2016-04-01")]
    assert north_lanarkshire["to_date"] == "2019-04-11" and north_lanarkshire["to_year"] == 2018
    assert set(baseline["confidence"]) <= {"confirmed", "inferred", "assumed"}


def test_dated_overlap_gap_and_bad_dates_refused(tmp_path, areas, dated_rows):
    first = dated_rows[0]
    assert first["to_date"] == ""
    closed = dict(first, to_date="2018-03-31")
    cases = {
        "overlaps the period ending 2018-03-31": [closed, dict(first, from_date="2018-03-01")],
        "leaves a gap after the period ending 2018-03-31": [
            closed,
            dict(first, from_date="2018-06-01"),
        ],
        "from_date '2018-4-1' is not an ISO date": [dict(first, from_date="2018-4-1")],
        "from_date '2018-02-30' is not an ISO date": [dict(first, from_date="2018-02-30")],
        "to_date 2015-03-31 is before from_date": [dict(first, to_date="2015-03-31")],
        "confidence 'likely' is not one of": [dict(first, confidence="likely")],
        "to_date without from_date": [dict(first, from_date="", to_date="2018-03-31")],
    }
    for message, replaced in cases.items():
        path = _write(tmp_path, [*replaced, *dated_rows[1:]])
        with pytest.raises(InputError, match=re.escape(message)):
            load_classification(path, areas)


def test_dates_and_years_must_agree(tmp_path, areas, dated_rows):
    rows = [dict(dated_rows[0], from_year=2017), *dated_rows[1:]]
    with pytest.raises(InputError, match=r"from_year '2017(\.0)?' does not agree with the dates"):
        load_classification(_write(tmp_path, rows), areas)


def test_overlapping_periods_refused(tmp_path, areas, base_rows):
    extra = dict(base_rows[0], category="full", from_year=2018, to_year="")
    path = _write(tmp_path, [*base_rows, extra])
    with pytest.raises(
        InputError, match=r"classification.csv:\d+: partnership S37000001: .*overlaps"
    ):
        load_classification(path, areas)


def test_gap_between_periods_refused(tmp_path, areas, base_rows):
    rows = [dict(base_rows[0], to_year=2017), dict(base_rows[0], from_year=2019)] + base_rows[1:]
    with pytest.raises(InputError, match="gap between 2017 and 2019"):
        load_classification(_write(tmp_path, rows), areas)


def test_unknown_partnership_refused(tmp_path, areas, base_rows):
    rows = [*base_rows, dict(base_rows[0], hscp_code="S37000099")]
    with pytest.raises(InputError, match=r":\d+: unknown partnership code 'S37000099'"):
        load_classification(_write(tmp_path, rows), areas)


def test_missing_partnership_refused(tmp_path, areas, base_rows):
    rows = [r for r in base_rows if r["hscp_code"] != "S37000005"]
    with pytest.raises(InputError, match="no period for partnership.*S37000005"):
        load_classification(_write(tmp_path, rows), areas)


def test_bad_category_and_empty_evidence_refused(tmp_path, areas, base_rows):
    rows = [dict(base_rows[0], category="mostly"), *base_rows[1:]]
    with pytest.raises(InputError, match="category 'mostly'"):
        load_classification(_write(tmp_path, rows), areas)
    rows = [dict(base_rows[0], evidence=""), *base_rows[1:]]
    with pytest.raises(InputError, match="evidence is empty"):
        load_classification(_write(tmp_path, rows), areas)


@pytest.mark.parametrize(
    "path",
    sorted(
        [CLASSIFICATION_DIR / "baseline.csv", *(CLASSIFICATION_DIR / "scenarios").glob("*.csv")]
    ),
    ids=lambda p: p.name,
)
def test_every_shipped_classification_passes_the_checks(path, areas):
    """The researched classification (issue 13.4): dated, sourced, one confidence per row."""
    table = load_classification(path, areas)
    assert set(table["hscp_code"]) == set(areas["hscp_code"])
    assert set(table["confidence"]) <= {"confirmed", "inferred", "assumed"}
    assert (table["from_date"] != "").all() and table["evidence"].str.len().min() > 20


def test_baseline_counts_as_its_readme_says(areas):
    from datetime import date

    from integration_models.data.exposure import category_on, periods_of

    periods = periods_of(load_classification(CLASSIFICATION_DIR / "baseline.csv", areas))
    for day, expected in ((date(2017, 7, 1), (12, 4, 15)), (date(2023, 7, 1), (12, 4, 15))):
        coded = [category_on(periods[code], day) for code in sorted(periods)]
        assert tuple(coded.count(c) for c in ("full", "partial", "none")) == expected
    assert category_on(periods["S37000016"], date(2012, 3, 31)) == "none"  # Highland
    assert category_on(periods["S37000016"], date(2012, 4, 1)) == "full"
