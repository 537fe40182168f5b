"""Time the whole demo workflow from scratch with --cores 2 (target: 2 minutes with everything).

Run from the project root: ``python benchmarks/bench_workflow.py``. The workflow runs in a
temporary copy of the project, so ``results/`` is left alone; the per-rule ``benchmark:``
files (fits, inference, sensitivity) are summarised from that run.
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
        fits = sorted((workdir / "results" / "benchmarks" / "fit").rglob("*.tsv"))
        seconds = []
        for path in fits:
            with path.open() as handle:
                seconds.append(float(next(csv.DictReader(handle, delimiter="\t"))["s"]))
        print(f"whole demo run, --cores 2, from scratch: {wall:.1f} s wall")
        print(f"rerun with nothing to do: {noop:.2f} s")
        print(
            f"{len(seconds)} fit jobs: median {sorted(seconds)[len(seconds) // 2]:.2f} s, "
            f"max {max(seconds):.2f} s, sum {sum(seconds):.1f} s"
        )
        for name in ("inference", "sensitivity"):
            with (workdir / "results" / "benchmarks" / f"{name}.tsv").open() as handle:
                row = next(csv.DictReader(handle, delimiter="\t"))
            print(f"{name} job: {float(row['s']):.1f} s, peak RSS {float(row['max_rss']):.0f} MB")
        shutil.rmtree(workdir / "results", ignore_errors=True)


if __name__ == "__main__":
    main()
