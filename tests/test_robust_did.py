"""The heterogeneity-robust estimators ``sunab``, ``bjs`` and ``dcdh`` (issue 16).

(1) Our wrapper returns the library's own numbers on the sample it builds; (2) on a staggered
panel with known effects that differ by cohort and grow over time all three recover the
average effect, while two-way fixed effects does not (why these estimators exist); (3) dCDH
keeps a switch off and the switcher's later years; (4) a term resting on one partnership
keeps its estimate and loses its inference, with the project's own ``not identified`` note;
(5) a library failure is a ``failed`` fit, not a crash.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from integration_models.inference.identification import identification
from integration_models.models import robust_did as rd
from integration_models.models.base import COEFFICIENT_COLUMNS, FitSettings
from integration_models.models.csdid import EVENT_COLUMNS, did_sample
from integration_models.models.design import TERMS
from integration_models.models.estimators import fit_indicator
from integration_models.models.fit_job import fit_did

YEARS = list(range(2010, 2022))
TOLERANCE = 1e-10


def _panel(
    codings: dict[str, list[str]],
    effect=None,
    *,
    hscp: dict[str, str] | None = None,
    noise: float = 0.05,
    seed: int = 7,
) -> pd.DataFrame:
    """A panel of one indicator ``outcome`` (financial years :data:`YEARS`).

    ``codings``: area -> category by year. The outcome is an area level, a common year
    shock, a trend in the area's deprivation baseline (the covariate the estimators adjust
    for), ``effect(area, year, categories)`` and normal noise of SD ``noise``. ``hscp``: area
    -> partnership (default: its own).
    """
    rng = np.random.default_rng(seed)
    shocks = dict(zip(YEARS, rng.normal(0, 1, len(YEARS)), strict=True))
    hscp = hscp or {}
    records = []
    for k, (area, categories) in enumerate(sorted(codings.items())):
        level = rng.normal(50, 5)
        baseline = float(rng.uniform(5, 30))
        for year, category in zip(YEARS, categories, strict=True):
            value = (
                level
                + shocks[year]
                + 0.01 * baseline * (year - 2016)
                + (effect(area, year, categories) if effect else 0.0)
                + rng.normal(0, noise)
            )
            records.append(
                {
                    "indicator_id": "outcome",
                    "area_code": area,
                    "area_name": f"Area {area}",
                    "hscp_code": hscp.get(area, f"H_{area}"),
                    "health_board_code": "B1",
                    "hscp_start_year": 2016,
                    "year": year,
                    "period_key": "financial",
                    "value": value,
                    "numerator": math.nan,
                    "denominator": 1000.0,
                    "integration": category,
                    "integration_exposed": category,
                    "deprivation": baseline,
                    "deprivation_baseline": baseline,
                    "covid": 0.0,
                    "population_density": 100.0 + k,
                    "population": 50000.0,
                    "population_0_17": 10000.0,
                }
            )
    return pd.DataFrame(records)


def _coding(first: int | None, category: str = "full") -> list[str]:
    """``none`` before ``first``, ``category`` from it (``none`` throughout if None)."""
    return ["none" if first is None or year < first else category for year in YEARS]


def _staggered(effect, n_never: int = 14, per_cohort: int = 6) -> pd.DataFrame:
    codings = {f"N{i:02d}": _coding(None) for i in range(n_never)}
    for g in COHORTS:
        codings.update({f"G{g}_{i}": _coding(g) for i in range(per_cohort)})
    return _panel(codings, effect)


COHORTS = (2013, 2016, 2019)
# effects differ by cohort and grow with time since integration
SLOPES = {2013: 0.6, 2016: 0.3, 2019: 0.1}
BASE = {2013: 1.0, 2016: 0.5, 2019: 0.2}


def _heterogeneous(area: str, year: int, categories: list[str]) -> float:
    if not area.startswith("G"):
        return 0.0
    g = int(area[1:5])
    return BASE[g] + SLOPES[g] * (year - g) if year >= g else 0.0


def _overall(result) -> dict:
    return pd.DataFrame(result.coefficients).set_index("term").loc["integration_full"]


# --------------------------------------------------------------------------------------------
# (1) our numbers are the library's


def _events(rows: list[dict], model: str, category: str = "full") -> pd.Series:
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    frame = frame[(frame["model"] == model) & (frame["category"] == category)]
    return frame.set_index("event_time")["estimate"].drop(-1)


@pytest.mark.parametrize("category", ["full", "partial"])
def test_sunab_is_the_library_on_the_same_sample(demo_panel, category):
    import diff_diff

    result = rd.robust_did(demo_panel, "balance_of_care", "identity", category, model="sunab")
    sample, _ = rd.staggered_sample(demo_panel, "balance_of_care", "identity", category, "sunab")
    plain = diff_diff.SunAbraham(cluster="hscp_code", df_convention="cluster").fit(
        sample, "y", "area_code", "year", "g", covariates=["deprivation_trend"]
    )
    assert result["status"] == "ok"
    assert abs(result["overall"]["estimate"] - plain.overall_att) < TOLERANCE
    assert abs(result["overall"]["std_error"] - plain.overall_se) < TOLERANCE
    assert abs(result["overall"]["p_value"] - plain.overall_p_value) < TOLERANCE
    dynamic = result["dynamic"].set_index("event_time")["estimate"].drop(-1)
    expected = pd.Series({int(e): v["effect"] for e, v in plain.event_study_effects.items()})
    assert (dynamic.index == expected.sort_index().index).all()
    assert np.abs(dynamic - expected.sort_index()).max() < TOLERANCE


@pytest.mark.parametrize("category", ["full", "partial"])
def test_bjs_is_the_library_on_the_same_sample(demo_panel, category):
    import diff_diff

    result = rd.robust_did(demo_panel, "balance_of_care", "identity", category, model="bjs")
    sample, _ = rd.staggered_sample(demo_panel, "balance_of_care", "identity", category, "bjs")
    plain = diff_diff.ImputationDiD(
        cluster="hscp_code", pretrends=True, leave_one_out=True, aux_partition="horizon"
    ).fit(sample, "y", "area_code", "year", "g", covariates=["deprivation_trend"])
    events = plain.aggregate("event_study")
    assert abs(result["overall"]["estimate"] - plain.overall_att) < TOLERANCE
    assert abs(result["overall"]["std_error"] - plain.overall_se) < TOLERANCE
    dynamic = result["dynamic"].set_index("event_time")["estimate"]
    expected = pd.Series(events.att, index=np.asarray(events.event_time, dtype=int))
    expected = expected[np.isfinite(expected)]
    assert (dynamic.index == expected.index).all()
    assert np.abs(dynamic - expected).max() < TOLERANCE


@pytest.mark.parametrize("category", ["full", "partial"])
def test_dcdh_is_the_library_on_the_same_sample(demo_panel, category):
    import diff_diff

    result = rd.robust_did(demo_panel, "balance_of_care", "identity", category, model="dcdh")
    sample, record = rd.dcdh_sample(demo_panel, "balance_of_care", "identity", category)
    plain = diff_diff.ChaisemartinDHaultfoeuille(
        twfe_diagnostic=False, drop_larger_lower=not record["multi_switch_areas"]
    ).fit(
        sample,
        "y",
        unit="area_code",
        time="year",
        treatment="D",
        L_max=rd.dcdh_horizons(sample),
        covariates=["deprivation_trend"],
    )
    assert abs(result["overall"]["estimate"] - plain.overall_att) < TOLERANCE
    # the overall SE is the bound sum_l w_l SE_l, never below the library's independent one
    weights = plain.cost_benefit_delta["weights"]
    bound = sum(w * plain.event_study_effects[h]["se"] for h, w in weights.items() if w > 0)
    assert abs(result["overall"]["std_error"] - bound) < TOLERANCE
    assert result["overall"]["std_error"] >= plain.overall_se
    dynamic = result["dynamic"].set_index("event_time")["estimate"].drop(-1)
    expected = {h - 1: v["effect"] for h, v in plain.event_study_effects.items()}
    expected |= {h - 1: v["effect"] for h, v in plain.placebo_event_study.items()}
    expected = pd.Series(expected).sort_index()
    expected = expected[np.isfinite(expected)]
    assert (dynamic.index == expected.index).all()
    assert np.abs(dynamic - expected).max() < TOLERANCE


# --------------------------------------------------------------------------------------------
# (2) known heterogeneous, growing effects: the robust estimators recover them, twfe does not


RECOVERY_TOLERANCE = 0.05  # model-scale units; the noise SD is 0.05 and the truth about 1.5


def _truth(panel: pd.DataFrame, max_horizon: int | None = None) -> float:
    """The average effect over treated area-years (those within ``max_horizon`` if given)."""
    treated = panel[panel["integration"] == "full"].copy()
    g = treated["area_code"].str[1:5].astype(int)
    if max_horizon is not None:
        treated = treated[treated["year"] - g < max_horizon]
    return float(
        np.mean(
            [
                _heterogeneous(a, y, [])
                for a, y in zip(treated["area_code"], treated["year"], strict=True)
            ]
        )
    )


def test_robust_estimators_recover_heterogeneous_growing_effects_where_twfe_is_biased():
    panel = _staggered(_heterogeneous)
    truth = _truth(panel)
    twfe = fit_indicator(panel, "outcome", "twfe", "identity").coefficient_frame()
    twfe_full = twfe.set_index("term").loc["integration_full", "estimate"]
    # twfe: visibly biased (already-integrated areas act as controls of the later cohorts)
    assert abs(twfe_full - truth) > 10 * RECOVERY_TOLERANCE, (twfe_full, truth)
    for model in rd.MODELS:
        result, events = fit_did(panel, "outcome", "identity", FitSettings(), model=model)
        assert result.fit["status"] == "ok", result.fit["message"]
        estimate = _overall(result)["estimate"]
        target = truth
        if model == "dcdh":  # dCDH averages the horizons that half the switchers reach
            sample, _ = rd.dcdh_sample(panel, "outcome", "identity", "full")
            target = _truth(panel, rd.dcdh_horizons(sample))
        assert abs(estimate - target) < RECOVERY_TOLERANCE, (model, estimate, target)
        # the event-time effects follow the cohort-averaged truth, the pre-periods are flat
        dynamic = _events(events, model)
        assert np.abs(dynamic[dynamic.index < -1]).max() < RECOVERY_TOLERANCE
        first = np.mean([BASE[g] for g in COHORTS])
        assert abs(dynamic.loc[0] - first) < RECOVERY_TOLERANCE


# --------------------------------------------------------------------------------------------
# (3) dCDH keeps a switch off


def test_dcdh_keeps_the_switch_off_and_the_switchers_later_years():
    switcher = ["none"] * 4 + ["full"] * 3 + ["partial"] * 5  # full 2014-2016, then partial
    codings = {f"N{i:02d}": _coding(None) for i in range(12)}
    codings |= {f"F{i}": _coding(2014 + i % 3) for i in range(8)}
    codings["S01"] = switcher
    panel = _panel(codings, lambda area, year, c: 1.0 if c[YEARS.index(year)] == "full" else 0.0)
    # csdid's sample (also sunab's and bjs's) drops the switcher's years after its change
    _, record = did_sample(panel, "outcome", "identity", "full")
    assert record["rows_dropped_after_switch"] == 5 and record["switch_areas"] == ["S01"]
    # dcdh keeps them: every year of the switcher, the partial years as not treated
    sample, record = rd.dcdh_sample(panel, "outcome", "identity", "full")
    rows = sample[sample["area_code"] == "S01"]
    assert len(rows) == len(YEARS)
    assert rows["D"].tolist() == [0.0] * 4 + [1.0] * 3 + [0.0] * 5
    assert record["other_years_untreated"] == 5
    assert record["switch_off_areas"] == record["multi_switch_areas"] == ["S01"]
    fitted = rd.fit_dcdh(sample, ["deprivation_trend"], 0.05)
    assert "S01" in fitted.units and fitted.n_obs == len(sample)
    # the later years enter the estimate: changing them changes it
    shifted = panel.copy()
    late = (shifted["area_code"] == "S01") & (shifted["year"] >= 2017)
    shifted.loc[late, "value"] += 5.0
    before = rd.robust_did(panel, "outcome", "identity", "full", model="dcdh")
    after = rd.robust_did(shifted, "outcome", "identity", "full", model="dcdh")
    assert after["overall"]["estimate"] != pytest.approx(before["overall"]["estimate"])
    assert before["n_obs"] == len(sample) and "switch off kept" in before["design"]
    # the library's warning about it is the fit's, as for every model
    result, _ = fit_did(panel, "outcome", "identity", FitSettings(), model="dcdh")
    assert "drop_larger_lower=False" in result.fit["warnings"]
    assert (
        "switch off kept, later years not dropped: Area S01 (on, then off)"
        in (_overall(result)["note"])
    )


def test_dcdh_partial_leaves_out_an_area_first_integrated_as_full():
    switcher = ["none"] * 4 + ["full"] * 3 + ["partial"] * 5
    codings = {f"N{i:02d}": _coding(None) for i in range(10)}
    codings |= {f"P{i}": _coding(2014 + i % 3, "partial") for i in range(6)}
    codings["S01"] = switcher
    sample, record = rd.dcdh_sample(_panel(codings), "outcome", "identity", "partial")
    assert "S01" in record["excluded_areas"] and "S01" not in set(sample["area_code"])


# --------------------------------------------------------------------------------------------
# (4) one identifying partnership: the estimate stays, the inference goes


@pytest.mark.parametrize("model", rd.MODELS)
def test_a_single_switching_partnership_is_not_identified(model):
    # two areas of one partnership switch (so two treated areas, one partnership)
    codings = {f"N{i:02d}": _coding(None) for i in range(12)}
    codings |= {"C1": _coding(2015), "C2": _coding(2015)}
    hscp = {"C1": "H_C", "C2": "H_C"}
    panel = _panel(codings, lambda a, y, c: 1.0 if c[YEARS.index(y)] == "full" else 0.0, hscp=hscp)
    result, events = fit_did(panel, "outcome", "identity", FitSettings(), model=model)
    rows = pd.DataFrame(result.coefficients)
    assert set(rows.columns) == set(COEFFICIENT_COLUMNS) and list(rows["term"]) == list(TERMS)
    full = rows.set_index("term").loc["integration_full"]
    assert full["n_identifying_areas"] == 1
    assert abs(full["estimate"] - 1.0) < 0.1  # the estimate is kept
    for column in ("std_error", "statistic", "p_value", "conf_low", "conf_high"):
        assert math.isnan(full[column]), column
    assert full["inference"] == ""
    # the note is the project's own reason, not a message written again
    if model == "dcdh":
        frame, _ = rd.dcdh_sample(panel, "outcome", "identity", "full")
    else:
        frame, _ = rd.staggered_sample(panel, "outcome", "identity", "full", model)
    reason = identification(frame, "integration_full").reason(2)
    assert reason.startswith("not identified: 1 partnership(s) change status within")
    assert full["note"].startswith(reason + "; ")
    # and the event-time effects lose their intervals too
    post = pd.DataFrame(events)
    post = post[(post["category"] == "full") & (post["event_time"] >= 0)]
    assert len(post) and post["std_error"].isna().all() and post["estimate"].notna().all()


def test_two_switching_partnerships_are_identified():
    codings = {f"N{i:02d}": _coding(None) for i in range(12)}
    codings |= {"C1": _coding(2015), "C2": _coding(2017)}
    panel = _panel(codings, lambda a, y, c: 1.0 if c[YEARS.index(y)] == "full" else 0.0)
    for model in rd.MODELS:
        result, _ = fit_did(panel, "outcome", "identity", FitSettings(), model=model)
        full = _overall(result)
        assert full["n_identifying_areas"] == 2
        assert math.isfinite(full["std_error"]) and full["inference"], model
        assert "not identified" not in full["note"]


# --------------------------------------------------------------------------------------------
# (5) a library failure is a failed fit


@pytest.mark.parametrize("model", rd.MODELS)
def test_a_library_failure_is_a_failed_row_not_a_crash(monkeypatch, model):
    def broken(sample, covariates, alpha):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setitem(rd.FITS, model, broken)
    panel = _staggered(_heterogeneous)
    result, events = fit_did(panel, "outcome", "identity", FitSettings(), model=model)
    assert result.fit["status"] == "failed" and not result.fit["converged"]
    assert "full: LinAlgError: Singular matrix" in result.fit["message"]
    full = _overall(result)
    assert math.isnan(full["estimate"]) and full["inference"] == ""
    assert "LinAlgError: Singular matrix" in full["note"]
    assert events == []


def test_a_real_library_error_is_reported():
    # no never-integrated area: Sun-Abraham's never-treated controls do not exist
    codings = {f"F{i}": _coding(2013 + i % 4) for i in range(12)}
    result = rd.robust_did(_panel(codings), "outcome", "identity", "full", model="sunab")
    assert result["status"] == "failed"
    assert result["message"].startswith("ValueError: No never-treated units")


def test_the_figures_know_every_difference_in_differences_model():
    from integration_models.models.fit_job import DID_MODELS
    from integration_models.plots import EVENT_STUDY_MODELS, LINEAR_MODELS
    from integration_models.plots.estimators import ESTIMATORS

    assert EVENT_STUDY_MODELS == DID_MODELS == ("csdid", *rd.MODELS)
    assert set(DID_MODELS) <= set(LINEAR_MODELS) and set(DID_MODELS) <= set(ESTIMATORS)


# --------------------------------------------------------------------------------------------
# the estimators figure


def test_estimators_figure_draws_unidentified_points_without_intervals(monkeypatch, tmp_path):
    from integration_models.plots import estimators as figure

    def row(model, term, estimate, low, high, note=""):
        return {
            "indicator_id": "outcome",
            "model": model,
            "term": term,
            "estimate": estimate,
            "conf_low": low,
            "conf_high": high,
            "scale": "identity",
            "note": note,
        }

    reason = "not identified: 1 partnership(s) change status within 2014-2019 (A); at least 2"
    coefficients = pd.DataFrame(
        [
            row("twfe", "integration_full", 1.0, 0.5, 1.5),
            row("twfe", "integration_partial", 0.2, -0.3, 0.7),
            row("sunab", "integration_full", 1.2, math.nan, math.nan, f"{reason}; status ok"),
            row("sunab", "integration_partial", 0.1, -0.2, 0.4),
            row("dcdh", "integration_full", math.nan, math.nan, math.nan, "status failed"),
            row("dcdh", "integration_partial", math.nan, math.nan, math.nan, "status failed"),
        ]
    )
    model_fit = pd.DataFrame(
        {
            "indicator_id": "outcome",
            "model": ["twfe", "sunab", "dcdh"],
            "status": ["ok", "ok", "failed"],
            "message": ["", "", "full: ValueError: boom; partial: ValueError: boom"],
        }
    )
    registry = pd.DataFrame({"indicator_id": ["outcome"], "title": ["An outcome"], "unit": ["%"]})
    drawn = []
    monkeypatch.setattr(figure, "save_figure", lambda fig, out: drawn.append(fig) or [])
    figure.plot_estimators(coefficients, model_fit, registry, ["outcome"], "unused")
    (fig,) = drawn
    ax = fig.axes[0]
    notes = sorted(t.get_text() for t in ax.texts)
    assert notes == [
        "full: no interval, not identified (1 partnership)",
        "full: not estimated (full: ValueError: boom)",
        "partial: not estimated (full: ValueError: boom)",
    ]
    hollow = [line for line in ax.lines if line.get_markerfacecolor() == "white"]
    assert len(hollow) == 2 and sum(len(line.get_xdata()) for line in hollow) == 1
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        figure.ESTIMATORS[m] for m in ("twfe", "sunab", "dcdh")
    ]
    # the same figure twice is the same bytes
    monkeypatch.undo()
    first = figure.plot_estimators(coefficients, model_fit, registry, ["outcome"], tmp_path / "a")
    second = figure.plot_estimators(coefficients, model_fit, registry, ["outcome"], tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_estimators_figure_without_primary_outcomes_says_so(tmp_path):
    from integration_models.plots.estimators import NO_OUTCOMES, plot_estimators

    columns = ["indicator_id", "model", "term", "estimate", "conf_low", "conf_high", "scale"]
    empty = pd.DataFrame(columns=[*columns, "note"])
    fits = pd.DataFrame(columns=["indicator_id", "model", "status", "message"])
    registry = pd.DataFrame({"indicator_id": ["a"], "title": ["A"], "unit": ["%"]})
    paths = plot_estimators(empty, fits, registry, [], tmp_path / "e")
    assert NO_OUTCOMES in paths[1].read_text(encoding="utf-8")
