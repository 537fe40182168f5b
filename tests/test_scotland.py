"""The real Scottish dataset: built from ../shared, checked against published totals, modelled.

Skipped, with the reason, where the shared data folder is absent.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from integration_models.data import scotland
from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.data.scotland import INDICATORS, BuildSettings, build_dataset
from integration_models.data.sources import dwp
from integration_models.data.sources.common import AreaMatcher
from integration_models.errors import InputError
from tests.conftest import AREAS, BASELINE, DEMO_MODELS, REPO, SHARED, copy_workflow, snakemake

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}"),
]
PUBLISHED_LOOKED_AFTER = {2012: 16_248, 2015: 15_400, 2017: 14_897, 2020: 14_458}
LOW_INCOME_COUNTS = SHARED / scotland.LOW_INCOME_COUNTS
# Council-years absent from the Scottish extract (its join lost the pre-2019 codes).
FILLED = {
    "S12000047": range(2015, 2018),  # Fife
    "S12000048": range(2015, 2018),  # Perth and Kinross
    "S12000049": range(2015, 2019),  # Glasgow City
    "S12000050": range(2015, 2019),  # North Lanarkshire
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("scotland") / "raw"
    summary = build_dataset(SHARED, AREAS, BASELINE, out, BuildSettings())
    return out, summary


def test_registry_and_values(built):
    out, summary = built
    registry = pd.read_csv(out / "indicators.csv")
    assert len(INDICATORS) == 25
    assert list(registry.indicator_id) == [s.indicator_id for s in INDICATORS] + ["index_children"]
    assert set(registry.domain) == {"children", "families", "workforce"}
    for indicator in registry.indicator_id:
        values = pd.read_csv(out / "values" / f"{indicator}.csv", dtype={"value": str})
        assert values.area_code.nunique() == 32, indicator
        assert values.year.between(2010, 2022).all(), indicator
    assert summary["panel_rows"] > 5000
    assert (out / "README.md").read_text().count("|") > 50


def test_roles_constructs_and_the_children_index(built):
    """Issue 13.2: every indicator has a role and construct with a reason; at most one
    primary outcome per construct; the children's index is an ordinary indicator whose
    components are secondary; families has one primary outcome; workforce is not measured."""
    from integration_models.data.indices import REFERENCE_LAST_YEAR
    from integration_models.data.registry import load_registry, unmeasured_domains

    out, summary = built
    registry = load_registry(out / "indicators.csv")
    assert all(s.role in ("primary", "secondary", "context") and s.role_reason for s in INDICATORS)
    assert all(s.construct for s in INDICATORS)
    declared = pd.DataFrame([s.__dict__ for s in INDICATORS])
    primary = declared[declared.role == "primary"]
    assert not primary.construct.duplicated().any()
    attainment = declared[declared.construct == "attainment"]
    assert len(attainment) == 6 and (attainment.role == "primary").sum() == 1
    assert set(declared.loc[declared.role == "context", "indicator_id"]) == {
        "cost_looked_after_community",
        "cost_looked_after_residential",
    }
    roles = registry.set_index("indicator_id")["role"]
    assert roles["immunisation_6in1"] == roles["balance_of_care"] == "secondary"
    assert roles["early_years_quality"] == "secondary"
    index = registry.set_index("indicator_id").loc["index_children"]
    assert (index.role, index.construct, index.measure) == ("primary", "summary index", "mean")
    assert index.higher_is_better
    components = summary["indices"]["children"]["components"]
    assert len(components) >= 2 and (roles[components] == "secondary").all()
    weights = summary["indices"]["children"]["weights"]
    assert sum(weights.values()) == pytest.approx(1.0) and min(weights.values()) > 0
    assert all(name in index.notes for name in components)
    assert list(registry.loc[registry.role == "primary", "indicator_id"]) == [
        "children_low_income",
        "index_children",
    ]
    assert "families" not in summary["indices"]
    assert unmeasured_domains(registry) == ["workforce"]
    values = pd.read_csv(out / "values" / "index_children.csv")
    reference = values[values.year <= REFERENCE_LAST_YEAR].value
    assert abs(reference.mean()) < 1e-9 and reference.std() == pytest.approx(1.0, abs=1e-9)
    readme = (out / "README.md").read_text()
    assert "## Roles, constructs and summary indices" in readme
    assert "workforce: not measured (no council-level workforce measure" in readme


def test_looked_after_totals_match_published(built):
    out, _ = built
    values = pd.read_csv(out / "values" / "looked_after_rate.csv")
    totals = values.groupby("year")["numerator"].sum()
    for year, published in PUBLISHED_LOOKED_AFTER.items():
        assert totals[year] == published, (year, totals[year])


def test_looked_after_counts_marked_dna_keep_their_rows(built):
    """Issue 13.2: the 2020-21 counts are 'dna' in the LGBF workbook; they must reach the
    dataset with that marker (and so exclusions.csv), not vanish."""
    out, _ = built
    values = pd.read_csv(out / "values" / "looked_after_rate.csv", dtype={"value": str})
    missing = values[values["year"] == 2021]
    assert len(missing) == 32 and (missing["value"] == "dna").all()
    assert missing["numerator"].isna().all()


def _scotland_0_15(year: int) -> float:
    """Scotland's population aged 0-15 at mid-``year``, read straight from the NRS files.

    Mid-2018 from the workbook's Scotland rows (both sexes); mid-2020 by summing every data
    zone (they cover Scotland, so no lookup to councils is needed).
    """
    if year == 2018:
        from openpyxl import load_workbook

        book = load_workbook(
            SHARED / "population" / "nrs_mye_ca_sex_single_age_1998_2018.xlsx", read_only=True
        )
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows)
        area, when, age, people = (header.index(c) for c in ("Area", "Year", "Age", "Population"))
        total = sum(
            row[people]
            for row in rows
            if row[area] == "Scotland"
            and row[when] == year
            and str(row[age]).isdigit()
            and int(row[age]) < 16
        )
        book.close()
        return float(total)
    assert year == 2020
    zones = pd.read_csv(SHARED / "population" / "population20_dz11_single_age.csv")
    return float(zones[[str(a) for a in range(16)]].to_numpy().sum())


def test_low_income_scotland_2019_20_recomputed_from_raw_counts(built, areas):
    """Issue 13.2: Scotland's 2019-20 rate = the 32 councils' counts / their NRS 0-15.

    2019-20 (``year`` 2020) uses mid-2019, which has no single-age estimate: it is the
    midpoint of mid-2018 and mid-2020 (linear interpolation, done per council in the build;
    rounding each council to whole persons moves the sum by at most 16).
    """
    out, _ = built
    counts = dwp.read_stat_xplore(LOW_INCOME_COUNTS, AreaMatcher(areas))
    counts = counts[counts["period_label"] == "2019/20"]
    assert len(counts) == 32
    population = (_scotland_0_15(2018) + _scotland_0_15(2020)) / 2
    expected = counts["value"].sum() / population * 100

    values = pd.read_csv(out / "values" / "children_low_income.csv")
    year = values[values["year"] == 2020]
    assert len(year) == 32
    assert year["numerator"].sum() == counts["value"].sum() == 206_559
    assert abs(year["denominator"].sum() - population) <= 16
    implied = year["numerator"].sum() / year["denominator"].sum() * 100
    assert implied == pytest.approx(expected, rel=2e-5)
    assert np.allclose(year["value"], year["numerator"] / year["denominator"] * 100)
    # the old denominator, NRS 0-16 of the extract, gave 21.2%; children under 16 give more
    assert 22.4 < implied < 22.6


def test_low_income_fills_the_14_council_years_from_stat_xplore(built, areas):
    out, _ = built
    matcher = AreaMatcher(areas)
    counts = dwp.read_stat_xplore(LOW_INCOME_COUNTS, matcher).set_index(["area_code", "year"])
    extract = dwp.read_child_poverty_csv(SHARED / scotland.LOW_INCOME, matcher)
    in_extract = set(zip(extract["area_code"], extract["year"], strict=True))
    values = pd.read_csv(out / "values" / "children_low_income.csv")
    values = values.set_index(["area_code", "year"])
    filled = [(area, year) for area, years in FILLED.items() for year in years]
    assert len(filled) == 14
    for key in filled:
        assert key not in in_extract
        assert values.loc[key, "numerator"] == counts.loc[key, "value"], key
        assert values.loc[key, "denominator"] > 0
    # every council in every financial year ending 2015-2022, counts as in the export
    assert len(values) == 32 * 8
    assert (values["numerator"] == counts.loc[values.index, "value"]).all()


def test_low_income_2021_22_is_flagged_provisional(built):
    out, _ = built
    flags = pd.read_csv(out / scotland.VALUE_FLAGS)
    provisional = flags[flags["flag"] == "provisional"]
    assert len(provisional) == 32
    assert set(provisional["indicator_id"]) == {"children_low_income"}
    assert set(provisional["year"]) == {2022}
    interpolated = flags[flags["flag"] == "denominator interpolated"]
    assert set(interpolated["year"]) == {2020, 2022} and len(interpolated) == 64
    registry = pd.read_csv(out / "indicators.csv").set_index("indicator_id")
    assert "provisional" in registry.loc["children_low_income", "notes"]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| `children_low_income` | provisional | 32 |" in readme


def test_ledger_places_every_selected_row(built, areas, baseline):
    """Issue 13.2: selected = written + excluded per indicator; missing values reconcile
    with the ingest's exclusions.csv, the 2020-21 'dna' counts among them."""
    out, summary = built
    exclusions = pd.read_csv(out / scotland.BUILD_EXCLUSIONS)
    assert list(exclusions.columns) == scotland.LEDGER_COLUMNS
    for indicator, info in summary["indicators"].items():
        written = pd.read_csv(out / "values" / f"{indicator}.csv")
        excluded = exclusions[exclusions["indicator_id"] == indicator]
        assert (
            info["selected"] == len(written) + len(excluded) == info["written"] + len(excluded)
        ), indicator
        assert info["excluded"] == len(excluded)
    outside = exclusions[exclusions["indicator_id"] == "immunisation_6in1"]
    assert len(outside) == 64 and not outside["year"].between(2010, 2022).any()
    # The looked-after 'dna' rows are dataset rows with the marker, not build exclusions:
    # the ingest lists them with the marker as the reason.
    lac = summary["indicators"]["looked_after_rate"]
    assert lac["missing"] == 32 and lac["excluded"] == 0
    assert "looked_after_rate" not in set(exclusions["indicator_id"])
    _, ingest_exclusions = build_panel(out, areas, baseline, IngestSettings(2010, 2022))
    dna = ingest_exclusions[
        (ingest_exclusions["indicator_id"] == "looked_after_rate")
        & (ingest_exclusions["year"] == 2021)
    ]
    assert len(dna) == 32
    assert (dna["raw_value"] == "dna").all() and dna["reason"].str.contains("dna").all()
    assert sum(i["missing"] for i in summary["indicators"].values()) == len(ingest_exclusions)
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| `looked_after_rate` | 352 | 352 | 32 | 0 |  |" in readme


