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
Data-zone codes need ``load_areas(..., code_pattern=DATA_ZONE_CODE)``: the workflow reads
council areas only (``S12...``), which is all the project models.
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

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

YEARS = list(range(2010, 2024))
N_INDICATORS = 25
MEASURES = ("percentage", "rate", "count", "mean")
N_PARTNERSHIPS, N_BOARDS = 31, 14
FIRST_DATA_ZONE = 6506  # S01006506, the first 2011 data zone
SIZES = (32, 300, 1300, 7000)


def _partnerships(units: int) -> pd.DataFrame:
    """Assign units to 31 partnerships (and those to 14 boards) in contiguous blocks."""
    hscp = np.arange(units) * N_PARTNERSHIPS // units
    board = hscp * N_BOARDS // N_PARTNERSHIPS
    return pd.DataFrame(
        {
            "area_code": [f"S01{FIRST_DATA_ZONE + i:06d}" for i in range(units)],
            "area_name": [f"Data zone {i + 1}" for i in range(units)],
            "former_codes": "",
            "name_variants": "",
            "hscp_code": [f"S37{h + 1:06d}" for h in hscp],
            "hscp_name": [f"Partnership {h + 1}" for h in hscp],
            "hscp_start_year": np.where(hscp % 3 == 0, 2015, 2016),
            "health_board_code": [f"S08{b + 15:06d}" for b in board],
            "health_board_name": [f"Board {b + 1}" for b in board],
        }
    )


def _classification() -> pd.DataFrame:
    """Five partnerships fully and four partly integrated from their start; the rest none."""
    category = ["full"] * 5 + ["partial"] * 4 + ["none"] * (N_PARTNERSHIPS - 9)
    return pd.DataFrame(
        {
            "hscp_code": [f"S37{h + 1:06d}" for h in range(N_PARTNERSHIPS)],
            "category": category,
            "from_year": [2015 if h % 3 == 0 else 2016 for h in range(N_PARTNERSHIPS)],
            "to_year": "",
            "evidence": "assumption: synthetic benchmark data",
        }
    )


def _cells(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Format numbers as text; about 2% become markers and 1% empty cells."""
    text = np.char.mod("%.3f", values).astype(object)
    draw = rng.random(len(values))
    text[draw < 0.02] = rng.choice(["*", "c", "..", "x", "-"], size=int((draw < 0.02).sum()))
    text[(draw >= 0.02) & (draw < 0.03)] = ""
    return text


def generate(units: int, out: Path, seed: int = 1) -> int:
    """Write a canonical dataset and its reference files into ``out``; return value rows."""
    rng = np.random.default_rng(seed)
    areas = _partnerships(units)
    (out / "raw" / "values").mkdir(parents=True)
    areas.to_csv(out / "areas.csv", index=False)
    _classification().to_csv(out / "classification.csv", index=False)
    code = np.repeat(areas["area_code"].to_numpy(), len(YEARS))
    year = np.tile(YEARS, units)
    pd.DataFrame(
        {
            "area_code": code,
            "year": year,
            "population": rng.integers(400, 1200, len(code)),
            "population_0_17": rng.integers(50, 300, len(code)),
            "land_area_km2": np.round(rng.uniform(0.1, 50, len(code)), 2),
            "deprivation": np.round(rng.uniform(0, 100, len(code)), 1),
        }
    ).to_csv(out / "raw" / "covariates.csv", index=False)
    registry, rows = [], 0
    for k in range(N_INDICATORS):
        measure = MEASURES[k % len(MEASURES)]
        indicator = f"indicator_{k + 1:02d}"
        registry.append(
            [indicator, f"Indicator {k + 1}", "children", measure, "unit", "true", "calendar", "x"]
        )
        unit_effect = np.repeat(rng.normal(0, 1, units), len(YEARS))
        base = 50 + 10 * unit_effect + rng.normal(0, 3, len(code))
        values = np.clip(base, 0.5, 99.5) if measure == "percentage" else np.abs(base) + 1
        frame = pd.DataFrame({"area_code": code, "year": year, "value": _cells(values, rng)})
        # three rows of an earlier year: excluded as outside the window, as in real sources
        early = frame.iloc[:3].assign(year=2009)
        frame = pd.concat([frame, early], ignore_index=True)
        frame.to_csv(out / "raw" / "values" / f"{indicator}.csv", index=False)
        rows += len(frame)
    columns = ["indicator_id", "title", "domain", "measure", "unit"]
    columns += ["higher_is_better", "period", "source"]
    pd.DataFrame(registry, columns=columns).to_csv(out / "raw" / "indicators.csv", index=False)
    return rows


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def step_ingest(out: Path) -> dict:
    from integration_models.identifiers import DATA_ZONE_CODE
    from integration_models.ingest import IngestSettings, build_panel, write_panel
    from integration_models.reference import load_areas, load_classification

    start = time.perf_counter()
    areas = load_areas(out / "areas.csv", code_pattern=DATA_ZONE_CODE)
    classification = load_classification(out / "classification.csv", areas)
    settings = IngestSettings(YEARS[0], YEARS[-1], (2020, 2021))
    panel, exclusions = build_panel(out / "raw", areas, classification, settings)
    write_panel(panel, exclusions, out / "panel.parquet", out / "exclusions.csv")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "panel_rows": len(panel), "excluded": len(exclusions)}


def step_fit(out: Path) -> dict:
    from integration_models.fitting import outcome_scale
    from integration_models.models.base import FitSettings, fit_indicator

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
            rows = generate(units, out)
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
