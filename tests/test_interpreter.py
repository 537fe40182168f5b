"""Every job runs the interpreter that runs Snakemake, not whichever ``python`` is on PATH."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import copy_workflow, workflow_env

PYTHON = shlex.quote(sys.executable)


def snakemake_module(workdir: Path, *args: str, path: str | None = None):
    """Run ``sys.executable -m snakemake`` in ``workdir`` (optionally with another PATH)."""
    env = workflow_env(workdir)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_every_command_calls_the_snakemake_interpreter(tmp_path):
    workdir = copy_workflow(tmp_path)
    dry = snakemake_module(workdir, "-n", "-p", "--forceall")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    shown = [
        line.strip().removeprefix("Shell command:").strip()
        for line in dry.stdout.splitlines()
        if line.strip().startswith("Shell command:")
    ]
    # the other steps are `run:` rules running the same commands in worker processes
    # (tests/test_workers.py)
    commands = [command for command in shown if command != "None"]
    launched = {
        m.group(1) for c in commands for m in re.finditer(r"-m integration_models (\S+)", c)
    }
    assert launched == {"ingest-indicator"}
    for command in commands:
        assert command.startswith(f"{PYTHON} -m integration_models "), command
        assert command.count(" -m integration_models ") == command.count(f"{PYTHON} -m ")
        assert not re.search(r"(^|[\s(&;|])python3?\s", command), command


def test_jobs_run_without_python_on_path(tmp_path):
    """With only /usr/bin and /bin on PATH (no ``python`` with the package) the ingest runs."""
    workdir = copy_workflow(tmp_path)
    target = "data/processed/indicators/lac_rate.parquet"
    run = snakemake_module(workdir, target, path="/usr/bin:/bin")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (workdir / target).is_file()
