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
"""

from __future__ import annotations

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
OPTIMISERS = (("lbfgs",), ("powell", "lbfgs"), ("nm", "lbfgs"))
INFERENCE = "Wald z; SE from (X'V^-1X)^-1 at the REML variance estimates"
NOT_REPLICATION = "not in the replication model, which keeps the deprivation level"


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


def fit_mixed(data: ModelData, settings: FitSettings) -> Estimates:
    """Fit the multilevel model, trying further optimisers until one converges.

    The optimisers are tried in the order of ``OPTIMISERS`` (as methods.md recommends: lbfgs,
    then powell followed by lbfgs, then Nelder-Mead followed by lbfgs); the first fit that
    converges with finite standard errors is used, and the optimiser is recorded. If none
    converges the last fit is returned with ``converged=False``.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = data.frame
    terms = [term for term in REGRESSORS if term not in data.not_estimable]
    exog = pd.DataFrame({"const": 1.0} | {term: frame[REGRESSORS[term]] for term in terms})
    exog_re = pd.DataFrame({"const": 1.0, "time10": frame["time10"]})
    model = MixedLM(frame["y"], exog, groups=frame["area_code"], exog_re=exog_re)
    attempts: list[str] = []
    result = None
    used = ""
    for methods in OPTIMISERS:
        name = "+".join(methods)
        try:
            candidate = model.fit(reml=True, method=list(methods))
        except (np.linalg.LinAlgError, ValueError) as err:
            attempts.append(f"{name}: {type(err).__name__}: {err}")
            continue
        result, used = candidate, name
        finite = np.isfinite(np.asarray(candidate.bse_fe)).all()
        if candidate.converged and finite:
            break
        attempts.append(
            f"{name}: did not converge"
            if not candidate.converged
            else f"{name}: standard errors not finite"
        )
    if result is None:
        raise RuntimeError("every optimiser failed: " + "; ".join(attempts))
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
    message = "; ".join(attempts) if attempts else ""
    return Estimates(
        rows=rows,
        notes={**data.not_estimable, "deprivation_trend": NOT_REPLICATION},
        converged=bool(result.converged),
        optimiser=used,
        log_likelihood=float(result.llf),
        r2_within=None,
        inference=INFERENCE,
        message=f"earlier attempts: {message}" if message and result.converged else message,
    )
