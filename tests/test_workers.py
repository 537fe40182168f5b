"""Jobs run in the worker processes: same outputs as the shell command, errors as one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from integration_models.workers import CommandError, command_job, command_line, run_in_worker
from tests.conftest import AREAS, BASELINE, DEMO, REPO


def _classify_options(out: Path) -> dict:
    return {
        "areas": AREAS,
        "classification": BASELINE,
        "registry": DEMO / "indicators.csv",
        "first_year": 2011,
        "last_year": 2023,
        "out": out,
    }


def test_command_line_gives_long_options_and_one_argument_per_item():
    argv = command_line("tables", {"out_dir": "r/t", "fits": ["a b", "c"], "truth": [], "n": 3})
    assert argv == ["tables", "--out-dir", "r/t", "--fits", "a b", "c", "--truth", "--n", "3"]


def test_worker_runs_the_interpreter_running_this_process():
    assert run_in_worker(_executable) == sys.executable


def _executable() -> str:
    return sys.executable


def test_command_in_worker_writes_the_shell_commands_bytes(tmp_path):
    """One command in a worker and as ``python -m integration_models``: same file, same log."""
    command_job("classify", tmp_path / "worker.log", **_classify_options(tmp_path / "w.parquet"))
    shell = command_line("classify", _classify_options(tmp_path / "s.parquet"))
    with (tmp_path / "shell.log").open("w") as log:
        subprocess.run(
            [sys.executable, "-m", "integration_models", *shell], check=True, stderr=log, cwd=REPO
        )
    assert (tmp_path / "w.parquet").read_bytes() == (tmp_path / "s.parquet").read_bytes()
    assert (tmp_path / "worker.log").read_text() == (tmp_path / "shell.log").read_text()


def test_bad_input_stops_the_job_with_the_commands_one_line_error(tmp_path):
    areas = tmp_path / "areas.csv"
    areas.write_text("area_code,area_name\nS12000005,Clackmannanshire\nS12000005,Again\n")
    options = {**_classify_options(tmp_path / "out.parquet"), "areas": areas}
    with pytest.raises(CommandError) as raised:
        command_job("classify", tmp_path / "job.log", **options)
    message = str(raised.value)
    assert message.startswith(f"error: {areas}:") and "\n" not in message
    assert message in (tmp_path / "job.log").read_text().splitlines()
    assert not (tmp_path / "out.parquet").exists()


def test_unexpected_failure_names_the_log_with_the_traceback(tmp_path):
    missing = tmp_path / "no-such-panel.parquet"
    options = {"panel": missing, "registry": DEMO / "indicators.csv", "out": tmp_path / "t"}
    with pytest.raises(CommandError, match=r"trends-figure failed unexpectedly; the traceback"):
        command_job("trends-figure", tmp_path / "job.log", **options)
    assert "Traceback" in (tmp_path / "job.log").read_text()


def test_refused_arguments_stop_the_job(tmp_path):
    with pytest.raises(CommandError, match="stopped with status 2"):
        command_job("classify", tmp_path / "job.log", no_such_option=1)
    assert "the following arguments are required" in (tmp_path / "job.log").read_text()


def test_a_worker_finishes_its_job_on_sigterm():
    """Snakemake lets running jobs finish on SIGTERM; a worker must not die half-way."""
    assert run_in_worker(_terminated_then_done) == "done"


def _terminated_then_done() -> str:
    os.kill(os.getpid(), signal.SIGTERM)
    return "done"
