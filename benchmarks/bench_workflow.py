"""Time the whole demo workflow from scratch with --cores 2 (target: 2 minutes with everything).

Run from the project root: ``python benchmarks/bench_workflow.py``. The workflow runs in a
temporary copy of the project, so ``results/`` is left alone; the per-rule ``benchmark:``
files (fits, inference, sensitivity) are summarised from that run. Then, in the same copy, a
rerun with nothing to do, and a maintainer's update: one value of one indicator changed
(issue 14's target: at most 20% of the whole run's wall time), with the jobs it reran.
"""

from __future__ import annotations

import csv
import shutil
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
        start = time.perf_counter()
        env = workflow_env(workdir)
        run = ["snakemake", "--cores", "2"]
        subprocess.run(run, cwd=workdir, check=True, capture_output=True, env=env)
        wall = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run(run, cwd=workdir, check=True, capture_output=True, env=env)
        noop = time.perf_counter() - start
        update, jobs = _one_value_update(workdir, run, env)
        fits = sorted((workdir / "results" / "benchmarks" / "fit").rglob("*.tsv"))
        seconds = []
        for path in fits:
            with path.open() as handle:
                seconds.append(float(next(csv.DictReader(handle, delimiter="\t"))["s"]))
        print(f"whole demo run, --cores 2, from scratch: {wall:.1f} s wall")
        print(f"rerun with nothing to do: {noop:.2f} s")
        print(
            f"one value of one indicator changed: {update:.1f} s wall, {update / wall:.0%} of the "
            f"whole run; {sum(jobs.values())} jobs reran: "
            + ", ".join(f"{name} {count}" for name, count in sorted(jobs.items()))
        )
        print(
            f"{len(seconds)} fit jobs: median {sorted(seconds)[len(seconds) // 2]:.2f} s, "
            f"max {max(seconds):.2f} s, sum {sum(seconds):.1f} s"
        )
        for name in ("inference", "sensitivity"):
            with (workdir / "results" / "benchmarks" / f"{name}.tsv").open() as handle:
                row = next(csv.DictReader(handle, delimiter="\t"))
            print(f"{name} job: {float(row['s']):.1f} s, peak RSS {float(row['max_rss']):.0f} MB")
        shutil.rmtree(workdir / "results", ignore_errors=True)


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
