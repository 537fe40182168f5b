"""Our Callaway-Sant'Anna (integration_models.models.csdid) against diff-diff's, and the two
conventions for cells with a missing (suppressed) year.

- Balanced panels: ours equals ``diff_diff.CallawaySantAnna`` (never-treated controls,
  universal base period, outcome regression or unconditional) in every ATT(g, t), the overall
  effect and the event-time effects to 1e-9 (both are closed-form; measured differences are
  below 1e-12), and each cell's influence-function SE to 1e-9 relative.
- Unbalanced demo panels: ``cells="within"`` equals the library's default (panel) path
  cell by cell; ``cells="pooled"`` equals ``allow_unbalanced_panel=True`` cell by cell and in
  the overall and event-time effects (1e-9). The library's default path weights a cell by its
  own treated areas, ours by the cohort's (R ``did``'s fixed ``pg``), so the overall effect of
  ``within`` is checked against a numpy cohort-size mean of the library's cells.
- The influence function of ``pooled`` with a covariate is checked against a numerical
  derivative of an independent weighted numpy estimator (the library's disagrees there).
- A constructed panel with one suppressed cell: ``within`` is exact, ``pooled`` is biased
  by the missing area's level, in the direction and by the amount derived in the test.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from integration_models.models import csdid as did

diff_diff = pytest.importorskip("diff_diff")

TOL = 1e-9
# balanced sub-panels (areas with every year) with several cohorts
BALANCED_CASES = [
    ("kinship_care", "log"),
    ("hv_caseload", "identity"),
    ("cp_registration_rate", "log"),
    ("lac_rate", "identity"),
]
# the indicators of issue 16 (unbalanced: suppressed cells and North Lanarkshire's switch)
DEMO_CASES = [("kinship_care", "log"), ("exclusion_rate", "identity"), ("teenage_pregnancy", "log")]


def _library(sample: pd.DataFrame, *, covariate: str | None, unbalanced: bool):
    """The library's plain call with our settings (analytic SEs, no bootstrap)."""
    estimator = diff_diff.CallawaySantAnna(
        control_group="never_treated",
        base_period="universal",
        estimation_method="reg",
        allow_unbalanced_panel=unbalanced,
        n_bootstrap=0,
    )
    with warnings.catch_warnings():  # its notes on unbalanced panels and RC routing
        warnings.simplefilter("ignore", UserWarning)
        fit = estimator.fit(
            sample,
            outcome="y",
            unit="area_code",
            time="year",
            first_treat="g",
            covariates=[covariate] if covariate else None,
        )
        study = fit.aggregate("event_study")
    effects = {
        int(e): {"effect": float(a)} for e, a in zip(study.event_time, study.att, strict=True)
    }
    return SimpleNamespace(
        overall_att=fit.overall_att,
        group_time_effects=fit.group_time_effects,
        event_study_effects=effects,
    )


def _library_cells(fit) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"group": g, "time": t, "lib": v["effect"], "lib_se": v["se"]}
            for (g, t), v in fit.group_time_effects.items()
            if np.isfinite(v["effect"]) and t != g - 1  # the universal base's zero cell
        ]
    )


def _sample(panel: pd.DataFrame, indicator: str, scale: str, balanced: bool) -> pd.DataFrame:
    sample, _ = did.did_sample(panel, indicator, scale, "full")
    sample = sample.dropna(subset=["y"])
    if balanced:
        counts = sample.groupby("area_code")["year"].transform("size")
        sample = sample[counts == sample["year"].nunique()]
    return sample.reset_index(drop=True)


def _coded(frame: pd.DataFrame) -> np.ndarray:
    return np.where((frame["g"] > 0) & (frame["year"] >= frame["g"]), "full", "none")


def _ours(sample: pd.DataFrame, covariate: str | None, cells: str) -> dict:
    """Our estimator on an already-built sample (a panel of one indicator).

    The cohorts come from an exposure table of every area and year (as ``integration.parquet``
    in the workflow), so a suppressed first year does not move an area's cohort.
    """
    panel = sample.assign(
        indicator_id="x",
        value=sample["y"],
        integration=_coded(sample),
        covid=0.0,
        population_density=100.0,
        population=1.0,
        population_0_17=1.0,
        numerator=np.nan,
        denominator=np.nan,
    )
    cohorts = sample.groupby("area_code")["g"].first()
    grid = pd.MultiIndex.from_product(
        [cohorts.index, range(sample["year"].min(), sample["year"].max() + 1)],
        names=["area_code", "year"],
    ).to_frame(index=False)
    exposure = grid.assign(g=grid["area_code"].map(cohorts))
    exposure["integration"] = _coded(exposure)
    return did.callaway_santanna(
        panel, "x", "identity", "full", covariate=covariate, biters=99, cells=cells,
        exposure=exposure,
    )  # fmt: skip


