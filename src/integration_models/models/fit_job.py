"""One workflow job: fit one model to one indicator and write its tidy rows as JSON.

The Snakemake rule runs this in-process (a ``run:`` block), so 50 fits do not each pay the
seconds it takes to import pandas, statsmodels and linearmodels in a new interpreter. Fits
are serialised by a lock: each takes about 0.1 s, and the warnings they raise are captured
with ``warnings.catch_warnings``, which is not thread-safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from integration_models.data.panel import attach_integration
from integration_models.data.registry import load_registry
from integration_models.data.schemas import check_panel
from integration_models.in_process import IN_PROCESS_LOCK
from integration_models.io import write_json, write_text
from integration_models.models.base import (
    FIT_COLUMNS,
    FitSettings,
    ModelResult,
    empty_row,
    too_little_data,
)
from integration_models.models.csdid import callaway_santanna, did_rows, event_study_rows
from integration_models.models.design import TERMS, DesignError, model_data, outcome_scale
from integration_models.models.estimators import fit_indicator
from integration_models.models.robust_did import FORMULAS, robust_did
from integration_models.models.robust_did import MODELS as ROBUST_MODELS


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _did_estimator(model: str) -> tuple[Callable[..., dict], str]:
    """Return the function estimating one category of ``model``, and the model's formula text.

    Each function takes ``(panel, indicator_id, scale, category, settings, exposure, names,
    classification)`` and returns a result of :func:`~.csdid.callaway_santanna`'s form.
    """
    if model == "csdid":

        def estimate(panel, indicator_id, scale, category, settings, exposure, names, _):
            return callaway_santanna(
                panel, indicator_id, scale, category, alpha=settings.alpha, exposure=exposure,
                min_partnerships=settings.min_partnerships, names=names,
            )  # fmt: skip

        return estimate, MODELS_FORMULA_DID

    def estimate(panel, indicator_id, scale, category, settings, exposure, names, classification):
        return robust_did(
            panel, indicator_id, scale, category, model=model, alpha=settings.alpha,
            exposure=exposure, min_partnerships=settings.min_partnerships,
            classification=classification, names=names,
        )  # fmt: skip

    return estimate, FORMULAS[model]


def fit_did(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    settings: FitSettings,
    exposure: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
    *,
    model: str = "csdid",
    classification: pd.DataFrame | None = None,
) -> tuple[ModelResult, list[dict]]:
    """Fit a staggered difference-in-differences model for full and for partial integration.

    ``model`` is ``csdid`` (Callaway-Sant'Anna, :mod:`~.csdid`) or one of the estimators of
    :mod:`~.robust_did` (``sunab``, ``bjs``, ``dcdh``); all share these rows. The overall ATT
    of each category against never-integrated areas becomes the ``integration_full`` /
    ``integration_partial`` row; the other terms are not part of this design and say so. The
    fit is ``ok`` if at least one category could be estimated; the message names a category
    that could not, and the fit's warnings are the library's, by category. Event-time effects
    are returned for the event study table and figure.

    The cohorts come from ``exposure`` (``integration.parquet``; None: from the panel). An
    overall effect resting on fewer than ``settings.min_partnerships`` partnerships is not
    identified: its estimate is kept, its standard error, test and interval (and those of its
    event-time effects) are withheld, and the note says why. ``classification`` (the dated
    classification) flags an identifying change resting on an assumed row (not for csdid,
    which counts its own identifying cohorts).
    """
    estimate, formula = _did_estimator(model)
    fit = {column: None for column in FIT_COLUMNS}
    fit.update(indicator_id=indicator_id, model=model, scale=scale, warnings="")
    fit["formula"] = formula
    try:
        data = model_data(panel, indicator_id, scale)
        outcome = data.frame["y"]
        fit.update(outcome_mean=float(outcome.mean()), outcome_sd=float(outcome.std()))
        shortfall = too_little_data(data, settings)
    except DesignError:
        shortfall = ""
    categories = () if shortfall else ("full", "partial")
    rows, events, messages, statuses, caught = [], [], [], [], []
    for category in categories:
        result = estimate(
            panel, indicator_id, scale, category, settings, exposure, names, classification
        )
        category_rows = did_rows(result, indicator_id)
        if result["status"] == "ok" and result["n_treated_areas"] < MIN_TREATED_FOR_SE:
            # one treated area: neither csdid's area bootstrap nor a clustered variance sees
            # its own variability, so the interval would be far too narrow; keep the
            # estimate, withhold the inference
            for row in category_rows:
                row.update(
                    dict.fromkeys(
                        ("std_error", "statistic", "p_value", "conf_low", "conf_high"), math.nan
                    )
                )
                row["inference"] = ""
                row["note"] = (
                    f"only {result['n_treated_areas']} treated area: no valid standard error; "
                    + row["note"]
                )
        rows += category_rows
        category_events = event_study_rows(result, indicator_id)
        unidentified = bool(result.get("not_identified"))
        if result["n_treated_areas"] < MIN_TREATED_FOR_SE or unidentified:
            for row in category_events:
                row.update(dict.fromkeys(("std_error", "conf_low", "conf_high"), math.nan))
        events += category_events
        statuses.append(result["status"])
        if result["status"] != "ok" or result["message"]:
            messages.append(f"{category}: {result['message'] or result['status']}")
        if result.get("warnings"):
            caught.append(f"{category}: {result['warnings']}")
        if category == "full":
            fit.update(n_obs=result["n_obs"], n_areas=result["n_areas"], optimiser=result["method"])
    fit["status"] = "ok" if "ok" in statuses else "skipped" if shortfall else "failed"
    fit["converged"] = fit["status"] == "ok"
    fit["message"] = shortfall or "; ".join(messages)
    fit["warnings"] = " | ".join(caught)
    if shortfall:
        fit.update(n_obs=data.n_obs, n_areas=data.n_areas, n_years=data.n_years)
    estimated = {row["term"] for row in rows}
    other = [
        {
            **empty_row(term),
            "indicator_id": indicator_id,
            "model": model,
            "n_obs": fit["n_obs"],
            "n_areas": fit["n_areas"],
            "n_identifying_areas": None,
            "inference": "",
            "scale": scale,
            "note": (
                "not part of the difference-in-differences design"
                if term not in DID_TERMS
                else "not estimated: model skipped"
            ),
        }
        for term in TERMS
        if term not in estimated
    ]
    by_term = {row["term"]: row for row in rows + other}
    result = ModelResult(coefficients=[by_term[term] for term in TERMS], fit=fit)
    return result, events


MIN_TREATED_FOR_SE = 2
DID_TERMS = ("integration_full", "integration_partial")
# the staggered difference-in-differences models: fit_did's rows and event-time effects (the
# figures' integration_models.plots.EVENT_STUDY_MODELS)
DID_MODELS = ("csdid", *ROBUST_MODELS)
MODELS_FORMULA_DID = (
    "Callaway-Sant'Anna ATT(g,t) against never-integrated areas, outcome regression on "
    "pre-integration deprivation (deprivation_baseline), simple and event-time aggregation; "
    "area bootstrap SE"
)


def _reference(
    areas_path: str | Path | None, classification_path: str | Path | None
) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """Return the classification and the partnership names (None and {} if not given)."""
    from integration_models.data.reference import load_areas, load_classification
    from integration_models.inference.identification import partnership_names

    if areas_path is None:
        return None, {}
    areas = load_areas(areas_path)
    names = partnership_names(areas)
    if classification_path is None:
        return None, names
    return load_classification(classification_path, areas), names


def fit_job(
    observations_path: str | Path,
    integration_path: str | Path,
    registry_path: str | Path,
    indicator_id: str,
    model: str,
    by_measure: dict,
    overrides: dict,
    settings: dict,
    out_path: str | Path,
    log_path: str | Path,
    *,
    areas_path: str | Path | None = None,
    classification_path: str | Path | None = None,
) -> None:
    """Fit ``model`` to ``indicator_id`` and write ``{"fit": ..., "coefficients": [...]}``.

    Parameters
    ----------
    observations_path, integration_path
        The indicator's ingested rows and the integration category of every area and year
        (the two halves of ``panel.parquet``, kept apart so that a new classification does
        not rerun the ingest). Their join is checked against
        :data:`integration_models.data.schemas.PANEL` before the fit reads it.
    registry_path
        The dataset's ``indicators.csv``.
    indicator_id, model
        What to fit.
    by_measure, overrides
        Outcome scale per measure, and per indicator where configured.
    settings
        Keyword arguments of :class:`FitSettings`: minimum data, significance level and the
        analysis plan's ``min_partnerships``.
    out_path, log_path
        The JSON result and a short human-readable log.
    areas_path, classification_path
        The areas table and the baseline classification: the partnership names in the
        ``not identified`` notes and the flag of an identifying change that rests on an
        assumed classification row (:mod:`integration_models.inference.identification`).
        Without them partnerships are named by code and nothing is flagged.
    """
    # The whole job holds the lock: fits run as threads of one Snakemake process, and
    # Python's warning filters are process-wide, so another thread reading files with pandas
    # while a fit records its warnings would change which warnings the fit sees.
    with IN_PROCESS_LOCK:
        registry = load_registry(registry_path).set_index("indicator_id")
        measure = registry.loc[indicator_id, "measure"]
        scale = outcome_scale(measure, indicator_id, by_measure, overrides)
        panel = attach_integration(
            pd.read_parquet(observations_path), pd.read_parquet(integration_path)
        )
        check_panel(panel, observations_path)
        classification, names = _reference(areas_path, classification_path)
        if model in DID_MODELS:
            exposure = pd.read_parquet(integration_path)
            result, events = fit_did(
                panel, indicator_id, scale, FitSettings(**settings), exposure, names,
                model=model, classification=classification,
            )  # fmt: skip
        else:
            result = fit_indicator(
                panel, indicator_id, model, scale, FitSettings(**settings), measure=measure,
                classification=classification, names=names,
            )  # fmt: skip
            events = []
    payload = {
        "fit": {key: _clean(value) for key, value in result.fit.items()},
        "coefficients": [
            {key: _clean(value) for key, value in row.items()} for row in result.coefficients
        ],
        "event_study": [{key: _clean(value) for key, value in row.items()} for row in events],
    }
    write_json(out_path, payload)
    fit = result.fit
    write_text(
        log_path,
        f"{model} {indicator_id}: status {fit['status']}, n_obs {fit['n_obs']}, "
        f"optimiser {fit['optimiser']}\nmessage: {fit['message']}\nwarnings: {fit['warnings']}\n",
    )
