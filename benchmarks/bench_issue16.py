"""What issue 16's estimators and checks add to the whole demo run (target: at most 50%).

Run from the project root: ``python benchmarks/bench_issue16.py``. In one invocation, two
fresh copies of the project run from scratch with ``--cores 2``, one after the other:

- *without*: the models of ``config.yaml`` minus the heterogeneity-robust estimators (sunab,
  bjs, dcdh), and every output of the run before issue 16 (tables, inference, power, size,
  sensitivity, figures, provenance) but not the report, which now shows the checks, nor the
  checks themselves (TWFE weights, HonestDiD, synthetic controls, the design checks);
- *with*: the whole run (``snakemake --cores 2``), report included.

The ratio counts the report on the issue-16 side, so it overstates the cost slightly.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import copy_workflow, workflow_env  # noqa: E402

ROBUST = ("sunab", "bjs", "dcdh")


def _indicators(workdir: Path) -> list[str]:
    lines = (workdir / "data" / "raw" / "indicators.csv").read_text().splitlines()[1:]
    return [line.split(",")[0] for line in lines if line]


def _base_targets(workdir: Path) -> list[str]:
    """Every output of the run before issue 16, without the report."""
    tables = ("headline", "sensitivity", "size", "data_summary", "known_effects")
    figures = ("trends", "forest", "power", "sensitivity", "size")
    targets = [f"results/tables/{name}.csv" for name in tables]
    targets += [f"results/figures/{name}.png" for name in figures]
    targets += [
        f"results/figures/{kind}_{indicator}.png"
        for kind in ("coefficients", "event_study")
        for indicator in _indicators(workdir)
    ]
    return [*targets, "results/provenance.json"]


def _copy(target: Path) -> Path:
    target.mkdir()
    return copy_workflow(target)


def _timed(workdir: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["snakemake", "--cores", "2", *args],
        cwd=workdir,
        check=True,
        capture_output=True,
        env=workflow_env(workdir),
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        without = _copy(Path(tmp) / "without")
        config = yaml.safe_load((without / "config.yaml").read_text())
        models = [m for m in config["models"] if m not in ROBUST]
        # targets first: --config takes every argument after it
        base = _timed(without, *_base_targets(without), "--config", f"models=[{','.join(models)}]")
        whole = _timed(_copy(Path(tmp) / "with"))
    print(f"without issue 16 (models {', '.join(models)}; no checks, no report): {base:.1f} s")
    print(f"with issue 16 (models {', '.join(config['models'])}; everything): {whole:.1f} s")
    print(f"issue 16 adds {whole / base - 1:.0%} to the whole demo run (target: at most 50%)")


if __name__ == "__main__":
    main()
