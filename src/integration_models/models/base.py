"""What every model returns: the coefficient and fit rows, settings, and their shared helpers."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from integration_models.models.design import ModelData

if TYPE_CHECKING:  # only the type: base imports no inference module
    from integration_models.inference.identification import Identification

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
    "n_identifying_areas",
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
    # the analysis plan's identification.min_partnerships: an integration term is reported
    # with a p-value and interval only where at least this many partnerships change status
    min_partnerships: int = 2


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


def too_little_data(data: ModelData, settings: FitSettings) -> str:
    """Say why ``data`` has too few years or areas to fit under ``settings`` ("" if enough)."""
    if data.n_years < settings.min_years or data.n_areas < settings.min_areas:
        return (
            f"too little data: {data.n_years} years and {data.n_areas} areas "
            f"(needs at least {settings.min_years} years and {settings.min_areas} areas)"
        )
    return ""


INFERENCE_NUMBERS = ("std_error", "statistic", "p_value", "conf_low", "conf_high")


def withhold_inference(row: dict, reason: str) -> dict:
    """Return ``row`` with its estimate kept and its inference withheld, saying why.

    For a term identified by fewer partnerships than the plan's ``min_partnerships``
    (:meth:`~integration_models.inference.identification.Identification.reason`): no
    cluster-robust standard error, test or interval is valid with one identifying cluster,
    so ``std_error``, ``statistic``, ``p_value`` and the interval become NaN and ``note``
    starts with ``reason``.
    """
    out = {**row, **dict.fromkeys(INFERENCE_NUMBERS, math.nan)}
    note = str(row.get("note") or "")
    out["note"] = f"{reason}; {note}" if note else reason
    return out


def with_identification(row: dict, ident: Identification, min_partnerships: int) -> dict:
    """Withhold a term's inference below ``min_partnerships``; mark an assumed change.

    The estimate stays (it is what the fit computed); ``inference`` is emptied so no reader
    takes the withheld row for a test.
    """
    if not ident.identified(min_partnerships):
        row = withhold_inference(row, ident.reason(min_partnerships))
        row["inference"] = ""
    elif ident.rests_on_assumed:
        assumed = ", ".join(
            name
            for code, name in zip(ident.partnerships, ident.names, strict=True)
            if code in ident.assumed
        )
        flag = f"identifying change rests on an assumed classification row ({assumed})"
        row["note"] = f"{row['note']}; {flag}" if row["note"] else flag
    return row


FIT_LIBRARIES = (
    "statsmodels",
    "linearmodels",
    "scipy",
    "numpy",
    "diff_diff",
    "integration_models",
)


def _about_the_fit(caught: warnings.WarningMessage) -> bool:
    """Keep warnings raised by the model code; drop deprecation notices and other threads'.

    In the workflow, fits run as threads of the Snakemake process, whose scheduler raises
    its own warnings meanwhile; ``catch_warnings`` would record those too.
    """
    if issubclass(caught.category, (DeprecationWarning, PendingDeprecationWarning)):
        return False
    parts = str(caught.filename).replace("\\", "/").split("/")
    return any(library in parts for library in FIT_LIBRARIES)


def warning_text(caught: list[warnings.WarningMessage]) -> str:
    """Return the distinct warnings a fit raised (:func:`_about_the_fit`), joined by `` | ``."""
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught if _about_the_fit(w)})
    return " | ".join(messages)


def failed_result(model: str, indicator_id: str, scale: str, category: str, **specific) -> dict:
    """Return what a did model gives before estimating: status ``failed``, no message.

    The keys every did model's result opens with, then ``specific`` (the model's own keys with
    their empty values, in the model's order).
    """
    return {
        "model": model,
        "indicator_id": indicator_id,
        "category": category,
        "scale": scale,
        "status": "failed",
        "message": "",
        "method": "",
        "fallback": "",
        **specific,
    }


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
