"""Shared fixtures: the repository paths and a writable copy of the demo dataset."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "raw"
AREAS = REPO / "data" / "reference" / "areas.csv"
CLASSIFICATION_DIR = REPO / "data" / "reference" / "classification"
BASELINE = CLASSIFICATION_DIR / "baseline.csv"
SHARED = REPO.parent / "shared" / "data" / "scotland"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A copy of the demo dataset that a test may damage."""
    target = tmp_path / "raw"
    shutil.copytree(DEMO, target)
    return target


@pytest.fixture(scope="session")
def areas():
    from integration_models.reference import load_areas

    return load_areas(AREAS)


@pytest.fixture(scope="session")
def baseline(areas):
    from integration_models.reference import load_classification

    return load_classification(BASELINE, areas)


def copy_workflow(target: Path) -> Path:
    """Copy what a workflow run needs (no results) into ``target`` and return it."""
    for name in ("Snakefile", "config.yaml"):
        shutil.copy2(REPO / name, target / name)
    for name in ("rules", "schemas", "profiles", "data/reference", "data/raw"):
        shutil.copytree(REPO / name, target / name)
    return target


def snakemake(workdir: Path, *args: str, cores: str = "2") -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` and return the finished process (output captured)."""
    return subprocess.run(
        ["snakemake", "--cores", cores, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
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
