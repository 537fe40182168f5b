"""The ingest: reconciliation on the demo data, and every kind of bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from integration_models.data.ingest import (
    EXCLUSION_COLUMNS,
    PANEL_COLUMNS,
    IngestSettings,
    build_panel,
)
from integration_models.errors import InputError

SETTINGS = IngestSettings(2010, 2023)


def ingest(raw, areas, baseline, settings=SETTINGS):
    return build_panel(raw, areas, baseline, settings)


def count_rows(raw):
    return sum(len(pd.read_csv(p)) for p in (raw / "values").rglob("*.csv"))


def test_demo_reconciles(dataset, areas, baseline):
    panel, exclusions = ingest(dataset, areas, baseline)
    assert len(panel) + len(exclusions) == count_rows(dataset)
    assert list(panel.columns) == PANEL_COLUMNS + ["deprivation_alt", "deprivation_alt_baseline"]
    assert list(exclusions.columns) == EXCLUSION_COLUMNS
    assert panel["indicator_id"].nunique() == 25
    assert not panel.duplicated(["indicator_id", "area_code", "year"]).any()
    assert panel["value"].notna().all()
    assert set(panel["integration"]) == {"none", "partial", "full", "transition"}
    assert set(panel["integration_exposed"]) == {"none", "partial", "full"}
    straddling = panel["integration"] == "transition"
    exposed = panel.loc[~straddling]
    assert (exposed["integration_exposed"] == exposed["integration"]).all()
    assert panel["year"].between(2010, 2023).all()
    reasons = exclusions["reason"]
    assert reasons.str.startswith("suppressed or not available").sum() > 50
    assert (reasons == "missing: empty value").sum() > 0
    assert (reasons == "year outside the configured window 2010-2023").sum() == 3
    assert reasons.str.startswith("exact duplicate of values/attendance.csv:").sum() == 1


def test_former_codes_recoded(dataset, areas, baseline):
    panel, _ = ingest(dataset, areas, baseline)
    recoded = panel[panel["area_code_original"] != panel["area_code"]]
    assert len(recoded) > 0
    assert set(recoded["area_code_original"]) == {"S12000015", "S12000046"}
    assert set(recoded["area_code"]) == {"S12000047", "S12000049"}
    assert set(panel["area_code"]) == set(areas["area_code"])


def test_derived_columns(dataset, areas, baseline):
    panel, _ = ingest(dataset, areas, baseline)
    cov = pd.read_csv(dataset / "covariates.csv")
    row = panel.iloc[100]
    source = cov[(cov.area_code == row.area_code) & (cov.year == row.year)].iloc[0]
    assert row.population_density == pytest.approx(source.population / source.land_area_km2)
    assert row.deprivation == source.deprivation
    # COVID-19: the share of each period's days in the window (23 March 2020 - 31 March 2022)
    share = panel.set_index(["period_key", "year"])["covid"].groupby(level=[0, 1]).first()
    assert share[("financial", 2020)] == pytest.approx(9 / 366)  # 2019-20 barely
    assert share[("financial", 2021)] == 1.0 and share[("financial", 2022)] == 1.0
    assert share[("academic", 2022)] == pytest.approx(243 / 334)
    assert share[("calendar", 2020)] == pytest.approx(284 / 366)
    assert share[("snapshot/07-31", 2022)] == 0.0 and share[("snapshot/07-31", 2021)] == 1.0
    assert set(panel.loc[panel.covid > 0, "year"]) == {2020, 2021, 2022}
    # Highland's lead-agency model began on 1 April 2012
    highland = panel[(panel.area_code == "S12000017")].set_index(["period_key", "year"])
    coded = highland["integration"].groupby(level=[0, 1]).first()
    assert coded[("financial", 2012)] == "none" and coded[("financial", 2013)] == "full"
    assert coded[("calendar", 2012)] == "transition" and coded[("calendar", 2013)] == "full"
    assert coded[("snapshot/07-31", 2012)] == "full"


def test_split_indicator_reads_every_file(dataset, areas, baseline):
    panel, exclusions = ingest(dataset, areas, baseline)
    files = set(panel.loc[panel.indicator_id == "attainment_scqf5", "file"])
    files |= set(exclusions.loc[exclusions.indicator_id == "attainment_scqf5", "file"])
    assert files == {f"values/attainment_scqf5/{y}.csv" for y in range(2010, 2024)}


def test_year_window_from_settings(dataset, areas, baseline):
    panel, exclusions = ingest(dataset, areas, baseline, IngestSettings(2012, 2020))
    assert panel["year"].between(2012, 2020).all()
    assert (exclusions["reason"] == "year outside the configured window 2012-2020").sum() > 1000


def test_encodings_and_line_endings(dataset, areas, baseline):
    path = dataset / "values" / "lac_rate.csv"
    text = path.read_text(encoding="utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    registry = dataset / "indicators.csv"
    reg = registry.read_text(encoding="utf-8").replace(
        "Looked-after children", "Enfants pris en charge é"
    )
    registry.write_bytes(reg.encode("latin-1"))
    panel, exclusions = ingest(dataset, areas, baseline)
    assert len(panel) + len(exclusions) == count_rows(dataset)
    assert (panel.indicator_id == "lac_rate").sum() > 400


# --- bad input: each stops with file, line and problem -------------------------------------


def edit_line(path, line, old, new):
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def expect_error(dataset, areas, baseline, pattern):
    with pytest.raises(InputError, match=pattern) as info:
        ingest(dataset, areas, baseline)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize("bad", ["12,5", "abc", "NaN", "1e999"])
def test_bad_value(dataset, areas, baseline, bad):
    path = dataset / "values" / "cost_per_lac.csv"
    value = path.read_text().split("\n")[4].split(",")[2]
    edit_line(path, 5, value, f'"{bad}"' if "," in bad else bad)
    expect_error(dataset, areas, baseline, r"values/cost_per_lac\.csv:5: value '" + bad)


def test_conflicting_duplicate(dataset, areas, baseline):
    path = dataset / "values" / "cost_per_lac.csv"
    lines = path.read_text().split("\n")
    area, year, value = lines[3].split(",")
    path.write_text("\n".join(lines).rstrip("\n") + f"\n{area},{year},{float(value) + 1}\n")
    err = expect_error(dataset, areas, baseline, "conflicting duplicate")
    assert err.line == len(lines)
    assert "values/cost_per_lac.csv:4" in err.problem


def test_unknown_area(dataset, areas, baseline):
    edit_line(dataset / "values" / "hv_caseload.csv", 7, "S120", "S990")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv:7: unknown area code 'S99")


def test_out_of_range_percentage(dataset, areas, baseline):
    path = dataset / "values" / "attendance.csv"
    value = path.read_text().split("\n")[9].split(",")[2]
    edit_line(path, 10, value, "100.4")
    expect_error(dataset, areas, baseline, r"attendance\.csv:10: value 100.4 out of range")


def test_negative_rate(dataset, areas, baseline):
    path = dataset / "values" / "social_workers.csv"
    value = path.read_text().split("\n")[2].split(",")[2]
    edit_line(path, 3, value, "-" + value)
    expect_error(dataset, areas, baseline, r"social_workers\.csv:3: .*must not be negative")


def test_missing_column(dataset, areas, baseline):
    path = dataset / "values" / "hv_caseload.csv"
    edit_line(path, 1, "year", "yr")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv:1: missing column\(s\): year")


def test_extra_column(dataset, areas, baseline):
    path = dataset / "values" / "hv_caseload.csv"
    text = path.read_text().split("\n")
    path.write_text("\n".join([text[0] + ",vlaue"] + [t + "," for t in text[1:] if t]) + "\n")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv:1: unexpected column\(s\): vlaue")


def test_ragged_row(dataset, areas, baseline):
    edit_line(dataset / "values" / "hv_caseload.csv", 6, "S12", "S12,1")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv:6: expected 3 fields, found 4")


@pytest.mark.parametrize("bad_id", ["x; import os", "../../etc/passwd", "Lac_rate", "9lives"])
def test_illegal_indicator_id(dataset, areas, baseline, bad_id):
    edit_line(dataset / "indicators.csv", 2, "lac_rate", f'"{bad_id}"' if ";" in bad_id else bad_id)
    expect_error(dataset, areas, baseline, r"indicators\.csv:2: illegal indicator_id")


def test_registry_row_without_values(dataset, areas, baseline):
    path = dataset / "indicators.csv"
    lines = path.read_text().rstrip("\n").split("\n")
    lines.append(lines[-1].replace("hv_caseload", "ghost_indicator", 1))
    path.write_text("\n".join(lines) + "\n")
    err = expect_error(dataset, areas, baseline, "'ghost_indicator' has no values file")
    assert err.line == len(lines)


def test_values_file_without_registry_row(dataset, areas, baseline):
    (dataset / "values" / "stray.csv").write_text("area_code,year,value\nS12000005,2015,1\n")
    expect_error(dataset, areas, baseline, r"stray\.csv: values file of an indicator not in")


def test_empty_file(dataset, areas, baseline):
    (dataset / "values" / "hv_caseload.csv").write_text("")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv: file is empty")


def test_header_only_file(dataset, areas, baseline):
    (dataset / "values" / "hv_caseload.csv").write_text("area_code,year,value\n")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv: file has a header but no data")


def test_implausible_year(dataset, areas, baseline):
    edit_line(dataset / "values" / "hv_caseload.csv", 8, ",20", ",x20")
    expect_error(dataset, areas, baseline, r"hv_caseload\.csv:8: year 'x20.*' is not a plausible")


def test_covariates_missing_area_year(dataset, areas, baseline):
    path = dataset / "covariates.csv"
    lines = path.read_text().split("\n")
    drop = next(i for i, line in enumerate(lines) if line.startswith("S12000041,2016,"))
    del lines[drop]
    path.write_text("\n".join(lines))
    expect_error(dataset, areas, baseline, r"covariates\.csv: no row for area S12000041 year 2016")


def test_covariates_bad_deprivation(dataset, areas, baseline):
    path = dataset / "covariates.csv"
    lines = path.read_text().split("\n")
    fields = lines[5].split(",")
    fields[5] = "140"
    lines[5] = ",".join(fields)
    path.write_text("\n".join(lines))
    expect_error(dataset, areas, baseline, r"covariates\.csv:6: deprivation 140 out of range")
