"""One workflow job: synthetic control and synthetic DiD of one indicator for the early adopters.

For each partnership named in ``synthetic_partnerships`` (Highland and Moray by default) and
each of its council areas, the indicator's design
(:mod:`integration_models.models.synthetic_design`) is fitted by both methods
(:mod:`integration_models.models.synthetic_control`) and three parts are written: the estimate
rows, the donor weights and the treated-versus-synthetic paths.
The combining step (:mod:`integration_models.commands.synthetic_control`) stamps them into
``synthetic_control.csv`` and ``synthetic_weights.csv`` and draws the figure. Work is per
indicator (about 0.1 s each on the demo; 25 indicators in one job took 2.9 s), so a new value of
one indicator reruns its own job and the cheap combining step only.

The outcome is analysed on the indicator's configured scale (``outcome_scale``: a rate's
log, so its estimate is about a proportional change), as the other models analyse it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.reference import load_areas, load_classification
from integration_models.data.registry import load_registry
from integration_models.in_process import IN_PROCESS_LOCK
from integration_models.io import write_parquet, write_text
from integration_models.models.design import indicator_scale
from integration_models.models.synthetic_control import synthetic_rows
from integration_models.models.synthetic_design import (
    FAILED,
    Design,
    TreatedPartnership,
    build_design,
    treated_partnerships,
)

PARTS = ("estimates", "weights", "paths")
# the columns the job adds in front of each estimate row, from the classification
PARTNERSHIP_COLUMNS = ("area_name", "hscp_code", "partnership", "go_live", "go_live_year",
                       "category", "confidence", "scale")  # fmt: skip


def _outcome(observations: pd.DataFrame, scale: str) -> tuple[pd.DataFrame, str]:
    """Return the rows with the outcome ``y`` on ``scale``, and why not if it cannot be."""
    values = observations["value"].to_numpy(dtype=float)
    if scale == "log":
        if (values <= 0).any():
            return observations.iloc[0:0], (
                f"log scale needs positive values: {(values <= 0).sum()} value(s) <= 0"
            )
        values = np.log(values)
    return observations.assign(y=values), ""


@lru_cache(maxsize=2)
def _reference(
    areas: str, classification: str, partnerships: tuple[str, ...], stamp: tuple
) -> tuple[list[TreatedPartnership], dict[str, str]]:
    """Read the treated partnerships and the area names once per process and set of files."""
    area_table = load_areas(areas)
    treated = treated_partnerships(
        list(partnerships), load_classification(classification, area_table), area_table
    )
    return treated, dict(zip(area_table["area_code"], area_table["area_name"], strict=True))


def load_reference(
    areas: str | Path, classification: str | Path, partnerships: Sequence[str]
) -> tuple[list[TreatedPartnership], dict[str, str]]:
    """Return the treated partnerships (go-live from the classification) and the area names.

    Read once per worker process while the two files are unchanged (``stamp``: their
    modification times and sizes), as every indicator's job needs the same.
    """
    paths = (str(areas), str(classification))
    stamp = tuple(
        (path, Path(path).stat().st_mtime_ns, Path(path).stat().st_size) for path in paths
    )
    return _reference(*paths, tuple(partnerships), stamp)


def synthetic_job(
    indicator_id: str,
    outputs: Mapping[str, str | Path],
    log_path: str | Path,
    *,
    observations: str | Path,
    integration: str | Path,
    areas: str | Path,
    classification: str | Path,
    registry: str | Path,
    by_measure: Mapping[str, str],
    overrides: Mapping[str, str],
    settings: Mapping[str, object],
) -> None:
    """Write the estimate, weight and path parts of one indicator.

    Parameters
    ----------
    indicator_id
        The indicator.
    outputs
        Parquet paths of ``estimates``, ``weights`` and ``paths``.
    log_path
        A short human-readable log (with the time taken).
    observations, integration
        The indicator's ingested rows and ``integration.parquet``.
    areas, classification
        The areas table and the baseline classification: the treated areas and go-live.
    registry
        ``indicators.csv``: the indicator's measure, hence its scale.
    by_measure, overrides
        Outcome scale per measure, and per indicator where configured.
    settings
        ``partnerships`` (partnership codes), ``min_pre_years`` (``{"scm": n, "sdid": n}``),
        ``reps`` (SDID placebo draws), ``seed`` and ``alpha``.
    """
    started = time.perf_counter()
    with IN_PROCESS_LOCK:
        treated, names = load_reference(areas, classification, settings["partnerships"])
        scale = indicator_scale(load_registry(registry), indicator_id, by_measure, overrides)
        rows = pd.read_parquet(observations)
        rows, problem = _outcome(rows[rows["indicator_id"] == indicator_id], scale)
        exposure = pd.read_parquet(integration)
        estimates, weights, paths = [], [], []
        for partnership in treated:
            for area in partnership.area_codes:
                design = build_design(rows, exposure, area, partnership.category)
                design.indicator_id = indicator_id
                if problem:
                    design = Design(indicator_id, area, pd.DataFrame(), status=FAILED, note=problem)
                found, found_weights, found_paths = synthetic_rows(
                    design,
                    dict(settings["min_pre_years"]),
                    reps=int(settings["reps"]),
                    seed=int(settings["seed"]),
                    alpha=float(settings["alpha"]),
                )
                context = {
                    "area_name": names.get(area, area),
                    "hscp_code": partnership.hscp_code,
                    "partnership": partnership.name,
                    "go_live": partnership.go_live,
                    "go_live_year": partnership.go_live_year,
                    "category": partnership.category,
                    "confidence": partnership.confidence,
                    "scale": scale,
                }
                estimates += [context | row for row in found]
                weights += [
                    {**row, "donor_name": names.get(row["donor_code"], "")} for row in found_weights
                ]
                paths.append(found_paths)
    estimate_frame = pd.DataFrame(estimates)
    write_parquet(estimate_frame, outputs["estimates"])
    write_parquet(pd.DataFrame(weights, columns=WEIGHT_COLUMNS), outputs["weights"])
    path_frame = pd.concat(paths, ignore_index=True) if paths else pd.DataFrame()
    write_parquet(path_frame.reindex(columns=PATH_COLUMNS), outputs["paths"])
    fitted = int((estimate_frame["status"] == "ok").sum()) if len(estimate_frame) else 0
    write_text(
        log_path,
        f"{indicator_id} ({scale}): {fitted} of {len(estimate_frame)} fits ok, "
        f"{len(weights)} donor weights; {time.perf_counter() - started:.2f} s\n",
    )


WEIGHT_COLUMNS = ["indicator_id", "area_code", "method", "rank", "donor_code", "weight",
                  "donor_name"]  # fmt: skip
PATH_COLUMNS = ["indicator_id", "area_code", "year", "treated", "synthetic"]


def combine_parts(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Concatenate the parts written by :func:`synthetic_job` (empty parts left out)."""
    frames = [pd.read_parquet(path) for path in paths]
    frames = [frame for frame in frames if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
