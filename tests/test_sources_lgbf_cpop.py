"""LGBF and CPOP adapters.

The real-data tests read ../shared/data/scotland (never copied into the repository) and are
skipped, with the reason, where it is absent; broken files are built in ``tmp_path`` from a few
real rows. The synthetic tests build small workbooks and tables and run everywhere.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integration_models.data.reference import load_areas
from integration_models.data.sources import cpop, lgbf
from integration_models.data.sources.common import OBSERVATION_COLUMNS, AreaMatcher
from integration_models.errors import InputError
from tests.conftest import AREAS, SHARED

needs_shared = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}"),
]
LONG = SHARED / "lgbf" / "lgbf_data_jan22_long.csv"
RAW = SHARED / "lgbf" / "lgbf_raw_new_bnch_data_jan22.xlsx"
CPOP = SHARED / "cpop" / "CPPcleandata.csv"
CPOP_METADATA = SHARED / "cpop" / "Metadata.csv"
RESIDENTIAL, COMMUNITY = lgbf.LAC_SERIES
# Children looked after at 31 July, Scotland, as published by the Scottish Government
# (Children's Social Work Statistics).
PUBLISHED_LAC = {2012: 16_248, 2015: 15_400, 2017: 14_897, 2020: 14_458}
EDINBURGH, SOUTH_AYRSHIRE = "S12000036", "S12000028"


def real(test):
    """Mark a test as needing the shared real data, skipped where the folder is absent."""
    for mark in needs_shared:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def areas():
    return load_areas(AREAS)


@pytest.fixture(scope="module")
def matcher(areas):
    return AreaMatcher(areas)


# --- synthetic -------------------------------------------------------------------------------


def _workbook(path: Path, areas: pd.DataFrame, columns: dict[str, list], sheet="Raw Data"):
    """Write a small "Raw Data" workbook: councils (NRS names) + Scotland x ``columns``."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Deflators"
    ws = book.create_sheet(sheet)
    names = [*areas["area_name"], "Scotland"]
    ws.append(["Local Authority", *columns])
    for i, name in enumerate(names):
        ws.append([name, *(cells[i] for cells in columns.values())])
    book.save(path)
    return path


def _column(first, rest=1.0, scotland=99.0, n=32):
    return [first, *[rest] * (n - 1), scotland]


def test_raw_markers_real_suffix_and_years(tmp_path, areas, matcher):
    path = _workbook(
        tmp_path / "raw.xlsx",
        areas,
        {
            "Thing 2014-15": _column("dna"),
            " Thing 2015-16": _column("!"),  # a leading blank, as in the real workbook
            "Thing 2016-17": _column("*"),
            "Thing 2017-18": _column("NA"),
            "Thing 2018-19": _column("#N/A"),
            "Thing 2019-20": _column(None),
            "CHN1 2015-16 Real": _column(5.5),
            "Other 2015-16": _column(7),
        },
    )
    out = lgbf.read_lgbf_raw(path, matcher, ["Thing", "CHN1-Real"])
    assert list(out.columns) == OBSERVATION_COLUMNS
    assert set(out["series"]) == {"Thing", "CHN1-Real"}
    assert len(out) == 32 * 7  # Scotland skipped
    first = areas["area_code"].iloc[0]
    thing = out[(out["series"] == "Thing") & (out["area_code"] == first)].set_index("year")
    assert thing["marker"].to_dict() == {
        2015: "dna",
        2016: "na",
        2017: "*",
        2018: "na",
        2019: "na",
        2020: "",
    }
    assert thing["value"].isna().all()
    assert thing.loc[2016, "period_label"] == "2015-16"
    others = out[(out["series"] == "Thing") & (out["area_code"] != first)]
    assert (others["value"] == 1.0).all() and (others["marker"] == "").all()
    real = out[out["series"] == "CHN1-Real"]
    assert real["year"].unique().tolist() == [2016] and real["value"].iloc[0] == 5.5


