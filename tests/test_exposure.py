"""Exposure timed by what each period covers (issue 13, section 1), on hand-made periods."""

from __future__ import annotations

import re
from datetime import date

import pytest

from integration_models.data.exposure import (
    TRANSITION,
    Period,
    PeriodType,
    covid_share,
    exposure_of_span,
    exposure_table,
    period_span,
)
from integration_models.data.reference import load_classification
from tests.conftest import BASELINE, DEMO

FINANCIAL, ACADEMIC, CALENDAR = (
    PeriodType("financial"),
    PeriodType("academic"),
    PeriodType("calendar"),
)
SNAPSHOT = PeriodType("snapshot", snapshot_day="07-31")
HIGHLAND = [Period("full", date(2012, 4, 1))]
# North Lanarkshire: children's social work delegated 1 April 2016, withdrawn 1 April 2019
NORTH_LANARKSHIRE = [
    Period("full", date(2016, 4, 1), date(2019, 3, 31)),
    Period("none", date(2019, 4, 1)),
]
WINDOW = (date(2020, 3, 23), date(2022, 3, 31))


def exposure(periods, kind, year):
    return exposure_of_span(periods, *period_span(kind, year))


def test_spans_of_each_kind_of_period():
    assert period_span(FINANCIAL, 2015) == (date(2014, 4, 1), date(2015, 3, 31))
    assert period_span(ACADEMIC, 2022) == (date(2021, 8, 1), date(2022, 6, 30))
    assert period_span(CALENDAR, 2019) == (date(2019, 1, 1), date(2019, 12, 31))
    assert period_span(SNAPSHOT, 2019) == (date(2019, 7, 31), date(2019, 7, 31))
    rolling = PeriodType("calendar", years=3)
    assert period_span(rolling, 2019) == (date(2017, 1, 1), date(2019, 12, 31))
    assert period_span(PeriodType("financial", years=3), 2017) == (
        date(2014, 4, 1),
        date(2017, 3, 31),
    )
    assert rolling.key == "calendar/3y" and SNAPSHOT.key == "snapshot/07-31"


def test_highland_2011_12_is_not_exposed_and_2012_13_is():
    """The lead-agency model began on 1 April 2012: financial 2011-12 ends the day before."""
    assert exposure(HIGHLAND, FINANCIAL, 2012) == ("none", "none")
    assert exposure(HIGHLAND, FINANCIAL, 2013) == ("full", "full")
    # a calendar or academic year containing 1 April 2012 straddles the go-live
    assert exposure(HIGHLAND, CALENDAR, 2012) == (TRANSITION, "full")
    assert exposure(HIGHLAND, ACADEMIC, 2012) == (TRANSITION, "full")
    assert exposure(HIGHLAND, ACADEMIC, 2013) == ("full", "full")
    assert exposure(HIGHLAND, SNAPSHOT, 2012) == ("full", "full")


def test_a_financial_year_straddling_a_mid_year_go_live_is_a_transition():
    july = [Period("full", date(2015, 7, 1))]
    assert exposure(july, FINANCIAL, 2015) == ("none", "none")  # ends 31 March 2015
    assert exposure(july, FINANCIAL, 2016) == (TRANSITION, "full")  # April 2015 - March 2016
    assert exposure(july, FINANCIAL, 2017) == ("full", "full")


def test_a_rolling_average_is_exposed_only_when_all_its_years_are():
    three = PeriodType("financial", years=3)
    go_live = [Period("full", date(2016, 4, 1))]
    assert exposure(go_live, three, 2016) == ("none", "none")  # 2013-04-01 to 2016-03-31
    assert exposure(go_live, three, 2017) == (TRANSITION, "full")
    assert exposure(go_live, three, 2018) == (TRANSITION, "full")
    assert exposure(go_live, three, 2019) == ("full", "full")  # 2016-04-01 to 2019-03-31


def test_a_switch_off_is_timed_the_same_way():
    assert exposure(NORTH_LANARKSHIRE, FINANCIAL, 2016) == ("none", "none")
    assert exposure(NORTH_LANARKSHIRE, FINANCIAL, 2019) == ("full", "full")  # 2018-19
    assert exposure(NORTH_LANARKSHIRE, FINANCIAL, 2020) == ("none", "none")  # 2019-20
    assert exposure(NORTH_LANARKSHIRE, CALENDAR, 2019) == (TRANSITION, "none")
    assert exposure(NORTH_LANARKSHIRE, ACADEMIC, 2019) == (TRANSITION, "none")
    assert exposure(NORTH_LANARKSHIRE, SNAPSHOT, 2018) == ("full", "full")


