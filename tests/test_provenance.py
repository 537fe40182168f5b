"""Provenance: file hashes, git state, versions and the atomic JSON writer."""

import hashlib
import json
import subprocess
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

import integration_models
from integration_models.data.inputs import merge_input_hashes
from integration_models.results import provenance as prov
from integration_models.results.provenance import read_input_hashes
from tests.conftest import AREAS, BASELINE, REPO


@pytest.fixture
def files(tmp_path):
    first = tmp_path / "a.csv"
    first.write_bytes(b"area_code,year,value\nS12000033,2015,1.5\n")
    second = tmp_path / "sub" / "b.bin"
    second.parent.mkdir()
    second.write_bytes(bytes(range(256)) * 5000)
    return first, second


def test_hashes_match_hashlib(files, tmp_path):
    first, second = files
    result = prov.build_provenance(
        {"dataset": [first, second], "reference": [first]}, {"raw_dir": "x"}, tmp_path
    )
    records = result["inputs"]["dataset"]
    assert [r["path"] for r in records] == [first.as_posix(), second.as_posix()]
    for record, path in zip(records, (first, second), strict=True):
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record["size"] == len(path.read_bytes())
    assert result["inputs"]["reference"][0]["sha256"] == records[0]["sha256"]


def test_relative_paths_kept_as_given(files, monkeypatch):
    first, _ = files
    monkeypatch.chdir(first.parent)
    result = prov.build_provenance({"panel": ["a.csv"]}, {}, first.parent)
    assert result["inputs"]["panel"][0]["path"] == "a.csv"


def test_missing_input_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        prov.build_provenance({"dataset": [tmp_path / "absent.csv"]}, {}, tmp_path)


def test_git_unknown_outside_a_repository(tmp_path):
    assert prov.git_state(tmp_path) == {"commit": "unknown", "dirty": "unknown"}
    assert prov.git_state(tmp_path / "absent") == {"commit": "unknown", "dirty": "unknown"}


def test_git_unknown_without_git(monkeypatch):
    monkeypatch.setattr(prov.shutil, "which", lambda name: None)
    assert prov.build_provenance({}, {}, REPO)["git"] == {"commit": "unknown", "dirty": "unknown"}


