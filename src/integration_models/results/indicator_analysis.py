"""One workflow job: the few-cluster inference, power, size and sensitivity of one indicator.

The work of these three steps is per indicator; only the adjustments across indicators
(Benjamini-Hochberg, Romano-Wolf) span them, and those are cheap once each indicator's rows
and resampled statistics are stored. So the workflow runs this job once per indicator and a
combining step per table (:mod:`integration_models.commands.inference`,
:mod:`integration_models.commands.sensitivity`): a new value of one indicator reruns its own
job and the combining steps, not the resampling of every indicator.

An indicator's results do not depend on which other indicators are analysed: the bootstrap
weights are drawn per area of the classification's areas, the permutations per partnership,
both from the configured seed alone, and the sensitivity variants come from the
classification, the areas and the scenarios (:func:`integration_models.data.panel.area_exposure`).
The combined tables equal those of one call over all indicators (tested).

Like the fits (:mod:`integration_models.models.fit_job`), the job runs inside the Snakemake
process (a ``run:`` rule), so 25 jobs do not each pay the seconds of starting Python and
importing pandas and statsmodels; it holds the lock of :mod:`integration_models.in_process`,
as Python's warning filters are process-wide. What every indicator shares (the areas'
exposure, the scenario classifications expanded to areas and years) is read and built once
per process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.panel import area_exposure, attach_integration
from integration_models.data.reference import load_areas
from integration_models.data.registry import load_registry
from integration_models.in_process import IN_PROCESS_LOCK
from integration_models.inference.equivalence import equivalence_rows, withhold_not_identified
from integration_models.inference.identification import DEFAULT_MIN_PARTNERSHIPS
from integration_models.inference.power import power_table
from integration_models.inference.scope import scope_from_fits
from integration_models.inference.size import indicator_size_rows
from integration_models.inference.table import Draws, few_cluster_rows
from integration_models.io import write_parquet, write_text
from integration_models.models.design import indicator_scale
from integration_models.plan.analysis_plan import load_plan
from integration_models.results.sensitivity import (
    load_scenarios,
    scenario_integration,
    sensitivity_rows,
)

# a stored draws column is named "<term>:<method>"
DRAWS_SEPARATOR = ":"


@dataclass(frozen=True)
class Context:
    """What the analysis of every indicator shares: the areas' exposure and the scenarios.

    Attributes
    ----------
    integration
        ``integration.parquet``: the exposure each indicator's rows are joined with.
    population
        :func:`integration_models.data.panel.area_exposure` of the classification.
    scenarios
        Scenario name -> its exposure of every area, year and kind of period
        (:func:`integration_models.results.sensitivity.scenario_integration`).
    """

    integration: pd.DataFrame
    population: pd.DataFrame
    scenarios: dict[str, pd.DataFrame]


@lru_cache(maxsize=2)
def _context(integration: str, areas: str, scenarios: tuple[str, ...], stamp: tuple) -> Context:
    """Build the shared context once per process and set of files (``stamp``: their state)."""
    area_table = load_areas(areas)
    exposure = pd.read_parquet(integration)
    population = area_exposure(exposure, area_table)
    expanded = {
        name: scenario_integration(scenario, population)
        for name, scenario in load_scenarios(scenarios, area_table).items()
    }
    return Context(exposure, population, expanded)


def load_context(
    integration: str | Path, areas: str | Path, scenarios: Sequence[str | Path]
) -> Context:
    """Return the shared context of these files, built once while they are unchanged."""
    paths = (str(integration), str(areas), *map(str, scenarios))
    states = [(path, Path(path).stat()) for path in paths]
    stamp = tuple((path, state.st_mtime_ns, state.st_size) for path, state in states)
    return _context(paths[0], paths[1], tuple(paths[2:]), stamp)


def draws_frame(draws: Draws, reps: int) -> pd.DataFrame:
    """Return the resampled statistics of one indicator as columns ``<term>:<method>``."""
    columns = {
        f"{term}{DRAWS_SEPARATOR}{method}": values for (_, term, method), values in draws.items()
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(reps)) if columns else pd.DataFrame()


def read_draws(path: str | Path, indicator_id: str) -> Draws:
    """Read the draws written by :func:`analysis_job` for ``indicator_id``."""
    frame = pd.read_parquet(path)
    draws: Draws = {}
    for column in frame.columns:
        term, method = column.split(DRAWS_SEPARATOR)
        draws[(indicator_id, term, method)] = frame[column].to_numpy(dtype=float)
    return draws


def analysis_job(
    indicator_id: str,
    outputs: Mapping[str, str | Path],
    log_path: str | Path,
    *,
    observations: str | Path,
    integration: str | Path,
    areas: str | Path,
    scenarios: Sequence[str | Path],
    registry: str | Path,
    fit: str | Path,
    plan: str | Path,
    by_measure: Mapping[str, str],
    overrides: Mapping[str, str],
    settings: Mapping[str, float],
) -> None:
    """Write the inference rows, their draws, the power, size, sensitivity and equivalence rows.

    Parameters
    ----------
    indicator_id
        The indicator.
    outputs
        Paths for ``inference``, ``draws``, ``power``, ``size``, ``sensitivity`` and
        ``equivalence`` (Parquet).
    log_path
        A short human-readable log.
    observations, integration
        The indicator's ingested rows and the exposure of every area, year and kind of period.
    areas, scenarios
        The areas table and the scenario classifications (configuration ``scenarios``).
    registry
        The dataset's ``indicators.csv`` (the indicator's measure, hence its scale).
    fit
        The indicator's ``twfe`` fit: which terms it estimated
        (:mod:`integration_models.inference.scope`).
    plan
        ``analysis_plan.yaml``: the test whose power, interval and two one-sided tests are
        reported (:mod:`integration_models.inference.equivalence`), the equivalence bounds,
        and the test and level of the sensitivity conclusions
        (:func:`integration_models.results.sensitivity.sensitivity_rows`).
    by_measure, overrides
        Outcome scale per measure, and per indicator where configured.
    settings
        ``reps``, ``power_reps``, ``seed`` and ``alpha`` of the configuration, the analysis
        plan's ``min_partnerships`` (default 2), and the size diagnostic's ``size_sims``,
        ``size_reps`` and ``size_dgps``
        (:func:`integration_models.inference.size.indicator_size_rows`).
    """
    analysis_plan = load_plan(plan)
    with IN_PROCESS_LOCK:
        scale = indicator_scale(load_registry(registry), indicator_id, by_measure, overrides)
        scale_of = {indicator_id: scale}
        context = load_context(integration, areas, scenarios)
        panel = attach_integration(pd.read_parquet(observations), context.integration)
        fitted = json.loads(Path(fit).read_text(encoding="utf-8"))
        scope = scope_from_fits([fitted], [indicator_id])
        reps, seed, alpha = int(settings["reps"]), int(settings["seed"]), float(settings["alpha"])
        shared = {"seed": seed, "alpha": alpha, "scope": scope, "population": context.population}
        min_partnerships = int(settings.get("min_partnerships", DEFAULT_MIN_PARTNERSHIPS))
        shared["min_partnerships"] = min_partnerships
        rows, draws = few_cluster_rows(panel, [indicator_id], scale_of, reps=reps, **shared)
        started = time.perf_counter()
        power = power_table(
            panel, [indicator_id], scale_of, reps=int(settings["power_reps"]),
            test=analysis_plan.test, **shared,
        )  # fmt: skip
        power_seconds = time.perf_counter() - started
        started = time.perf_counter()
        equivalence = equivalence_rows(
            panel, [indicator_id], scale_of, analysis_plan, reps=reps, seed=seed, scope=scope,
            population=context.population,
        )  # fmt: skip
        equivalence = withhold_not_identified(equivalence, rows)
        equivalence_seconds = time.perf_counter() - started
        size = indicator_size_rows(
            panel, indicator_id, scale, sims=int(settings["size_sims"]),
            reps=int(settings["size_reps"]), dgps=tuple(settings["size_dgps"]), seed=seed,
            alpha=alpha, scope=scope, population=context.population,
        )  # fmt: skip
        sensitivity = sensitivity_rows(
            panel, [indicator_id], scale_of, scenarios=context.scenarios, alpha=alpha,
            scope=scope, population=context.population, min_partnerships=min_partnerships,
            plan=analysis_plan, seed=seed,
        )  # fmt: skip
    write_parquet(rows, outputs["inference"])
    write_parquet(draws_frame(draws, reps), outputs["draws"])
    write_parquet(power, outputs["power"])
    write_parquet(size, outputs["size"])
    write_parquet(sensitivity, outputs["sensitivity"])
    write_parquet(equivalence, outputs["equivalence"])
    tested = int(np.isfinite(rows["p_value"].to_numpy(dtype=float)).sum())
    write_text(
        log_path,
        f"{indicator_id} ({scale}): {tested} of {len(rows)} inference rows with a p-value, "
        f"{len(draws)} resampled rows x {reps} draws, {len(power)} power rows, "
        f"{len(size)} size rows, {len(sensitivity)} sensitivity rows, "
        f"{len(equivalence)} equivalence rows ({analysis_plan.test}); power {power_seconds:.2f} s, "
        f"equivalence {equivalence_seconds:.2f} s\n",
    )
