"""Configuration refused at start-up: output folders by real path, resampling by memory."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import pytest

from integration_models.errors import InputError
from tests.conftest import DEMO, copy_workflow, snakemake


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
            "results_dir: .\nraw_dir: ../raw\nareas: areas.csv",
            "results_dir '.' resolves to {p}, the same folder as {p} (the folder of areas)",
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
        "areas: areas.csv",  # a reference table at the top of the project
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


# --- item 6: resampling settings bounded by the schema and by memory ------------------------


def test_snakemake_refuses_a_billion_draws_by_the_schema(project):
    result = snakemake(project, "-n", "--config", "inference_reps=1000000000")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "1000000000 is greater than the maximum of 99999" in output
    assert "schema['properties']['inference_reps']" in output


@pytest.mark.parametrize(
    ("key", "value", "maximum"),
    [
        ("inference_reps", 1_000_000_000, 99999),
        ("power_reps", 100_001, 100000),
        ("size_sims", 100_001, 100000),
        ("size_reps", 100_000, 99999),
    ],
)
def test_resampling_maxima(project, key, value, maximum):
    with pytest.raises(InputError) as info:
        load_with(project, f"{key}: {value}\n")
    problem = f"key '{key}': {value} is greater than the maximum of {maximum}"
    assert str(info.value) == f"{project / 'override.yaml'}:1: {problem}"


def test_snakemake_refuses_settings_beyond_memory_before_any_job(project):
    from integration_models.memory import physical_memory

    if physical_memory() > 1000 * 2**30:
        pytest.skip("this machine has more memory than the setting needs")
    result = snakemake(project, "-n", "--config", "size_sims=100000", "size_reps=99999")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    line = next(line for line in output.splitlines() if line.startswith("error: "))
    assert re.fullmatch(
        r"error: config: size_sims 100000 with size_reps 99999 needs about [\d,.]+ GiB of "
        r"memory in the inference job, more than the [\d,.]+ GiB of this machine: "
        r"use fewer draws",
        line,
    )
    assert "Traceback" not in output and "Job stats" not in output


def test_inference_reps_beyond_a_memory_limit_is_refused(project):
    from integration_models.memory import check_memory

    config = load_with(project, "inference_reps: 99999\n")
    check_memory(config, 25)  # fits in this machine (about 0.3 GiB)
    with pytest.raises(InputError) as info:
        check_memory(config, 25, limit=0.1 * 2**30)
    assert str(info.value) == (
        "config: inference_reps 99999 needs about 0.3 GiB of memory in the inference job, "
        "more than the 0.1 GiB allowed: use fewer draws"
    )


@pytest.fixture(scope="module")
def demo_panel(areas, baseline):
    """The demo panel, its indicators' outcome scales and its shape bounds."""
    from integration_models.data.ingest import IngestSettings, build_panel
    from integration_models.data.registry import load_registry
    from integration_models.memory import PanelShape
    from integration_models.models.design import indicator_scales

    panel = build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))[0]
    scales = {"percentage": "identity", "rate": "log", "count": "log", "mean": "identity"}
    scale_of = indicator_scales(load_registry(DEMO / "indicators.csv"), scales, {})
    shape = PanelShape(
        indicators=len(scale_of),
        areas=len(areas),
        partnerships=areas["hscp_code"].nunique(),
        years=14,
    )
    return panel, scale_of, shape


def traced_peak(run) -> int:
    """Peak bytes that ``run()`` allocates, as ``tracemalloc`` counts them (NumPy included)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_memory_estimates_match_measured_peaks(demo_panel):
    """Each step's estimate is 0.5-3x the peak its arrays reach (measured: 1.0-1.1x)."""
    from integration_models import memory
    from integration_models.inference.power import power_table
    from integration_models.inference.size import indicator_size_rows
    from integration_models.inference.table import few_cluster_table

    panel, scale_of, shape = demo_panel
    ids = list(scale_of)
    steps = {
        "inference": (
            lambda: few_cluster_table(panel, ids, scale_of, reps=2000, seed=1),
            memory.inference_bytes(shape, 2000),
        ),
        "power": (
            lambda: power_table(panel, ids, scale_of, reps=2000, seed=1, test="wcr"),
            memory.power_bytes(shape, 2000),
        ),
        "size": (
            lambda: indicator_size_rows(panel, ids[0], "identity", sims=1000, reps=199, seed=1),
            memory.size_bytes(shape, 1000, 199),
        ),
    }
    ratios = {name: estimate / traced_peak(run) for name, (run, estimate) in steps.items()}
    assert all(0.5 <= ratio <= 3 for ratio in ratios.values()), ratios
