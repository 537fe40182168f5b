"""Time the demo ingest and a Snakemake rerun with nothing to do (issue 2 targets: 5 s, 3 s).

Run from the project root: ``python benchmarks/bench_ingest.py``. Prints one line per figure;
the medians of several repeats are reported, measured in this one run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from integration_models.data.ingest import IngestSettings, build_panel  # noqa: E402
from integration_models.data.reference import load_areas, load_classification  # noqa: E402


def ingest_seconds(repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        areas = load_areas(ROOT / "data/reference/areas.csv")
        classification = load_classification(
            ROOT / "data/reference/classification/baseline.csv", areas
        )
        build_panel(ROOT / "data/raw", areas, classification, IngestSettings(2010, 2023))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command_seconds(command: list[str], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print(f"ingest of the demo dataset (in-process, median of 5): {ingest_seconds():.2f} s")
    subprocess.run(["snakemake", "--cores", "2"], cwd=ROOT, check=True, capture_output=True)
    noop = command_seconds(["snakemake", "--cores", "2"])
    print(f"snakemake rerun with nothing to do (median of 3): {noop:.2f} s")


if __name__ == "__main__":
    main()
