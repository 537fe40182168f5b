"""Simulated power and minimum detectable effects of the TWFE integration terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.inference.cluster import crv1, restricted_bootstrap_maps, webb_weights
from integration_models.inference.design import build_design
from integration_models.inference.power import (
    POWER_COLUMNS,
    exact_mde,
    first_partnership_year,
    minimum_detectable_effect,
    power_table,
    pre_period_mean,
    simulated_power,
    units_of_mde,
)
from integration_models.models.design import DesignError
from integration_models.plots.power import plot_power
from tests.conftest import DEMO


def _balanced(n_areas=200, n_years=10, seed=0, n_treated=None, effect=0.0):
    """Design with ``n_treated`` areas fully integrated from the 6th year; iid N(0, 1) errors."""
    rng = np.random.default_rng(seed)
    n_treated = n_areas // 2 if n_treated is None else n_treated
    area = np.repeat([f"A{i:03d}" for i in range(n_areas)], n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_areas)
    treated = np.repeat(np.arange(n_areas) < n_treated, n_years)
    frame = pd.DataFrame(
        {
            "area_code": area,
            "year": year,
            "integration_full": (treated & (year >= 2015)).astype(float),
            "integration_partial": 0.0,
            "deprivation_trend": 0.0,
        }
    )
    design = build_design(frame)
    y = rng.normal(size=len(frame)) + effect * design.treat[:, 0]
    return design, y


def _true_mde(design, samples=4000, seed=99):
    """MDE of the CRV1 t(G-1) test from fresh iid N(0, 1) samples: no resampling involved."""
    errors = np.random.default_rng(seed).normal(size=(design.n_obs, samples))
    fits = crv1(design, errors)
    crit = stats.t.ppf(0.975, design.n_clusters - 1)
    # by brute force on a fine grid (independent of exact_mde)
    deltas = np.linspace(0, 1.5, 1501)
    b, se = fits.estimate[:, 0], fits.std_error[:, 0]
    power = np.array([np.mean(np.abs(b + d) > crit * se) for d in deltas])
    return deltas[np.argmax(power >= 0.8)], float(np.std(b))


# --------------------------------------------------------------------------------------------
# Known truth
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("residuals", ["restricted", "cr2"])
def test_power_at_analytic_mde_is_eighty_percent(residuals):
    # The simulation resamples one realised sample's residuals, so its power is conditional on
    # them; average over independent samples for the unconditional figure.
    powers, conditional = [], []
    for seed in range(8):
        design, y = _balanced(n_areas=200, n_years=20, seed=seed)
        tilde = design.residualise_w(design.treat[:, 0])
        # the known SE of the test: sampling SD of the estimate (sigma = 1) times sqrt(c), the
        # CRV1 factor G/(G-1) (N-1)/(N-K) that the reported SE carries
        se_known = np.sqrt(design.crv1_factor / (tilde @ tilde))
        delta = (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * se_known
        power = simulated_power(
            design, y, "integration_full", [0.0, delta], reps=4000, seed=1, residuals=residuals
        )
        powers.append(power[1])
        assert power[0] == pytest.approx(0.05, abs=0.02)
        if residuals == "restricted":
            # given the realised residuals the estimate's SD is sqrt(S), S = sum_g (w_g' r_g)^2,
            # and the CRV1 SE is about sqrt(c S): normal theory for the t(G-1) test
            beta_map, _, _ = restricted_bootstrap_maps(design, y, 0)
            sd = np.sqrt((beta_map[0] ** 2).sum())
            crit = stats.t.ppf(0.975, design.n_clusters - 1) * np.sqrt(design.crv1_factor)
            conditional.append(stats.norm.cdf(delta / sd - crit))
    assert np.mean(powers) == pytest.approx(0.80, abs=0.05)
    if conditional:
        np.testing.assert_allclose(powers, conditional, atol=0.03)


def test_a_real_effect_does_not_inflate_the_cr2_mde():
    # 12 of 32 areas treated, 14 years, iid errors, true effect 6 SDs of the estimate. The
    # true MDE comes from fresh samples; the simulation sees one sample with the effect in it.
    design, _ = _balanced(n_areas=32, n_years=14, n_treated=12)
    true_mde, sd_b = _true_mde(design)
    ratios = {"cr2": [], "restricted": []}
    for seed in range(10):
        _, y = _balanced(n_areas=32, n_years=14, n_treated=12, seed=seed, effect=6 * sd_b)
        weights = webb_weights(design.n_clusters, 1000, seed)
        for residuals, found in ratios.items():
            curve_deltas = np.linspace(0, 1.5, 301)
            curve = simulated_power(
                design, y, "integration_full", curve_deltas, weights=weights, residuals=residuals
            )
            found.append(curve_deltas[np.argmax(curve >= 0.8)] / true_mde)
    # measured: cr2 1.04, restricted 1.58 (30 samples, B = 2000)
    assert np.mean(ratios["cr2"]) == pytest.approx(1.0, abs=0.1)
    assert np.mean(ratios["restricted"]) > 1.3


def test_exact_mde_is_the_first_point_with_the_target_power():
    rng = np.random.default_rng(3)
    beta0, se = rng.standard_t(3, size=1500) * 0.4, np.abs(rng.normal(1.0, 0.5, size=1500))
    crit = 2.04
    mde = exact_mde(beta0, se, crit, 0.8)

    def power(d):
        return np.mean(np.abs(beta0 + d) > crit * se)

    assert power(mde + 1e-9) >= 0.8
    grid = np.linspace(0, mde - 1e-9, 4001)
    assert all(power(d) < 0.8 for d in grid)
    # a test that rejects most of the time without an effect has an MDE of 0
    assert exact_mde(beta0, se, 0.01, 0.8) == 0.0
    assert np.isnan(exact_mde(np.array([np.nan]), np.array([1.0]), crit, 0.8))


def test_size_adjusted_mde_for_two_treated_areas():
    design, y = _balanced(n_areas=32, n_years=14, n_treated=2, seed=4)
    frame = design.frame.assign(indicator_id="x", value=y)
    panel = _as_panel(frame)
    result = minimum_detectable_effect(panel, "x", "identity", reps=2000, seed=5)
    # with 2 treated areas CRV1 t(G-1) over-rejects (true size 0.27 measured on fresh samples)
    assert result.size > 0.1
    assert result.mde_size_adjusted > result.mde
    assert result.power_curve_size_adjusted[0] <= 0.05 + 1e-12
    assert result.power_curve[0] == pytest.approx(result.size)
    assert result.n_treated_areas == 2 and result.n_identifying_areas == 2


def test_power_curve_is_monotone_and_unknown_term_raises():
    design, y = _balanced(n_areas=40, seed=3)
    curve = simulated_power(design, y, "integration_full", np.linspace(0, 2, 21), reps=500, seed=2)
    assert np.all(np.diff(curve) >= -0.02)
    with pytest.raises(DesignError):
        simulated_power(design, y, "integration_partial", [0.0], reps=10, seed=2)
    with pytest.raises(ValueError, match="unknown residuals"):
        simulated_power(design, y, "integration_full", [0.0], reps=10, residuals="wild")


# --------------------------------------------------------------------------------------------
# Units and the pre-period mean
# --------------------------------------------------------------------------------------------


def test_pre_period_mean_by_hand():
    rows = [  # area, year, category, value, hscp_start_year
        ("A", 2013, "none", 10.0, 2015),
        ("A", 2014, "none", 20.0, 2015),
        ("A", 2015, "full", 99.0, 2015),
        ("B", 2013, "none", 30.0, 2015),
        ("B", 2014, "full", 99.0, 2015),  # integrated early (like Highland): left out
        ("B", 2015, "full", 99.0, 2015),
        ("C", 2013, "none", 40.0, 2016),
        ("C", 2014, "none", np.nan, 2016),  # missing: left out
        ("C", 2015, "none", 77.0, 2016),  # after the first partnership started: left out
    ]
    panel = pd.DataFrame(
        rows, columns=["area_code", "year", "integration", "value", "hscp_start_year"]
    )
    panel = pd.concat(
        [panel.assign(indicator_id="x"), panel.assign(indicator_id="other", value=1000.0)]
    )
    assert first_partnership_year(panel) == 2015
    mean, n = pre_period_mean(panel, "x", 2015)
    assert (mean, n) == (pytest.approx((10 + 20 + 30 + 40) / 4), 4)
    # without hscp_start_year: the first year any area-year is integrated
    assert first_partnership_year(panel.drop(columns="hscp_start_year")) == 2014
    assert np.isnan(pre_period_mean(panel, "x", 2010)[0])


def test_units_of_mde():
    assert units_of_mde(2.0, "identity", 40.0) == (2.0, pytest.approx(5.0))
    assert np.isnan(units_of_mde(2.0, "identity", 0.0)[1])
    units, pct = units_of_mde(np.log(1.1), "log", 40.0)
    assert units == pytest.approx(10.0)
    assert pct == pytest.approx(10.0)


# --------------------------------------------------------------------------------------------
# The table on a small synthetic panel
# --------------------------------------------------------------------------------------------

N_AREAS, YEARS = 20, range(2010, 2020)


def _category(area: int, year: int) -> str:
    if area == 0 and year >= 2012:
        return "full"  # an early integrator
    if 1 <= area <= 6 and year >= 2015 + area % 2:
        return "full"
    if 7 <= area <= 9 and year >= 2016:
        return "partial"
    return "none"


def _as_panel(frame: pd.DataFrame) -> pd.DataFrame:
    """Panel rows for model_data from ``area_code, year, indicator_id, value`` (+ categories)."""
    if "integration" not in frame.columns:
        frame = frame.assign(
            integration=np.where(
                frame["integration_full"] > 0,
                "full",
                np.where(frame["integration_partial"] > 0, "partial", "none"),
            )
        )
    return frame[["area_code", "year", "indicator_id", "value", "integration"]].assign(
        hscp_code=frame["area_code"],
        deprivation=0.0,
        covid=(frame["year"].isin([2020, 2021])).astype(float),
        population_density=100.0,
        denominator=np.nan,
        population_0_17=np.nan,
        hscp_start_year=2015,
    )


@pytest.fixture(scope="module")
def small_panel() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    rows = []
    for indicator in ("level", "rate", "flat", "nopartial"):
        for a in range(N_AREAS):
            area_effect = rng.normal()
            for year in YEARS:
                category = _category(a, year)
                if indicator == "nopartial" and category == "partial":
                    continue
                base = 40 + 3 * area_effect + 0.5 * (year - 2010) + rng.normal()
                value = {"level": base, "nopartial": base, "rate": np.exp(base / 20)}.get(
                    indicator, 5.0
                )
                rows.append(
                    {
                        "area_code": f"S{a:02d}",
                        "year": year,
                        "indicator_id": indicator,
                        "value": value,
                        "integration": category,
                    }
                )
    return _as_panel(pd.DataFrame(rows))


SCALES = {"level": "identity", "rate": "log", "flat": "identity", "nopartial": "identity"}


@pytest.fixture(scope="module")
def table(small_panel) -> pd.DataFrame:
    ids = ["level", "rate", "flat", "ghost", "nopartial"]
    return power_table(small_panel, ids, SCALES, reps=400, seed=11)


def test_table_shape_and_columns(table):
    assert list(table.columns) == POWER_COLUMNS
    assert len(table) == 10
    assert list(table["term"]) == ["integration_full", "integration_partial"] * 5
    ok = table.loc[table["indicator_id"].isin(["level", "rate"])]
    assert ok[["mde", "mde_sd", "std_error", "size", "mde_size_adjusted"]].notna().all().all()
    assert (ok["n_areas"] == N_AREAS).all()
    assert list(ok["n_treated_areas"]) == [7, 3, 7, 3]
    assert (ok["reps"] == 400).all() and (ok["residuals"] == "cr2").all()
    # about 2.9 SE (t_0.975 + t_0.8 with G - 1 = 19 df), within the Monte Carlo spread
    ratio = ok["mde"] / ok["std_error"]
    assert ((ratio > 2.2) & (ratio < 4.5)).all()


def test_unmodellable_and_not_estimable_rows(table):
    notes = table.set_index(["indicator_id", "term"])["note"]
    assert notes[("flat", "integration_full")].startswith("not estimated: outcome is constant")
    assert notes[("ghost", "integration_partial")].startswith("not estimated: indicator 'ghost'")
    assert notes[("nopartial", "integration_partial")] == (
        "not estimated: no observations coded partial"
    )
    empty = table.loc[table["note"].str.startswith("not estimated")]
    assert len(empty) == 5
    assert empty["mde"].isna().all() and (empty["n_obs"] == 0).all()
    assert table.loc[~table.index.isin(empty.index), "mde"].notna().all()


def test_units_in_the_table(table, small_panel):
    level = table.loc[table["indicator_id"] == "level"]
    pre = small_panel.query("indicator_id == 'level' and year < 2015 and integration == 'none'")
    assert len(pre) == N_AREAS * 5 - 3  # area 0 integrated from 2012
    np.testing.assert_allclose(level["pre_mean"], pre["value"].mean())
    np.testing.assert_allclose(level["mde_units"], level["mde"])
    np.testing.assert_allclose(level["mde_pct_pre_mean"], 100 * level["mde"] / pre["value"].mean())
    assert (level["units_note"] == "indicator units").all()
    rate = table.loc[table["indicator_id"] == "rate"]
    np.testing.assert_allclose(rate["mde_units"], 100 * np.expm1(rate["mde"]))
    np.testing.assert_allclose(rate["mde_pct_pre_mean"], rate["mde_units"])
    assert rate["units_note"].str.startswith("% change").all()


def test_table_is_deterministic_and_shares_weights_by_area(small_panel, table):
    again = power_table(
        small_panel, ["level", "rate", "flat", "ghost", "nopartial"], SCALES, reps=400, seed=11
    )
    pd.testing.assert_frame_equal(table, again)
    # weights are drawn per area: an indicator's rows do not depend on the others in the table
    alone = power_table(small_panel, ["rate"], SCALES, reps=400, seed=11)
    pd.testing.assert_frame_equal(
        alone, table.loc[table["indicator_id"] == "rate"].reset_index(drop=True)
    )
    other = power_table(small_panel, ["rate"], SCALES, reps=400, seed=12)
    assert not np.allclose(other["mde"], alone["mde"])


def test_one_identifying_partnership_gets_a_note(small_panel):
    one = small_panel.loc[~small_panel["area_code"].isin(["S08", "S09"])]
    row = power_table(one, ["level"], SCALES, reps=100, seed=1).iloc[1]
    assert row["term"] == "integration_partial"
    assert row["note"].startswith("not estimated: not identified: 1 partnership(s) change status")
    assert row["n_treated_areas"] == 1 and row["n_identifying_areas"] == 1
    with pytest.raises(DesignError, match="not identified: 1 partnership"):
        minimum_detectable_effect(one, "level", "identity", "integration_partial", reps=100)
    # the plan's minimum is passed in: at 1 the single switcher is simulated
    alone = minimum_detectable_effect(
        one, "level", "identity", "integration_partial", reps=100, min_partnerships=1
    )
    assert alone.n_identifying_areas == 1


def test_unknown_residuals_refused(small_panel):
    with pytest.raises(ValueError, match="unknown residuals"):
        power_table(small_panel, ["level"], SCALES, reps=10, residuals="wild")


# --------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------


def _registry() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator_id": ["ghost", "nopartial", "flat", "rate", "level"],
            "title": ["Ghost", "No partial", "Flat $ cost", "A rate", "A level"],
            "domain": ["children", "families", "workforce", "children", "children"],
        }
    )


def test_figure_written_and_identical_on_a_second_draw(table, tmp_path):
    first = plot_power(table, _registry(), tmp_path / "a" / "power")
    assert [p.name for p in first] == ["power.png", "power.svg"]
    second = plot_power(table.copy(), _registry(), tmp_path / "b" / "power")
    for one, two in zip(first, second, strict=True):
        data = one.read_bytes()
        assert len(data) > 1000
        assert data == two.read_bytes(), one.name
    svg = first[1].read_text()
    assert "<dc:date>" not in svg
    assert "A level" in svg and "not estimated" in svg
    assert "size-adjusted" in svg


def test_figure_input_checks(table, tmp_path):
    with pytest.raises(ValueError, match="mde_sd"):
        plot_power(table.drop(columns="mde_sd"), _registry(), tmp_path / "x")
    with pytest.raises(ValueError, match="missing from the registry"):
        plot_power(table, _registry().iloc[1:], tmp_path / "x")


# --------------------------------------------------------------------------------------------
# The demo data
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def panel(areas, baseline) -> pd.DataFrame:
    return build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))[0]


def test_mde_on_demo_indicator(panel):
    indicator = sorted(panel["indicator_id"].unique())[0]
    result = minimum_detectable_effect(panel, indicator, "identity", reps=1000, seed=4)
    again = minimum_detectable_effect(panel, indicator, "identity", reps=1000, seed=4)
    assert result.mde == again.mde
    # about (t_0.975 + t_0.8) * SE with G - 1 = 31 df (methods.md: ~2.9 SE)
    ratio = result.mde / result.std_error
    assert 2.3 < ratio < 3.6
    assert result.mde_sd == pytest.approx(result.mde / result.sd)
    assert result.mde_resid_sd > result.mde_sd  # residual SD is below the raw SD
    assert result.as_row()["term"] == "integration_full"


def test_strong_effect_does_not_inflate_the_mde(panel):
    """A full-integration effect of -0.10 on the log scale with t about -9 (known truth).

    lac_rate's rows and coding, with its log outcome rebuilt as area + year effects, the
    effect and N(0, 0.08) noise: restricted residuals carry the effect into the noise and
    inflate the MDE; CR2 (full-model) residuals do not, so its MDE stays near 2.9 SE
    (measured: t -8.6; MDE 5.9 SE with restricted residuals, 3.0 with CR2).
    """
    rng = np.random.default_rng(7)
    rows = panel["indicator_id"] == "lac_rate"
    frame = panel.loc[rows]
    codes = sorted(set(frame["area_code"]))
    area = frame["area_code"].map(dict(zip(codes, rng.normal(3, 0.3, len(codes)), strict=True)))
    effect = -0.10 * (frame["integration"] == "full")
    noise = rng.normal(0, 0.08, int(rows.sum()))
    log_value = area + 0.01 * (frame["year"] - 2016) + effect + noise
    strong = panel.copy()
    strong.loc[rows, "value"] = np.exp(log_value.to_numpy())
    cr2 = minimum_detectable_effect(strong, "lac_rate", "log", reps=1000, seed=4)
    restricted = minimum_detectable_effect(
        strong, "lac_rate", "log", reps=1000, seed=4, residuals="restricted"
    )
    assert 2.3 < cr2.mde / cr2.std_error < 3.6
    assert restricted.mde / restricted.std_error > 5