def test_ledger_that_does_not_balance_stops_the_build(built, tmp_path, monkeypatch):
    out, _ = built
    before = _digest(out)
    original = scotland._values_frame
    monkeypatch.setattr(scotland, "_values_frame", lambda rows: original(rows).iloc[1:])
    with pytest.raises(InputError, match="looked_after_rate: the build's ledger does not"):
        build_dataset(SHARED, AREAS, BASELINE, out, BuildSettings())
    assert _digest(out) == before


def test_every_council_year_has_covariates_and_partnership(built, areas):
    out, _ = built
    covariates = pd.read_csv(out / "covariates.csv")
    grid = pd.MultiIndex.from_product([sorted(areas.area_code), range(2010, 2023)])
    assert set(grid) <= set(zip(covariates.area_code, covariates.year, strict=True))
    assert (
        covariates[["population", "population_0_17", "land_area_km2", "deprivation"]]
        .notna()
        .all()
        .all()
    )
    assert areas.hscp_code.notna().all() and len(areas) == 32
    flags = pd.read_csv(out / "covariate_flags.csv")
    assert {2019, 2021} <= set(flags.loc[flags.column == "population_0_17", "year"])


def test_rebuild_changes_nothing(built):
    out, _ = built
    summary = build_dataset(SHARED, AREAS, BASELINE, out, BuildSettings())
    assert summary["changed_files"] == []


