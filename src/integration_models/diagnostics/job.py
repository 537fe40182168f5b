"""One workflow job: the TWFE diagnostics and the HonestDiD bounds of one indicator.

Per indicator, like the fits (:mod:`integration_models.models.fit_job`): the 25 demo
indicators take about 0.25 s each (weights, decomposition, event study and bounds), too long
for one combined job on the critical path, and a new value of one indicator then reruns only
its own job and the cheap combining step (:mod:`integration_models.commands.diagnostics`).
The job writes one JSON file with the rows of the four tables.

The TWFE diagnostics cover every indicator; the HonestDiD bounds the analysis plan's primary
outcomes only (``analysis_plan.yaml``, :meth:`AnalysisPlan.primary_outcomes`), as issue 16
asks; for a secondary outcome the job writes no bound rows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.panel import attach_integration
from integration_models.data.reference import load_areas
from integration_models.data.registry import load_registry
from integration_models.diagnostics import bacon as bacon_module
from integration_models.diagnostics.honest import honest_did
from integration_models.diagnostics.twfe_weights import (
    concentration,
    early_shares,
    event_times,
    library_weights,
    twfe_weights,
    verdict,
)
from integration_models.in_process import IN_PROCESS_LOCK
from integration_models.inference.identification import identification, partnership_names
from integration_models.io import write_json, write_text
from integration_models.models.csdid import exposure_of_period, treatment_cohorts
from integration_models.models.design import DesignError, indicator_scale, model_data
from integration_models.models.twfe import estimable_terms
from integration_models.plan.analysis_plan import load_plan

TERMS = ("integration_full", "integration_partial")
CATEGORY = {"integration_full": "full", "integration_partial": "partial"}


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _onsets(exposure: pd.DataFrame, period_key: str, category: str) -> dict[str, int]:
    """First year each area was coded ``category`` in the classification (its own exposure)."""
    cohorts = treatment_cohorts(exposure_of_period(exposure, period_key))
    first = cohorts.set_index("area_code")[f"g_{category}"]
    return {str(area): int(year) for area, year in first.items() if year > 0}


def weight_row(
    frame: pd.DataFrame,
    term: str,
    controls: list[str],
    onset: Mapping[str, int] | None,
    reason: str,
) -> dict:
    """Return the dCDH weights of ``term`` in both designs, with the diagnostics row."""
    row: dict = {"term": term}
    area, year, y = frame["area_code"], frame["year"], frame["y"]
    project = twfe_weights(area, year, frame[term], y, frame[controls].to_numpy(dtype=float))
    plain = twfe_weights(area, year, frame[term], y)
    aligned, library = library_weights(frame, term)
    top, share = concentration(frame, project)
    early_weight, early_cells = early_shares(event_times(frame, term, dict(onset or {})), project)
    sigma_ratio = project.sigma_fe / abs(project.beta) if project.beta else math.nan
    row.update(
        estimate=project.beta,
        n_weights=project.n_weights,
        n_negative=project.n_negative,
        negative_sum=project.negative_sum,
        negative_share=project.negative_share,
        sigma_fe=project.sigma_fe,
        sigma_ratio=sigma_ratio,
        top_area=top,
        top_area_share=share,
        early_weight_share=early_weight,
        early_cell_share=early_cells,
        plain_estimate=float(library.beta_fe),
        plain_n_negative=int((aligned["weight"].to_numpy()[plain.treated] < -1e-12).sum()),
        plain_negative_sum=float(
            np.minimum(aligned["weight"].to_numpy()[plain.treated], 0.0).sum()
        ),
        plain_sigma_fe=float(library.sigma_fe),
        library_difference=float(np.abs(aligned["weight"].to_numpy() - plain.weights).max()),
        verdict=verdict(project.negative_sum, sigma_ratio, reason),
    )
    return row


def bacon_rows(frame: pd.DataFrame, term: str) -> tuple[dict, list[dict]]:
    """Return the decomposition's columns of the diagnostics row, and its long rows."""
    result = bacon_module.decompose(frame, term)
    weights = {item["comparison"]: item["weight"] for item in result["by_type"]}
    summary = {
        "bacon_status": "ok" if result["applicable"] else result["reason"],
        "bacon_estimate": result["twfe_estimate"],
        "bacon_never_weight": weights.get("treated_vs_never", math.nan),
        "bacon_earlier_weight": weights.get("earlier_vs_later", math.nan),
        "bacon_forbidden_weight": weights.get(bacon_module.FORBIDDEN, math.nan),
        "n_always_treated": result["n_always_treated"],
        "bacon_note": result["note"],
    }
    rows = [
        {
            "term": term,
            **item,
            "twfe_estimate": result["twfe_estimate"],
            "note": result["note"],
        }
        for item in result["by_type"]
    ]
    return summary, rows


