"""The registry of estimators: each model's fit function and formula, and the fit of one model.

Kept apart from :mod:`integration_models.models.base` (the types every estimator module uses)
so that the estimator modules import ``base`` and this module imports them, never the other
way round: no import cycle, and a step that needs only the types (the resampling, the tables)
does not depend on, and rerun with, every estimator's code.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from integration_models.models.base import (
    FIT_COLUMNS,
    Estimates,
    FitFunction,
    FitSettings,
    ModelResult,
    empty_row,
    too_little_data,
    warning_text,
    with_identification,
)
from integration_models.models.design import (
    GLM_LINKS,
    TERMS,
    DesignError,
    ModelData,
    NotApplicableError,
    model_data,
)

if TYPE_CHECKING:  # the module is imported lazily, as the estimators are
    from integration_models.inference.identification import Identification


def _mixed(data: ModelData, settings: FitSettings) -> Estimates:
    from integration_models.models.mixed import fit_mixed

    return fit_mixed(data, settings)


def _mixed_year(data: ModelData, settings: FitSettings) -> Estimates:
    from integration_models.models.mixed import fit_mixed

    return fit_mixed(data, settings, year_effects=True)


def _twfe(data: ModelData, settings: FitSettings) -> Estimates:
    from integration_models.models.twfe import fit_twfe

    return fit_twfe(data, settings)


def _glm(data: ModelData, settings: FitSettings) -> Estimates:
    from integration_models.models.glm import fit_glm

    return fit_glm(data, settings)


MODELS: dict[str, tuple[FitFunction, str]] = {
    "mixed": (
        _mixed,
        "y ~ time + integration_full + integration_partial + deprivation + covid + log_density"
        " + (1 + time | area); REML",
    ),
    "mixed_year": (
        _mixed_year,
        "replication variant: y ~ integration_full + integration_partial + deprivation"
        " + log_density + year + (1 + time | area); REML",
    ),
    "glm": (
        _glm,
        "counts and rates: Poisson (PPML), log link, offset log(children 0-17) for counts; "
        "percentages: fractional logit (binomial, weights = denominator); "
        "~ integration_full + integration_partial + deprivation_trend + area + year",
    ),
    "twfe": (
        _twfe,
        "y ~ integration_full + integration_partial + deprivation_trend | area + year"
        " (deprivation_trend = pre-integration deprivation x time)",
    ),
}


def fit_indicator(
    panel: pd.DataFrame,
    indicator_id: str,
    model: str,
    scale: str,
    settings: FitSettings | None = None,
    measure: str | None = None,
    classification: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
) -> ModelResult:
    """Fit one model to one indicator and return tidy rows; never raises on model failure.

    Too little data, a design problem, an exception inside the library or non-convergence are
    all recorded in the fit row (``status`` and ``message``) and every term still gets a row,
    so that nothing is dropped silently.

    Parameters
    ----------
    panel
        The long panel (``panel.parquet``).
    indicator_id
        Which indicator.
    model
        A key of :data:`MODELS`.
    scale
        The outcome scale, ``identity`` or ``log`` (the ``glm`` model uses its link instead).
    settings
        Minimum data and significance level.
    measure
        The indicator's registered measure; the ``glm`` model needs it to pick its family.
    classification, names
        The dated classification and the partnership names, for the identification of the
        integration terms (:func:`integration_models.inference.identification.identification`):
        which partnerships change status within the indicator's years, and whether a change
        rests on an assumed row. Every model's integration rows carry that count
        (``n_identifying_areas``, from the same model rows); below ``settings.min_partnerships``
        the estimate is kept but its standard error, test and interval are withheld and the
        note says ``not identified: ...``.
    """
    settings = settings or FitSettings()
    if model == "glm":
        scale = GLM_LINKS.get(measure or "", "identity")
    function, formula = MODELS[model]
    fit = {column: None for column in FIT_COLUMNS}
    fit.update(indicator_id=indicator_id, model=model, scale=scale, formula=formula)
    fit.update(converged=False, warnings="", message="", optimiser="")
    notes: dict[str, str] = {}
    rows: dict[str, dict] = {}
    inference = ""
    n_obs = n_areas = 0
    try:
        data = model_data(panel, indicator_id, "identity" if model == "glm" else scale, measure)
    except DesignError as err:
        fit.update(status="failed", message=str(err), n_obs=0, n_areas=0, n_years=0)
        data = None
    if data is not None:
        n_obs, n_areas = data.n_obs, data.n_areas
        fit.update(n_obs=n_obs, n_areas=n_areas, n_years=data.n_years)
        fit.update(outcome_mean=float(data.frame["y"].mean()))
        fit.update(outcome_sd=float(data.frame["y"].std()))
        if shortfall := too_little_data(data, settings):
            fit.update(status="skipped", message=shortfall)
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    estimates = function(data, settings)
                except NotApplicableError as err:
                    estimates = None
                    fit.update(status="skipped", message=str(err))
                except Exception as err:  # noqa: BLE001 - any library failure is reported
                    estimates = None
                    fit.update(status="failed", message=f"{type(err).__name__}: {err}")
            fit["warnings"] = warning_text(caught)
            if estimates is not None:
                rows, notes, inference = estimates.rows, estimates.notes, estimates.inference
                standard_errors_ok = all(
                    math.isfinite(row["std_error"]) and row["std_error"] > 0
                    for row in rows.values()
                )
                if not estimates.converged:
                    status = "not_converged"
                elif not standard_errors_ok:
                    status = "failed"
                    estimates.message = (
                        estimates.message or "standard errors not finite or zero (degenerate fit)"
                    )
                else:
                    status = "ok"
                fit.update(
                    status=status,
                    converged=estimates.converged,
                    optimiser=estimates.optimiser,
                    log_likelihood=estimates.log_likelihood,
                    r2_within=estimates.r2_within,
                    message=estimates.message,
                )
    idents = _identifications(data, classification, names)
    result = ModelResult(fit=fit)
    for term in TERMS:
        row = rows.get(term, empty_row(term))
        note = notes.get(term, "")
        if term not in rows and not note:
            note = f"not estimated: model {fit['status']}"
        ident = idents.get(term)
        out = {
            "indicator_id": indicator_id,
            "model": model,
            **row,
            "n_obs": n_obs,
            "n_areas": n_areas,
            "n_identifying_areas": None if ident is None else ident.n_identifying_areas,
            "inference": inference if term in rows else "",
            "scale": scale,
            "note": note,
        }
        if ident is not None and term in rows:  # a term not estimated keeps its own reason
            out = with_identification(out, ident, settings.min_partnerships)
        result.coefficients.append(out)
    return result


def _identifications(
    data: ModelData | None,
    classification: pd.DataFrame | None,
    names: Mapping[str, str] | None,
) -> dict[str, Identification]:
    """Identify each integration term in ``data``'s rows (none without rows)."""
    from integration_models.inference.identification import identification

    if data is None:
        return {}
    return {
        term: identification(data.frame, term, classification, names) for term in INTEGRATION_TERMS
    }


INTEGRATION_TERMS = ("integration_full", "integration_partial")
