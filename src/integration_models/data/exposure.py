"""What each value's period covers, and whether that period was exposed to integration.

An indicator's ``year`` is the calendar year in which its period ends (contract, section 2),
but periods differ: a financial year 2014-15 (``year`` 2015) runs from 1 April 2014 to
31 March 2015, an academic year from August to June, a snapshot is one day, and a three-year
rolling average covers three periods. Comparing ``year`` with the year a partnership went
live would count a financial year that ended before go-live as integrated. This module times
exposure from the dates each period covers instead (issue 13, section 1):

- :func:`period_span`: the first and last day a value covers;
- :func:`exposure_of_span`: the category the whole span was exposed to, or ``transition``
  when the span straddles a change of category (a go-live, a switch-off);
- :func:`covid_share`: the share of the span's days inside the pandemic window.

A partnership's periods come from the dated classification
(:func:`integration_models.data.reference.load_classification`); before its first period a
partnership is ``none``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

PERIODS = ("calendar", "financial", "academic", "snapshot")
TRANSITION = "transition"
# first day (month, day) of each kind of period, and its last day in the labelled year
_STARTS = {"calendar": (1, 1), "financial": (4, 1), "academic": (8, 1)}
_ENDS = {"calendar": (12, 31), "financial": (3, 31), "academic": (6, 30)}
MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
# The default COVID-19 window (config ``covid_window``): the first lockdown (23 March 2020) to
# the end of the legal restrictions and of the 2021-22 financial year (31 March 2022).
COVID_WINDOW = (date(2020, 3, 23), date(2022, 3, 31))
# A COVID-19 period (left out by the ``no_covid`` sensitivity variant) has at least this share
# of its days in the window: financial 2019-20 (9 of 366 days) is not one, academic 2021-22
# (243 of 334) and the calendar year 2020 (284 of 366) are.
COVID_PERIOD_SHARE = 0.5


@dataclass(frozen=True)
class PeriodType:
    """What one value of an indicator covers.

    Attributes
    ----------
    period
        ``calendar`` (January to December), ``financial`` (1 April to 31 March), ``academic``
        (1 August to 30 June) or ``snapshot`` (one day).
    years
        How many consecutive periods one value averages (3 for a three-year rolling average
        labelled by its last period); 1 for a single period. Always 1 for a snapshot.
    snapshot_day
        ``MM-DD`` of a snapshot (e.g. ``07-31``); empty for other periods.
    """

    period: str
    years: int = 1
    snapshot_day: str = ""

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period {self.period!r} is not one of {', '.join(PERIODS)}")
        if self.years < 1:
            raise ValueError(f"a value covers at least one period (got {self.years})")
        if self.period == "snapshot":
            if not MONTH_DAY.fullmatch(self.snapshot_day):
                raise ValueError(f"a snapshot needs its day as MM-DD (got {self.snapshot_day!r})")
            if self.years != 1:
                raise ValueError("a snapshot is one day: it cannot average several years")
        elif self.snapshot_day:
            raise ValueError(f"only a snapshot has a day (got {self.snapshot_day!r})")

    @classmethod
    def from_key(cls, key: str) -> PeriodType:
        """Return the period type named by :attr:`key` (the panel's ``period_key`` column)."""
        kind, _, rest = key.partition("/")
        if kind == "snapshot":
            return cls(kind, 1, rest)
        if rest and not re.fullmatch(r"[1-9][0-9]?y", rest):
            raise ValueError(f"period key {key!r} is not like 'financial' or 'calendar/3y'")
        return cls(kind, int(rest[:-1]) if rest else 1)

    @property
    def key(self) -> str:
        """A short name, e.g. ``financial``, ``calendar/3y`` or ``snapshot/07-31``."""
        if self.period == "snapshot":
            return f"snapshot/{self.snapshot_day}"
        return self.period if self.years == 1 else f"{self.period}/{self.years}y"


def period_span(kind: PeriodType, year: int) -> tuple[date, date]:
    """Return the first and last day covered by the value labelled ``year``.

    ``year`` is the calendar year in which the (last) period ends: financial 2015 is
    2014-04-01 to 2015-03-31; academic 2022 is 2021-08-01 to 2022-06-30; a three-year
    calendar average labelled 2019 is 2017-01-01 to 2019-12-31; a 31 July snapshot labelled
    2019 is 2019-07-31 alone.
    """
    if kind.period == "snapshot":
        month, day = (int(part) for part in kind.snapshot_day.split("-"))
        moment = date(year, month, day)
        return moment, moment
    end = date(year, *_ENDS[kind.period])
    start_month, start_day = _STARTS[kind.period]
    start_year = year - kind.years + (1 if kind.period == "calendar" else 0)
    return date(start_year, start_month, start_day), end


@dataclass(frozen=True)
class Period:
    """One dated period of a partnership's classification (``to_date`` None = open)."""

    category: str
    from_date: date
    to_date: date | None = None


def category_on(periods: Sequence[Period], day: date) -> str:
    """Return the category in force on ``day`` (``none`` before any period or in a gap)."""
    for period in periods:
        if period.from_date <= day and (period.to_date is None or day <= period.to_date):
            return period.category
    return "none"


def _change_days(periods: Sequence[Period]) -> list[date]:
    """Every day on which the category in force may change (starts, and days after ends)."""
    days = [p.from_date for p in periods]
    days += [p.to_date + timedelta(days=1) for p in periods if p.to_date is not None]
    return sorted(set(days))


def exposure_of_span(periods: Sequence[Period], start: date, end: date) -> tuple[str, str]:
    """Return the exposure of a span and its category when transition counts as exposed.

    The span is exposed to a category when that category is in force on every day of it;
    when the category changes inside the span (a go-live, a switch-off, a change of level),
    the span is a ``transition`` period: it belongs to neither side of the contrast. The
    second value is the category in force on the span's last day, which a sensitivity
    analysis uses to count transition periods as exposed.

    Parameters
    ----------
    periods
        The partnership's dated periods (any order; they must not overlap).
    start, end
        The first and last day of the span (:func:`period_span`).
    """
    last = category_on(periods, end)
    categories = {category_on(periods, start), last}
    categories |= {category_on(periods, d) for d in _change_days(periods) if start < d <= end}
    return (last if len(categories) == 1 else TRANSITION), last


def covid_share(start: date, end: date, window: tuple[date, date]) -> float:
    """Return the share of the days from ``start`` to ``end`` inside ``window`` (inclusive).

    A financial year 2019-20 (1 April 2019 to 31 March 2020) has 9 of its 366 days in the
    default window (:data:`COVID_WINDOW`, from 23 March 2020), so it is barely a COVID-19
    period; an academic year 2021-22 has 243 of its 334 days inside a window ending 31 March
    2022. A snapshot is 1 inside the window and 0 outside.
    """
    first, last = max(start, window[0]), min(end, window[1])
    inside = max((last - first).days + 1, 0)
    return inside / ((end - start).days + 1)


def periods_of(classification) -> dict[str, list[Period]]:
    """Return each partnership's dated periods from a loaded classification.

    ``classification`` is :func:`integration_models.data.reference.load_classification`'s table
    (``from_date``/``to_date`` as ISO text, ``to_date`` empty when open).
    """
    periods: dict[str, list[Period]] = {}
    for row in classification.itertuples(index=False):
        end = date.fromisoformat(row.to_date) if row.to_date else None
        period = Period(row.category, date.fromisoformat(row.from_date), end)
        periods.setdefault(row.hscp_code, []).append(period)
    return periods


def exposure_table(classification, areas, years: Sequence[int], kinds: Sequence[PeriodType]):
    """Expose every council area, year and kind of period (:func:`exposure_of_span`).

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, period_key, integration, integration_exposed``: ``integration`` is
        ``none``, ``partial``, ``full`` or ``transition``; ``integration_exposed`` counts a
        transition period as exposed to the category in force at its end.
    """
    import pandas as pd

    periods = periods_of(classification)
    records = []
    for kind in kinds:
        for year in years:
            start, end = period_span(kind, year)
            for area, hscp in zip(areas["area_code"], areas["hscp_code"], strict=True):
                exposure, exposed = exposure_of_span(periods.get(hscp, []), start, end)
                records.append((area, year, kind.key, exposure, exposed))
    columns = ["area_code", "year", "period_key", "integration", "integration_exposed"]
    return pd.DataFrame(records, columns=columns)