def _influence_se(sample: pd.DataFrame, covariate: str | None, cells: str) -> pd.DataFrame:
    """Each cell's analytic SE from our influence function (sqrt(sum of squares) / N)."""
    wide = sample.pivot(index="area_code", columns="year", values="y").sort_index(axis=1)
    x = (
        None
        if covariate is None
        else sample.pivot(index="area_code", columns="year", values=covariate)
    )
    groups = sample.groupby("area_code")["g"].first()
    compute = did._group_time_pooled if cells == "pooled" else did._group_time
    cells_, influence = compute(wide, x, groups)
    frame = pd.DataFrame(cells_)[["group", "time"]]
    frame["se"] = np.sqrt((influence**2).sum(axis=0)) / influence.shape[0]
    return frame


@pytest.mark.parametrize(("indicator", "scale"), BALANCED_CASES)
@pytest.mark.parametrize("covariate", [None, "deprivation_baseline"])
@pytest.mark.parametrize("cells", ["within", "pooled"])
def test_balanced_panel_equals_library(demo_panel, indicator, scale, covariate, cells):
    sample = _sample(demo_panel, indicator, scale, balanced=True)
    assert sample.groupby("area_code").size().nunique() == 1
    ours = _ours(sample, covariate, cells)
    if covariate is not None:
        assert ours["method"].startswith("outcome regression"), ours["fallback"]
    fit = _library(sample, covariate=covariate, unbalanced=False)
    cells_ = ours["att_gt"].merge(_library_cells(fit), on=["group", "time"], how="outer")
    assert cells_[["estimate", "lib"]].notna().all().all(), "the same cells are estimated"
    assert np.allclose(cells_["estimate"], cells_["lib"], rtol=0, atol=TOL)
    assert ours["overall"]["estimate"] == pytest.approx(fit.overall_att, abs=TOL)
    dynamic = ours["dynamic"].set_index("event_time")["estimate"]
    for e, effect in fit.event_study_effects.items():
        assert dynamic[e] == pytest.approx(effect["effect"], abs=TOL), e
    if cells == "within" or covariate is None:  # see test_pooled_influence_* for the other
        se = _influence_se(sample, covariate, cells).merge(_library_cells(fit))
        assert np.allclose(se["se"], se["lib_se"], rtol=TOL, atol=0)


@pytest.mark.parametrize(("indicator", "scale"), DEMO_CASES)
@pytest.mark.parametrize("covariate", [None, "deprivation_baseline"])
def test_within_cells_equal_library_default_on_unbalanced_panel(
    demo_panel, indicator, scale, covariate
):
    sample = _sample(demo_panel, indicator, scale, balanced=False)
    assert sample.groupby("area_code").size().nunique() > 1, "the demo panel is unbalanced"
    ours = _ours(sample, covariate, "within")
    fit = _library(sample, covariate=covariate, unbalanced=False)
    cells_ = ours["att_gt"].merge(_library_cells(fit), on=["group", "time"], how="outer")
    assert cells_[["estimate", "lib"]].notna().all().all()
    assert np.allclose(cells_["estimate"], cells_["lib"], rtol=0, atol=TOL)
    assert (ours["att_gt"]["n_treated"] < ours["att_gt"]["group"].map(ours["cohorts"])).any()
    se = _influence_se(sample, covariate, "within").merge(_library_cells(fit))
    assert np.allclose(se["se"], se["lib_se"], rtol=TOL, atol=0)
    # overall: the post cells weighted by the cohort's areas (R did's pg), in numpy
    post = cells_[cells_["time"] >= cells_["group"]]
    weights = post["group"].map(ours["cohorts"]).to_numpy(dtype=float)
    expected = float(weights @ post["lib"].to_numpy() / weights.sum())
    assert ours["overall"]["estimate"] == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(("indicator", "scale"), DEMO_CASES)
