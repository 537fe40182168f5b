"""Equivalence (issue 15): the plan's test inverted for its interval, and the TOST."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from integration_models.inference.cluster import (
    webb_weights,
    wild_cluster_bootstrap,
)
from integration_models.inference.design import design_from_arrays, design_from_model_data
from integration_models.inference.equivalence import (
    EQUIVALENCE_COLUMNS,
    RiTest,
    TTest,
    WcrTest,
    _shared_draws,
    combine_equivalence,
    equivalence_rows,
    equivalence_test,
    invert,
    make_test,
    reference_sd,
)
from integration_models.inference.permutation import (
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.table import few_cluster_rows, period_key_of
from integration_models.models.design import model_data
from integration_models.plan.analysis_plan import load_plan
from integration_models.results.schemas import TABLES
from integration_models.results.stamp import STAMP_COLUMNS
from tests.conftest import REPO

FULL = "integration_full"


@pytest.fixture(scope="module")
def panel(demo_panel) -> pd.DataFrame:
    return demo_panel


@pytest.fixture(scope="module")
def demo(panel):
    indicator = sorted(panel["indicator_id"].unique())[0]
    design, y = design_from_model_data(model_data(panel, indicator, "identity"))
    return indicator, design, y


def _balanced(n_areas: int, n_years: int, treated: int, seed: int, beta: float = 0.0):
    """A balanced panel: ``treated`` areas integrated from the middle year; truth ``beta``."""
    rng = np.random.default_rng(seed)
    area = np.repeat([f"A{g:03d}" for g in range(n_areas)], n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_areas)
    start = 2010 + n_years // 2
    d = ((np.repeat(np.arange(n_areas), n_years) < treated) & (year >= start)).astype(float)
    design = design_from_arrays(area, year, {FULL: d}, {})
    effects = rng.normal(size=n_areas)[design.cluster] + 0.1 * (year - 2010)
    return design, effects, d, rng, beta


def test_wcr_shift_equals_the_bootstrap_of_the_shifted_outcome(demo):
    _, design, y = demo
    j = design.terms.index(FULL)
    weights = webb_weights(design.n_clusters, 499, 3)
    test = WcrTest(design, y, j, weights)
    shifts = np.array([-1.0, 0.0, 0.4])
    d = design.treat[:, j]
    direct = [wild_cluster_bootstrap(design, y - c * d, weights=weights) for c in shifts]
    np.testing.assert_allclose(
        test.p_values(shifts, ("two",) * 3), [r.p_value[0, j] for r in direct]
    )
    _, draws = test.statistics(shifts)
    np.testing.assert_allclose(draws[:, 1], direct[1].draws[:, 0, j], rtol=1e-9)


def test_wcr_interval_ends_cross_alpha_within_the_tolerance(demo):
    _, design, y = demo
    test = make_test(design, y, FULL, "wcr", weights=webb_weights(design.n_clusters, 999, 5))
    result = equivalence_test(test, 0.05, bound=0.5)
    tol = result.tolerance
    assert 0 < tol < 1e-3 * test.std_error
    low, high = result.conf_low, result.conf_high
    assert low < result.estimate < high
    p = test.p_values(np.array([low, low - tol, high, high + tol]), ("two",) * 4)
    assert p[0] > 0.05 >= p[1]  # not rejected at the end, rejected just beyond it
    assert p[2] > 0.05 >= p[3]
    assert abs(p[0] - 0.05) <= 2 / 1000 and abs(p[2] - 0.05) <= 2 / 1000
    # the 1 - 2 alpha interval: the one-sided tests cross alpha at its ends
    low2, high2 = result.tost_low, result.tost_high
    one = test.p_values(
        np.array([low2, low2 - tol, high2, high2 + tol]), ("greater", "greater", "less", "less")
    )
    assert one[0] > 0.05 >= one[1] and one[2] > 0.05 >= one[3]
    assert low < result.tost_low < result.tost_high < high


def test_wcr_interval_covers_the_truth_at_its_level_with_many_clusters():
    """60 balanced clusters (30 treated): coverage of the inverted WCR interval ~ 1 - alpha."""
    design, effects, d, rng, beta = _balanced(60, 8, 30, seed=2, beta=0.3)
    weights = webb_weights(design.n_clusters, 199, 9)
    j = design.terms.index(FULL)
    n_sim, alpha, covered = 250, 0.1, 0
    for _ in range(n_sim):
        y = effects + beta * d + rng.normal(size=design.n_obs)
        test = WcrTest(design, y, j, weights)
        half = 1.7 * test.std_error
        low, high = invert(test, alpha, ("two", "two"), half, 1e-2 * test.std_error)
        covered += low <= beta <= high
    coverage = covered / n_sim
    mc_se = np.sqrt(alpha * (1 - alpha) / n_sim)
    assert abs(coverage - (1 - alpha)) <= 3 * mc_se, coverage


def test_inverting_a_t_test_recovers_its_closed_form_interval(demo):
    _, design, y = demo
    test = make_test(design, y, FULL, "crv1")
    assert isinstance(test, TTest)
    tol = 1e-6 * test.std_error
    for sides, level in ((("two", "two"), 0.95), (("greater", "less"), 0.9)):
        low, high = invert(test, 0.05, sides, 0.5 * test.std_error, tol)
        exact = test.interval(level)
        np.testing.assert_allclose([low, high], exact, atol=2 * tol)


def _numpy_crv1(area, year, d, y):
    """The CRV1 estimate and SE of ``d`` by plain least squares on dummies (no package code)."""
    areas, a = np.unique(area, return_inverse=True)
    years, t = np.unique(year, return_inverse=True)
    x = np.column_stack([np.eye(len(areas))[a], np.eye(len(years))[t][:, 1:], d])
    bread = np.linalg.inv(x.T @ x)
    coef = bread @ x.T @ y
    resid = y - x @ coef
    scores = [x[a == g].T @ resid[a == g] for g in range(len(areas))]
    meat = sum(np.outer(s, s) for s in scores)
    n, k, g = len(y), x.shape[1], len(areas)
    cov = g / (g - 1) * (n - 1) / (n - k) * bread @ meat @ bread
    return coef[-1], np.sqrt(cov[-1, -1]), g


def test_tost_against_a_hand_computed_crv1_interval():
    design, effects, d, rng, _ = _balanced(12, 6, 5, seed=4)
    y = effects + 0.05 * d + rng.normal(scale=0.3, size=design.n_obs)
    frame = design.frame
    b, se, g = _numpy_crv1(frame["area_code"].to_numpy(), frame["year"].to_numpy(), d, y)
    alpha, bound = 0.05, 0.6
    result = equivalence_test(make_test(design, y, FULL, "crv1"), alpha, bound)
    q1, q2 = stats.t.ppf(1 - alpha / 2, g - 1), stats.t.ppf(1 - alpha, g - 1)
    np.testing.assert_allclose(result.estimate, b, rtol=1e-9)
    np.testing.assert_allclose([result.conf_low, result.conf_high], [b - q1 * se, b + q1 * se])
    np.testing.assert_allclose([result.tost_low, result.tost_high], [b - q2 * se, b + q2 * se])
    p_lower = stats.t.sf((b + bound) / se, g - 1)
    p_upper = stats.t.cdf((b - bound) / se, g - 1)
    np.testing.assert_allclose([result.p_lower, result.p_upper], [p_lower, p_upper])
    assert result.tost_p == max(result.p_lower, result.p_upper)
    inside = -bound < b - q2 * se and b + q2 * se < bound
    assert result.equivalent == inside == (result.tost_p < alpha)
    # a bound narrower than the interval: not equivalent, and the TOST agrees
    narrow = equivalence_test(make_test(design, y, FULL, "crv1"), alpha, q2 * se / 2)
    assert not narrow.equivalent and narrow.tost_p > alpha


def test_wcr_tost_agrees_with_its_interval(demo):
    _, design, y = demo
    test = make_test(design, y, FULL, "wcr", weights=webb_weights(design.n_clusters, 999, 6))
    wide = equivalence_test(test, 0.05, bound=5 * test.std_error)
    narrow = equivalence_test(test, 0.05, bound=0.5 * test.std_error)
    assert wide.equivalent and wide.tost_p <= 0.05
    assert not narrow.equivalent and narrow.tost_p > 0.05
    assert wide.tost_p == max(wide.p_lower, wide.p_upper)


def test_ri_shift_equals_randomization_of_the_shifted_outcome(panel, demo):
    _, design, y = demo
    histories = partnership_histories(panel, period_key_of(design))
    perms = draw_permutations(histories, 199, 4)
    j = design.terms.index(FULL)
    test = RiTest(design, y, j, histories, perms)
    d = design.treat[:, j]
    direct = randomization_inference(design, y - 0.7 * d, histories, permutations=perms)
    np.testing.assert_allclose(test.p_values(np.array([0.7]), ("two",)), direct.p_value[0, j])
    result = equivalence_test(test, 0.05, bound=1.0)
    tol = result.tolerance
    low, high = result.conf_low, result.conf_high
    p = test.p_values(np.array([low, low - tol, high, high + tol]), ("two",) * 4)
    finite = np.isfinite([result.conf_low, result.conf_low, result.conf_high, result.conf_high])
    assert (p[0::2] > 0.05).all() and (p[1::2][finite[1::2]] <= 0.05).all()


def test_reference_sd_uses_reference_years_on_the_model_scale(panel):
    indicator = sorted(panel["indicator_id"].unique())[0]
    data = model_data(panel, indicator, "log")
    ref = data.frame[data.frame["year"] <= 2015]
    assert np.isclose(reference_sd(data), np.std(ref["y"], ddof=1))
    rows = panel[(panel["indicator_id"] == indicator) & (panel["year"] <= 2015)]
    rows = rows[rows["integration"] != "transition"]
    assert np.isclose(reference_sd(data), np.std(np.log(rows["value"]), ddof=1))
    changed = data.frame.copy()
    changed.loc[changed["year"] > 2015, "y"] *= 10  # later years do not move the bound
    assert reference_sd(type(data)(changed, data.scale, data.not_estimable)) == reference_sd(data)


def test_rows_use_the_inference_tables_draws_and_match_the_schema(panel):
    plan = load_plan(REPO / "analysis_plan.yaml")
    ids = sorted(panel["indicator_id"].unique())[:2]
    reps, seed = 199, 7
    rows = equivalence_rows(panel, ids, {}, plan, reps=reps, seed=seed)
    assert list(rows.columns) == EQUIVALENCE_COLUMNS
    assert len(rows) == 2 * len(plan.terms)
    # at c = 0 the plan's test is the inference table's row of the same test
    inference, _ = few_cluster_rows(panel, ids[:1], {}, reps=reps, seed=seed)
    design, y = design_from_model_data(model_data(panel, ids[0], "identity"))
    weights = _shared_draws(panel, reps, seed, "wcr").weights_for(design)
    p0 = make_test(design, y, FULL, "wcr", weights=weights).p_values(np.zeros(1), ("two",))
    wcr = inference[(inference["term"] == FULL) & inference["inference"].str.startswith("wild")]
    np.testing.assert_allclose(p0, wcr["p_value"].to_numpy())
    estimated = rows.dropna(subset=["estimate"])
    assert (estimated["conf_low"] <= estimated["estimate"]).all()
    assert (estimated["ruled_out_above"] == estimated["conf_high"]).all()
    np.testing.assert_allclose(estimated["bound_units"], 0.2 * estimated["sd"])
    assert (estimated["equivalent"] == (
        (estimated["tost_low"] > -estimated["bound_units"])
        & (estimated["tost_high"] < estimated["bound_units"])
    )).all()  # fmt: skip
    table = combine_equivalence([rows.iloc[2:], rows.iloc[:2]], ids)
    assert table["indicator_id"].tolist() == rows["indicator_id"].tolist()
    stamped = table.assign(**dict.fromkeys(STAMP_COLUMNS, "x"))
    TABLES["equivalence"].validate(stamped)


def test_not_identified_term_gets_no_interval_or_equivalence():
    """Identify, then infer: a term too few partnerships identify reports no interval."""
    from integration_models.inference.equivalence import (
        EQUIVALENCE_COLUMNS,
        withhold_not_identified,
    )

    row = dict.fromkeys(EQUIVALENCE_COLUMNS, 0.5)
    row.update(indicator_id="a", term="integration_full", scale="identity", test="t",
               bound_scale="sd", equivalent=True, conclusion="ruled out", note="")  # fmt: skip
    table = pd.DataFrame([row, {**row, "term": "integration_partial"}])
    inference = pd.DataFrame(
        {
            "indicator_id": ["a", "a"],
            "term": ["integration_full", "integration_partial"],
            "inference": ["not estimated: not identified: 1 partnership(s) change", "CR2"],
        }
    )
    out = withhold_not_identified(table, inference)
    full, partial = out.iloc[0], out.iloc[1]
    assert np.isnan(full["conf_low"]) and np.isnan(full["tost_p"]) and pd.isna(full["equivalent"])
    assert full["estimate"] == 0.5 and full["note"].startswith("not identified: 1 partnership")
    assert partial["conf_low"] == 0.5 and bool(partial["equivalent"])
