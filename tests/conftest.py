"""Shared fixtures: the repository paths and a writable copy of the demo dataset."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import threadpoolctl
import yaml

# One BLAS thread, as in every workflow step (cli.py, integration_models.workers): tests compare
# their numbers with the workflow's byte for byte, and a threaded BLAS sums in another order
# (measured: the population-weighted sensitivity fits differed in the 12th digit). pytest's
# plugins import numpy before this file, so the environment variables alone come too late.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
threadpoolctl.threadpool_limits(1)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "raw"
AREAS = REPO / "data" / "reference" / "areas.csv"
CLASSIFICATION_DIR = REPO / "data" / "reference" / "classification"
BASELINE = CLASSIFICATION_DIR / "baseline.csv"
SHARED = REPO.parent / "shared" / "data" / "scotland"
# the models the demo run fits (config.yaml's default): the counts of fit jobs and rows
DEMO_MODELS = tuple(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["models"])


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A copy of the demo dataset that a test may damage."""
    target = tmp_path / "raw"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture(scope="session")
def areas():
    from integration_models.data.reference import load_areas

    return load_areas(AREAS)


@pytest.fixture(scope="session")
def baseline(areas):
    from integration_models.data.reference import load_classification

    return load_classification(BASELINE, areas)


@pytest.fixture(scope="session")
def demo_panel(areas, baseline):
    """The demo dataset's panel (2010-2023), built once for the tests that only read it."""
    from integration_models.data.ingest import IngestSettings, build_panel

    return build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))[0]


def tiny_panel():
    """A one-row panel that matches its schema, :data:`integration_models.data.schemas.PANEL`."""
    import pandas as pd

    return pd.DataFrame(
        {
            "area_code": ["S12000005"],
            "area_name": ["Clackmannanshire"],
            "hscp_code": ["S37000005"],
            "health_board_code": ["S08000030"],
            "year": [2015],
            "period_key": ["financial"],
            "indicator_id": ["x"],
            "value": [1.0],
            "numerator": [float("nan")],
            "denominator": [float("nan")],
            "integration": ["none"],
            "integration_exposed": ["none"],
            "deprivation": [10.0],
            "deprivation_baseline": [10.0],
            "population_density": [100.0],
            "covid": [0.0],
            "population": [50000.0],
            "population_0_17": [10000.0],
            "hscp_start_year": [2016],
            "area_code_original": ["S12000005"],
            "file": ["values/x.csv"],
            "line": [2],
        }
    )


def copy_workflow(target: Path) -> Path:
    """Copy what a workflow run needs (no results) into ``target`` and return it.

    The package sources are copied too and put first on ``PYTHONPATH`` by :func:`snakemake`,
    so a test may edit them (code changes must rerun the rules that use them) and the run is
    independent of the installed checkout.
    """
    for name in ("Snakefile", "config.yaml", "analysis_plan.yaml"):
        shutil.copy2(REPO / name, target / name)
    for name in ("rules", "schemas", "profiles", "data/reference", "data/raw"):
        shutil.copytree(REPO / name, target / name)
    shutil.copytree(
        REPO / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    return target


def workflow_env(workdir: Path) -> dict[str, str]:
    """The environment of a workflow run in ``workdir``: its own package copy first."""
    return {**os.environ, "PYTHONPATH": str(workdir / "src")}


def snakemake(workdir: Path, *args: str, cores: str = "2") -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` and return the finished process (output captured)."""
    return subprocess.run(
        ["snakemake", "--cores", cores, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env=workflow_env(workdir),
    )


@pytest.fixture(scope="session")
def finished(tmp_path_factory) -> Path:
    """One complete workflow run on the demo dataset in a copy of the project, shared."""
    workdir = copy_workflow(tmp_path_factory.mktemp("run"))
    dry = snakemake(workdir, "-n")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    run = snakemake(workdir)
    assert run.returncode == 0, run.stdout + run.stderr
    return workdir


# Headless Chromium for the report checks: the browser, and the flags that keep it offline,
# quiet and independent of any profile (tests/test_report.py, tests/test_report_browser.py).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_HEADLESS = [
    CHROMIUM,
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