@pytest.mark.parametrize("covariate", [None, "deprivation_baseline"])
def test_pooled_cells_equal_library_allow_unbalanced_panel(demo_panel, indicator, scale, covariate):
    sample = _sample(demo_panel, indicator, scale, balanced=False)
    ours = _ours(sample, covariate, "pooled")
    fit = _library(sample, covariate=covariate, unbalanced=True)
    cells_ = ours["att_gt"].merge(_library_cells(fit), on=["group", "time"], how="outer")
    assert cells_[["estimate", "lib"]].notna().all().all()
    assert np.allclose(cells_["estimate"], cells_["lib"], rtol=0, atol=TOL)
    assert ours["overall"]["estimate"] == pytest.approx(fit.overall_att, abs=TOL)
    dynamic = ours["dynamic"].set_index("event_time")["estimate"]
    for e, effect in fit.event_study_effects.items():
        assert dynamic[e] == pytest.approx(effect["effect"], abs=TOL), e
    within = _ours(sample, covariate, "within")
    assert abs(within["overall"]["estimate"] - ours["overall"]["estimate"]) > 1e-3
    if covariate is None:
        # the library clusters the per-observation IF by area with a CR1 factor sqrt(G/(G-1))
        n_areas = sample["area_code"].nunique()
        se = _influence_se(sample, None, "pooled").merge(_library_cells(fit))
        factor = np.sqrt(n_areas / (n_areas - 1))
        assert np.allclose(se["se"] * factor, se["lib_se"], rtol=TOL, atol=0)


def _weighted_pooled_att(y_t, y_s, treated, x, w_t, w_s) -> float:
    """Independent numpy: reg_did_rc with observation weights (for a numerical IF)."""
    ones = np.ones_like(x)
    design = np.column_stack([ones, x])
    at_t, at_s = ~np.isnan(y_t), ~np.isnan(y_s)

    def wls(mask, y, w):
        sw = np.sqrt(w[mask])
        return np.linalg.lstsq(design[mask] * sw[:, None], y[mask] * sw, rcond=None)[0]

    beta_t = wls(~treated & at_t, y_t, w_t)
    beta_s = wls(~treated & at_s, y_s, w_s)
    gt, gs = treated & at_t, treated & at_s
    mean_t = np.average(y_t[gt], weights=w_t[gt])
    mean_s = np.average(y_s[gs], weights=w_s[gs])
    change = np.concatenate([design[gt], design[gs]]) @ (beta_t - beta_s)
    adjustment = np.average(change, weights=np.concatenate([w_t[gt], w_s[gs]]))
    return float(mean_t - mean_s - adjustment)


def test_pooled_influence_with_covariate_is_the_derivative_of_the_estimator():
    """Each observation's influence = d ATT / d (its weight), by central differences.

    diff-diff 3.13.0's RC outcome regression divides the controls' estimation effect by the
    number of observations twice (its ``bread`` is ``(X'X)^-1`` and its ``M1`` a column mean),
    so its SE misses most of the controls' variability (measured: 0.03-1.0 times ours on the
    demo); ours is checked here against the derivative instead.
    """
    rng = np.random.default_rng(7)
    n = 20
    treated = np.arange(n) < 6
    x = rng.normal(10, 3, n)
    y_s = 1.0 + 0.5 * x + rng.normal(0, 1, n)
    y_t = y_s + 0.2 * x + treated * 1.0 + rng.normal(0, 1, n)
    y_s[[2, 9]] = np.nan  # a treated and a control area suppressed in the base year
    y_t[[4, 15]] = np.nan
    att, psi_t, psi_s = did._pooled_cell(y_t, y_s, treated, x, x)
    ones = np.ones(n)
    assert att == pytest.approx(_weighted_pooled_att(y_t, y_s, treated, x, ones, ones), abs=1e-12)
    n_obs = int((~np.isnan(y_t)).sum() + (~np.isnan(y_s)).sum())
    step = 1e-6
    for i in range(n):
        for observed, psi, which in ((y_t, psi_t, "t"), (y_s, psi_s, "s")):
            if np.isnan(observed[i]):
                assert psi[i] == 0.0
                continue
            up, down = ones.copy(), ones.copy()
            up[i], down[i] = 1 + step, 1 - step
            w_up = (up, ones) if which == "t" else (ones, up)
            w_down = (down, ones) if which == "t" else (ones, down)
            derivative = (
                _weighted_pooled_att(y_t, y_s, treated, x, *w_up)
                - _weighted_pooled_att(y_t, y_s, treated, x, *w_down)
            ) / (2 * step)
            # the IF of a weight-normalised estimator is n x the derivative; ours is IF / n
            assert psi[i] == pytest.approx(derivative, rel=1e-5, abs=1e-9), (i, which)
    assert n_obs == 2 * n - 4