def test_raw_repeated_columns(tmp_path, areas, matcher):
    same = _workbook(
        tmp_path / "same.xlsx",
        areas,
        {
            "Pop 2015-16": _column(10.0, 10.0),
            "X 2015-16": _column(1.0),
            "Pop 2015-16 ": _column(10.0, 10.0),
        },
    )
    assert len(lgbf.read_lgbf_raw(same, matcher, ["Pop"])) == 32
    differ = _workbook(
        tmp_path / "differ.xlsx",
        areas,
        {"Pop 2015-16": _column(10.0, 10.0), "Pop 2015-16 ": _column(11.0, 10.0)},
    )
    with pytest.raises(InputError, match=r"differ\.xlsx.*'Pop 2015-16' \(B, C\) disagree"):
        lgbf.read_lgbf_raw(differ, matcher, ["Pop"])
    first = lgbf.read_lgbf_raw(differ, matcher, ["Pop"], on_conflict="first")
    assert len(first) == 32 and (first["value"] == 10.0).all()


def test_raw_layout_errors(tmp_path, areas, matcher):
    good = {"No. Of Children (residential) 2015-16": _column(3)}
    other = _workbook(tmp_path / "other.xlsx", areas, good, sheet="Sheet9")
    with pytest.raises(InputError, match=r"other\.xlsx: sheet 'Raw Data' not found"):
        lgbf.read_lgbf_raw(other, matcher, [RESIDENTIAL])
    path = _workbook(tmp_path / "raw.xlsx", areas, good)
    with pytest.raises(
        InputError,
        match=r"raw\.xlsx.*'No\. of Children \(residental\)' not "
        r"found; close names: \['No\. Of Children \(residential\)'\]",
    ):
        lgbf.read_lgbf_raw(path, matcher, ["No. of Children (residental)"])
    junk = _workbook(tmp_path / "junk.xlsx", areas, {"Thing 2015-16": _column("n.a.")})
    with pytest.raises(InputError, match=r"junk\.xlsx.*cell B2: 'n\.a\.' is neither"):
        lgbf.read_lgbf_raw(junk, matcher, ["Thing"])
    header = _workbook(tmp_path / "header.xlsx", areas, {"Thing in 2015": _column(1)})
    with pytest.raises(InputError, match=r"header 'Thing in 2015' of column B"):
        lgbf.read_lgbf_raw(header, matcher, ["Thing"])
    text = tmp_path / "text.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(InputError, match=r"text\.xlsx: cannot open"):
        lgbf.read_lgbf_raw(text, matcher, ["Thing"])


def test_cpop_drops_model_output_and_scotland(tmp_path, areas, matcher):
    rows = []
    for name in [*areas["area_name"], "Scotland"]:
        rows.append([name, "Child Poverty", "Imputed", "2013/14", "20.1"])
        rows.append([name, "Child Poverty", "Raw data", "2014/15", "21.5"])
        rows.append([name, "Child Poverty", "Raw data", "2015/16", "NA"])
        rows.append([name, "Child Poverty", "Projected", "2022/23", "25"])
    path = tmp_path / "CPPcleandata.csv"
    pd.DataFrame(rows, columns=["CPP", "Indicator", "Type", "Year", "value"]).to_csv(
        path, index=False
    )
    out, dropped = cpop.read_cpop(path, matcher)
    assert dropped == {"Imputed": 33, "Projected": 33, "Scotland": 2}
    assert sorted(out["year"].unique()) == [2015, 2016]
    assert out.loc[out["year"] == 2016, "value"].isna().all()
    assert (out["marker"] == "").all()
    text = path.read_text().replace("Projected", "Guessed", 1)
    path.write_text(text)
    with pytest.raises(InputError, match=r"CPPcleandata\.csv:5: Type 'Guessed'"):
        cpop.read_cpop(path, matcher)


# --- real data: LGBF long CSV ------------------------------------------------------------------


@pytest.fixture(scope="module")
def long(matcher):
    return lgbf.read_lgbf_long(LONG, matcher)


@real
@pytest.mark.parametrize("series", ["CHN11", "CHN9"])
def test_long_has_all_councils(long, series):
    rows = long[long["series"] == series]
    assert rows.groupby("year")["area_code"].nunique().eq(32).all()
    assert rows.duplicated(["area_code", "year"]).sum() == 0


@real
def test_long_years_are_end_years(long):
    assert list(long.columns) == OBSERVATION_COLUMNS
    assert long["year"].dtype == np.int64
    assert long["year"].between(2011, 2021).all()
    chn9 = long[long["series"] == "CHN9"]
    assert sorted(chn9["year"].unique()) == list(range(2011, 2022))
    assert chn9.loc[chn9["year"] == 2021, "value"].isna().all()  # 2020-21 not yet published
    assert chn9.loc[chn9["year"] < 2021, "value"].notna().all()
    assert set(chn9.loc[chn9["year"] == 2016, "period_label"]) == {"2015-16"}
    chn10 = long[long["series"] == "CHN10"]
    assert set(chn10.loc[chn10["year"] == 2017, "period_label"]) == {"2014-17"}
    assert not long["period_label"].str.contains(r"\.\.\.").any()


