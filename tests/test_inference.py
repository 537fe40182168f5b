"""Few-cluster inference: CRV1, CR2 Bell-McCaffrey, WCR bootstrap, randomisation, multiplicity."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.inference.cluster import (
    cr2_bell_mccaffrey,
    crv1,
    minimum_p_value,
    resampling_p_value,
    webb_weights,
    wild_cluster_bootstrap,
)
from integration_models.inference.design import (
    TERMS_OF_INTEREST,
    build_design,
    design_from_model_data,
)
from integration_models.inference.multiplicity import adjust_pvalues, romano_wolf
from integration_models.inference.permutation import (
    draw_permutations,
    partnership_histories,
    permuted_treatments,
    randomization_inference,
)
from integration_models.inference.table import (
    INFERENCE_LABELS,
    TABLE_COLUMNS,
    few_cluster_table,
    period_key_of,
)
from integration_models.models.base import COEFFICIENT_COLUMNS, FitSettings
from integration_models.models.design import DesignError, model_data
from integration_models.models.twfe import fit_twfe
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def panel(areas, baseline) -> pd.DataFrame:
    return build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))[0]


@pytest.fixture(scope="module")
def indicators(panel) -> list[str]:
    return sorted(panel["indicator_id"].unique())


def _design(panel, indicator, scale="identity"):
    return design_from_model_data(model_data(panel, indicator, scale))


def test_crv1_matches_twfe(panel, indicators):
    for indicator in indicators[:6]:
        data = model_data(panel, indicator, "identity")
        reference = fit_twfe(data, FitSettings())
        design, y = design_from_model_data(data)
        result = crv1(design, y)
        for j, term in enumerate(design.terms):
            row = reference.rows[term]
            for name, ours in (
                ("estimate", result.estimate[0, j]),
                ("std_error", result.std_error[0, j]),
                ("p_value", result.p_value[0, j]),
                ("conf_low", result.conf_low[0, j]),
                ("conf_high", result.conf_high[0, j]),
            ):
                assert ours == pytest.approx(row[name], rel=1e-8, abs=1e-10), (indicator, term)


def test_crv1_many_outcomes_equal_one_at_a_time(panel, indicators):
    design, y = _design(panel, indicators[0])
    rng = np.random.default_rng(0)
    many = np.column_stack([y, y + rng.normal(size=y.size), 2 * y])
    joint = crv1(design, many)
    for o in range(3):
        single = crv1(design, many[:, o])
        np.testing.assert_allclose(joint.std_error[o], single.std_error[0], rtol=1e-12)
    np.testing.assert_allclose(joint.statistic[2], joint.statistic[0], rtol=1e-10)


@pytest.mark.r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R (Rscript) is not installed")
def test_cr2_matches_clubsandwich(panel, indicators, tmp_path):
    check = subprocess.run(
        ["Rscript", "-e", "library(clubSandwich)"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        pytest.skip("R package clubSandwich is not installed (apt-get install r-cran-clubsandwich)")
    for indicator in (indicators[0], indicators[3]):
        design, y = _design(panel, indicator)
        ours = cr2_bell_mccaffrey(design, y)
        path = tmp_path / f"{indicator}.csv"
        design.frame.assign(y=y).to_csv(path, index=False)
        terms = ", ".join(f'"{t}"' for t in design.terms)
        rhs = " + ".join([*design.terms, *design.controls, "factor(area_code)", "factor(year)"])
        script = f"""
suppressMessages(library(clubSandwich))
d <- read.csv("{path}")
fit <- lm(y ~ {rhs}, data = d)
ct <- coef_test(fit, vcov = "CR2", cluster = d$area_code, test = "Satterthwaite",
                coefs = c({terms}))