def _constructed(level_missing: float) -> tuple[pd.DataFrame, float]:
    """y = a_i + b_t, no effect, parallel trends; one treated area suppressed in g - 1."""
    years = range(2010, 2018)
    levels = {f"T{i}": 10.0 + i for i in range(4)} | {f"C{i}": 8.0 + 2 * i for i in range(6)}
    levels["T0"] = level_missing  # the small area whose count is suppressed
    rows = [
        {
            "area_code": a,
            "year": t,
            "y": level + 0.5 * (t - 2010) ** 1.5,
            "g": 2014 * a.startswith("T"),
        }
        for a, level in levels.items()
        for t in years
        if not (a == "T0" and t == 2013)
    ]
    sample = pd.DataFrame(rows).assign(hscp_code=lambda f: f["area_code"], deprivation=1.0)
    sample["deprivation_baseline"] = 1.0
    others = np.mean([levels[f"T{i}"] for i in range(1, 4)])
    # pooled cell (2014, t): mean of 4 treated at t - mean of 3 at 2013 - control change
    bias = (levels["T0"] - others) / 4
    return sample, bias


@pytest.mark.parametrize("level", [2.0, 30.0])
def test_suppressed_cell_biases_pooled_by_the_missing_areas_level(level):
    sample, bias = _constructed(level)
    within = _ours(sample, None, "within")
    pooled = _ours(sample, None, "pooled")
    fit = _library(sample, covariate=None, unbalanced=True)
    # within-area changes: no effect in any cell, the suppressed area simply left out of them
    assert np.allclose(within["att_gt"]["estimate"], 0.0, atol=1e-12)
    assert within["overall"]["estimate"] == pytest.approx(0.0, abs=1e-12)
    # pooled: every cell that uses 2013 as base carries (level of T0 - others' mean) / 4
    cells_ = pooled["att_gt"].set_index("time")["estimate"]
    assert np.allclose(cells_, bias, rtol=0, atol=1e-12)
    assert pooled["overall"]["estimate"] == pytest.approx(bias, abs=1e-12)
    assert fit.overall_att == pytest.approx(bias, abs=1e-12)
    # a small (suppressed) area drags the pooled effect down, a large one up
    assert np.sign(bias) == (-1.0 if level < 11 else 1.0)


def _biennial(seed: int = 11) -> pd.DataFrame:
    """Odd years only; cohorts 2015 (base 2013: 2014 is not observed) and 2016 (base 2015)."""
    rng = np.random.default_rng(seed)
    starts = [0] * 8 + [2015] * 3 + [2016] * 3
    rows = []
    for i, g in enumerate(starts):
        level = rng.normal(10, 3)
        for t in range(2009, 2022, 2):
            effect = 2.0 * (g > 0 and t >= g)
            rows.append(
                {
                    "area_code": f"A{i:02d}",
                    "year": t,
                    "y": level + 0.3 * (t - 2009) + effect + rng.normal(0, 0.5),
                    "g": g,
                }
            )
    sample = pd.DataFrame(rows).assign(hscp_code=lambda f: f["area_code"], deprivation=1.0)
    sample["deprivation_baseline"] = rng.normal(20, 4, len(sample)).round()
    sample["deprivation_baseline"] = sample.groupby("area_code")["deprivation_baseline"].transform(
        "first"
    )
    return sample


@pytest.mark.parametrize("cells", ["within", "pooled"])
def test_cohort_without_an_observation_in_g_minus_1_uses_the_last_year_before(cells):
    """A biennial series: the 2015 cohort's base is 2013 (R did, diff-diff), not dropped."""
    sample = _biennial()
    ours = _ours(sample, None, cells)
    assert ours["cohort_cells"][2015] > 0, "the 2015 cohort has pre-periods (2009-2013)"
    fit = _library(sample, covariate=None, unbalanced=cells == "pooled")
    cells_ = ours["att_gt"].merge(_library_cells(fit), on=["group", "time"], how="outer")
    cells_ = cells_[~((cells_["group"] == 2015) & (cells_["time"] == 2013))]  # its base
    assert cells_[["estimate", "lib"]].notna().all().all()
    assert np.allclose(cells_["estimate"], cells_["lib"], rtol=0, atol=TOL)
    assert ours["overall"]["estimate"] == pytest.approx(fit.overall_att, abs=TOL)
    assert ours["overall"]["estimate"] == pytest.approx(2.0, abs=0.6)
    dynamic = ours["dynamic"].set_index("event_time")["estimate"]
    for e, effect in fit.event_study_effects.items():
        if e != -2:  # the 2015 cohort's base: a zero reference in the library, no cell in ours
            assert dynamic[e] == pytest.approx(effect["effect"], abs=TOL), e
