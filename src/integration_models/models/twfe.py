"""``twfe``: the two-way fixed effects panel model, clustered by council area (or partnership).

For area ``i`` and year ``t``, on the outcome's model scale::

    y_it = a_i + g_t + b_full * full_it + b_partial * partial_it
           + b_trend * deprivation0_i * t10_t + e_it

fitted by linearmodels ``PanelOLS`` with area and year effects. Only change within an area,
relative to the same year elsewhere, identifies the integration terms (a difference-in-
differences under parallel trends). ``time`` and ``covid`` are absorbed by the year effects and
reported as such; a covariate constant within every area is absorbed by the area effects.

``deprivation0_i`` is the area's deprivation in the baseline year before integration
(``deprivation_trend``, see :data:`~integration_models.models.design.WITHIN_AREA_CONTROLS`):
areas of different deprivation may follow different linear trends. The yearly
``deprivation`` series is left out because within an area it changes (in the real data) only
by the SIMD edition step at 2020, partly built from post-integration outcomes; ``log_density``
because it varies within areas only by interpolation and census rebasing. The replication
``mixed`` model keeps both levels; the sensitivity analysis adds log density back and drops
all covariates.

Standard errors: CRV1 clustered by area with the small-sample factor
``G/(G-1) * (N-1)/(N-K)``, ``K`` counting the area and year effects (linearmodels
``debiased=True, group_debias=True``; Stata's ``regress ... i.area i.year, vce(cluster area)``).
p-values and intervals use Student's t with ``G - 1`` degrees of freedom, because the number
of clusters, not of observations, limits the information. For a data-zone panel the clusters
are the partnerships, the level integration is assigned at (:attr:`ModelData.cluster_column`).
"""

from __future__ import annotations

import pandas as pd

from integration_models.models.base import Estimates, FitSettings, wald_row
from integration_models.models.design import WITHIN_AREA_CONTROLS, ModelData

CANDIDATES = ("integration_full", "integration_partial", *WITHIN_AREA_CONTROLS)
INFERENCE = "CRV1 by {level}, G/(G-1)*(N-1)/(N-K) with K incl. fixed effects; t(G-1)"
LEVEL_NAMES = {"area_code": "area", "hscp_code": "partnership"}
ABSORBED_BY_YEAR = "absorbed by the year effects"
NOT_WITHIN_AREA = {
    "deprivation": (
        "not in the within-area model: the yearly series changes within areas only by the "
        "SIMD edition step; deprivation_trend (baseline x time) is used instead"
    ),
    "log_density": (
        "not in the within-area model: varies within areas only by interpolation and census "
        "rebasing (sensitivity variant log_density adds it)"
    ),
}


def _varies_within_areas(frame: pd.DataFrame, column: str) -> bool:
    grouped = frame.groupby("area_code", sort=False)[column]
    return bool(((grouped.max() - grouped.min()) > 1e-10).any())


def estimable_terms(data: ModelData) -> tuple[list[str], dict[str, str]]:
    """Return the regressors a two-way fixed effects model can estimate, and notes on the rest.

    ``time`` and ``covid`` are absorbed by the year effects; a candidate constant within
    every area by the area effects; terms the design already ruled out keep their note;
    ``deprivation`` and ``log_density`` are not within-area regressors (:data:`NOT_WITHIN_AREA`).
    """
    notes = dict(data.not_estimable)
    notes["time"] = ABSORBED_BY_YEAR
    notes["covid"] = ABSORBED_BY_YEAR
    notes.update(NOT_WITHIN_AREA)
    terms = []
    for term in CANDIDATES:
        if term in notes:
            continue
        if not _varies_within_areas(data.frame, term):
            notes[term] = "absorbed by the area effects (constant within each area)"
            continue
        terms.append(term)
    return terms, notes


def cluster_t_rows(
    params: pd.Series,
    std_errors: pd.Series,
    terms: list[str],
    clusters: int,
    settings: FitSettings,
) -> dict[str, dict]:
    """Tidy rows with p-values and intervals from Student's t with ``clusters - 1`` df."""
    rows = {}
    for term in terms:
        estimate, se = float(params[term]), float(std_errors[term])
        rows[term] = {"term": term, **wald_row(estimate, se, settings.alpha, clusters - 1)}
    return rows


def fit_twfe(data: ModelData, settings: FitSettings) -> Estimates:
    """Fit the two-way fixed effects model with cluster-robust standard errors.

    Clusters are the areas, or for a data-zone panel the partnerships.
    """
    from linearmodels.panel import PanelOLS

    frame = data.frame
    terms, notes = estimable_terms(data)
    indexed = frame.set_index(["area_code", "year"])
    model = PanelOLS(indexed["y"], indexed[terms], entity_effects=True, time_effects=True)
    codes, labels = pd.factorize(frame[data.cluster_column])
    result = model.fit(
        cov_type="clustered",
        clusters=pd.DataFrame({"cluster": codes}, index=indexed.index),
        debiased=True,
        group_debias=True,
    )
    return Estimates(
        rows=cluster_t_rows(result.params, result.std_errors, terms, len(labels), settings),
        notes=notes,
        converged=True,
        optimiser="closed form (least squares)",
        log_likelihood=float(result.loglik),
        r2_within=float(result.rsquared_within),
        inference=INFERENCE.format(level=LEVEL_NAMES[data.cluster_column]),
        message=without_baseline(notes),
    )


def without_baseline(notes: dict[str, str]) -> str:
    """Return the fit's message when ``deprivation_trend`` could not be formed (or "")."""
    note = notes.get("deprivation_trend", "")
    return f"fitted without deprivation_trend: {note}" if note.startswith("not estimable") else ""