def test_before_the_first_period_and_between_equal_categories_is_not_a_transition():
    none_then_none = [Period("none", date(2016, 4, 1))]
    assert exposure(none_then_none, CALENDAR, 2016) == ("none", "none")
    assert exposure([], FINANCIAL, 2020) == ("none", "none")


def test_covid_share_of_each_period():
    """Financial 2019-20 is not a COVID-19 year; academic 2021-22 is (mostly)."""
    assert covid_share(*period_span(FINANCIAL, 2020), WINDOW) == pytest.approx(9 / 366)
    assert covid_share(*period_span(ACADEMIC, 2022), WINDOW) == pytest.approx(243 / 334)
    assert covid_share(*period_span(FINANCIAL, 2021), WINDOW) == 1.0
    assert covid_share(*period_span(CALENDAR, 2019), WINDOW) == 0.0
    assert covid_share(*period_span(SNAPSHOT, 2021), WINDOW) == 1.0
    assert covid_share(*period_span(SNAPSHOT, 2022), WINDOW) == 0.0


def test_period_keys_name_their_type():
    for kind in (FINANCIAL, SNAPSHOT, PeriodType("calendar", years=3), PeriodType("academic")):
        assert PeriodType.from_key(kind.key) == kind
    with pytest.raises(ValueError, match="is not like"):
        PeriodType.from_key("financial/x")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"period": "weekly"}, "not one of"),
        ({"period": "snapshot"}, "needs its day as MM-DD"),
        ({"period": "snapshot", "snapshot_day": "13-01"}, "needs its day as MM-DD"),
        ({"period": "snapshot", "snapshot_day": "07-31", "years": 3}, "cannot average"),
        ({"period": "financial", "snapshot_day": "07-31"}, "only a snapshot has a day"),
        ({"period": "financial", "years": 0}, "at least one period"),
    ],
)
def test_period_types_are_checked(arguments, message):
    with pytest.raises(ValueError, match=message):
        PeriodType(**arguments)


def test_the_baseline_classification_exposes_by_date(areas):
    classification = load_classification(BASELINE, areas)
    table = exposure_table(classification, areas, range(2011, 2024), [FINANCIAL, CALENDAR])
    coded = table.set_index(["area_code", "year", "period_key"])
    highland = "S12000017"
    assert coded.loc[(highland, 2012, "financial"), "integration"] == "none"
    assert coded.loc[(highland, 2013, "financial"), "integration"] == "full"
    assert coded.loc[(highland, 2012, "calendar"), "integration"] == TRANSITION
    north_lanarkshire = "S12000050"
    assert coded.loc[(north_lanarkshire, 2019, "financial"), "integration"] == "full"
    # children's social work withdrawn from 12 April 2019: financial 2019-20 straddles it
    assert coded.loc[(north_lanarkshire, 2020, "financial"), "integration"] == TRANSITION
    assert coded.loc[(north_lanarkshire, 2020, "financial"), "integration_exposed"] == "partial"
    assert coded.loc[(north_lanarkshire, 2021, "financial"), "integration"] == "partial"
    assert coded.loc[(north_lanarkshire, 2019, "calendar"), "integration_exposed"] == "partial"
    assert len(table) == 32 * 13 * 2


REGISTRY_HEADER = "indicator_id,title,domain,measure,unit,higher_is_better,period,source"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,A,children,rate,u,true,snapshot,s,,", "a snapshot needs its day as MM-DD (got '')"),
        ("a,A,children,rate,u,true,financial,s,x,", "period_years 'x' is not a whole number"),
        ("a,A,children,rate,u,true,snapshot,s,3,", "a snapshot needs its day"),
        ("a,A,children,rate,u,true,calendar,s,1,07-31", "only a snapshot has a day"),
    ],
)
def test_the_registry_says_what_a_value_covers(tmp_path, row, message):
    from integration_models.data.registry import load_registry
    from integration_models.errors import InputError

    path = tmp_path / "indicators.csv"
    path.write_text(f"{REGISTRY_HEADER},period_years,snapshot_day\n{row}\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"indicators.csv:2: {message}")):
        load_registry(path)


def test_registry_period_keys(tmp_path):
    from integration_models.data.registry import load_registry

    path = tmp_path / "indicators.csv"
    path.write_text(
        f"{REGISTRY_HEADER},period_years,snapshot_day\n"
        "a,A,children,rate,u,true,snapshot,s,,07-31\n"
        "b,B,children,rate,u,true,financial,s,3,\n"
        "c,C,children,rate,u,true,academic,s,,\n",
        encoding="utf-8",
    )
    assert list(load_registry(path)["period_key"]) == ["snapshot/07-31", "financial/3y", "academic"]
    demo = load_registry(DEMO / "indicators.csv")
    assert set(demo.loc[demo["period"] == "snapshot", "period_key"]) == {"snapshot/07-31"}
