"""Configuration refused at start-up: output folders by real path, resampling by memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from integration_models.errors import InputError
from tests.conftest import copy_workflow, snakemake


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project, the working directory of the test."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    copy_workflow(workdir)
    monkeypatch.chdir(workdir)
    return workdir


def load_with(project: Path, text: str) -> dict:
    """``load_config`` with one override file holding ``text``."""
    from integration_models.configuration import load_config

    override = project / "override.yaml"
    override.write_text(text, encoding="utf-8")
    return load_config([override])


# --- item 7: output folders checked on their real paths -------------------------------------


def test_results_dir_linked_outside_the_project_is_refused(project, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "resl").symlink_to(outside)
    result = snakemake(project, "-n", "--config", "results_dir=resl")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        f"error: config: results_dir 'resl' resolves to {outside.resolve()}, outside the "
        f"project {project.resolve()} (outputs are never written elsewhere)"
    ) in output
    assert "Traceback" not in output
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        (
            "processed_dir: data/raw/values",
            "processed_dir 'data/raw/values' resolves to {p}/data/raw/values, inside "
            "{p}/data/raw (raw_dir)",
        ),
        (
            "results_dir: data/reference",
            "results_dir 'data/reference' resolves to {p}/data/reference, the same folder as "
            "{p}/data/reference (the folder of areas)",
        ),
        (
            "results_dir: data/reference/classification/out",
            "results_dir 'data/reference/classification/out' resolves to "
            "{p}/data/reference/classification/out, inside {p}/data/reference (the folder of "
            "areas)",
        ),
        (
            "processed_dir: data",
            "processed_dir 'data' resolves to {p}/data, a folder containing {p}/data/raw (raw_dir)",
        ),
        (
            "results_dir: out\nscenarios: [out/alternative.csv]",
            "results_dir 'out' resolves to {p}/out, the same folder as {p}/out (the folder of "
            "scenario 'out/alternative.csv')",
        ),
    ],
)
def test_output_folder_among_the_inputs_is_refused(project, setting, problem):
    with pytest.raises(InputError) as info:
        load_with(project, setting + "\n")
    message = str(info.value)
    assert message.startswith(f"{project / 'override.yaml'}:1: ")
    expected = problem.format(p=project.resolve())
    assert f"{expected}: outputs are never written among the inputs" in message
    assert "\n" not in message


def test_output_folder_linked_into_the_dataset_is_refused(project):
    (project / "processed").symlink_to(project / "data" / "raw" / "values")
    with pytest.raises(InputError, match=r"processed_dir 'processed' resolves to .*inside"):
        load_with(project, "processed_dir: processed\n")


@pytest.mark.parametrize(
    "setting",
    [
        "",
        "processed_dir: data/processed/scotland\nresults_dir: results/scotland",
        "results_dir: results/a/b/c",
    ],
)
def test_usual_output_folders_pass(project, setting):
    config = load_with(project, setting + "\n" if setting else "{}\n")
    assert config["results_dir"].startswith("results")


def test_snakemake_refuses_processed_dir_in_the_dataset(project):
    result = snakemake(project, "-n", "--config", "processed_dir=data/raw/values")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "error: config: processed_dir 'data/raw/values' resolves to" in output
    assert "Traceback" not in output
    assert not (project / "data" / "raw" / "values" / "logs").exists()
