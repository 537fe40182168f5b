"""Callaway-Sant'Anna DiD (integration_models.models.csdid): cohorts, demo truth, a second
implementation (saturated event-study regression) and a simulated panel."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from integration_models.models import csdid as did
from integration_models.models.base import COEFFICIENT_COLUMNS
from integration_models.plots import event_study as es_plot
from tests.conftest import DEMO

EAST_LOTHIAN = "S12000010"
HIGHLAND, MORAY, NORTH_LANARKSHIRE, SOUTH_AYRSHIRE = (
    "S12000017",
    "S12000020",
    "S12000050",
    "S12000028",
)


@pytest.fixture(scope="module")
def panel(areas, baseline) -> pd.DataFrame:
    from integration_models.data.ingest import IngestSettings, build_panel

    built, _ = build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))
    return built


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(DEMO / "demo_truth.csv")


def test_treatment_cohorts_code_first_year_and_switchers(panel):
    """Cohorts of financial-year indicators, timed from the baseline's go-live dates."""
    financial = panel[panel["period_key"] == "financial"]
    cohorts = did.treatment_cohorts(financial).set_index("area_code")
    # Highland from 1 April 2012: financial 2011-12 not exposed, 2012-13 the first exposed
    assert cohorts.loc[HIGHLAND, ["g_full", "g_partial", "g"]].tolist() == [2013, 0, 2013]
    # Moray full from 1 April 2020: 2020-21 (labelled 2021) first exposed
    assert cohorts.loc[MORAY, ["g_full", "g", "end_year"]].tolist() == [2021, 2021, 0]
    assert not cohorts.loc[MORAY, "switcher"]
    # North Lanarkshire: full 2016-17 to 2018-19, 2019-20 a transition (12 April 2019), then
    # partial; the transition ends its full period
    assert cohorts.loc[NORTH_LANARKSHIRE, ["g_full", "g_partial", "end_year"]].tolist() == [
        2017,
        2021,
        2020,
    ]
    assert cohorts.loc[NORTH_LANARKSHIRE, "switcher"]
    # South Ayrshire went live on 2 April 2015: 2015-16 straddles it, 2016-17 first exposed,
    # and the cohort is the first year touched, so that g - 1 is wholly before the go-live
    assert cohorts.loc[SOUTH_AYRSHIRE, ["g_full", "g_partial", "g"]].tolist() == [2017, 0, 2016]
    assert (cohorts["first_category"] == "none").sum() == 15
    assert set(cohorts.index[cohorts["switcher"]]) == {NORTH_LANARKSHIRE, EAST_LOTHIAN}


def test_sample_drops_post_switch_years_and_other_category(panel):
    partial_first = {EAST_LOTHIAN, "S12000019", "S12000029", "S12000047"}
    full, record = did.did_sample(panel, "balance_of_care", "identity", "full")
    assert record["switch_areas"] == [NORTH_LANARKSHIRE]
    assert record["rows_dropped_after_switch"] == 5  # 31 July 2019-2023 (partial from April)
    assert set(record["excluded_areas"]) == partial_first
    assert full.loc[full["area_code"] == NORTH_LANARKSHIRE, "year"].max() == 2018
    partial, record = did.did_sample(panel, "balance_of_care", "identity", "partial")
    assert NORTH_LANARKSHIRE in record["excluded_areas"]  # first integrated as full
    assert set(partial.loc[partial["g"] > 0, "area_code"]) == partial_first
    # East Lothian left partial on 1 October 2018: its 2019-2023 snapshots are dropped
    assert record["switch_areas"] == [EAST_LOTHIAN]


@pytest.mark.parametrize(
    ("indicator_id", "scale"),
    [("lac_rate", "log"), ("balance_of_care", "identity"), ("cost_per_lac", "identity")],
)
def test_overall_full_effect_covers_the_demo_truth(panel, truth, indicator_id, scale):
    # cohorts by the first period touched by a go-live: 31 July snapshots, or financial years
    cohorts = {
        "snapshot": {2012: 1, 2015: 6, 2016: 5, 2020: 1},
        "financial": {2013: 1, 2016: 7, 2017: 4, 2021: 1},
    }
    result = did.callaway_santanna(panel, indicator_id, scale, "full", biters=999, seed=1)
    assert result["status"] == "ok", result["message"]
    assert result["fallback"] == ""
    kind = "financial" if indicator_id == "cost_per_lac" else "snapshot"
    assert result["cohorts"] == cohorts[kind]
    true = truth.query("indicator_id == @indicator_id and term == 'integration_full'")
    value = float(true["value"].iloc[0])
    overall = result["overall"]
    assert overall["conf_low"] <= value <= overall["conf_high"], overall
    assert overall["std_error"] > 0


