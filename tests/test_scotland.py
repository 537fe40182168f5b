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
    from integration_models.indices import REFERENCE_LAST_YEAR
    from integration_models.registry import load_registry, unmeasured_domains

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
    assert len(fits) == 26 * 4  # 25 indicators and the children's index, four models
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
