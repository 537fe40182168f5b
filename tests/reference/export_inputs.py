"""Write the fixed inputs of the committed cross-checks (run from the repository root).

    PYTHONPATH=src python tests/reference/export_inputs.py

Builds the panel from the demo dataset with the current code and writes, for a few
indicators, exactly the rows and regressors each model is fitted on:

- ``mixed_input.csv``: the ``mixed`` model's rows (``model_data(...).frame``): outcome ``y``
  (on the case's scale), ``time10`` (decades since 2016) and the replication's regressors.
- ``twfe_input.csv``: the ``twfe`` design's rows (``design_from_model_data``), sorted by area
  and year: outcome ``y``, the integration dummies and the within-area controls of the current
  design (every column after ``integration_partial`` is a control).

The reference scripts (``make_lme4.R``, ``make_clubsandwich.R``, ``make_wildboottest.py``) and
the committed tests read these files, so a later change of the demo data or of the design
does not change the comparison; rerun this script and the reference scripts to move it.
Numbers are written as Python's shortest round-trip repr, so they read back exactly.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.data.reference import load_areas, load_classification
from integration_models.inference.design import design_from_model_data
from integration_models.models.design import model_data

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# the indicators and scales of the live tests (tests/test_models.py, tests/test_inference.py);
# a case on another scale than identity is named ``indicator:scale`` in the files. On
# ``breastfeeding:log`` statsmodels' L-BFGS alone stopped short of the REML optimum.
MIXED_CASES = (
    ("cost_per_lac", "identity"),
    ("balance_of_care", "identity"),
    ("breastfeeding", "identity"),
    ("breastfeeding", "log"),
)
TWFE_INDICATORS = ("attainment_scqf5", "attendance", "balance_of_care")
MIXED_COLUMNS = [
    "area_code",
    "year",
    "y",
    "time10",
    "integration_full",
    "integration_partial",
    "deprivation",
    "covid",
    "log_density",
]


def _header(name: str) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return (
        f"# {name}: made by 'PYTHONPATH=src python tests/reference/export_inputs.py' from the "
        f"demo dataset (data/raw) at commit {commit or 'unknown'} on {stamp}\n"
    )


def _write(frame: pd.DataFrame, name: str) -> None:
    path = HERE / name
    with path.open("w", newline="") as handle:
        handle.write(_header(name))
        frame.to_csv(handle, index=False, lineterminator="\n")
    print(f"wrote {path.relative_to(REPO)} ({len(frame)} rows)", file=sys.stderr)


def main() -> None:
    """Build the demo panel and write ``mixed_input.csv`` and ``twfe_input.csv``."""
    areas = load_areas(REPO / "data" / "reference" / "areas.csv")
    baseline = load_classification(
        REPO / "data" / "reference" / "classification" / "baseline.csv", areas
    )
    panel = build_panel(REPO / "data" / "raw", areas, baseline, IngestSettings(2010, 2023))[0]
    mixed = []
    for indicator, scale in MIXED_CASES:
        data = model_data(panel, indicator, scale)
        if data.not_estimable:
            raise SystemExit(f"{indicator}: not estimable terms {data.not_estimable}")
        case = indicator if scale == "identity" else f"{indicator}:{scale}"
        mixed.append(data.frame[MIXED_COLUMNS].assign(indicator_id=case))
    twfe = []
    for indicator in TWFE_INDICATORS:
        design, y = design_from_model_data(model_data(panel, indicator, "identity"))
        columns = ["area_code", "year", *design.terms, *design.controls]
        if design.terms != ("integration_full", "integration_partial"):
            raise SystemExit(f"{indicator}: design estimates {design.terms}")
        twfe.append(design.frame[columns].assign(y=y, indicator_id=indicator))
    first = ["indicator_id", "area_code", "year", "y"]
    for frames, name in ((mixed, "mixed_input.csv"), (twfe, "twfe_input.csv")):
        frame = pd.concat(frames, ignore_index=True)
        frame = frame[first + [c for c in frame.columns if c not in first]]
        _write(frame, name)


if __name__ == "__main__":
    main()
