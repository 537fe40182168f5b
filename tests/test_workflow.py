"""The Snakemake workflow end to end on a copy of the project, and its config validation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from integration_models.models.design import TERMS
from integration_models.plots.base import SYNTHETIC_MARK_ID
from tests.conftest import copy_workflow, snakemake, workflow_env

TABLES = [
    "event_study.csv",
    "inference.csv",
    "power.csv",
    "coefficients.csv",
    "coefficients.parquet",
    "model_fit.csv",
    "summary.csv",
    "headline.csv",
    "conclusion.csv",
    "size.csv",
    "sensitivity.csv",
    "sensitivity_summary.csv",
    "known_effects.csv",
    "known_effects_summary.csv",
]


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path)


def test_outputs_complete(finished):
    processed, results = finished / "data" / "processed", finished / "results"
    panel = pd.read_parquet(processed / "panel.parquet")
    exclusions = pd.read_csv(processed / "exclusions.csv")
    rows_in = sum(len(pd.read_csv(p)) for p in (finished / "data/raw/values").rglob("*.csv"))
    assert len(panel) + len(exclusions) == rows_in
    coefficients = pd.read_csv(results / "tables" / "coefficients.csv")
    assert len(coefficients) == 25 * 7 * len(TERMS)  # the seven default models
    parquet = pd.read_parquet(results / "tables" / "coefficients.parquet")
    assert list(parquet.columns) == list(coefficients.columns) and len(parquet) == len(coefficients)
    for column in coefficients:
        if pd.api.types.is_numeric_dtype(coefficients[column]):
            # the CSV keeps 12 significant digits
            np.testing.assert_allclose(
                coefficients[column], parquet[column].astype(float), rtol=1e-11, err_msg=column
            )
        else:
            assert (coefficients[column].fillna("") == parquet[column].fillna("")).all(), column
    fits = pd.read_csv(results / "tables" / "model_fit.csv")
    assert len(fits) == 25 * 7  # mixed, twfe, glm, csdid, sunab, bjs, dcdh
    skipped = fits[fits.status == "skipped"]
    assert set(skipped.model) == {"glm"} and skipped.message.str.contains("measure 'mean'").all()
    assert (fits[fits.status != "skipped"].status == "ok").all()
    summary = pd.read_csv(results / "tables" / "summary.csv", keep_default_na=False)
    assert len(summary) == 25
    assert {"mixed_time", "mixed_integration_full", "twfe_integration_full"} <= set(summary)
    headline = pd.read_csv(results / "tables" / "headline.csv")
    assert headline.statement.str.contains("change over time in").any()
    figures = {p.name for p in (results / "figures").iterdir()}
    assert {"trends.png", "trends.svg", "forest.png", "forest.svg"} <= figures
    assert {"estimators.png", "estimators.svg"} <= figures
    # overview, estimators, coefficients, event studies, power, sensitivity, size
    assert len(figures) == 2 * (2 + 1 + 25 + 25 + 1 + 1 + 1)
    inference = pd.read_csv(results / "tables" / "inference.csv")
    assert inference.inference.nunique() >= 4 and inference.indicator_id.nunique() == 25
    assert (inference.groupby(["indicator_id", "term"]).size() == 4).all()
    power = pd.read_csv(results / "tables" / "power.csv")
    assert len(power) == 50 and (power.mde > 0).sum() >= 40
    page = (results / "report.html").read_text(encoding="utf-8")
    assert "Few-cluster inference" in page and "Sensitivity of the integration" in page
    size = pd.read_csv(results / "tables" / "size.csv")
    assert set(size.method) == {"crv1", "cr2", "wcr", "ri"}
    assert set(size.dgp) == {"independent", "ar1", "heteroskedastic", "health_board"}
    assert size.indicator_id.nunique() == 25 and len(size) == 25 * 2 * 4 * 4
    assert (size.loc[size.rejection_rate.notna(), "n_sims"] == 2000).all()
    assert (results / "figures" / "size.png").is_file()
    # the plan's test (wcr): all 25 demo indicators are primary, one row per term
    assert headline.inference.fillna("").str.len().gt(0).sum() == 2
    conclusion = pd.read_csv(results / "tables" / "conclusion.csv")
    assert list(conclusion.term) == ["integration_full", "integration_partial"]
    assert (conclusion.family == "primary").all()
    assert conclusion.test.str.startswith("wild cluster bootstrap (WCR, Webb").all()
    assert conclusion.adjustment.str.startswith("Romano-Wolf within the").all()
    planned = headline[headline.inference.fillna("").str.len() > 0]
    assert list(conclusion.test) == list(planned.inference)
    assert list(conclusion.n_significant) == list(planned.n_significant)
    assert (conclusion.n_better + conclusion.n_worse <= conclusion.n_significant).all()
    first = page.index('id="conclusion"')
    assert first < page.index('id="estimates"') < page.index('id="data"')
    assert conclusion.statement.iloc[0].split(":")[0] in page[first:]
    sensitivity = pd.read_csv(results / "tables" / "sensitivity_summary.csv")
    assert {"baseline", "no_covid", "drop_highland", "alt_deprivation"} <= set(sensitivity.variant)
    events = pd.read_csv(results / "tables" / "event_study.csv")
    assert set(events.model) == {"csdid", "sunab", "bjs", "dcdh"}
    assert events.indicator_id.nunique() == 25
    html = (results / "report.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in html[:5000]
    provenance = json.loads((results / "provenance.json").read_text())
    assert {"inputs", "config", "versions", "git", "created"} <= set(provenance)
    assert provenance["analysis_plan"]["test"] == "wcr"
    assert provenance["analysis_plan"]["deviations"] == []
    assert provenance["analysis_plan"]["sha256"] in html[html.index('id="plan"') :]
    again = snakemake(finished, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_event_study_figure_and_table_read_the_same_rows(finished):
    """Each event-study figure is drawn from its difference-in-differences fit files' rows
    alone (one job per indicator, issue 14); the table is built from the same rows by the same
    reader."""
    from integration_models.plots import EVENT_STUDY_MODELS, LINEAR_MODELS
    from integration_models.results.schemas import read_table
    from integration_models.results.summarise import collect_fits

    results = finished / "results"
    table = read_table(results / "tables" / "event_study.csv")
    for indicator in ("lac_rate", "attendance", "cost_per_lac"):
        _, _, drawn = collect_fits(
            [results / "fits" / model / f"{indicator}.json" for model in EVENT_STUDY_MODELS]
        )
        rows = table.loc[table["indicator_id"] == indicator, list(drawn.columns)]
        assert len(drawn) > 0
        pd.testing.assert_frame_equal(
            rows.reset_index(drop=True), drawn, check_dtype=False, rtol=1e-9
        )
        log = (results / "logs" / "figures" / f"{indicator}.log").read_text(encoding="utf-8")
        read = sorted(line.removeprefix("read ") for line in log.splitlines() if "read " in line)
        assert read == sorted(f"results/fits/{m}/{indicator}.json" for m in LINEAR_MODELS)


def test_every_svg_parses_as_xml(finished):
    """Registry text reaches the SVGs; a control character there would make them invalid.

    Every figure of the demo (overview, coefficients, event studies, power, sensitivity)
    carries the SYNTHETIC DATA mark (issue 14).
    """
    svgs = sorted((finished / "results" / "figures").glob("*.svg"))
    assert svgs and len(svgs) == len(list((finished / "results" / "figures").glob("*.png")))
    for path in svgs:
        assert ET.parse(path).getroot().tag.endswith("svg"), path.name
        assert f'id="{SYNTHETIC_MARK_ID}"' in path.read_text(encoding="utf-8"), path.name


def test_identical_tables_with_one_core(finished):
    """Same inputs, config and seed: byte-identical tables, whatever --cores."""
    run = snakemake(
        finished, "--config", "results_dir=results_b", "processed_dir=processed_b", cores="1"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for name in TABLES:
        first = (finished / "results" / "tables" / name).read_bytes()
        assert first == (finished / "results_b" / "tables" / name).read_bytes(), name
    for name in ("panel.parquet", "exclusions.csv"):
        first = (finished / "data" / "processed" / name).read_bytes()
        assert first == (finished / "processed_b" / name).read_bytes(), name


def test_failing_model_does_not_stop_the_others(workdir):
    values = workdir / "data" / "raw" / "values" / "attendance.csv"
    frame = pd.read_csv(values, dtype=str, keep_default_na=False)
    frame.loc[~frame.value.isin(["*", "c", "..", ""]), "value"] = "90"
    frame.to_csv(values, index=False)
    run = snakemake(workdir, "results/tables/summary.csv")
    assert run.returncode == 0, run.stdout + run.stderr
    fits = pd.read_csv(workdir / "results" / "tables" / "model_fit.csv")
    broken = fits[fits.indicator_id == "attendance"]
    assert set(broken.status) <= {"failed", "not_converged"} and broken.message.notna().all()
    others = fits[(fits.indicator_id != "attendance") & (fits.status != "skipped")]
    assert (others.status == "ok").all()


def test_unknown_config_key(workdir):
    result = snakemake(workdir, "-n", "--config", "raw_dirr=x")
    assert result.returncode != 0
    assert "'raw_dirr' was unexpected" in result.stderr + result.stdout


def test_wrong_type_config(workdir):
    result = snakemake(workdir, "-n", "--config", "first_year=soon")
    assert result.returncode != 0
    assert "first_year" in result.stderr + result.stdout


def test_output_outside_project_refused(workdir):
    result = snakemake(workdir, "-n", "--config", "results_dir=../elsewhere")
    assert result.returncode != 0
    assert "results_dir '../elsewhere' must be a relative path inside the project" in (
        result.stderr + result.stdout
    )


def test_illegal_id_stops_before_any_job(workdir):
    registry = workdir / "data" / "raw" / "indicators.csv"
    text = registry.read_text().replace("lac_rate", "../../etc/passwd", 1)
    registry.write_text(text)
    result = snakemake(workdir, "-n")
    assert result.returncode != 0
    assert "indicators.csv:2: illegal indicator_id '../../etc/passwd'" in (
        result.stdout + result.stderr
    )


def test_snakemake_report(finished, tmp_path):
    result = snakemake(finished, "--report", str(tmp_path / "report.html"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "report.html").stat().st_size > 100_000


def test_killed_run_resumes_to_identical_tables(finished, workdir):
    """SIGTERM during the model jobs, then a rerun: the same tables as an uninterrupted run."""
    process = subprocess.Popen(
        ["snakemake", "--cores", "2"],
        cwd=workdir,
        env=workflow_env(workdir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    fits = workdir / "results" / "fits"
    deadline = time.monotonic() + 600
    while len(list(fits.rglob("*.json"))) < 10 and process.poll() is None:
        assert time.monotonic() < deadline, "the run never reached the model jobs"
        time.sleep(0.2)
    assert process.poll() is None, "the run finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        assert process.wait(timeout=60) != 0
    except subprocess.TimeoutExpired:
        # Snakemake finishes its running jobs after SIGTERM; a scheduler whose grace period
        # ends sends SIGKILL, which must be survivable too
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        # a hard kill leaves Snakemake's lock behind: the documented first step is --unlock
        unlock = snakemake(workdir, "--unlock")
        assert unlock.returncode == 0, unlock.stdout + unlock.stderr
    assert not (workdir / "results" / "tables" / "summary.csv").exists()
    for path in fits.rglob("*.json"):  # each fit file left behind is whole
        json.loads(path.read_text(encoding="utf-8"))
    resumed = snakemake(workdir)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    for name in TABLES:
        expected = (finished / "results" / "tables" / name).read_bytes()
        assert (workdir / "results" / "tables" / name).read_bytes() == expected, name
    assert not list((workdir / "results").rglob("*.tmp"))
