"""The data of a synthetic control: one treated area, its donors, its pre- and post-years.

Synthetic control (Abadie, Diamond and Hainmueller 2010) and synthetic difference-in-
differences (Arkhangelsky et al. 2021) are designs for a single treated unit. Here the treated
units are the single early adopters named in the configuration (``synthetic_partnerships``:
Highland, full integration under the lead-agency model from April 2012, and Moray, full from
April 2020 on an assumed date). Everything about them comes from the classification, never
from hard-coded years:

- :func:`treated_partnerships`: each named partnership's go-live (the first dated period of
  the classification whose category is not ``none``), its category and its council areas;
- :func:`donor_pool`: the never-integrated areas, ``none`` in every year of the indicator
  (``integration.parquet``, which times exposure from the dates each period covers);
- :func:`build_design`: the balanced years-by-areas matrix of one indicator for one treated
  area: its pre-years (``none``), its post-years (the go-live category), the transition
  period that straddles go-live left out, and the years or donors without a value left out
  and counted (synthetic control needs a balanced panel).

A design with fewer than the configured minimum of pre-years is not fitted: it says so
(:data:`TOO_FEW_PRE`, :func:`fit_status`) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from integration_models.data.exposure import TRANSITION
from integration_models.data.identifiers import shown
from integration_models.errors import InputError

NONE = "none"
# status of a design or fit (synthetic_control.csv, column status)
OK = "ok"
TOO_FEW_PRE = "too few pre-periods"
NO_POST = "no post-periods"
TOO_FEW_DONORS = "too few donors"
NO_DATA = "no data"
FAILED = "failed"
STATUSES = (OK, TOO_FEW_PRE, NO_POST, TOO_FEW_DONORS, NO_DATA, FAILED)
# A synthetic control needs at least two donors: with one, the synthetic unit is that donor
# and the placebo test has a single comparison.
MIN_DONORS = 2
# The default minimum of pre-years (configuration ``synthetic_min_pre_years``). Synthetic
# control: 5. Its credibility rests on reproducing the treated unit's path over a long
# pre-period (Abadie, Diamond and Hainmueller 2015; Abadie 2021, section 3); with 10 or more
# donors and only two to four pre-years a convex combination matches almost any path by
# chance, so the pre-RMSPE says nothing about the fit and the post/pre RMSPE ratio of the
# placebo test divides by a near-zero fit error. Synthetic difference-in-differences: 3. It
# differences out the level and regularises its unit weights towards uniform, so it needs
# pre-years to match a trend, not a path: three give it two changes to match.
DEFAULT_MIN_PRE = {"scm": 5, "sdid": 3}


@dataclass(frozen=True)
class TreatedPartnership:
    """A partnership analysed as a single early adopter, from the classification.

    Attributes
    ----------
    hscp_code, name
        The partnership's code and name (areas table).
    area_codes
        Its council areas, each analysed as a treated unit of its own.
    go_live
        The first day of its first period whose category is not ``none`` (ISO); empty if it
        never left ``none``.
    go_live_year
        The classification's year of that period (``from_year``); None if never integrated.
    category
        That period's category (``full`` or ``partial``), or ``none``.
    confidence
        The classification's confidence in that period (``confirmed``, ``inferred``,
        ``assumed``, or empty).
    """

    hscp_code: str
    name: str
    area_codes: tuple[str, ...]
    go_live: str
    go_live_year: int | None
    category: str
    confidence: str = ""


def treated_partnerships(
    codes: Sequence[str], classification: pd.DataFrame, areas: pd.DataFrame
) -> list[TreatedPartnership]:
    """Return the named partnerships with their go-live, from the classification.

    Parameters
    ----------
    codes
        Partnership codes (configuration ``synthetic_partnerships``).
    classification
        :func:`integration_models.data.reference.load_classification` of the baseline.
    areas
        :func:`integration_models.data.reference.load_areas`.

    Raises
    ------
    InputError
        If a code is not a partnership of the areas table.
    """
    treated = []
    for code in codes:
        rows = areas[areas["hscp_code"] == code]
        if rows.empty:
            raise InputError(
                "config",
                f"synthetic_partnerships: {shown(code)} is not a partnership of the areas table",
            )
        periods = classification[classification["hscp_code"] == code].sort_values("from_date")
        integrated = periods[periods["category"] != NONE]
        first = integrated.iloc[0] if not integrated.empty else None
        treated.append(
            TreatedPartnership(
                hscp_code=code,
                name=str(rows["hscp_name"].iloc[0]),
                area_codes=tuple(sorted(rows["area_code"])),
                go_live="" if first is None else str(first["from_date"]),
                go_live_year=None if first is None else int(first["from_year"]),
                category=NONE if first is None else str(first["category"]),
                confidence="" if first is None else str(first.get("confidence", "") or ""),
            )
        )
    return treated


def donor_pool(exposure: pd.DataFrame, period_key: str, years: Sequence[int]) -> list[str]:
    """Return the areas ``none`` in every one of ``years`` for this kind of period, sorted.

    ``exposure`` is ``integration.parquet`` (area, year, kind of period, ``integration``): a
    ``transition`` or an integrated year anywhere in the indicator's years leaves the area
    out, so no donor was ever integrated while the indicator was measured.
    """
    rows = exposure[(exposure["period_key"] == period_key) & exposure["year"].isin(list(years))]
    integrated = (rows["integration"] != NONE).groupby(rows["area_code"]).any()
    return sorted(integrated.index[~integrated])


@dataclass
class Design:
    """One indicator's balanced panel for one treated area.

    Attributes
    ----------
    indicator_id, area_code
        What is analysed.
    wide
        Years (rows) by areas (columns), the treated area first, then the donors in sorted
        order; no missing cell. Empty when the design has no data.
    pre_years, post_years
        The years the treated area is ``none`` before go-live, and those it is in the go-live
        category after it.
    status, note
        :data:`OK` or why the design cannot be fitted, and what was left out.
    """

    indicator_id: str
    area_code: str
    wide: pd.DataFrame
    pre_years: list[int] = field(default_factory=list)
    post_years: list[int] = field(default_factory=list)
    status: str = OK
    note: str = ""

    @property
    def donors(self) -> list[str]:
        """The donor areas (every column but the treated area)."""
        return [c for c in self.wide.columns if c != self.area_code]

    def long(self) -> pd.DataFrame:
        """Return the panel in long form for ``diff_diff``: ``unit``, ``year``, ``y``, ``treated``.

        ``treated`` is 1 for the treated area in its post-years (the absorbing indicator
        ``SyntheticControl`` expects); ``ever_treated`` is 1 in every year of the treated
        area (the block indicator ``SyntheticDiD`` expects).
        """
        years = self.pre_years + self.post_years
        frame = self.wide.loc[years].rename_axis(index="year", columns="unit")
        long = frame.reset_index().melt(id_vars="year", var_name="unit", value_name="y")
        is_treated = long["unit"] == self.area_code
        long["treated"] = (is_treated & long["year"].isin(self.post_years)).astype(int)
        long["ever_treated"] = is_treated.astype(int)
        return long


def _exposure_of(exposure: pd.DataFrame, area: str, period_key: str) -> pd.Series:
    rows = exposure[(exposure["area_code"] == area) & (exposure["period_key"] == period_key)]
    return rows.set_index("year")["integration"].sort_index()


def build_design(
    observations: pd.DataFrame,
    exposure: pd.DataFrame,
    area_code: str,
    category: str,
    y_column: str = "y",
) -> Design:
    """Return the balanced design of one indicator for the treated area ``area_code``.

    Parameters
    ----------
    observations
        The indicator's rows: ``indicator_id``, ``area_code``, ``year``, ``period_key`` and
        the outcome ``y_column`` on the scale analysed.
    exposure
        ``integration.parquet``.
    area_code
        The treated area.
    category
        Its go-live category (:attr:`TreatedPartnership.category`): post-years are the years
        after go-live in this category, up to any later change (a switch-off ends them).
    y_column
        The outcome column.

    Notes
    -----
    Years are the indicator's years in which the treated area has a value; the transition
    period that straddles go-live is left out (it is neither before nor after). Donors
    (:func:`donor_pool`) without a value in one of those years are left out: synthetic
    control needs every donor in every year. The note counts both.
    """
    indicator_id = str(observations["indicator_id"].iloc[0]) if len(observations) else ""
    empty = Design(indicator_id, area_code, pd.DataFrame())
    if observations.empty:
        empty.status, empty.note = NO_DATA, "the indicator has no rows"
        return empty
    period_key = str(observations["period_key"].iloc[0])
    years = sorted(int(y) for y in observations["year"].unique())
    wide = observations.pivot_table(index="year", columns="area_code", values=y_column)
    if area_code not in wide.columns or wide[area_code].isna().all():
        empty.status, empty.note = NO_DATA, f"no value of the treated area {area_code}"
        return empty
    status = _exposure_of(exposure, area_code, period_key).reindex(years)
    notes = []
    changed = np.flatnonzero((status != NONE).to_numpy())
    if changed.size == 0:
        empty.pre_years = [int(y) for y in wide.index[wide[area_code].notna()]]
        empty.status = NO_POST
        empty.note = f"the indicator's years ({years[0]}-{years[-1]}) end before go-live"
        return empty
    first_change = years[changed[0]]
    pre_years = [y for y in years if y < first_change]
    post_years = []
    transitions = [y for y in years if status[y] == TRANSITION]
    for year in years[changed[0] :]:
        if status[year] == TRANSITION:
            continue
        if status[year] != category:
            notes.append(f"post-period ends before {year} ({status[year]})")
            break
        post_years.append(year)
    if transitions:
        notes.append(f"transition period left out: {', '.join(map(str, transitions))}")
    observed = wide[area_code].notna()
    missing_treated = [y for y in pre_years + post_years if not observed.get(y, False)]
    if missing_treated:
        notes.append(f"treated area has no value in {', '.join(map(str, missing_treated))}")
    pre_years = [y for y in pre_years if y not in missing_treated]
    post_years = [y for y in post_years if y not in missing_treated]
    donors = [d for d in donor_pool(exposure, period_key, years) if d != area_code]
    used = pre_years + post_years
    present = [d for d in donors if d in wide.columns]
    full = wide.loc[used, present].notna().all() if used else pd.Series(False, index=present)
    complete = [d for d in present if full[d]]
    if len(complete) < len(donors):
        notes.append(f"{len(donors) - len(complete)} of {len(donors)} donors lack a year")
    values = wide.loc[used, [area_code, *complete]] if used else pd.DataFrame()
    values.columns.name = None
    design = Design(indicator_id, area_code, values, pre_years, post_years, OK, "; ".join(notes))
    if not post_years:
        design.status = NO_POST
        reason = f"no year after go-live in the indicator's years ({years[0]}-{years[-1]})"
        design.note = "; ".join([reason, *notes])
    elif len(complete) < MIN_DONORS:
        design.status = TOO_FEW_DONORS
        design.note = "; ".join([f"{len(complete)} complete donors < {MIN_DONORS}", *notes])
    return design


def fit_status(design: Design, min_pre: int) -> tuple[str, str]:
    """Return the status and note of fitting ``design`` with at least ``min_pre`` pre-years.

    The design's own status if it is not :data:`OK`; :data:`TOO_FEW_PRE` (with the count and
    the minimum in the note) if it has fewer pre-years than ``min_pre``; else :data:`OK`.
    """
    if design.status != OK:
        return design.status, design.note
    if len(design.pre_years) < min_pre:
        n_pre = len(design.pre_years)
        reason = f"{n_pre} pre-year{'' if n_pre == 1 else 's'} < minimum {min_pre}: not fitted"
        return TOO_FEW_PRE, "; ".join(part for part in (reason, design.note) if part)
    return OK, design.note
