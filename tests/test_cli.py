"""The command line reports bad input in one line with exit status 2, never a traceback."""

import shutil
import subprocess
import sys

import pytest

from integration_models.cli import main
from tests.conftest import AREAS, BASELINE, REPO, copy_workflow, workflow_env


def run_ingest(raw, tmp_path):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "integration_models",
            "ingest",
            "--raw-dir",
            str(raw),
            "--areas",
            str(AREAS),
            "--classification",
            str(BASELINE),
            "--first-year",
            "2010",
            "--last-year",
            "2023",
            "--covid-window",
            "2020-03-23",
            "2022-03-31",
            "--panel",
            str(tmp_path / "out" / "panel.parquet"),
            "--exclusions",
            str(tmp_path / "out" / "exclusions.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_success(dataset, tmp_path):
    result = run_ingest(dataset, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "in the panel" in result.stderr
    assert (tmp_path / "out" / "panel.parquet").is_file()


def test_cli_bad_input_one_line(dataset, tmp_path):
    path = dataset / "values" / "attendance.csv"
    lines = path.read_text().split("\n")
    lines[3] = lines[3].rsplit(",", 1)[0] + ",abc"
    path.write_text("\n".join(lines))
    result = run_ingest(dataset, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {path}:4: value 'abc' is neither a number nor a known suppression marker "
        "(* - .. : c dna n/a na x z)"
    ]
    assert not (tmp_path / "out" / "panel.parquet").exists()


# --- build-scotland without its sources folder -----------------------------------------------

HOW_TO_SET = (
    "set the sources_dir setting to the folder holding them, in config.scotland.yaml or a "
    "config file given with --configfile, or with --config sources_dir=PATH (README.md, "
    "'Real Scottish data', lists the files it needs)"
)


@pytest.fixture
def project(tmp_path):
    """A copy of the project with no ``../shared`` beside it."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    shutil.copy2(REPO / "config.scotland.yaml", workdir / "config.scotland.yaml")
    return copy_workflow(workdir)


def test_build_scotland_missing_sources_names_the_setting(project, tmp_path):
    missing = tmp_path / "no-such-folder"
    shutil.rmtree(project / "data" / "raw" / "scotland", ignore_errors=True)  # a local build
    (project / "sources.yaml").write_text(f"# where the sources are\nsources_dir: {missing}\n")
    result = subprocess.run(
        [sys.executable, "-m", "integration_models", "build-scotland"]
        + ["--configfile", "config.scotland.yaml", "sources.yaml"],
        cwd=project,
        env=workflow_env(project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: sources.yaml:2: sources_dir: the folder of public source files, '{missing}', "
        f"does not exist (looked in {missing}); {HOW_TO_SET}"
    ]
    assert not (project / "data" / "raw" / "scotland").exists()


def test_build_scotland_default_sources_dir_missing(project, monkeypatch, capsys):
    """The default ``../shared/data/scotland``: the error points at config.yaml's line."""
    monkeypatch.chdir(project)
    lines = (project / "config.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("sources_dir:"))
    looked_in = (project.parent / "shared" / "data" / "scotland").resolve()
    assert main(["build-scotland"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: config.yaml:{line}: sources_dir: the folder of public source files, "
        f"'../shared/data/scotland', does not exist (looked in {looked_in}); {HOW_TO_SET}"
    ]


def test_build_scotland_config_item_sets_sources_dir(project, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(project)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert main(["build-scotland", "--config", f"sources_dir={a_file}"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: --config: sources_dir: the folder of public source files, '{a_file}', "
        f"is not a folder (looked in {a_file}); {HOW_TO_SET}"
    ]
    assert main(["build-scotland", "--config", "sources_dir"]) == 2
    assert (
        capsys.readouterr().err.strip() == "error: --config: expected KEY=VALUE, got 'sources_dir'"
    )


def test_build_dataset_missing_sources_names_the_setting(tmp_path):
    from integration_models.data.scotland import build_dataset
    from integration_models.errors import InputError

    missing = tmp_path / "missing"
    with pytest.raises(InputError) as info:
        build_dataset(missing, AREAS, BASELINE, tmp_path / "out")
    assert str(info.value) == (
        f"{missing}: sources directory not found (looked in {missing}); it is the sources_dir "
        "setting (README.md, 'Real Scottish data', lists the files it needs)"
    )
    assert not (tmp_path / "out").exists()