def test_git_unknown_on_timeout(monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(cmd="git", timeout=kwargs.get("timeout", 0))

    monkeypatch.setattr(prov.subprocess, "run", slow)
    assert prov.git_state(REPO)["commit"] == "unknown"


def test_git_commit_of_a_fresh_repository(tmp_path):
    if prov.shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = ["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "f.txt").write_text("x\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f.txt"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *env, "commit", "-qm", "c"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert prov.git_state(tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "f.txt").write_text("changed\n")
    assert prov.git_state(tmp_path) == {"commit": head, "dirty": True}


def test_versions_and_metadata(tmp_path):
    result = prov.build_provenance({}, {"years": (2010, 2023)}, tmp_path)
    versions = result["versions"]
    assert versions["integration_models"] == integration_models.__version__
    for name in ("python", *prov.PACKAGES):
        assert versions[name]
    assert versions["pandas"] == prov.metadata.version("pandas")
    assert result["config"] == {"years": [2010, 2023]}
    created = datetime.fromisoformat(result["created"])
    assert created.utcoffset().total_seconds() == 0
    assert result["platform"]


def test_json_round_trip(files, tmp_path):
    first, second = files
    window = {"start": "2020-03-23", "end": "2022-03-31"}
    config = {"raw_dir": "data/raw", "covid_window": window, "scenarios": ["a", "b"]}
    result = prov.build_provenance({"dataset": [first, second]}, config, tmp_path)
    out = tmp_path / "results" / "provenance.json"
    prov.write_provenance(out, result)
    text = out.read_text(encoding="utf-8")
    assert json.loads(text) == result
    assert text == json.dumps(result, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert [p.name for p in out.parent.iterdir()] == ["provenance.json"]


def test_write_replaces_and_leaves_no_temp_file_on_error(tmp_path):
    out = tmp_path / "provenance.json"
    prov.write_provenance(out, {"a": 1})
    prov.write_provenance(out, {"a": 2})
    assert json.loads(out.read_text()) == {"a": 2}
    with pytest.raises(TypeError):
        prov.write_provenance(out, {"a": object()})
    assert json.loads(out.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["provenance.json"]


# --- hashes as read: the ingest records them, panel merges them, provenance reports them ----


def run_command(*argv: str) -> None:
    from integration_models.cli import main

    assert main([str(arg) for arg in argv]) == 0


def ingest_and_panel(indicators: list[str]) -> None:
    """Run ingest-indicator, classify and panel in the working directory (relative paths)."""
    years = ["--first-year", "2010", "--last-year", "2023"]
    for indicator in indicators:
        run_command(
            "ingest-indicator", "--raw-dir", "raw", "--indicator", indicator, "--areas", AREAS,
            *years, "--observations", f"out/{indicator}.parquet",
            "--exclusions", f"out/{indicator}.exclusions.parquet",
        )  # fmt: skip
    run_command(
        "classify", "--areas", AREAS, "--classification", BASELINE,
        "--registry", "raw/indicators.csv", *years, "--out", "out/integration.parquet",
    )  # fmt: skip
    run_command(
        "panel", "--observations", *[f"out/{i}.parquet" for i in indicators],
        "--exclusions-in", *[f"out/{i}.exclusions.parquet" for i in indicators],
        "--integration", "out/integration.parquet",
        "--panel", "out/panel.parquet", "--exclusions", "out/exclusions.csv",
    )  # fmt: skip


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_each_job_records_the_hashes_of_what_it_read(dataset, monkeypatch):
    monkeypatch.chdir(dataset.parent)
    ingest_and_panel(["attendance", "attainment_scqf5"])
    observations = read_input_hashes("out/attendance.parquet")
    assert observations == {
        path: sha(path)
        for path in sorted(
            [str(AREAS), "raw/covariates.csv", "raw/indicators.csv", "raw/values/attendance.csv"]
        )
    }
    assert read_input_hashes("out/integration.parquet") == {
        str(AREAS): sha(AREAS),
        str(BASELINE): sha(BASELINE),
        "raw/indicators.csv": sha("raw/indicators.csv"),
    }
    panel = read_input_hashes("out/panel.parquet")
    yearly = [f"raw/values/attainment_scqf5/{p.name}" for p in dataset.glob("values/attain*/*")]
    assert set(panel) == set(observations) | {str(BASELINE)} | set(yearly)
    assert all(panel[path] == sha(path) for path in panel)


def test_file_edited_after_the_ingest_is_named_and_marks_the_run_stale(
    dataset, monkeypatch, capsys
):
    """Issue 12 item 3: the hash recorded is of the file as read, not as it is at the end."""
    monkeypatch.chdir(dataset.parent)
    ingest_and_panel(["attendance"])
    values = Path("raw/values/attendance.csv")
    as_read = sha(values)
    values.write_text(values.read_text() + "S12000005,2099,1\n")
    capsys.readouterr()
    run_command(
        "provenance", "--dataset", "raw/indicators.csv", "raw/covariates.csv", values,
        "--reference", AREAS, BASELINE, "--results", "out/panel.parquet",
        "--panel", "out/panel.parquet", "--config-json", "{}", "--out", "out/provenance.json",
    )  # fmt: skip
    record = json.loads(Path("out/provenance.json").read_text())
    entry = next(r for r in record["inputs"]["dataset"] if r["path"] == values.as_posix())
    assert entry["sha256"] == as_read and entry["sha256_now"] == sha(values)
    assert record["changed_during_run"] == [values.as_posix()] and record["stale"] is True
    warning = capsys.readouterr().err.strip()
    assert warning.startswith(f"warning: {values.as_posix()} changed after the run read it")
    assert "stale" in warning and "\n" not in warning


def test_unchanged_inputs_are_not_stale(dataset, monkeypatch):
    monkeypatch.chdir(dataset.parent)
    ingest_and_panel(["attendance"])
    record = prov.build_provenance(
        {"dataset": ["raw/values/attendance.csv"]}, {}, dataset, Path("out/panel.parquet")
    )
    assert record["changed_during_run"] == [] and record["stale"] is False
    assert prov.stale_warning(record) is None


def test_file_read_with_two_contents_keeps_both_hashes():
    merged = merge_input_hashes([{"a": "1", "b": "2"}, {"a": "1"}, {"b": "3"}])
    assert merged == {"a": "1", "b": "2 3"}
    assert prov.changed_files({"absent.csv": "1"}) == ["absent.csv"]


def test_parquet_without_hashes_reads_as_empty(tmp_path):
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "x.parquet")
    assert read_input_hashes(tmp_path / "x.parquet") == {}
