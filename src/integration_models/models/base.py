"""What every model returns, and the dispatch from a model name to its fitting function."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from integration_models.models.design import (
    GLM_LINKS,
    TERMS,
    DesignError,
    ModelData,
    NotApplicableError,
    model_data,
)

COEFFICIENT_COLUMNS = [
    "indicator_id",
    "model",
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "n_obs",
    "n_areas",
    "inference",
    "scale",
    "note",
]
FIT_COLUMNS = [
    "indicator_id",
    "model",
    "n_obs",
    "n_areas",
    "n_years",
    "converged",
    "status",
    "message",
    "optimiser",
    "log_likelihood",
    "r2_within",
    "outcome_mean",
    "outcome_sd",
    "scale",
    "formula",
    "warnings",
]
STATUSES = ("ok", "not_converged", "failed", "skipped")


@dataclass
class ModelResult:
    """Tidy output of one model on one indicator: a row per term and one fit row."""

    coefficients: list[dict] = field(default_factory=list)
    fit: dict = field(default_factory=dict)

    def coefficient_frame(self) -> pd.DataFrame:
        """Return the coefficient rows with the contract's columns, in term order."""
        return pd.DataFrame(self.coefficients, columns=COEFFICIENT_COLUMNS)


@dataclass(frozen=True)
class FitSettings:
    """Configuration that every model reads."""

    min_years: int = 3
    min_areas: int = 10
    alpha: float = 0.05


@dataclass
class Estimates:
    """What a model-specific fitting function returns to :func:`fit_indicator`."""

    rows: dict[str, dict]
    notes: dict[str, str]
    converged: bool
    optimiser: str
    log_likelihood: float | None
    r2_within: float | None
    inference: str
    message: str = ""


FitFunction = Callable[[ModelData, FitSettings], Estimates]


def wald_row(estimate: float, se: float, alpha: float, df: float | None = None) -> dict:
    """Return an estimate with its Wald statistic, two-sided p-value and interval.

    Parameters
    ----------
    estimate, se
        The estimate and its standard error; a standard error that is not positive gives no
        statistic (NaN), and so no p-value.
    alpha
        The interval covers ``1 - alpha``.
    df
        Degrees of freedom of Student's t as the reference distribution; None for the
        standard normal.

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``statistic``, ``p_value``, ``conf_low``, ``conf_high``.
    """
    from scipy import stats

    statistic = estimate / se if se > 0 else math.nan
    if df is None:
        crit, tail = stats.norm.ppf(1 - alpha / 2), stats.norm.sf(abs(statistic))
    else:
        crit, tail = stats.t.ppf(1 - alpha / 2, df), stats.t.sf(abs(statistic), df)
    return {
        "estimate": estimate,
        "std_error": se,
        "statistic": statistic,
        "p_value": float(2 * tail),
        "conf_low": estimate - crit * se,
        "conf_high": estimate + crit * se,
    }


def _mixed(data: ModelData, settings: FitSettings) -> Estimates:
    from integration_models.models.mixed import fit_mixed

    return fit_mixed(data, settings)


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


FIT_LIBRARIES = ("statsmodels", "linearmodels", "scipy", "numpy", "integration_models")


def _about_the_fit(caught: warnings.WarningMessage) -> bool:
    """Keep warnings raised by the model code; drop deprecation notices and other threads'.

    In the workflow, fits run as threads of the Snakemake process, whose scheduler raises
    its own warnings meanwhile; ``catch_warnings`` would record those too.
    """
    if issubclass(caught.category, (DeprecationWarning, PendingDeprecationWarning)):
        return False
    parts = str(caught.filename).replace("\\", "/").split("/")
    return any(library in parts for library in FIT_LIBRARIES)


def too_little_data(data: ModelData, settings: FitSettings) -> str:
    """Say why ``data`` has too few years or areas to fit under ``settings`` ("" if enough)."""
    if data.n_years < settings.min_years or data.n_areas < settings.min_areas:
        return (
            f"too little data: {data.n_years} years and {data.n_areas} areas "
            f"(needs at least {settings.min_years} years and {settings.min_areas} areas)"
        )
    return ""


def empty_row(term: str) -> dict:
    """Return a term's row with no numbers."""
    return {
        "term": term,
        "estimate": math.nan,
        "std_error": math.nan,
        "statistic": math.nan,
        "p_value": math.nan,
        "conf_low": math.nan,
        "conf_high": math.nan,
    }


def fit_indicator(
    panel: pd.DataFrame,
    indicator_id: str,
    model: str,
    scale: str,
    settings: FitSettings | None = None,
    measure: str | None = None,
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
            messages = sorted(
                {f"{w.category.__name__}: {w.message}" for w in caught if _about_the_fit(w)}
            )
            fit["warnings"] = " | ".join(messages)
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
    result = ModelResult(fit=fit)
    for term in TERMS:
        row = rows.get(term, empty_row(term))
        note = notes.get(term, "")
        if term not in rows and not note:
            note = f"not estimated: model {fit['status']}"
        result.coefficients.append(
            {
                "indicator_id": indicator_id,
                "model": model,
                **row,
                "n_obs": n_obs,
                "n_areas": n_areas,
                "inference": inference if term in rows else "",
                "scale": scale,
                "note": note,
            }
        )
    return result
