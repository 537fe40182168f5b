"""Time the batched placebo-in-space tests against the library's own placebo loops.

Run from the project root: ``python benchmarks/bench_synthetic.py``. On the demo panel it
builds every indicator's design for each early adopter (``synthetic_partnerships``, default
Highland and Moray) with enough pre-years for a synthetic control, and times, in one run:

- batched (what the workflow runs,
  :func:`integration_models.models.synthetic_control.placebo_ratios`): both placebo tests of each
  design, the library's exact simplex weight solve per placebo on one numpy matrix;
- the library: ``SyntheticControlResults.in_space_placebo()`` (the treated area in every
  placebo's pool) plus a loop of plain ``SyntheticControl.fit`` calls, one per donor, with
  the other donors as its pool (the project's ``p_placebo``), the same estimator settings;
- for scale, the library's default nested V search, fit and ``in_space_placebo()``, on the
  first design only (seconds per design).

Both sides return the same ratios (checked here to 1e-9, as in
``tests/test_synthetic_control.py``); the treated unit's own library fit is timed on neither
side. Ratios are printed; run with ``OPENBLAS_NUM_THREADS=1`` on a shared machine.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from integration_models.data.exposure import PeriodType, exposure_table  # noqa: E402
from integration_models.data.ingest import IngestSettings, build_panel  # noqa: E402
from integration_models.data.reference import load_areas, load_classification  # noqa: E402
from integration_models.models.synthetic_control import (  # noqa: E402
    library_scm,
    placebo_ratios,
    scm_estimator,
)
from integration_models.models.synthetic_design import (  # noqa: E402
    DEFAULT_MIN_PRE,
    OK,
    Design,
    build_design,
    fit_status,
    treated_partnerships,
)

PARTNERSHIPS = ["S37000016", "S37000019"]


def demo_designs() -> list[Design]:
    """Every demo indicator's design per early adopter with enough pre-years to be fitted."""
    areas = load_areas(ROOT / "data/reference/areas.csv")
    classification = load_classification(ROOT / "data/reference/classification/baseline.csv", areas)
    panel = build_panel(ROOT / "data/raw", areas, classification, IngestSettings(2010, 2023))[0]
    kinds = [PeriodType.from_key(key) for key in panel["period_key"].unique()]
    exposure = exposure_table(classification, areas, range(2010, 2024), kinds)
    designs = []
    for partnership in treated_partnerships(PARTNERSHIPS, classification, areas):
        for area in partnership.area_codes:
            for _, rows in panel.groupby("indicator_id", sort=True):
                design = build_design(rows.assign(y=rows["value"]), exposure, area, "full")
                if fit_status(design, DEFAULT_MIN_PRE["scm"])[0] == OK:
                    designs.append(design)
    return designs


def matrix_of(design: Design) -> tuple[np.ndarray, list[str]]:
    units = sorted(design.wide.columns)
    years = design.pre_years + design.post_years
    return design.wide.loc[years, units].to_numpy(dtype=float), units


def batched(designs: list[Design]) -> list[np.ndarray]:
    out = []
    for design in designs:
        matrix, units = matrix_of(design)
        for include in (True, False):
            out.append(
                placebo_ratios(matrix, units, design.area_code, len(design.pre_years), include)
            )
    return out


def library_loop(designs: list[Design], fits: list) -> list[np.ndarray]:
    out = []
    for design, fit in zip(designs, fits, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = fit.in_space_placebo().set_index("unit")
        out.append(frame.loc[design.donors, "rmspe_ratio"].to_numpy(dtype=float))
        own = []
        for donor in design.donors:
            pool = [d for d in design.donors if d != donor]
            placebo = Design(design.indicator_id, donor, design.wide[[donor, *pool]],
                             design.pre_years, design.post_years)  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = scm_estimator(len(design.pre_years)).fit(
                    placebo.long(), "y", "treated", "unit", "year", treated_unit=donor
                )
            own.append(result.rmspe_ratio)
        out.append(np.array(own))
    return out


def main() -> None:
    designs = demo_designs()
    fits = [library_scm(design) for design in designs]  # the treated fits: on neither side
    placebos = sum(len(d.donors) for d in designs)
    started = time.perf_counter()
    fast = batched(designs)
    fast_s = time.perf_counter() - started
    started = time.perf_counter()
    slow = library_loop(designs, fits)
    slow_s = time.perf_counter() - started
    for mine, theirs in zip(fast, slow, strict=True):
        assert np.allclose(mine, theirs, rtol=1e-9, atol=0), (mine, theirs)
    print(
        f"{len(designs)} designs, {placebos} placebos per test, both tests (2 x {placebos} refits)"
    )
    print(f"batched placebo_ratios:            {fast_s:8.3f} s")
    print(f"library in_space_placebo + fits:   {slow_s:8.3f} s")
    print(f"ratio library / batched:           {slow_s / fast_s:8.1f}x  (same ratios to 1e-9)")
    from diff_diff import SyntheticControl

    first = designs[0]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nested = SyntheticControl(seed=1).fit(
            first.long(), "y", "treated", "unit", "year", treated_unit=first.area_code
        )
        nested.in_space_placebo()
    nested_s = time.perf_counter() - started
    print(
        f"library default (nested V) fit + in_space_placebo, one design "
        f"({first.indicator_id}, {len(first.donors)} donors): {nested_s:.2f} s; "
        f"equal-weights pre-RMSPE {fits[0].pre_rmspe:.6g} vs nested {nested.pre_rmspe:.6g}"
    )
    print(pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"))


if __name__ == "__main__":
    main()
