"""The real Scottish dataset: built from ../shared, checked against published totals, modelled.

Skipped, with the reason, where the shared data folder is absent.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from integration_models.errors import InputError
from integration_models.scotland import INDICATORS, BuildSettings, build_dataset
from tests.conftest import AREAS, BASELINE, REPO, SHARED, copy_workflow, snakemake

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}"),
]
PUBLISHED_LOOKED_AFTER = {2012: 16_248, 2015: 15_400, 2017: 14_897, 2020: 14_458}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("scotland") / "raw"
    summary = build_dataset(SHARED, AREAS, BASELINE, out, BuildSettings())
    return out, summary


def test_registry_and_values(built):
    out, summary = built
    registry = pd.read_csv(out / "indicators.csv")
    assert len(registry) == len(INDICATORS) == 25
    assert set(registry.domain) == {"children", "families", "workforce"}
    for indicator in registry.indicator_id:
        values = pd.read_csv(out / "values" / f"{indicator}.csv", dtype={"value": str})
        assert values.area_code.nunique() == 32, indicator
        assert values.year.between(2010, 2022).all(), indicator
    assert summary["panel_rows"] > 5000
    assert (out / "README.md").read_text().count("|") > 50


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
    assert len(fits) == 100
    assert (fits.status != "").all()
    html = (results / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC DEMO DATA" not in html
    assert "LGBF" in html