def indicator_diagnostics(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    *,
    exposure: pd.DataFrame,
    names: Mapping[str, str],
    primary: bool,
    alpha: float = 0.05,
    min_partnerships: int = 2,
    min_treated: int = 2,
) -> dict[str, list[dict]]:
    """Rows of ``twfe_diagnostics``, ``bacon``, ``honest_did`` and ``honest_did_breakdown``."""
    out: dict[str, list[dict]] = {
        "twfe_diagnostics": [],
        "bacon": [],
        "honest_did": [],
        "honest_did_breakdown": [],
    }
    try:
        data = model_data(panel, indicator_id, scale)
        terms, notes = estimable_terms(data)
    except DesignError as err:
        data, terms, notes = None, [], dict.fromkeys(TERMS, f"not estimable: {err}")
    for term in TERMS:
        base = {"indicator_id": indicator_id, "term": term, "scale": scale}
        if data is None or term not in terms:
            note = notes.get(term, "not estimable")
            out["twfe_diagnostics"].append({**base, "verdict": note, "bacon_status": note})
        else:
            frame = data.frame
            ident = identification(frame, term, names=names)
            controls = [t for t in terms if t != term]
            onset = _onsets(exposure, str(frame["period_key"].iloc[0]), CATEGORY[term])
            try:
                row = weight_row(frame, term, controls, onset, ident.reason(min_partnerships))
            except ValueError as err:  # absorbed by the fixed effects and controls
                row = {"verdict": f"not estimable: {err}"}
            summary, long_rows = bacon_rows(frame, term)
            row.update(
                n_obs=data.n_obs,
                n_areas=data.n_areas,
                n_identifying_areas=ident.n_identifying_areas,
                controls=", ".join(controls),
                **summary,
            )
            out["twfe_diagnostics"].append({**base, **row})
            out["bacon"] += [{"indicator_id": indicator_id, **r} for r in long_rows]
        if primary:
            grid, summary = honest_did(
                panel, indicator_id, scale, CATEGORY[term], exposure=exposure, alpha=alpha,
                min_treated=min_treated, min_partnerships=min_partnerships, names=names,
            )  # fmt: skip
            out["honest_did"] += [{**base, **r} for r in grid]
            out["honest_did_breakdown"].append({**base, **summary})
    return out


def diagnostics_job(
    indicator_id: str,
    out_path: str | Path,
    log_path: str | Path,
    *,
    observations: str | Path,
    integration: str | Path,
    registry: str | Path,
    areas: str | Path,
    plan: str | Path,
    by_measure: Mapping[str, str],
    overrides: Mapping[str, str],
    settings: Mapping[str, float],
) -> None:
    """Write one indicator's diagnostics rows as JSON ``{table: [rows]}``.

    Parameters
    ----------
    indicator_id
        The indicator.
    out_path, log_path
        The JSON rows and a short log (with the job's time).
    observations, integration
        The indicator's ingested rows and the classification's exposure of every area and year.
    registry, areas, plan
        ``indicators.csv`` (measure, hence scale; roles), the areas table (partnership names)
        and ``analysis_plan.yaml`` (primary outcomes).
    by_measure, overrides
        Outcome scale per measure, and per indicator where configured.
    settings
        ``alpha`` and the plan's ``min_partnerships``.
    """
    start = time.perf_counter()
    analysis_plan = load_plan(plan)
    with IN_PROCESS_LOCK:
        table = load_registry(registry)
        scale = indicator_scale(table, indicator_id, by_measure, overrides)
        exposure = pd.read_parquet(integration)
        panel = attach_integration(pd.read_parquet(observations), exposure)
        names = partnership_names(load_areas(areas))
        rows = indicator_diagnostics(
            panel, indicator_id, scale, exposure=exposure, names=names,
            primary=indicator_id in analysis_plan.primary_outcomes(table),
            alpha=float(settings["alpha"]),
            min_partnerships=int(settings["min_partnerships"]),
        )  # fmt: skip
    payload = {
        name: [{key: _finite(value) for key, value in row.items()} for row in table_rows]
        for name, table_rows in rows.items()
    }
    write_json(out_path, payload)
    verdicts = "; ".join(f"{r['term']}: {r['verdict']}" for r in rows["twfe_diagnostics"])
    write_text(
        log_path,
        f"diagnostics {indicator_id}: {verdicts}\ntime {time.perf_counter() - start:.2f} s\n",
    )