def _digest(folder):
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_failed_build_keeps_the_good_one(built, tmp_path):
    out, _ = built
    before = _digest(out)
    sources = tmp_path / "sources"
    shutil.copytree(SHARED, sources, symlinks=True, ignore=shutil.ignore_patterns("*.xlsx"))
    for workbook in SHARED.rglob("*.xlsx"):
        (sources / workbook.relative_to(SHARED)).symlink_to(workbook)
    cpop = sources / "cpop" / "CPPcleandata.csv"
    text = cpop.read_text(encoding="utf-8")
    cpop.unlink()
    cpop.write_text(text.replace("Indicator,", "Indicatr,", 1), encoding="utf-8")
    with pytest.raises(InputError, match="CPPcleandata.csv"):
        build_dataset(sources, AREAS, BASELINE, out, BuildSettings())
    assert _digest(out) == before


@pytest.mark.slow
def test_real_data_workflow(tmp_path):
    """The one documented command, in a copy of the project: build, then every model."""
    workdir = copy_workflow(tmp_path)
    shutil.copy2(REPO / "config.scotland.yaml", workdir / "config.scotland.yaml")
    (workdir / "sources.yaml").write_text(f"sources_dir: {SHARED}\n")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "integration_models",
            "build-scotland",
            "--configfile",
            "config.scotland.yaml",
            "sources.yaml",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    run = snakemake(workdir, "--configfile", "config.scotland.yaml")
    assert run.returncode == 0, run.stdout + run.stderr
    results = workdir / "results" / "scotland"
    fits = pd.read_csv(results / "tables" / "model_fit.csv")
    assert len(fits) == 26 * len(DEMO_MODELS)  # 25 indicators and the children's index
    index_fits = fits[fits.indicator_id == "index_children"].set_index("model")["status"]
    # a mean has no GLM family (as the cost measures): skipped there, fitted everywhere else
    assert index_fits.drop("glm").eq("ok").all() and index_fits["glm"] == "skipped"
    assert (fits.status != "").all()
    html = (results / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DEMO DATA" not in html
    assert "LGBF" in html
    assert "workforce: not measured (no council-level workforce measure in the public sources)" in (
        html
    )
