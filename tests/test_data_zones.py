"""Data-zone panels: the generated dataset, partnership clustering and the workflow's scope.

Integration is assigned per partnership, and a data-zone panel has hundreds of data zones per
partnership, so ``twfe`` clusters by partnership there; the workflow runs data preparation and
``twfe`` fits only, as its council-level steps would misstate the clustering.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from integration_models.data.zones import workflow_config
from tests.conftest import DEMO_MODELS, copy_workflow, snakemake

UNITS = 93  # three data zones in each of the 31 partnerships
ZONES_CONFIG = workflow_config("zones")


@pytest.fixture(scope="module")
def zones(tmp_path_factory) -> tuple[Path, int]:
    """A generated data-zone dataset and its number of value rows."""
    from integration_models.data.zones import write_data_zone_dataset

    out = tmp_path_factory.mktemp("zones")
    return out, write_data_zone_dataset(UNITS, out)


@pytest.fixture(scope="module")
def built(zones):
    from integration_models.data.ingest import IngestSettings, build_panel
    from integration_models.data.reference import level_of, load_areas, load_classification

    out, _ = zones
    areas = load_areas(out / "areas.csv")
    assert level_of(areas) == "data zone"
    classification = load_classification(out / "classification.csv", areas)
    return build_panel(out / "raw", areas, classification, IngestSettings(2010, 2023))


def test_every_generated_row_reaches_panel_or_exclusions(zones, built):
    _, rows = zones
    panel, exclusions = built
    assert len(panel) + len(exclusions) == rows
    assert panel["area_code"].nunique() == UNITS and panel["hscp_code"].nunique() == 31
    outside = exclusions["reason"] == "year outside the configured window 2010-2023"
    assert outside.sum() == 3 * 25 and (exclusions.loc[outside, "year"] == 2009).all()


@pytest.mark.parametrize("indicator", ["indicator_01", "indicator_02"])
def test_twfe_clusters_data_zones_by_partnership(built, indicator):
    """Same estimate and SE as statsmodels OLS with dummies clustered by partnership (1e-8)."""
    from integration_models.models.design import model_data
    from integration_models.models.estimators import fit_indicator

    panel, _ = built
    scale = "identity" if indicator == "indicator_01" else "log"
    result = fit_indicator(panel, indicator, "twfe", scale).coefficient_frame().set_index("term")
    frame = model_data(panel, indicator, scale).frame
    terms = ["integration_full", "integration_partial", "deprivation_trend"]
    dummies = pd.get_dummies(frame[["area_code", "year"]].astype(str), drop_first=True)
    exog = sm.add_constant(pd.concat([frame[terms], dummies.astype(float)], axis=1))
    groups = pd.factorize(frame["hscp_code"])[0]
    reference = sm.OLS(frame["y"], exog).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}
    )
    for term in terms:
        row = result.loc[term]
        assert row["estimate"] == pytest.approx(reference.params[term], abs=1e-8)
        assert row["std_error"] == pytest.approx(reference.bse[term], rel=1e-8)
        assert row["inference"].startswith("CRV1 by partnership")
        # t with (partnerships - 1) degrees of freedom, not (data zones - 1)
        t = row["estimate"] / row["std_error"]
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 30), rel=1e-9)


def test_council_panel_still_clusters_by_area(panel_of_councils):
    from integration_models.models.estimators import fit_indicator

    result = fit_indicator(panel_of_councils, "lac_rate", "twfe", "log").coefficient_frame()
    estimated = result.dropna(subset=["std_error"])
    assert estimated["inference"].str.startswith("CRV1 by area,").all()


@pytest.fixture(scope="module")
def panel_of_councils(areas, baseline):
    from integration_models.data.ingest import IngestSettings, build_panel
    from tests.conftest import DEMO

    return build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))[0]


@pytest.fixture(scope="module")
def project(zones, tmp_path_factory) -> Path:
    """A project copy with the data-zone dataset in ``zones/``."""
    workdir = copy_workflow(tmp_path_factory.mktemp("project"))
    shutil.copytree(zones[0], workdir / "zones")
    return workdir


def test_workflow_refuses_models_that_ignore_partnerships(project):
    run = snakemake(project, "-n", "--config", *ZONES_CONFIG[:-1])  # models left as configured
    assert run.returncode == 1
    assert (
        f"error: config: models {list(DEMO_MODELS)}: the areas table "
        "zones/areas.csv holds data zones, which support models [twfe] only (clustered by "
        "partnership); run with --config 'models=[twfe]'"
    ) in run.stdout + run.stderr


@pytest.mark.slow
def test_workflow_runs_preparation_and_twfe_fits(project, zones):
    run = snakemake(project, "--config", *ZONES_CONFIG)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Data-zone areas table: data preparation, the twfe fits (clustered by" in run.stdout
    fits = sorted((project / "results" / "fits").rglob("*.json"))
    assert [p.relative_to(project / "results" / "fits").parent.name for p in fits] == ["twfe"] * 25
    assert not (project / "results" / "report.html").exists()
    tables = project / "results" / "tables"
    names = ["coefficients.csv", "coefficients.parquet", "event_study.csv", "model_counts.csv"]
    names += ["model_fit.csv"]
    assert sorted(p.name for p in tables.iterdir()) == [*names, "summary.csv"]  # no headline
    model_fit = pd.read_csv(tables / "model_fit.csv")
    assert len(model_fit) == 25 and (model_fit["status"] == "ok").all()
    coefficients = pd.read_csv(tables / "coefficients.csv").dropna(subset=["std_error"])
    assert set(coefficients["inference"]) == {
        "CRV1 by partnership, G/(G-1)*(N-1)/(N-K) with K incl. fixed effects; t(G-1)"
    }
    assert (coefficients["n_areas"] == UNITS).all()
    provenance = json.loads((project / "results" / "provenance.json").read_text())
    recorded = sorted(Path(record["path"]).name for record in provenance["inputs"]["results"])
    assert recorded == sorted([*names, "summary.csv", "panel.parquet", "exclusions.csv"])
    panel = pd.read_parquet(project / "data" / "processed" / "panel.parquet")
    exclusions = pd.read_csv(project / "data" / "processed" / "exclusions.csv")
    assert len(panel) + len(exclusions) == zones[1]
    again = snakemake(project, "-n", "--config", *ZONES_CONFIG)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_command_line_writes_a_new_folder_only(tmp_path, capsys):
    from integration_models.data.zones import main

    main(["40", str(tmp_path / "z")])
    assert capsys.readouterr().out == f"{tmp_path / 'z'}: 40 data zones, 14,075 value rows\n"
    for argv, message in [
        (["40", str(tmp_path / "z")], "exists: give a new folder"),
        (["30", str(tmp_path / "y")], "units must be at least 31, one per partnership"),
    ]:
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err
    assert not (tmp_path / "y").exists()
