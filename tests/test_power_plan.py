"""Power of the plan's test and of the pre-trend test (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from integration_models.inference.cluster import (
    cr2_bell_mccaffrey,
    crv1,
    webb_weights,
    wild_cluster_bootstrap,
)
from integration_models.inference.design import (
    _influence,
    design_from_arrays,
    design_from_model_data,
)
from integration_models.inference.power import (
    PLAN_TEST_LABELS,
    POWER_COLUMNS,
    PlanTest,
    _null_replicates,
    cr2_residuals,
    event_study_design,
    exact_mde,
    mde_plan_test,
    power_table,
    pretrend_mde_slope,
    pretrend_replicates,
    wcr_replicates,
)
from integration_models.models.design import model_data

FULL = "integration_full"


@pytest.fixture(scope="module")
def panel(demo_panel) -> pd.DataFrame:
    return demo_panel


@pytest.fixture(scope="module")
def demo(panel):
    indicator = sorted(panel["indicator_id"].unique())[0]
    return design_from_model_data(model_data(panel, indicator, "identity"))


def _split(design, values):
    out = np.zeros((design.n_obs, design.n_clusters))
    out[np.arange(design.n_obs), design.cluster] = values
    return out


def test_vectorised_wcr_of_replicates_equals_the_bootstrap_of_each(demo):
    design, y = demo
    weights = webb_weights(design.n_clusters, 6, 1)
    draws = webb_weights(design.n_clusters, 199, 2)
    reps = wcr_replicates(design, y, FULL, weights, draws)
    j = design.terms.index(FULL)
    e = _split(design, cr2_residuals(design, y))
    area_level = np.arange(design.n_clusters, dtype=float)[design.cluster]  # in the null fit
    for delta in (0.0, 0.8, 2.5):
        direct = [
            wild_cluster_bootstrap(
                design, area_level + e @ weights[:, r] + delta * design.treat[:, j], weights=draws
            ).p_value[0, j]
            for r in range(weights.shape[1])
        ]
        np.testing.assert_allclose(reps.p_values(delta), direct)


def test_plan_test_mde_crv1_and_cr2(demo):
    design, y = demo
    weights = webb_weights(design.n_clusters, 400, 3)
    plan = PlanTest("crv1", np.empty((design.n_clusters, 0)), 0)
    beta0, se = _null_replicates(design, y, FULL, weights, "cr2")
    crit = stats.t.ppf(0.975, design.n_clusters - 1)
    nominal = exact_mde(beta0, se, crit, 0.8)
    assert mde_plan_test(design, y, FULL, weights, plan, None, alpha=0.05, power=0.8) == nominal
    cr2 = PlanTest("cr2", plan.draws_all, 0)
    mde = mde_plan_test(design, y, FULL, weights, cr2, None, alpha=0.05, power=0.8)
    # the power of the CR2 test at the MDE, directly from the replicates' CR2 fits
    j = design.terms.index(FULL)
    reps = _split(design, cr2_residuals(design, y)) @ weights
    for delta, expect in ((mde * (1 + 1e-9), True), (0.99 * mde, False)):  # power just past it
        result = cr2_bell_mccaffrey(design, reps + delta * design.treat[:, [j]])
        rate = (result.p_value[:, j] < 0.05).mean()
        assert (rate >= 0.8) == expect


def test_plan_test_mde_wcr_is_where_its_power_reaches_the_target(demo):
    design, y = demo
    weights = webb_weights(design.n_clusters, 300, 4)
    draws = webb_weights(design.n_clusters, 199, 5)
    plan = PlanTest("wcr", draws, 0)
    mde = mde_plan_test(design, y, FULL, weights, plan, draws, alpha=0.05, power=0.8)
    reps = wcr_replicates(design, y, FULL, weights, draws)
    assert (reps.p_values(mde) <= 0.05).mean() >= 0.8
    assert (reps.p_values(0.99 * mde) <= 0.05).mean() < 0.8


def test_wcr_mde_close_to_crv1_with_many_balanced_clusters():
    """40 balanced clusters, 20 treated, iid errors: WCR and CRV1 have about the same power."""
    rng = np.random.default_rng(8)
    n_areas, n_years = 40, 8
    area = np.repeat([f"A{g:02d}" for g in range(n_areas)], n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_areas)
    d = ((np.repeat(np.arange(n_areas), n_years) < 20) & (year >= 2014)).astype(float)
    design = design_from_arrays(area, year, {FULL: d}, {})
    y = rng.normal(size=design.n_obs)
    weights = webb_weights(n_areas, 500, 1)
    draws = webb_weights(n_areas, 199, 2)
    crv1_mde = mde_plan_test(
        design, y, FULL, weights, PlanTest("crv1", draws, 0), None, alpha=0.05, power=0.8
    )
    wcr_mde = mde_plan_test(
        design, y, FULL, weights, PlanTest("wcr", draws, 0), draws, alpha=0.05, power=0.8
    )
    assert abs(wcr_mde / crv1_mde - 1) < 0.1


def _naive_wald(design, y, trend, slope):
    """Joint CRV1 Wald of the leads by a direct fit of the event-study design."""
    es, _ = event_study_design(design)
    leads = [i for i, t in enumerate(es.terms) if t.startswith("lead_")]
    outcome = y + slope * trend
    w = _influence(es)
    b = w.T @ outcome
    resid = es.residualise_full(outcome[:, None])[:, 0]
    scores = es.cluster_sum(w * resid[:, None])[:, leads]
    cov = es.crv1_factor * scores.T @ scores
    assert np.allclose(b[leads], crv1(es, outcome).estimate[0, leads])
    return b[leads] @ np.linalg.solve(cov, b[leads])


def test_pretrend_wald_of_replicates_equals_direct_fits(demo):
    design, y = demo
    weights = webb_weights(design.n_clusters, 3, 6)
    replicates = pretrend_replicates(design, y, weights)
    es, trend = event_study_design(design)
    assert replicates.q == sum(t.startswith("lead_") for t in es.terms) >= 2
    e = _split(es, cr2_residuals(es, y))
    for slope in (0.0, 0.3):
        direct = [_naive_wald(design, e @ weights[:, r], trend, slope) for r in range(3)]
        np.testing.assert_allclose(replicates.wald(slope), direct, rtol=1e-8)


def test_pretrend_mde_reaches_its_power_and_scales_with_the_noise(demo):
    design, y = demo
    weights = webb_weights(design.n_clusters, 500, 7)
    slope = pretrend_mde_slope(design, y, weights, alpha=0.05, power=0.8)
    replicates = pretrend_replicates(design, y, weights)
    assert replicates.rate(slope, 0.05) >= 0.8 > replicates.rate(0.99 * slope, 0.05)
    doubled = pretrend_mde_slope(design, 2 * y, weights, alpha=0.05, power=0.8)
    np.testing.assert_allclose(doubled, 2 * slope, rtol=5e-3)


def test_power_table_reports_the_plan_test(panel):
    ids = sorted(panel["indicator_id"].unique())[:2]
    table = power_table(panel, ids, {}, reps=300, seed=2, test="wcr")
    assert list(table.columns) == POWER_COLUMNS
    estimated = table.dropna(subset=["mde"])
    assert (estimated["test"] == PLAN_TEST_LABELS["wcr"]).all()
    assert (estimated["mde_plan_test"] > 0).all() and (estimated["pretrend_mde_slope"] > 0).all()
    again = power_table(panel, ids, {}, reps=300, seed=2, test="wcr")
    pd.testing.assert_frame_equal(table, again)
    nominal = power_table(panel, ids, {}, reps=300, seed=2)
    pd.testing.assert_series_equal(table["mde"], nominal["mde"])  # the replicates are unchanged
    assert (nominal["mde_plan_test"].dropna() == nominal["mde"].dropna()).all()
    with pytest.raises(ValueError, match="unknown test"):
        power_table(panel, ids, {}, reps=10, test="t")