@real
def test_long_drops_denominator_copies_and_scotland(long):
    assert long.attrs["dropped"] == {"denominator copies": 4158, "Scotland": 1948}
    assert len(long) == 68_442 - 4158 - 1948
    assert "MYE Population" not in set(long["series"])
    # the two unrepeated years of this denominator are kept
    shqs = long[long["series"] == "Properties within scope of SHQS year end"]
    assert sorted(shqs["year"].unique()) == [2020, 2021]


@real
def test_long_missing_values_are_empty_markers(long):
    missing = long[long["value"].isna()]
    assert len(missing) > 0 and (missing["marker"] == "").all()
    # 2020-21 looked-after counts are "dna" in the workbook, empty here
    lac = long[(long["series"] == RESIDENTIAL) & (long["year"] == 2021)]
    assert len(lac) == 32 and lac["value"].isna().all()


@real
def test_lgbf_titles():
    titles = lgbf.lgbf_titles(LONG)
    assert len(titles) == 210
    assert titles["CHN9"] == (
        "Balance of Care for Looked after Children: % of Children Being Looked after in the "
        "Community",
        True,
    )
    assert titles["CHN20a"][1] is False
    assert titles["MYE Population"] == ("MYE Population", None)


# --- real data: LGBF workbook --------------------------------------------------------------------


@pytest.fixture(scope="module")
def lac(matcher):
    start = time.perf_counter()
    out = lgbf.read_lgbf_raw(RAW, matcher, list(lgbf.LAC_SERIES))
    assert time.perf_counter() - start < 10
    return out


@real
def test_lac_totals_match_published(lac):
    assert list(lac.columns) == OBSERVATION_COLUMNS
    assert lac.groupby(["series", "year"])["area_code"].nunique().eq(32).all()
    totals = lac.groupby("year")["value"].sum(min_count=1)
    for year, published in PUBLISHED_LAC.items():
        assert totals[year] == published, year
    # the label is the statistics year ending on that 31 July
    labels = lac.drop_duplicates("year").set_index("year")["period_label"]
    assert labels[2012] == "2011-12" and labels[2020] == "2019-20"
    assert sorted(labels.index) == list(range(2011, 2022))
    last = lac[lac["year"] == 2021]
    assert last["value"].isna().all() and (last["marker"] == "dna").all()


@real
def test_lac_counts_agree_with_balance_of_care(lac, long):
    """CHN9 is community / (residential + community): the labels of both files line up."""
    counts = lac.pivot_table(index=["area_code", "year"], columns="series", values="value")
    share = counts[COMMUNITY] / (counts[COMMUNITY] + counts[RESIDENTIAL]) * 100
    chn9 = long[long["series"] == "CHN9"].set_index(["area_code", "year"])["value"]
    joined = pd.concat([share.rename("share"), chn9.rename("chn9")], axis=1).dropna()
    assert len(joined) == 320
    assert np.allclose(joined["share"], joined["chn9"], rtol=0, atol=1e-9)


@real
def test_lac_counts_agree_with_long_csv(lac, long):
    from_long = long[long["series"].isin(lgbf.LAC_SERIES)].dropna(subset=["value"])
    merged = from_long.merge(lac, on=["series", "area_code", "year"], suffixes=("_l", "_r"))
    assert len(merged) == len(from_long) == 640
    assert (merged["value_l"] == merged["value_r"]).all()


@real
def test_raw_markers_and_conflicts(matcher):
    out = lgbf.read_lgbf_raw(RAW, matcher, ["Hourly Rate (Female)", "CHN7", "MYE Population (75+)"])
    bang = out[(out["series"] == "Hourly Rate (Female)") & (out["area_code"] == SOUTH_AYRSHIRE)]
    assert bang.loc[bang["year"] == 2016, "marker"].tolist() == ["na"]
    assert (out.loc[out["series"] == "CHN7", "marker"] == "*").sum() > 0
    with pytest.raises(InputError, match=r"'MYE Population 2010-11' \(AOX, AWD, BBQ, BTT\)"):
        lgbf.read_lgbf_raw(RAW, matcher, ["MYE Population"])


