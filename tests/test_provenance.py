"""Provenance: file hashes, git state, versions and the atomic JSON writer."""

import hashlib
import json
import subprocess
from datetime import datetime

import pytest

import integration_models
from integration_models import provenance as prov
from tests.conftest import REPO


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
    config = {"raw_dir": "data/raw", "covid_years": [2020, 2021], "scenarios": ["a", "b"]}
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
