"""The Snakemake workflow end to end on a copy of the project, and its config validation."""

import subprocess

import pandas as pd
import pytest

from tests.conftest import copy_workflow


def snakemake(workdir, *args):
    return subprocess.run(
        ["snakemake", "--cores", "2", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path):
    return copy_workflow(tmp_path)


def test_dry_run_and_run(workdir):
    dry = snakemake(workdir, "-n")
    assert dry.returncode == 0, dry.stderr
    run = snakemake(workdir)
    assert run.returncode == 0, run.stderr + run.stdout
    panel = pd.read_parquet(workdir / "data" / "processed" / "panel.parquet")
    exclusions = pd.read_csv(workdir / "data" / "processed" / "exclusions.csv")
    rows_in = sum(len(pd.read_csv(p)) for p in (workdir / "data/raw/values").rglob("*.csv"))
    assert len(panel) + len(exclusions) == rows_in
    again = snakemake(workdir, "-n")
    assert "Nothing to be done" in again.stdout + again.stderr


def test_unknown_config_key(workdir):
    result = snakemake(workdir, "-n", "--config", "raw_dirr=x")
    assert result.returncode != 0
    assert "raw_dirr" in result.stderr + result.stdout


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
