"""Load test: ingest and 25 ``twfe`` fits on data-zone-sized panels (issue target: 7,000 units
in 2 minutes and 4 GiB on 2 cores).

Run from the project root: ``python benchmarks/bench_load.py [units ...]`` (default 32 300
1300 7000). For each size it generates, in a temporary directory (never in the repository), a
dataset in the canonical format: ``units`` areas x 14 years (2010-2023) x 25 indicators (about
2.4 million value rows at 7,000 units) with suppression markers, empty cells and a few rows
outside the year window, a covariates file, an areas reference table (data-zone codes
``S01...`` in 31 partnerships and 14 boards) and a classification. Then, each in a fresh
interpreter so that its peak memory is its own:

- ``ingest``: ``load_areas`` + ``load_classification`` + ``build_panel`` + ``write_panel``
  (what ``python -m integration_models ingest`` runs);
- ``fit``: read ``panel.parquet`` and fit ``twfe`` (area-clustered CRV1) to all 25 indicators
  with :func:`integration_models.models.base.fit_indicator`, as the workflow's fit jobs do,
  one after another.

Prints a table: seconds (wall) and peak resident memory (``ru_maxrss``) per step and size.
``load_areas`` reads a table of data zones as it reads one of council areas (the first row's
code sets the level).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from integration_models.data.zones import YEARS, write_data_zone_dataset  # noqa: E402

SIZES = (32, 300, 1300, 7000)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def step_ingest(out: Path) -> dict:
    from integration_models.data.ingest import IngestSettings, build_panel, write_panel
    from integration_models.data.reference import load_areas, load_classification

    start = time.perf_counter()
    areas = load_areas(out / "areas.csv")
    classification = load_classification(out / "classification.csv", areas)
    settings = IngestSettings(YEARS[0], YEARS[-1], (2020, 2021))
    panel, exclusions = build_panel(out / "raw", areas, classification, settings)
    write_panel(panel, exclusions, out / "panel.parquet", out / "exclusions.csv")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "panel_rows": len(panel), "excluded": len(exclusions)}


def step_fit(out: Path) -> dict:
    from integration_models.models.base import FitSettings
    from integration_models.models.design import outcome_scale
    from integration_models.models.estimators import fit_indicator

    by_measure = {"percentage": "identity", "rate": "log", "count": "log", "mean": "identity"}
    registry = pd.read_csv(out / "raw" / "indicators.csv")
    start = time.perf_counter()
    panel = pd.read_parquet(out / "panel.parquet")
    statuses = []
    for indicator, measure in zip(registry["indicator_id"], registry["measure"], strict=True):
        scale = outcome_scale(measure, indicator, by_measure, {})
        result = fit_indicator(panel, indicator, "twfe", scale, FitSettings(), measure)
        statuses.append(result.fit["status"])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "ok": statuses.count("ok"), "fits": len(statuses)}


def run_step(step: str, out: Path) -> dict:
    """Run one step in a fresh interpreter; return its timing and peak memory."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, __file__, "--step", step, str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{step} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    header = "| units | value rows | ingest s | ingest peak MiB | 25 twfe fits s | fit peak MiB |"
    lines = [header, "|---|---|---|---|---|---|"]
    for units in sizes:
        with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
            out = Path(tmp)
            rows = write_data_zone_dataset(units, out)
            ingest = run_step("ingest", out)
            fit = run_step("fit", out)
        assert ingest["panel_rows"] + ingest["excluded"] == rows, (ingest, rows)
        lines.append(
            f"| {units:,} | {rows:,} | {ingest['seconds']:.1f} | {ingest['peak_mib']:,.0f} | "
            f"{fit['seconds']:.1f} ({fit['ok']}/{fit['fits']} ok) | {fit['peak_mib']:,.0f} |"
        )
        print(lines[-1], flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f} (1 min)")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--step":
        function = {"ingest": step_ingest, "fit": step_fit}[sys.argv[2]]
        result = function(Path(sys.argv[3]))
        result["peak_mib"] = _peak_mib()
        print(json.dumps(result))
    else:
        main([int(a) for a in sys.argv[1:]] or list(SIZES))