def _balanced(sample: pd.DataFrame) -> pd.DataFrame:
    counts = sample.groupby("area_code")["y"].count()
    full_areas = counts[counts == sample["year"].nunique()].index
    return sample[sample["area_code"].isin(full_areas)].reset_index(drop=True)


@pytest.mark.parametrize("indicator_id", ["balance_of_care", "lac_rate"])
def test_unconditional_cs_equals_saturated_event_study(panel, indicator_id, monkeypatch):
    scale = "log" if indicator_id == "lac_rate" else "identity"
    sample, _ = did.did_sample(panel, indicator_id, scale, "full")
    balanced = _balanced(sample)
    assert balanced["g"].gt(0).any() and balanced["g"].eq(0).any()
    monkeypatch.setattr(did, "did_sample", lambda *args, **kwargs: (balanced, {}))
    result = did.callaway_santanna(panel, indicator_id, scale, "full", covariate=None)
    assert result["method"] == did.METHOD_UNCONDITIONAL
    cells, dynamic = did.saturated_event_study(balanced)
    merged = result["att_gt"].merge(cells, on=["group", "event_time"], suffixes=("", "_reg"))
    assert len(merged) == len(cells) == len(result["att_gt"])
    np.testing.assert_allclose(merged["estimate"], merged["estimate_reg"], atol=1e-6)
    ours = result["dynamic"].query("event_time != -1").merge(dynamic, on="event_time")
    assert len(ours) == len(dynamic)
    np.testing.assert_allclose(ours["estimate_x"], ours["estimate_y"], atol=1e-6)
    assert (ours["event_time"] >= 0).sum() >= 8


