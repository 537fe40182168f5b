"""Covariates from the NRS, geography, SIMD and ScotPHO sources.

The synthetic tests run everywhere; the real-data tests read ../shared/data/scotland (never
copied into the repository) and are skipped, with the reason, where it is absent.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integration_models.data import covariates as covariates_module
from integration_models.data.covariates import FLAG_COLUMNS, build_covariates, fill_years
from integration_models.data.ingest import COVARIATE_COLUMNS
from integration_models.data.reference import load_areas
from integration_models.data.sources import nrs
from integration_models.data.sources.common import AreaMatcher
from integration_models.data.sources.deprivation import (
    MOST_DEPRIVED_RANK,
    children_in_most_deprived,
    income_deprived_share,
    read_simd_ranks,
)
from integration_models.data.sources.geography import land_area_km2, read_dz_lookup
from integration_models.errors import InputError
from tests.conftest import AREAS, SHARED

needs_shared = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}"),
]
YEARS = list(range(2010, 2024))
GLASGOW, ORKNEY, SHETLAND, EILEAN_SIAR = "S12000049", "S12000023", "S12000027", "S12000013"
MYE = SHARED / "population" / "nrs_mye_ca_sex_single_age_1998_2018.xlsx"
DZ_POPULATION = SHARED / "population" / "population20_dz11_single_age.csv"
POPULATION_2022 = SHARED / "population" / "population22_ltla19_scotland.csv"
POPULATION_2021 = SHARED / "population" / "population21_ltla21.csv"
LOOKUP = SHARED / "lookups" / "DataZone2011lookup_2024-12-16.csv"
LAND = SHARED / "land_area" / "sc_dz_11_attributes.csv"
DERIVED_LAND = SHARED / "land_area" / "DERIVED_ca_land_area_from_dz_std_area.csv"
SIMD2016 = SHARED / "simd" / "imd2016_scotland_dz11.csv"
SIMD2020 = SHARED / "simd" / "simd2020v2_withinds.csv"
IMD2020 = SHARED / "simd" / "imd2020_scotland_dz11.csv"
INCOME = SHARED / "scotpho_profiles" / "scotpho_deprivation_data_ca_2023-02.csv"


@pytest.fixture(scope="module")
def matcher():
    return AreaMatcher(load_areas(AREAS))


# --- synthetic -------------------------------------------------------------------------------


def test_fill_years_interpolates_and_holds():
    observed = pd.DataFrame(
        {
            "area_code": ["A", "A", "A", "B", "B", "B"],
            "year": [2018, 2020, 2022, 2018, 2020, 2022],
            "population": [100.0, 120.0, 110.0, 10.0, 10.0, 30.0],
        }
    )
    values, flags = fill_years(observed, "population", [2017, 2018, 2019, 2021, 2023])
    got = values.set_index(["area_code", "year"])["population"]
    assert got[("A", 2019)] == 110.0 and got[("A", 2021)] == 115.0 and got[("B", 2021)] == 20.0
    assert got[("A", 2017)] == 100.0 and got[("A", 2023)] == 110.0
    assert list(flags.columns) == FLAG_COLUMNS
    by_year = flags.groupby("year")["flag"].agg(set).to_dict()
    assert by_year == {
        2017: {"extrapolated: held at 2018"},
        2019: {"interpolated"},
        2021: {"interpolated"},
        2023: {"extrapolated: held at 2022"},
    }
    assert len(flags) == 8  # 4 filled years x 2 areas; observed 2018 is not flagged


@pytest.mark.parametrize(
    ("label", "age"),
    [("0", 0), ("17", 17), (17, 17), (17.0, 17), ("90+", 90), ("90 and over", 90), (90, 90)],
)
def test_age_labels(label, age):
    assert nrs.age_of(label) == age


@pytest.mark.parametrize("label", ["all_ages", "sex", "dz11_code", 17.5, True])
def test_non_age_labels(label):
    assert nrs.age_of(label) is None


def _synthetic_2022(path: Path, areas: pd.DataFrame, drop: str | None = None) -> None:
    ages = [str(a) for a in range(90)] + ["90 and over"]
    rows = []
    for i, row in enumerate(areas.itertuples(index=False)):
        if row.area_code == drop:
            continue
        counts = [10 + i] * 91
        rows.append([row.area_name, row.area_code, "Persons", sum(counts), *counts])
    pd.DataFrame(rows, columns=["ltla19_name", "ltla19_code", "sex", "all_ages", *ages]).to_csv(
        path, index=False
    )


def test_population_2022_sums_children(tmp_path, areas, matcher):
    path = tmp_path / "population22.csv"
    _synthetic_2022(path, areas)
    out = nrs.read_population_2022(path, matcher)
    assert list(out.columns) == ["area_code", "year", "population", "population_0_17"]
    assert len(out) == 32 and (out.year == 2022).all()
    assert (out.population == out.population_0_17 / 18 * 91).all()


def test_population_2022_other_age_band(tmp_path, areas, matcher):
    """DWP counts children under 16, so the low-income rate needs ages 0-15."""
    path = tmp_path / "population22.csv"
    _synthetic_2022(path, areas)
    out = nrs.read_population_2022(path, matcher, ages=range(0, 16))
    assert list(out.columns) == ["area_code", "year", "population", "population_0_15"]
    assert (out.population == out.population_0_15 / 16 * 91).all()


@pytest.mark.parametrize("ages", [range(0, 91), range(5, 5), range(0, 16, 2), range(-1, 3)])
def test_age_band_must_be_single_years_below_the_open_top_group(ages):
    with pytest.raises(ValueError, match="consecutive single years"):
        nrs.band_column(ages)


def test_population_2022_missing_council_names_file(tmp_path, areas, matcher):
    path = tmp_path / "population22.csv"
    _synthetic_2022(path, areas, drop=GLASGOW)
    with pytest.raises(InputError, match=rf"population22\.csv.*{GLASGOW}"):
        nrs.read_population_2022(path, matcher)


def test_children_in_most_deprived_synthetic(tmp_path, areas):
    """Zone i belongs to council i % 32; rank = i + 1; one child per zone."""
    codes = sorted(areas.area_code)
    zones = [f"S01{6506 + i:06d}" for i in range(6976)]
    lookup = pd.DataFrame({"dz_code": zones, "area_code": [codes[i % 32] for i in range(6976)]})
    simd = tmp_path / "imd2020_synthetic.csv"
    pd.DataFrame({"dz11_code": zones, "IMD_rank": np.arange(1, 6977)}).to_csv(simd, index=False)
    children = pd.DataFrame({"dz_code": zones, "population_0_17": 1.0})
    out = children_in_most_deprived(simd, "2020", children, lookup)
    expected = lookup.assign(deprived=np.arange(6976) < MOST_DEPRIVED_RANK)
    expected = 100 * expected.groupby("area_code")["deprived"].mean()
    assert np.allclose(out.set_index("area_code")["deprivation"], expected)
    with pytest.raises(InputError, match="SIMD 2020, edition given 2016"):
        children_in_most_deprived(simd, "2016", children, lookup)


# --- real data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cached_workbook():
    """Read the slow NRS workbook once for the module (the first, timed build reads it)."""
    original = nrs.read_mye_single_age
    cache = functools.cache(lambda path: original(path, AreaMatcher(load_areas(AREAS))))
    patch = pytest.MonkeyPatch()
    patch.setattr(
        nrs, "read_mye_single_age", lambda path, matcher, years=None: cache(Path(path).resolve())
    )
    yield
    patch.undo()


@pytest.fixture(scope="module")
def built(cached_workbook):
    start = time.perf_counter()
    covariates, flags = build_covariates(SHARED, load_areas(AREAS), 2010, 2023)
    return covariates, flags, time.perf_counter() - start


@pytest.fixture(scope="module")
def lookup():
    return read_dz_lookup(LOOKUP)


def _shared(test):
    """Mark a test as needing the real data, and skip it with the reason when absent."""
    for mark in needs_shared:
        test = mark(test)
    return test


@_shared
def test_build_time(built):
    _, _, seconds = built
    assert seconds < 20, f"build_covariates took {seconds:.1f} s"


@_shared
def test_complete_table(built, areas):
    covariates, _, _ = built
    assert list(covariates.columns) == COVARIATE_COLUMNS
    assert len(covariates) == 32 * 14
    grid = {(a, y) for a in areas.area_code for y in YEARS}
    assert set(zip(covariates.area_code, covariates.year, strict=True)) == grid
    assert covariates.notna().all().all()
    assert (covariates.population_0_17 < covariates.population).all()
    assert (covariates.population_0_17 > 0).all() and (covariates.land_area_km2 > 0).all()


@_shared
def test_scotland_totals_plausible(built):
    covariates, _, _ = built
    totals = covariates.groupby("year")[["population", "population_0_17"]].sum()
    assert totals.population.between(5.2e6, 5.6e6).all()
    assert totals.population_0_17.between(0.95e6, 1.1e6).all()
    # Published figures (population/SOURCE.md) where a year is observed.
    assert totals.loc[2018, "population"] == 5_438_100
    assert totals.loc[2020, "population"] == 5_466_000
    assert totals.loc[2010, "population_0_17"] == 1_045_490
    assert totals.loc[2020, "population_0_17"] == 1_026_922
    assert totals.loc[2022].tolist() == [5_447_700, 1_006_212]


@_shared
def test_land_area(built, lookup):
    covariates, _, _ = built
    land = covariates.drop_duplicates("area_code").set_index("area_code").land_area_km2
    assert land.sum() == pytest.approx(77_937, abs=1)
    derived = pd.read_csv(DERIVED_LAND).set_index("LA_Code").StdAreaKm2
    assert np.allclose(land.sort_index(), derived.sort_index(), atol=0.01)
    assert land[GLASGOW] == pytest.approx(174.68, abs=0.01)
    assert (covariates.groupby("area_code").land_area_km2.nunique() == 1).all()
    assert land_area_km2(LAND, lookup).land_area_km2.sum() == pytest.approx(77_937, abs=1)


@_shared
def test_deprivation_children_simd(built):
    covariates, _, _ = built
    assert covariates.deprivation.between(0, 100).all()
    for year in (2015, 2022):
        ranked = covariates[covariates.year == year].set_index("area_code").deprivation
        assert GLASGOW in ranked.nlargest(3).index
        assert ranked[[ORKNEY, SHETLAND, EILEAN_SIAR]].max() < 1


@_shared
def test_switch_year_honoured(built, cached_workbook):
    covariates, flags, _ = built
    by_year = covariates.pivot_table(index="area_code", columns="year", values="deprivation")
    assert (by_year[2019] != by_year[2020]).sum() > 10
    assert (by_year[2010] == by_year[2019]).all() and (by_year[2020] == by_year[2023]).all()
    editions = flags[flags.column == "deprivation"].groupby("year")["flag"].agg(set)
    assert all(editions[y] == {"simd2016"} for y in range(2010, 2020))
    assert all(editions[y] == {"simd2020"} for y in range(2020, 2024))
    assert (flags[flags.column == "deprivation"].groupby("year").size() == 32).all()

    late, late_flags = build_covariates(
        SHARED, load_areas(AREAS), 2010, 2023, simd_switch_year=2016
    )
    late = late.pivot_table(index="area_code", columns="year", values="deprivation")
    assert (late[2015] != late[2016]).sum() > 10
    assert (late[2019] == late[2020]).all()
    assert (late[2016] == by_year[2020]).all() and (late[2015] == by_year[2015]).all()
    assert set(late_flags.loc[late_flags.year == 2016, "flag"]) >= {"simd2020"}


@_shared
def test_population_flags(built, areas):
    _, flags, _ = built
    assert list(flags.columns) == FLAG_COLUMNS
    for column in ("population", "population_0_17"):
        mine = flags[flags.column == column]
        for year in (2019, 2021):
            rows = mine[(mine.year == year) & (mine.flag == "interpolated")]
            assert set(rows.area_code) == set(areas.area_code), (column, year)
        held = mine[mine.year == 2023]
        assert set(held.flag) == {"extrapolated: held at 2022"} and len(held) == 32
        observed = {2010, 2015, 2018, 2020, 2022}
        assert not set(mine.loc[mine.area_code != "", "year"]) & observed
    rebasing = flags[flags.flag.str.contains("rebasing")]
    assert len(rebasing) == 1 and rebasing.area_code.iloc[0] == ""


@_shared
def test_interpolated_populations_lie_between_neighbours(built):
    covariates, _, _ = built
    wide = covariates.pivot_table(index="area_code", columns="year", values="population")
    for year in (2019, 2021):
        low = np.minimum(wide[year - 1], wide[year + 1])
        high = np.maximum(wide[year - 1], wide[year + 1])
        assert ((wide[year] >= low) & (wide[year] <= high)).all()
    assert wide.loc[GLASGOW, 2020] == 635_640 and wide.loc[GLASGOW, 2022] == 622_820


@_shared
def test_income_measure(cached_workbook, areas, matcher):
    covariates, flags = build_covariates(
        SHARED, load_areas(AREAS), 2010, 2023, deprivation_measure="income"
    )
    assert len(covariates) == 32 * 14 and covariates.notna().all().all()
    assert covariates.deprivation.between(0, 100).all()
    observed = income_deprived_share(INCOME, matcher)
    assert sorted(observed.year.unique()) == [2004, 2007, 2010, 2014, 2017]
    assert (observed.period_label == observed.year.astype(str) + " calendar year").all()
    merged = covariates.merge(observed, on=["area_code", "year"], suffixes=("", "_obs"))
    assert sorted(merged.year.unique()) == [2010, 2014, 2017]
    assert np.allclose(merged.deprivation, merged.deprivation_obs)
    mine = flags[flags.column == "deprivation"].groupby("year")["flag"].agg(set)
    assert all(mine[y] == {"interpolated"} for y in (2011, 2012, 2013, 2015, 2016))
    assert all(mine[y] == {"extrapolated: held at 2017"} for y in range(2018, 2024))
    assert not {2010, 2014, 2017} & set(mine.index)
    glasgow = covariates[covariates.area_code == GLASGOW].set_index("year").deprivation
    assert glasgow[2012] == pytest.approx((2 * glasgow[2010] + 2 * glasgow[2014]) / 4)


def _sources_with(tmp_path: Path, relative: str, text: str | None) -> Path:
    """A sources folder of symbolic links to the real files, one replaced by ``text``.

    With ``text`` None the file is left out.
    """
    sources = tmp_path / "sources"
    for path in SHARED.rglob("*"):
        target = sources / path.relative_to(SHARED)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.relative_to(SHARED).as_posix() != relative:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    if text is not None:
        (sources / relative).write_text(text, encoding="utf-8")
    return sources


@_shared
@pytest.mark.parametrize(
    ("relative", "measure"),
    [
        ("population/population22_ltla19_scotland.csv", "children_simd"),
        ("scotpho_profiles/scotpho_deprivation_data_ca_2023-02.csv", "income"),
    ],
)
def test_missing_council_names_the_file(tmp_path, cached_workbook, relative, measure):
    lines = (SHARED / relative).read_text(encoding="utf-8").splitlines(keepends=True)
    kept = "".join(line for line in lines if GLASGOW not in line)
    sources = _sources_with(tmp_path, relative, kept)
    with pytest.raises(InputError, match=rf"{Path(relative).name}.*{GLASGOW}"):
        build_covariates(sources, load_areas(AREAS), 2010, 2023, deprivation_measure=measure)


@_shared
def test_missing_file_is_named(tmp_path):
    sources = _sources_with(tmp_path, "simd/imd2016_scotland_dz11.csv", None)
    with pytest.raises(InputError, match="imd2016_scotland_dz11.csv: file not found"):
        build_covariates(sources, load_areas(AREAS), 2010, 2023)


@_shared
def test_dz_population_matches_published_2020(lookup, matcher):
    councils = nrs.read_dz_population_2020(DZ_POPULATION, lookup)
    assert len(councils) == 32 and (councils.year == 2020).all()
    assert councils.set_index("area_code").population[GLASGOW] == 635_640
    zones = nrs.read_dz_single_age_2020(DZ_POPULATION)
    mye = nrs.read_mye_single_age(MYE, matcher)
    done = covariates_module.check_population_2020(councils, zones, lookup, mye, SHARED, matcher)
    assert len(done) == 3  # LGBF council totals, NRS board totals, ratio to 2018


@_shared
def test_readers_of_each_vintage(matcher):
    mye = nrs.read_mye_single_age(MYE, matcher)
    assert mye.year.min() == 1998 and mye.year.max() == 2018 and len(mye) == 32 * 21
    assert mye[mye.year == 1998].population_0_17.sum() == 1_130_798
    p2022 = nrs.read_population_2022(POPULATION_2022, matcher)
    assert p2022.population.sum() == 5_447_700
    totals_2021 = nrs.read_population_2021_totals(POPULATION_2021, matcher)
    assert len(totals_2021) == 32 and totals_2021.population.sum() == 5_418_400


@_shared
def test_most_deprived_rule(lookup):
    for path in (SIMD2016, SIMD2020, IMD2020):
        assert (read_simd_ranks(path)["rank"] <= MOST_DEPRIVED_RANK).sum() == 1395
    official = pd.read_csv(
        SIMD2020, usecols=["Data_Zone", "SIMD2020v2_Rank", "SIMD2020v2_Quintile"]
    )
    assert set(official.Data_Zone[official.SIMD2020v2_Quintile == 1]) == set(
        official.Data_Zone[official.SIMD2020v2_Rank <= MOST_DEPRIVED_RANK]
    )
    zones = nrs.read_dz_single_age_2020(DZ_POPULATION)
    one = children_in_most_deprived(SIMD2020, "2020", zones, lookup)
    other = children_in_most_deprived(IMD2020, "2020", zones, lookup)
    assert np.allclose(one.deprivation, other.deprivation)