write.csv(data.frame(se = ct$SE, df = ct$df_Satt, p = ct$p_Satt), stdout(), row.names = FALSE)
"""
        run = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
        rows = [line.split(",") for line in run.stdout.strip().splitlines()[1:]]
        expected = np.array(rows, dtype=float)
        np.testing.assert_allclose(ours.std_error[0], expected[:, 0], rtol=1e-6)
        np.testing.assert_allclose(ours.df[0], expected[:, 1], rtol=1e-6)
        np.testing.assert_allclose(ours.p_value[0], expected[:, 2], rtol=1e-5, atol=1e-10)


def test_cr2_df_far_below_clusters_with_few_treated(panel, indicators):
    design, y = _design(panel, indicators[0])
    result = cr2_bell_mccaffrey(design, y)
    assert np.all(result.df < design.n_clusters - 1)
    assert np.all(result.df > 1)


def test_webb_weights_support_and_seed():
    a = webb_weights(32, 5000, 1)
    assert set(np.round(np.unique(a) ** 2, 12)) == {0.5, 1.0, 1.5}
    assert abs(a.mean()) < 0.02 and abs(a.var() - 1) < 0.02
    np.testing.assert_array_equal(a, webb_weights(32, 5000, 1))


@pytest.mark.skipif(
    importlib.util.find_spec("wildboottest") is None,
    reason="wildboottest not installed (pip install wildboottest==0.3.2)",
)
def test_wcr_matches_wildboottest(panel, indicators):
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    reps = 9999
    for indicator in (indicators[0], indicators[2]):
        design, y = _design(panel, indicator)
        frame = design.frame
        x = pd.concat(
            [
                frame[list(design.terms) + list(design.controls)],
                pd.get_dummies(frame["area_code"], drop_first=True, dtype=float),
                pd.get_dummies(frame["year"], drop_first=True, dtype=float),
            ],
            axis=1,
        )
        x.insert(0, "const", 1.0)
        x.columns = x.columns.astype(str)
        model = sm.OLS(y, x)
        # wildboottest solves the normal equations (X'X)^-1, so its t carries a relative
        # error up to about cond(X)^2 * eps (cond(X) is about 300 here); the t is also
        # checked against statsmodels' QR-based OLS with clustered errors at 1e-9
        normal_equations = 10 * np.linalg.cond(x.to_numpy()) ** 2 * np.finfo(float).eps
        clustered = model.fit(cov_type="cluster", cov_kwds={"groups": design.cluster})
        ours = wild_cluster_bootstrap(design, y, reps=reps, seed=7)
        same_seed = wild_cluster_bootstrap(design, y, reps=reps, seed=1)
        for j, term in enumerate(design.terms):
            ref = wildboottest(
                model,
                B=reps,
                cluster=design.cluster.astype(np.int64),
                param=term,
                weights_type="webb",
                seed=1,
                show=False,
            )
            t_ref, p_ref = ref.to_numpy()[0]
            assert ours.statistic[0, j] == pytest.approx(clustered.tvalues[term], rel=1e-9)
            assert ours.statistic[0, j] == pytest.approx(t_ref, rel=normal_equations)
            # independent draws: Monte-Carlo tolerance (4 SDs of a difference of two shares)
            tol = 4 * np.sqrt(2 * max(p_ref * (1 - p_ref), 0.01) / reps)
            assert abs(ours.p_value[0, j] - p_ref) < tol, (indicator, term)
            # wildboottest 0.3.2 draws Webb weights the same way from the same seed
            assert same_seed.p_value[0, j] == pytest.approx(p_ref, abs=2 / reps)


def test_wcr_null_rejection_close_to_nominal(panel, indicators):
    design, _ = _design(panel, indicators[0])
    rng = np.random.default_rng(11)
    area_effect = rng.normal(size=design.n_clusters)[design.cluster]
    y = area_effect[:, None] + rng.normal(size=(design.n_obs, 300))
    result = wild_cluster_bootstrap(design, y, reps=399, seed=2)
    full = design.terms.index("integration_full")
    rate = (result.p_value[:, full] < 0.05).mean()
    assert 0.005 <= rate <= 0.10


def test_histories_keep_partnerships_and_identity_reproduces_dummies(panel, indicators):
    design, _ = _design(panel, indicators[0])
    histories = partnership_histories(panel, period_key_of(design))
    clack = histories.area_partnership["S12000005"]
    assert histories.area_partnership["S12000030"] == clack
    assert histories.partnerships[clack] == "S37000005"
    assert len(histories.partnerships) == panel["hscp_code"].nunique()
    identity = np.arange(len(histories.partnerships))[None, :]
    treat = permuted_treatments(design, histories, identity)[0]
    np.testing.assert_array_equal(treat, design.treat)


def test_permutation_moves_clackmannanshire_and_stirling_together(panel, indicators):
    design, _ = _design(panel, indicators[0])
    histories = partnership_histories(panel, period_key_of(design))
    perms = draw_permutations(histories, 200, seed=5)
    treat = permuted_treatments(design, histories, perms)
    years = design.frame["year"].to_numpy()
    areas = design.frame["area_code"].to_numpy()
    for year in (2012, 2018, 2022):
        a = (areas == "S12000005") & (years == year)
        b = (areas == "S12000030") & (years == year)
        if a.any() and b.any():
            np.testing.assert_array_equal(treat[:, a, :], treat[:, b, :])
    # the number of partnerships ever fully integrated is kept by every permutation
    receiver = np.array([histories.area_partnership[a] for a in areas])
    ever = np.zeros((len(perms), len(histories.partnerships)))
    full = design.terms.index("integration_full")
    for p in range(len(histories.partnerships)):
        ever[:, p] = treat[:, receiver == p, full].max(axis=1)
    observed = (histories.category == 2).any(axis=1).sum()
    assert np.all(ever.sum(axis=1) <= observed)
    assert np.all(ever.sum(axis=1) >= observed - 1)  # a donor's full spell may fall off the panel


def test_randomization_inference_uniform_under_null(panel, indicators):
    design, _ = _design(panel, indicators[0])
    histories = partnership_histories(panel, period_key_of(design))
    rng = np.random.default_rng(2024)
    n_sim = 200
    area_effect = rng.normal(size=(design.n_clusters, n_sim))[design.cluster]
    year_effect = rng.normal(size=(14, n_sim))[design.frame["year"].to_numpy() - 2010]
    y = area_effect + year_effect + rng.normal(size=(design.n_obs, n_sim))
    result = randomization_inference(design, y, histories, reps=999, seed=3)
    assert result.draws.shape == (999, n_sim, len(design.terms))
    p = result.p_value[:, design.terms.index("integration_full")]
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert 0.01 <= (p < 0.05).mean() <= 0.10


def test_randomization_draws_match_a_direct_refit(panel, indicators):
    design, y = _design(panel, indicators[1])
    histories = partnership_histories(panel, period_key_of(design))
    perms = draw_permutations(histories, 5, seed=9)
    result = randomization_inference(design, y, histories, permutations=perms)
    treat = permuted_treatments(design, histories, perms)
    for b in range(5):
        if np.isnan(result.draws[b, 0]).any():
            continue
        frame = design.frame.copy()
        frame[list(design.terms)] = treat[b]
        redesign = build_design(frame, terms=design.terms)
        if redesign.terms != design.terms:
            continue
        direct = crv1(redesign, y)
        np.testing.assert_allclose(result.draws[b, 0], direct.statistic[0], rtol=1e-8)


def test_few_cluster_table_shape_and_determinism(panel, indicators):
    chosen = indicators[:3]
    scale_of = {i: "identity" for i in chosen}
    table = few_cluster_table(panel, chosen, scale_of, reps=199, seed=1)
    again = few_cluster_table(panel, chosen, scale_of, reps=199, seed=1)
    pd.testing.assert_frame_equal(table, again)
    assert list(table.columns) == TABLE_COLUMNS
    assert set(table["inference"]) == {
        "CRV1 t(G-1)",
        "CR2 Bell-McCaffrey",
        "wild cluster bootstrap (WCR, Webb, B=199)",
        "randomization inference (partnership labels, B=199)",
    }
    assert not table.duplicated(["indicator_id", "term", "inference"]).any()
    boot = table[table["inference"].str.startswith(("wild", "random"))]
    assert boot["conf_low"].isna().all()
    analytic = table[~table.index.isin(boot.index)]
    assert analytic["conf_low"].notna().all()
    assert (table["model"] == "twfe").all()
    assert table["p_value"].between(0, 1).all()
    crv = table[table["inference"] == "CRV1 t(G-1)"].iloc[0]
    reference = fit_twfe(model_data(panel, crv["indicator_id"], "identity"), FitSettings())
    assert crv["std_error"] == pytest.approx(reference.rows[crv["term"]]["std_error"], rel=1e-8)


def test_adjust_pvalues_bh_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.20, np.nan])
    # sorted 0.01, 0.03, 0.04, 0.20 (m = 4): p * m / rank = 0.04, 0.06, 0.0533, 0.20;
    # step-up running minimum from the top: 0.04, 0.0533, 0.0533, 0.20
    expected = np.array([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20, np.nan])
    np.testing.assert_allclose(adjust_pvalues(p, "fdr_bh"), expected, equal_nan=True)


def test_romano_wolf_by_hand():
    t_obs = np.array([3.0, 1.0, 2.0])
    draws = np.array(
        [
            [0.5, 0.2, 2.5],
            [3.5, 0.1, 0.3],
            [0.1, 1.5, 0.2],
            [0.2, 0.3, 0.4],
        ]
    )
    # B = 4 draws, p = (hits + 1) / (B + 1)
    # step 1 (|t| = 3, set {0, 1, 2}): max per draw 2.5, 3.5, 1.5, 0.4 -> 1 hit, 2/5
    # step 2 (|t| = 2, set {2, 1}):   max 2.5, 0.3, 1.5, 0.4 -> 1 hit, 2/5, running max 2/5
    # step 3 (|t| = 1, set {1}):      0.2, 0.1, 1.5, 0.3 -> 1 hit, 2/5, running max 2/5
    np.testing.assert_allclose(romano_wolf(t_obs, draws), [0.4, 0.4, 0.4])
    t_obs = np.array([3.0, 1.0, 2.0])
    draws[0, 2] = 1.9
    # step 2 max 1.9, 0.3, 1.5, 0.4 -> no hit, 1/5; running max keeps 2/5 from step 1
    np.testing.assert_allclose(romano_wolf(t_obs, draws), [0.4, 0.4, 0.4])
    draws[1, 0] = 2.9
    # step 1: 1.9, 2.9, 1.5, 0.4 -> 1/5; step 2: 1/5; step 3: 1 hit, 2/5
    np.testing.assert_allclose(romano_wolf(t_obs, draws), [0.2, 0.4, 0.2])


def test_romano_wolf_never_zero():
    """Observed statistics beyond every draw get 1/(B + 1), the smallest p, not 0."""
    rng = np.random.default_rng(7)
    draws = rng.normal(size=(99, 4))
    adjusted = romano_wolf(np.array([50.0, -40.0, 30.0, 0.0]), draws)
    np.testing.assert_array_equal(adjusted[:3], [1 / 100] * 3)
    assert adjusted[3] == 1.0


def test_romano_wolf_not_below_unadjusted(panel, indicators):
    rng = np.random.default_rng(4)
    draws = rng.standard_t(5, size=(2000, 8)) + rng.normal(size=(2000, 1))
    t_obs = np.array([0.2, 1.0, 1.8, 2.2, 2.6, 3.0, 3.5, 0.0])
    adjusted = romano_wolf(t_obs, draws)
    raw = ((np.abs(draws) >= np.abs(t_obs)).sum(axis=0) + 1) / (len(draws) + 1)
    assert np.all(adjusted >= raw - 1e-12)
    assert np.all(np.diff(adjusted[np.argsort(-np.abs(t_obs))]) >= 0)


def _unbalanced_panel(seed: int) -> pd.DataFrame:
    """12 areas = partnerships; 0 full from 2016, 1 partial from 2016, 2 full from 2015.

    Area 5 is observed from 2017 only, so a draw that gives it partnership 1's history makes
    the partial dummy constant within the area (absorbed by its effect): not estimable.
    Area 7 misses 2012-2014. Three outcomes, noisier in the treated areas.
    """
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2024)
    frames = []
    for a in range(12):
        start = 2015 if a in (2, 4, 9) else 2016
        category = np.full(years.size, "none", dtype=object)
        if a in (0, 2):
            category[years >= start] = "full"
        if a == 1:
            category[years >= start] = "partial"
        keep = np.ones(years.size, dtype=bool)
        if a == 5:
            keep = years >= 2017
        if a == 7:
            keep = (years < 2012) | (years > 2014)
        frames.append(
            pd.DataFrame(
                {
                    "area_code": f"S12{a:06d}",
                    "hscp_code": f"S37{a:06d}",
                    "hscp_start_year": start,
                    "year": years,
                    "integration": category,
                    # twfe's control: a baseline deprivation times decades since 2016
                    "deprivation_trend": (20 + 5 * rng.normal()) * (years - 2016) / 10,
                }
            )[keep]
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["integration_full"] = (frame["integration"] == "full").astype(float)
    frame["integration_partial"] = (frame["integration"] == "partial").astype(float)
    return frame


def test_fast_randomization_draws_equal_refits_on_unbalanced_design():
    frame = _unbalanced_panel(3)
    design = build_design(frame)
    histories = partnership_histories(frame.assign(indicator_id="x"))
    rng = np.random.default_rng(8)
    scale = np.where(
        design.frame["integration"].ne("none").groupby(design.cluster).transform("max"), 3.0, 1.0
    )
    y = (
        rng.normal(size=(design.n_obs, 3)) * scale[:, None]
        + design.frame["deprivation_trend"].to_numpy()[:, None]
    )
    perms = draw_permutations(histories, 150, seed=4)
    fast = randomization_inference(design, y, histories, permutations=perms).draws
    treat = permuted_treatments(design, histories, perms)
    n_nan = n_checked = 0
    for b in range(len(perms)):
        refit_frame = design.frame.copy()
        refit_frame[list(design.terms)] = treat[b]
        try:
            redesign = build_design(refit_frame, terms=design.terms)
        except DesignError:
            redesign = None
        if redesign is None or redesign.terms != design.terms:
            assert np.isnan(fast[b]).all(), b  # not estimable: dropped from the p-value
            n_nan += 1
            continue
        np.testing.assert_allclose(fast[b], crv1(redesign, y).statistic, rtol=1e-8)
        n_checked += 1
    assert n_nan > 0 and n_checked > 100  # both kinds of draw occurred


def test_table_multiplicity_columns(panel, indicators):
    from statsmodels.stats.multitest import multipletests

    chosen = indicators[:5]
    reps, seed = 199, 3
    table = few_cluster_table(panel, chosen, {}, reps=reps, seed=seed)
    assert list(table.columns) == TABLE_COLUMNS
    assert TABLE_COLUMNS[: len(TABLE_COLUMNS) - 4] == [
        c for c in COEFFICIENT_COLUMNS if c not in ("scale", "note")
    ]
    assert (table["family"] == "primary").all()  # no families given: one, over all
    # Benjamini-Hochberg per family (term x method) matches statsmodels
    for (label, term), family in table.groupby(["inference", "term"]):
        expected = multipletests(family["p_value"].to_numpy(), method="fdr_bh")[1]
        np.testing.assert_allclose(family["p_adjusted"], expected, rtol=1e-12)
        assert (
            family["adjustment"] == f"Benjamini-Hochberg over 5 indicators ({label}, {term})"
        ).all()
    resampled = table["inference"].str.startswith(("wild", "random"))
    assert table.loc[~resampled, "p_romano_wolf"].isna().all()
    assert table.loc[resampled, "p_romano_wolf"].notna().all()
    assert (table.loc[resampled, "p_romano_wolf"] >= table.loc[resampled, "p_value"] - 1e-12).all()
    # the WCR Romano-Wolf p from the joint draws, recomputed independently: shared weights by area
    wcr_seed = np.random.SeedSequence(seed).spawn(2)[0]
    all_areas = np.sort(panel["area_code"].unique())
    weights = webb_weights(len(all_areas), reps, np.random.default_rng(wcr_seed))
    label = INFERENCE_LABELS["wcr"].format(reps=reps)
    for term in TERMS_OF_INTEREST:
        t_obs, draws = [], []
        for indicator in chosen:
            design, y = _design(panel, indicator)
            mine = weights[np.searchsorted(all_areas, design.cluster_labels)]
            res = wild_cluster_bootstrap(design, y, weights=mine)
            j = design.terms.index(term)
            t_obs.append(res.statistic[0, j])
            draws.append(res.draws[:, 0, j])
        expected = romano_wolf(np.array(t_obs), np.column_stack(draws))
        rows = table[(table["inference"] == label) & (table["term"] == term)]
        np.testing.assert_allclose(rows["p_romano_wolf"], np.maximum(expected, rows["p_value"]))
        assert (expected >= rows["p_value"].to_numpy() - 1e-12).all()  # no NaN draws in WCR


def test_table_romano_wolf_handles_not_estimated_rows(panel, indicators):
    table = few_cluster_table(panel, [indicators[0], "no_such_indicator"], {}, reps=99, seed=1)
    missing = table[table["indicator_id"] == "no_such_indicator"]
    assert len(missing) == 2 and missing["inference"].str.startswith("not estimated").all()
    assert missing[["p_adjusted", "p_romano_wolf"]].isna().all().all()
    assert (missing["adjustment"] == "").all()
    present = table[table["indicator_id"] == indicators[0]]
    assert (present["adjustment"].str.contains("over 1 indicators")).all()


def test_histories_reject_inconsistent_partnerships(panel):
    clack = (panel["area_code"] == "S12000005") & (panel["year"] == 2019)
    changed = panel.assign(integration=panel["integration"].astype(object))
    changed.loc[clack, "integration"] = "full"  # Stirling stays as it was
    with pytest.raises(ValueError, match="S37000005 have different integration histories"):
        partnership_histories(changed, "financial")
    two_starts = panel.assign(hscp_start_year=panel["hscp_start_year"].astype(int))
    two_starts.loc[panel["area_code"] == "S12000005", "hscp_start_year"] = 2014
    with pytest.raises(ValueError, match="S37000005 has several start years"):
        partnership_histories(two_starts, "financial")
    with pytest.raises(ValueError, match="several kinds of period"):
        partnership_histories(panel)


def _strong_effect(panel, indicator):
    """A design and an outcome whose full-integration effect is far beyond any null draw."""
    design, _ = _design(panel, indicator)
    rng = np.random.default_rng(3)
    area_effect = rng.normal(size=design.n_clusters)[design.cluster]
    full = design.terms.index("integration_full")
    y = area_effect + 50.0 * design.treat[:, full] + 0.01 * rng.normal(size=design.n_obs)
    return design, y, full


@pytest.mark.parametrize("method", ["wcr", "ri"])
def test_resampling_p_is_one_over_b_plus_one_when_observed_beats_every_draw(
    panel, indicators, method
):
    design, y, full = _strong_effect(panel, indicators[0])
    if method == "wcr":
        result = wild_cluster_bootstrap(design, y, reps=99, seed=1)
    else:
        histories = partnership_histories(panel, period_key_of(design))
        result = randomization_inference(design, y, histories, reps=99, seed=1)
    draws = result.draws[:, 0, full]
    valid = np.isfinite(draws)
    assert (np.abs(draws[valid]) < abs(result.statistic[0, full])).all()
    assert result.p_value[0, full] == 1 / (valid.sum() + 1)
    assert result.p_value[0, full] == minimum_p_value(int(valid.sum()))


def test_resampling_p_value_rule():
    p = resampling_p_value(np.array([0, 4, 99, 0]), np.array([99, 99, 99, 0]))
    np.testing.assert_array_equal(p[:3], [0.01, 0.05, 1.0])
    assert np.isnan(p[3])  # no valid draw: no p-value


def test_few_areas_small_b_p_never_zero(panel):
    """Five areas, B = 99: a row that hits/B would put at exactly 0 is 1/(B + 1)."""
    keep = ["S12000020", "S12000021", "S12000028", "S12000014", "S12000019"]
    chosen = ["balance_of_care", "lac_rate", "parenting_programmes"]
    sub = panel[panel["area_code"].isin(keep) & panel["indicator_id"].isin(chosen)].copy()
    # a full-integration effect far beyond any draw, so that hits/B would be exactly 0
    strong = (sub["indicator_id"] == "balance_of_care") & (sub["integration"] == "full")
    sub.loc[strong, "value"] += 50.0
    table = few_cluster_table(sub, chosen, {}, reps=99, seed=1)
    resampled = table[table["inference"].str.contains("B=99")]
    assert resampled["n_areas"].eq(5).all()
    for column in ("p_value", "p_romano_wolf"):
        assert (resampled[column] >= 1 / 100).all(), column
    assert resampled["p_value"].min() == 1 / 100