def simulated_panel(effect: float, seed: int = 7, trend_on_x: float = 0.0) -> pd.DataFrame:
    """40 areas x 2010-2023: 24 never treated, cohorts 2014 (6), 2016 (6), 2019 (4)."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2024)
    starts = [0] * 24 + [2014] * 6 + [2016] * 6 + [2019] * 4
    rows = []
    for i, start in enumerate(starts):
        area_effect = rng.normal(0, 2)
        x0 = rng.normal(20 + 5 * (start > 0), 5)
        for year in years:
            treated = start > 0 and year >= start
            x = x0 + 0.2 * (year - 2010)
            y = (
                area_effect
                + 0.3 * (year - 2010)
                + trend_on_x * x0 * (year - 2010) / 10
                + effect * treated
                + rng.normal(0, 0.5)
            )
            rows.append(
                {
                    "area_code": f"A{i:02d}",
                    "hscp_code": f"P{i:02d}",
                    "year": int(year),
                    "indicator_id": "sim",
                    "value": y,
                    "integration": "full" if treated else "none",
                    "deprivation": x,
                    # pre-integration baseline (2015), the covariate csdid conditions on
                    "deprivation_baseline": x0 + 0.2 * 5,
                    "covid": int(year in (2020, 2021)),
                    "population_density": 100.0,
                    "numerator": math.nan,
                    "denominator": math.nan,
                    "population": 10000.0,
                    "population_0_17": 2000.0,
                }
            )
    return pd.DataFrame(rows)


def test_simulated_effect_is_recovered():
    sim = simulated_panel(effect=1.5, trend_on_x=0.4)
    result = did.callaway_santanna(sim, "sim", "identity", "full", seed=3)
    assert result["status"] == "ok"
    assert result["method"].startswith("outcome regression")
    overall = result["overall"]
    assert abs(overall["estimate"] - 1.5) < 0.3
    assert overall["conf_low"] <= 1.5 <= overall["conf_high"]
    post = result["dynamic"].query("event_time >= 0")
    assert np.allclose(post["estimate"], 1.5, atol=0.6)
    pre = result["dynamic"].query("event_time <= -2")
    assert (pre["estimate"].abs() < 3 * pre["std_error"]).all()
    assert result["pretrend"]["p_value"] > 0.01
    # without the covariate, trends that depend on it bias the unconditional estimator
    plain = did.callaway_santanna(sim, "sim", "identity", "full", covariate=None, seed=3)
    assert abs(plain["overall"]["estimate"] - 1.5) > abs(overall["estimate"] - 1.5)


def test_falls_back_to_unconditional_with_too_few_controls():
    sim = simulated_panel(effect=1.0)
    sim = sim[~sim["area_code"].isin([f"A{i:02d}" for i in range(2, 24)])]
    result = did.callaway_santanna(sim, "sim", "identity", "full", seed=3)
    assert result["method"] == did.METHOD_UNCONDITIONAL
    assert "not feasible" in result["fallback"]
    assert result["status"] == "ok"


def test_bootstrap_is_deterministic_given_the_seed():
    sim = simulated_panel(effect=1.0)
    first = did.callaway_santanna(sim, "sim", "identity", "full", seed=5, biters=199)
    second = did.callaway_santanna(sim, "sim", "identity", "full", seed=5, biters=199)
    assert first["overall"] == second["overall"]


def test_rows_have_the_contract_columns(panel):
    result = did.callaway_santanna(panel, "balance_of_care", "identity", "full")
    rows = did.did_rows(result, "balance_of_care")
    assert len(rows) == 1 and list(rows[0]) == COEFFICIENT_COLUMNS
    assert rows[0]["term"] == "integration_full" and rows[0]["model"] == "csdid"
    events = pd.DataFrame(did.event_study_rows(result, "balance_of_care"))
    assert list(events.columns) == did.EVENT_COLUMNS
    reference = events.query("event_time == -1")
    assert reference["estimate"].tolist() == [0.0] and reference["std_error"].isna().all()
    assert did.event_term("full", -3) == "event_full_-3"
    assert did.event_term("full", 4) == "event_full_+4"


def test_failure_is_reported_not_raised(panel):
    result = did.callaway_santanna(panel, "no_such_indicator", "identity", "full")
    assert result["status"] == "failed" and "no rows" in result["message"]
    row = did.did_rows(result, "no_such_indicator")[0]
    assert math.isnan(row["estimate"]) and row["inference"] == ""
    assert did.event_study_rows(result, "no_such_indicator") == []


def test_single_treated_area_is_flagged(panel):
    # East Lothian the only area first integrated as partial once Midlothian, South
    # Lanarkshire and Fife are left out
    panel = panel[~panel["area_code"].isin(["S12000019", "S12000029", "S12000047"])]
    result = did.callaway_santanna(panel, "balance_of_care", "identity", "partial")
    assert result["n_treated_areas"] == 1
    assert "too narrow" in result["message"]


def test_event_study_plot_is_deterministic(panel, tmp_path):
    registry = pd.read_csv(DEMO / "indicators.csv")
    rows = []
    for category in did.CATEGORIES:
        result = did.callaway_santanna(panel, "cost_per_lac", "identity", category)
        rows += did.event_study_rows(result, "cost_per_lac")
    first = es_plot.plot_event_study(rows, registry, "cost_per_lac", tmp_path / "a" / "es")
    second = es_plot.plot_event_study(rows, registry, "cost_per_lac", tmp_path / "b" / "es.png")
    assert [p.suffix for p in first] == [".png", ".svg"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def _captured_figure(monkeypatch, *args, **kwargs):
    """Draw an event study and return the figure instead of saving it."""
    drawn = []
    monkeypatch.setattr(es_plot, "save_figure", lambda fig, out: drawn.append(fig) or [])
    es_plot.plot_event_study(*args, **kwargs)
    (fig,) = drawn
    fig.canvas.draw()
    return fig


def _event_rows(category, *, intervals=True, indicator="attainment_scqf6_deprived"):
    rows = []
    for e in (-3, -2, -1, 0, 1, 2):
        estimate = 0.0 if e == -1 else 0.1 * e
        half = math.nan if e == -1 or not intervals else 0.5
        rows.append(
            {
                "indicator_id": indicator,
                "model": did.MODEL,
                "category": category,
                "event_time": e,
                "estimate": estimate,
                "std_error": half / 2,
                "conf_low": estimate - half,
                "conf_high": estimate + half,
            }
        )
    return rows


@pytest.mark.parametrize("extra", ["", " and a much longer qualifier that goes on" * 3])
def test_event_study_titles_lie_inside_the_figure(monkeypatch, extra):
    registry = pd.read_csv(DEMO / "indicators.csv")
    longest = registry.loc[registry["title"].str.len().idxmax(), "indicator_id"]
    registry.loc[registry["indicator_id"] == longest, "title"] += extra
    rows = _event_rows("full", indicator=longest) + _event_rows("partial", indicator=longest)
    fig = _captured_figure(monkeypatch, rows, registry, longest, "unused")
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    titles = [fig._suptitle] + [ax.title for ax in fig.axes]
    for title in titles:
        extent = title.get_window_extent(renderer)
        assert title.get_text()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, title.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, title.get_text()
    plt.close(fig)


def test_empty_event_study_panel_says_why_without_axes(monkeypatch):
    registry = pd.read_csv(DEMO / "indicators.csv")
    reasons = {
        ("csdid", "partial"): (
            "status failed; no cohort coded partial with a base year and a control group"
        )
    }
    fig = _captured_figure(
        monkeypatch,
        _event_rows("full"),
        registry,
        "attainment_scqf6_deprived",
        "unused",
        reasons=reasons,
    )
    full, partial = fig.axes
    texts = [t.get_text().replace("\n", " ") for t in partial.texts]
    assert texts == ["not estimated: no cohort coded partial with a base year and a control group"]
    assert len(partial.get_xticks()) == 0 and len(partial.get_yticks()) == 0
    assert not any(spine.get_visible() for spine in partial.spines.values())
    assert not partial.lines and not partial.collections
    assert len(full.get_xticks()) > 0 and full.lines
    assert "no interval" not in " ".join(t.get_text() for t in full.texts)
    plt.close(fig)


def test_empty_event_study_panel_without_reason_still_says_not_estimated(monkeypatch):
    registry = pd.read_csv(DEMO / "indicators.csv")
    fig = _captured_figure(monkeypatch, [], registry, "cost_per_lac", "unused")
    for ax in fig.axes:
        assert [t.get_text().replace("\n", " ") for t in ax.texts] == [
            "not estimated: no event-time effects for this category"
        ]
        assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0
    plt.close(fig)


def test_one_treated_area_panel_notes_missing_intervals(monkeypatch):
    registry = pd.read_csv(DEMO / "indicators.csv")
    rows = _event_rows("full") + _event_rows("partial", intervals=False)
    reasons = {("csdid", "partial"): "only 1 treated area: no valid standard error; status ok"}
    fig = _captured_figure(
        monkeypatch, rows, registry, "attainment_scqf6_deprived", "unused", reasons=reasons
    )
    full, partial = fig.axes
    assert [t.get_text() for t in partial.texts] == ["no interval: only 1 treated area"]
    assert partial.lines  # the points are still drawn
    assert not full.texts
    plt.close(fig)


def test_event_study_reasons_read_the_did_notes():
    coefficients = pd.DataFrame(
        {
            "indicator_id": ["a", "a", "a", "a", "b"],
            "model": ["csdid", "csdid", "twfe", "dcdh", "csdid"],
            "term": [
                "integration_full",
                "integration_partial",
                "integration_partial",
                "integration_full",
                "x",
            ],
            "note": [
                "status ok",
                "only 1 treated area: no valid standard error",
                "no",
                "not identified: 1 partnership(s) change status within 2014-2019 (A)",
                "z",
            ],
        }
    )
    assert es_plot.event_study_reasons(coefficients, "a") == {
        ("csdid", "full"): "status ok",
        ("csdid", "partial"): "only 1 treated area: no valid standard error",
        ("dcdh", "full"): "not identified: 1 partnership(s) change status within 2014-2019 (A)",
    }
    assert es_plot.event_study_reasons(coefficients, "b") == {}


def test_event_study_draws_one_row_per_model(monkeypatch):
    registry = pd.read_csv(DEMO / "indicators.csv")
    rows = _event_rows("full") + _event_rows("partial")
    dcdh = [{**row, "model": "dcdh"} for row in _event_rows("full", intervals=False)]
    reasons = {("dcdh", "full"): "not identified: 1 partnership(s) change status within x"}
    fig = _captured_figure(
        monkeypatch,
        rows + dcdh,
        registry,
        "attainment_scqf6_deprived",
        "unused",
        reasons=reasons,
        models=["dcdh", "csdid", "twfe"],
    )
    assert [ax.get_title() for ax in fig.axes] == [
        "Callaway-Sant'Anna (csdid): full vs none",
        "Callaway-Sant'Anna (csdid): partial vs none",
        "de Chaisemartin-D'Haultfoeuille (dcdh): full vs none",
        "de Chaisemartin-D'Haultfoeuille (dcdh): partial vs none",
    ]
    dcdh_full, dcdh_partial = fig.axes[2:]
    assert [t.get_text() for t in dcdh_full.texts] == [
        "no interval: not identified (1 partnership)"
    ]
    assert [t.get_text().replace("\n", " ") for t in dcdh_partial.texts] == [
        "not estimated: no event-time effects for this category"
    ]
    assert "event studies" in fig._suptitle.get_text()
    plt.close(fig)
