"""Simulated power and minimum detectable effects of the TWFE integration terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from integration_models import inference as inf
from integration_models.ingest import IngestSettings, build_panel
from integration_models.models.design import DesignError
from integration_models.power import minimum_detectable_effect, simulated_power
from tests.conftest import DEMO


def _balanced(n_areas=200, n_years=10, seed=0):
    rng = np.random.default_rng(seed)
    area = np.repeat([f"A{i:03d}" for i in range(n_areas)], n_years)
    year = np.tile(np.arange(2010, 2010 + n_years), n_areas)
    treated = np.repeat(np.arange(n_areas) < n_areas // 2, n_years)
    frame = pd.DataFrame(
        {
            "area_code": area,
            "year": year,
            "integration_full": (treated & (year >= 2015)).astype(float),
            "integration_partial": 0.0,
            "deprivation": 0.0,
            "log_density": 0.0,
        }
    )
    design = inf.build_design(frame)
    y = rng.normal(size=len(frame))  # iid N(0, 1) errors, no effect
    return design, y


def test_power_at_analytic_mde_is_eighty_percent():
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
        power = simulated_power(design, y, "integration_full", [0.0, delta], reps=4000, seed=1)
        powers.append(power[1])
        assert power[0] == pytest.approx(0.05, abs=0.02)
        # given the realised residuals the estimate's SD is sqrt(S), S = sum_g (w_g' r_g)^2, and
        # the CRV1 SE is about sqrt(c S): normal theory for the t(G-1) test
        beta_map, _, _ = inf.restricted_bootstrap_maps(design, y, 0)
        sd = np.sqrt((beta_map[0] ** 2).sum())
        crit = stats.t.ppf(0.975, design.n_clusters - 1) * np.sqrt(design.crv1_factor)
        conditional.append(stats.norm.cdf(delta / sd - crit))
    assert np.mean(powers) == pytest.approx(0.80, abs=0.05)
    np.testing.assert_allclose(powers, conditional, atol=0.03)


def test_power_curve_is_monotone_and_unknown_term_raises():
    design, y = _balanced(n_areas=40, seed=3)
    curve = simulated_power(design, y, "integration_full", np.linspace(0, 2, 21), reps=500, seed=2)
    assert np.all(np.diff(curve) >= -0.02)
    with pytest.raises(DesignError):
        simulated_power(design, y, "integration_partial", [0.0], reps=10, seed=2)


@pytest.fixture(scope="module")
def panel(areas, baseline) -> pd.DataFrame:
    return build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023, (2020, 2021)))[0]


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