# --- real data: broken copies of the long CSV --------------------------------------------------


@pytest.fixture
def long_slice(tmp_path) -> tuple[Path, list[str]]:
    """The header and the first 33 rows (CHN1 2010-11, all councils + Scotland) of the CSV."""
    with LONG.open(encoding="utf-8") as handle:
        lines = [next(handle) for _ in range(34)]
    return tmp_path / "lgbf_slice.csv", lines


@real
def test_slice_reads(long_slice, matcher):
    path, lines = long_slice
    path.write_text("".join(lines), encoding="utf-8")
    out = lgbf.read_lgbf_long(path, matcher)
    assert len(out) == 32 and set(out["series"]) == {"CHN1"}


@real
def test_renamed_column_fails(long_slice, matcher):
    path, lines = long_slice
    lines[0] = lines[0].replace(",Value,", ",Val,")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"lgbf_slice\.csv:1: missing column\(s\): Value"):
        lgbf.read_lgbf_long(path, matcher)


@real
def test_unknown_council_fails(long_slice, matcher):
    path, lines = long_slice
    lines = [line.replace("Edinburgh City,", "Edinburgh Town,") for line in lines]
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"lgbf_slice\.csv: unknown council.*edinburgh town"):
        lgbf.read_lgbf_long(path, matcher)


@real
def test_junk_line_above_header_fails(long_slice, matcher):
    path, lines = long_slice
    path.write_text("LGBF export, January 2022\n" + "".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"lgbf_slice\.csv:1: missing column"):
        lgbf.read_lgbf_long(path, matcher)


@real
def test_bad_period_label_fails(long_slice, matcher):
    path, lines = long_slice
    lines[5] = lines[5].replace(",2010-11,", ",FY2010,")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=r"lgbf_slice\.csv:6: Year: period label 'FY2010'"):
        lgbf.read_lgbf_long(path, matcher)


@real
def test_long_reads_fast(matcher):
    start = time.perf_counter()
    lgbf.read_lgbf_long(LONG, matcher)
    assert time.perf_counter() - start < 2


# --- real data: CPOP -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cpop_read(matcher):
    return cpop.read_cpop(CPOP, matcher)


@real
def test_cpop_keeps_raw_data_only(cpop_read):
    out, dropped = cpop_read
    assert list(out.columns) == OBSERVATION_COLUMNS
    assert dropped == {"Imputed": 1023, "Projected": 891, "Scotland": 209}
    assert len(out) == 8811 - 1023 - 891 - 209
    raw = pd.read_csv(CPOP, dtype=str, keep_default_na=False)
    raw = raw[(raw["Type"] == "Raw data") & (raw["CPP"] != "Scotland")]
    assert set(zip(out["series"], out["period_label"], strict=True)) == set(
        zip(raw["Indicator"], raw["Year"], strict=True)
    )
    # model output years are absent: child poverty is imputed before 2014/15, projected after
    poverty = out[out["series"] == "Child Poverty"]
    assert sorted(poverty["year"].unique()) == list(range(2015, 2023))
    assert poverty.groupby("year")["area_code"].nunique().eq(32).all()
    assert out["year"].max() == 2022


@real
def test_cpop_names_and_years(cpop_read):
    out, _ = cpop_read
    assert out.loc[out["period_label"] == "2015/16", "year"].eq(2016).all()
    assert (out["area_code"] == EDINBURGH).any()
    assert out.groupby(["series", "year"])["area_code"].nunique().eq(32).all()


@real
def test_cpop_rolled_series_agree_with_metadata(cpop_read):
    out, _ = cpop_read
    rolled = cpop.cpop_rolled_series()
    assert rolled <= set(out["series"])
    assert {
        "Healthy Birthweight",
        "Primary 1 Body Mass Index",
        "Attainment",
        "Employment Rate",
        "Median Earnings",
    } <= rolled
    meta = pd.read_csv(CPOP_METADATA, dtype=str, keep_default_na=False)
    names = meta["Indicator"].replace({"Average Highest Attainment": "Attainment"})
    windows = meta["Raw Time-Period"].str.contains(r"^\s*\d{4}(?:/\d{2})?\s*-\s*\d{4}")
    assert set(names[windows]) == rolled
