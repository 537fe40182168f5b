"""Time the whole demo workflow from scratch with --cores 2 (target: 2 minutes with everything).

Run from the project root: ``python benchmarks/bench_workflow.py``. The workflow runs in a
temporary copy of the project, so ``results/`` is left alone. Reported from that run: its wall
time, the processor time of the Snakemake process itself (its scheduler, the job threads
handing work to the worker processes; Linux only, read from /proc) and the share of the
machine busy. Then, in the same copy, five reruns with nothing to do (issue 14: under 2 s)
and a maintainer's update: one value of one indicator changed (issue 14: at most 20% of the
whole run's wall time), with the jobs it reran.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import copy_workflow, workflow_env  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = copy_workflow(Path(tmp))
        env = workflow_env(workdir)
        run = ["snakemake", "--cores", "2"]
        wall, own_cpu, busy = _timed_run(run, workdir, env)
        noops = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run(run, cwd=workdir, check=True, capture_output=True, env=env)
            noops.append(time.perf_counter() - start)
        update, jobs = _one_value_update(workdir, run, env)
        print(f"whole demo run, --cores 2, from scratch: {wall:.1f} s wall, {busy:.0%} busy")
        if own_cpu is not None:
            print(
                f"  the Snakemake process itself: {own_cpu:.1f} s of processor time "
                f"({own_cpu / (2 * wall):.0%} of the two cores' time)"
            )
        print(
            "rerun with nothing to do (5 runs): "
            + ", ".join(f"{seconds:.2f}" for seconds in noops)
            + f" s; median {statistics.median(noops):.2f} s"
        )
        print(
            f"one value of one indicator changed: {update:.1f} s wall, {update / wall:.0%} of the "
            f"whole run; {sum(jobs.values())} jobs reran: "
            + ", ".join(f"{name} {count}" for name, count in sorted(jobs.items()))
        )
        shutil.rmtree(workdir / "results", ignore_errors=True)


def _cpu_ticks() -> tuple[int, int]:
    """All and idle processor ticks of the machine so far (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def _timed_run(run: list[str], workdir: Path, env: dict) -> tuple[float, float | None, float]:
    """Run the workflow; return wall time, the Snakemake process's processor time, busy share.

    The processor time is sampled from /proc every 0.1 s while the process lives (the last
    sample is at most 0.1 s before it exits); None where /proc is missing.
    """
    tick = os.sysconf("SC_CLK_TCK")
    before = _cpu_ticks()
    start = time.perf_counter()
    process = subprocess.Popen(
        run, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    own = None
    while process.poll() is None:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            own = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"the workflow failed in {workdir} (exit {process.returncode})")
    after = _cpu_ticks()
    busy = 1 - (after[1] - before[1]) / (after[0] - before[0])
    return wall, own, busy


def _one_value_update(workdir: Path, run: list[str], env: dict) -> tuple[float, dict[str, int]]:
    """Change the first value of ``attendance`` by 0.1 and time the rerun; list its rules."""
    path = workdir / "data" / "raw" / "values" / "attendance.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    column = header.index("value")
    cells[column] = f"{float(cells[column]) + 0.1:.1f}"
    lines[1] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    dry = subprocess.run(
        [*run, "-n", "--quiet", "rules"],
        cwd=workdir,
        check=True,
        capture_output=True,
        env=env,
        text=True,
    )
    jobs = _job_stats(dry.stdout)
    start = time.perf_counter()
    subprocess.run(run, cwd=workdir, check=True, capture_output=True, env=env)
    return time.perf_counter() - start, jobs


def _job_stats(text: str) -> dict[str, int]:
    """Return the first "Job stats" table of a dry run: rule -> number of jobs."""
    lines = text.splitlines()
    start = lines.index("Job stats:") + 3  # title, header, rule line
    counts = {}
    for line in lines[start:]:
        name, count = line.split()
        if name == "total":
            break
        counts[name] = int(count)
    return counts


if __name__ == "__main__":
    main()
