"""``glm``: the integration effects on the outcome's natural scale, not on a linear one.

Counts and rates are modelled by Poisson pseudo-maximum likelihood (PPML) with a log link,
area and year dummies, and for counts an offset ``log(children aged 0-17)`` so that the
coefficients are changes in the rate per child; percentages by a fractional logit (binomial
family on ``value / 100``, weighted by the denominator where the source gives one)::

    E[y_it] = exp(a_i + g_t + b_full * full_it + b_partial * partial_it
                  + b_trend * deprivation0_i * t10_t + offset_it)
    E[y_it / 100] = logistic(a_i + g_t + ...)

With area and year effects this is a within-area model, so it has the regressors of ``twfe``
(:func:`~integration_models.models.twfe.estimable_terms`): the pre-integration deprivation
baseline times time, not the edition-switching yearly deprivation nor log density.

Neither assumes the outcome is normal or that effects are additive on a linear scale; both
are consistent if only the mean is right (quasi-likelihood). Standard errors are clustered by
area (statsmodels' cluster correction ``G/(G-1)*(N-1)/(N-K)``), with p-values and intervals
from t with ``G - 1`` degrees of freedom, as for ``twfe``. Means (e.g. costs) have no such
family here and are skipped with that reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from integration_models.models.base import Estimates, FitSettings
from integration_models.models.design import GLM_LINKS, ModelData, NotApplicableError
from integration_models.models.twfe import cluster_t_rows, estimable_terms, without_baseline


def fit_glm(data: ModelData, settings: FitSettings) -> Estimates:
    """Fit PPML (counts, rates) or fractional logit (percentages) with area and year effects."""
    import statsmodels.api as sm

    link = GLM_LINKS.get(data.measure or "")
    if link is None:
        raise NotApplicableError(
            f"no GLM family for measure '{data.measure}' (only counts, rates and percentages)"
        )
    frame = data.frame
    terms, notes = estimable_terms(data)
    dummies = pd.get_dummies(frame[["area_code", "year"]].astype(str), drop_first=True)
    exog = pd.concat([frame[terms], dummies.astype(float)], axis=1)
    exog.insert(0, "const", 1.0)
    kwargs = {}
    if link == "log":
        endog = frame["value"]
        family = sm.families.Poisson()
        if data.measure == "count":
            kwargs["offset"] = np.log(frame["population_0_17"].to_numpy())
    else:
        endog = frame["value"] / 100
        family = sm.families.Binomial()
        weights = frame["denominator"]
        if weights.notna().all() and (weights > 0).all():
            kwargs["var_weights"] = weights.to_numpy()
    groups = pd.factorize(frame["area_code"])[0]
    model = sm.GLM(endog, exog, family=family, **kwargs)
    result = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    weighted = " weighted by denominator" if "var_weights" in kwargs else ""
    family_name = "Poisson (PPML)" if link == "log" else f"fractional logit{weighted}"
    return Estimates(
        rows=cluster_t_rows(result.params, result.bse, terms, data.n_areas, settings),
        notes=notes,
        converged=bool(result.converged),
        optimiser=f"IRLS, {family_name}",
        log_likelihood=float(result.llf),
        r2_within=None,
        inference="CRV1 by area, G/(G-1)*(N-1)/(N-K); t(G-1); GLM quasi-likelihood",
        message=without_baseline(notes),
    )
