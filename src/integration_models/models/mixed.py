"""``mixed``: the replication of the original study's multilevel model.

For area ``i`` and year ``t``, on the outcome's model scale::

    y_it = b0 + b_time * t10_it + b_full * full_it + b_partial * partial_it
           + b_dep * deprivation_it + b_covid * covid_t + b_dens * log(density_it)
           + u0_i + u1_i * t10_it + e_it

with ``t10 = (year - 2016) / 10``, ``(u0_i, u1_i)`` normal with an unstructured 2x2
covariance, ``e_it`` normal, fitted by REML (statsmodels ``MixedLM``). Standard errors of the
fixed effects are ``(X' V^-1 X)^-1`` at the REML variance estimates, as lme4 and nlme report
them (statsmodels' own ``bse_fe`` inverts the joint observed information of all parameters and
differed from lme4 by up to 5% on the demo data; these agree to 0.01%). The random intercept
does not remove stable differences between areas, so ``b_full`` and ``b_partial`` mix
between- and within-area contrasts: this is the replication, not the causal design. The
``time`` term is reported per year (``b_time / 10``).

As the replication of the published model it keeps the yearly deprivation level and log
density, although deprivation changes within areas only by the SIMD edition step at 2020;
the within-area models use the pre-integration baseline times time instead
(``deprivation_trend``), which is not a term here.

``mixed_year`` is a variant of the replication, not of the causal design: the same model with
one fixed effect per year in place of ``b_time * t10`` and ``b_covid * covid`` (both common to
every area in a year), so that a national shock of any shape is not read as a trend. The
random intercept and slope on ``t10`` stay.

The REML optimum is the best of several optimisers (:func:`best_fit`): a single L-BFGS run
stopped short of it on some non-singular fits, 0.04-0.07 SE from lme4's estimates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from integration_models.models.base import Estimates, FitSettings, wald_row
from integration_models.models.design import TIME_UNIT, ModelData

REGRESSORS = {
    "time": "time10",
    "integration_full": "integration_full",
    "integration_partial": "integration_partial",
    "deprivation": "deprivation",
    "covid": "covid",
    "log_density": "log_density",
}
# Gradient optimisers all tried from statsmodels' start; the fit with the highest REML
# log-likelihood is kept. L-BFGS alone stopped early on some non-singular fits (0.13 log-lik
# units short of lme4's optimum, standard errors 4% off), BFGS or CG on others.
OPTIMISERS = (("lbfgs",), ("bfgs",), ("cg",))
# Tried only when none of OPTIMISERS converges (methods.md section 3).
FALLBACKS = (("powell", "lbfgs"), ("nm", "lbfgs"))
# Log-likelihoods this close count as the same optimum; the earlier optimiser is kept.
SAME_OPTIMUM = 1e-8
INFERENCE = "Wald z; SE from (X'V^-1X)^-1 at the REML variance estimates"
NOT_REPLICATION = "not in the replication model, which keeps the deprivation level"
ABSORBED_BY_YEAR = "absorbed by the year effects"


def gls_covariance(
    exog: pd.DataFrame, exog_re: pd.DataFrame, groups: pd.Series, cov_re: np.ndarray, scale: float
) -> np.ndarray:
    """Return ``(X' V^-1 X)^-1`` with ``V_i = Z_i G Z_i' + scale * I`` for each area ``i``."""
    x = exog.to_numpy(dtype=float)
    z = exog_re.to_numpy(dtype=float)
    information = np.zeros((x.shape[1], x.shape[1]))
    for rows in groups.groupby(groups, sort=True).indices.values():
        xi, zi = x[rows], z[rows]
        v = zi @ cov_re @ zi.T + scale * np.eye(len(rows))
        information += xi.T @ np.linalg.solve(v, xi)
    return np.linalg.inv(information)


@dataclass
class Attempt:
    """One optimiser's fit: the statsmodels result (or None), its warnings and why it failed."""

    name: str
    result: Any = None
    caught: list[warnings.WarningMessage] = field(default_factory=list)
    failure: str = ""

    @property
    def usable(self) -> bool:
        """Converged, with a finite REML log-likelihood and finite standard errors."""
        return not self.failure

    @property
    def llf(self) -> float:
        """The REML log-likelihood, minus infinity when the attempt is not usable."""
        return float(self.result.llf) if self.usable else -np.inf


def _attempt(model: Any, methods: tuple[str, ...]) -> Attempt:
    """Fit by REML with one optimiser chain, holding back its warnings (see :func:`_emit`)."""
    attempt = Attempt("+".join(methods))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            attempt.result = model.fit(reml=True, method=list(methods))
        except (np.linalg.LinAlgError, ValueError) as err:
            attempt.failure = f"{type(err).__name__}: {err}"
    attempt.caught = list(caught)
    result = attempt.result
    if result is None:
        return attempt
    if not result.converged:
        attempt.failure = "did not converge"
    elif not np.isfinite(float(result.llf)):
        attempt.failure = "REML log-likelihood not finite"
    elif not np.isfinite(np.asarray(result.bse_fe)).all():
        attempt.failure = "standard errors not finite"
    return attempt


def _emit(attempt: Attempt) -> None:
    """Re-raise the kept fit's warnings, as if the fit had run alone (the others' are noise)."""
    for caught in attempt.caught:
        warnings.warn_explicit(caught.message, caught.category, caught.filename, caught.lineno)


def best_fit(model: Any) -> tuple[Attempt, list[Attempt]]:
    """Fit with every optimiser of :data:`OPTIMISERS` and keep the highest REML log-likelihood.

    Why: a single quasi-Newton run can stop short of the REML optimum while reporting
    convergence, and the fixed effects' standard errors depend on the variance components
    found there; the best of several optimisers is the optimum lme4 finds. When none of them
    converges, :data:`FALLBACKS` are tried in turn (the first usable one is kept). Returns
    the kept attempt (the last tried if none is usable) and every attempt, in order.
    """
    attempts = [_attempt(model, methods) for methods in OPTIMISERS]
    usable = [attempt for attempt in attempts if attempt.usable]
    if not usable:
        for methods in FALLBACKS:
            attempts.append(_attempt(model, methods))
            if attempts[-1].usable:
                usable = [attempts[-1]]
                break
    if not usable:
        tried = [attempt for attempt in attempts if attempt.result is not None]
        return (tried[-1] if tried else attempts[-1]), attempts
    top = max(attempt.llf for attempt in usable)
    kept = next(attempt for attempt in usable if attempt.llf >= top - SAME_OPTIMUM)
    return kept, attempts


def _optimiser_message(kept: Attempt, attempts: list[Attempt]) -> str:
    """Say which optimisers were tried, their REML log-likelihoods and which fit was kept."""
    parts = [
        f"{attempt.name} {attempt.llf:.6f}"
        if attempt.usable
        else f"{attempt.name}: {attempt.failure}"
        for attempt in attempts
    ]
    return f"REML log-likelihood by optimiser: {'; '.join(parts)}; kept {kept.name}"


def fixed_effects(data: ModelData, year_effects: bool) -> tuple[pd.DataFrame, list[str], dict]:
    """Return the fixed-effect columns, the reported terms and the notes of terms left out.

    With ``year_effects`` the linear ``time`` trend and ``covid`` (a share that is the same
    for every area in a year) give way to one dummy per year but the first, so common shocks
    of any shape are absorbed rather than read as change over time.
    """
    frame = data.frame
    notes = {**data.not_estimable, "deprivation_trend": NOT_REPLICATION}
    left_out = set(data.not_estimable)
    if year_effects:
        notes |= {"time": ABSORBED_BY_YEAR, "covid": ABSORBED_BY_YEAR}
        left_out |= {"time", "covid"}
    terms = [term for term in REGRESSORS if term not in left_out]
    columns = {"const": np.ones(len(frame))} | {t: frame[REGRESSORS[t]] for t in terms}
    exog = pd.DataFrame(columns, index=frame.index)
    if year_effects:
        years = pd.get_dummies(frame["year"], prefix="year", drop_first=True, dtype=float)
        exog = pd.concat([exog, years], axis=1)
    return exog, terms, notes


def fit_mixed(data: ModelData, settings: FitSettings, year_effects: bool = False) -> Estimates:
    """Fit the multilevel model with several optimisers and keep the best REML optimum.

    See :func:`best_fit`. The kept optimiser is recorded in ``optimiser`` and every
    attempt's REML log-likelihood in ``message``; only the kept fit's warnings are raised.
    With ``year_effects`` (the ``mixed_year`` replication variant) year dummies replace the
    linear trend and ``covid`` (:func:`fixed_effects`); the random intercept and slope on
    ``time10`` stay.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = data.frame
    exog, terms, notes = fixed_effects(data, year_effects)
    exog_re = pd.DataFrame({"const": 1.0, "time10": frame["time10"]})
    model = MixedLM(frame["y"], exog, groups=frame["area_code"], exog_re=exog_re)
    kept, attempts = best_fit(model)
    result = kept.result
    if result is None:
        raise RuntimeError("every optimiser failed: " + _optimiser_message(kept, attempts))
    _emit(kept)
    covariance = gls_covariance(
        exog, exog_re, frame["area_code"], np.asarray(result.cov_re), float(result.scale)
    )
    standard_errors = dict(zip(exog.columns, np.sqrt(np.diag(covariance)), strict=True))
    rows = {}
    for term in terms:
        scale = 1 / TIME_UNIT if term == "time" else 1.0
        estimate = float(result.fe_params[term]) * scale
        se = float(standard_errors[term]) * scale
        rows[term] = {"term": term, **wald_row(estimate, se, settings.alpha)}
    return Estimates(
        rows=rows,
        notes=notes,
        converged=bool(result.converged),
        optimiser=kept.name,
        log_likelihood=float(result.llf),
        r2_within=None,
        inference=INFERENCE,
        message=_optimiser_message(kept, attempts),
    )
