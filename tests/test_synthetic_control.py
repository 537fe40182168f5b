"""Synthetic control and synthetic DiD of the single early adopters (issue 16).

Checked against the library's plain calls (``diff_diff.SyntheticControl``, its
``in_space_placebo``, ``diff_diff.SyntheticDiD``) and against simulated panels with a known
truth; the design's treated areas, go-live and donors against the classification.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from integration_models.data.exposure import PeriodType, exposure_table
from integration_models.errors import InputError
from integration_models.models import synthetic_control as sc
from integration_models.models.synthetic_design import (
    NO_POST,
    OK,
    TOO_FEW_PRE,
    Design,
    build_design,
    donor_pool,
    fit_status,
    treated_partnerships,
)

HIGHLAND, MORAY = "S37000016", "S37000019"
MIN_PRE = {"scm": 5, "sdid": 3}
# the batched placebo refits run the library's own weight solve on the same numbers: equal
# up to the rounding of a different summation order
TIGHT = 1e-9


def _design(values: pd.DataFrame, treated: str, n_pre: int) -> Design:
    years = list(values.index)
    return Design("sim", treated, values, years[:n_pre], years[n_pre:])


def _random_walks(n_years: int, donors: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    paths = 10 + np.cumsum(rng.normal(size=(n_years, donors)), axis=0)
    paths += rng.normal(scale=3, size=donors)  # different levels
    columns = [f"S12{900000 + j:06d}" for j in range(donors)]
    return pd.DataFrame(paths, index=range(2010, 2010 + n_years), columns=columns)


def _convex_case(effect: float, n_pre: int = 10, n_post: int = 4, seed: int = 1) -> Design:
    """Treated = 0.3 donor 1 + 0.7 donor 3 in every year, plus ``effect`` after go-live."""
    donors = _random_walks(n_pre + n_post, 6, seed)
    treated = 0.3 * donors.iloc[:, 1] + 0.7 * donors.iloc[:, 3]
    treated.iloc[n_pre:] += effect
    values = pd.concat([treated.rename("S12000001"), donors], axis=1)
    return _design(values, "S12000001", n_pre)


def test_scm_recovers_a_known_effect_of_an_exact_convex_combination():
    design = _convex_case(effect=2.5)
    fit = sc.fit_scm(design)
    # the treated unit lies in the donors' convex hull: exact weights, zero pre-period gap,
    # and the post-period gap is the effect (the weight solve is exact: 1e-8)
    assert fit.pre_rmspe < 1e-8
    assert fit.estimate == pytest.approx(2.5, abs=1e-8)
    donors = design.donors
    assert fit.weights[donors[1]] == pytest.approx(0.3, abs=1e-8)
    assert fit.weights[donors[3]] == pytest.approx(0.7, abs=1e-8)
    assert sum(fit.weights.values()) == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(fit.paths["treated"] - fit.paths["synthetic"], [0] * 10 + [2.5] * 4)
    # the exact fit is said: the ratio divides by about zero
    assert fit.fit_note.startswith("exact pre-period fit (10 pre-years, 6 donors)")


def test_a_treated_area_outside_the_donors_range_is_a_poor_fit_and_said():
    design = _convex_case(effect=0.0)
    design.wide[design.area_code] += 50.0  # far above every donor in every year
    fit = sc.fit_scm(design)
    assert fit.fit_note.startswith("poor pre-period fit")
    rows, _, _ = sc.synthetic_rows(design, MIN_PRE, reps=20, seed=1, alpha=0.05)
    assert rows[0]["note"].startswith("poor pre-period fit")


def test_sdid_recovers_a_known_effect_under_parallel_paths():
    # unit level + common year path + effect: every weighting is unbiased, so SDID is exact
    rng = np.random.default_rng(3)
    years, units = range(2010, 2022), [f"S12{900000 + j:06d}" for j in range(8)]
    common = np.cumsum(rng.normal(size=len(years)))
    values = pd.DataFrame(
        common[:, None] + rng.normal(scale=5, size=len(units)), index=years, columns=units
    )
    values.iloc[8:, 0] += -1.75
    result = sc.library_sdid(_design(values, units[0], 8), reps=50, seed=1, alpha=0.05)
    assert result.att == pytest.approx(-1.75, abs=1e-8)


def test_placebo_p_value_of_the_largest_ratio_is_one_over_n_plus_one():
    design = _convex_case(effect=25.0)
    fit = sc.fit_scm(design)
    n = len(design.donors)
    assert fit.n_placebos == n
    assert fit.p_placebo == pytest.approx(1 / (n + 1))
    # the rank itself: ties count against the treated unit, unfinished placebos are left out
    ratios = np.array([1.0, 2.0, 3.0, np.nan])
    assert sc.placebo_p_value(5.0, ratios) == (pytest.approx(1 / 4), 3)
    assert sc.placebo_p_value(2.0, ratios) == (pytest.approx(3 / 4), 3)
    assert sc.placebo_p_value(0.5, ratios) == (pytest.approx(1.0), 3)
    assert math.isnan(sc.placebo_p_value(1.0, np.array([np.nan]))[0])


def _library_fit(design: Design, treated: str, pool: list[str]):
    """A plain library fit of ``treated`` against ``pool`` only."""
    from diff_diff import SyntheticControl

    values = design.wide[[treated, *pool]]
    placebo = Design("sim", treated, values, design.pre_years, design.post_years)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SyntheticControl(
            v_method="custom", custom_v=np.ones(len(design.pre_years)), standardize="none"
        ).fit(placebo.long(), "y", "treated", "unit", "year", treated_unit=treated)


@pytest.mark.parametrize("seed", [1, 2])
def test_wrapper_and_batched_placebos_equal_the_plain_library_calls(seed):
    rng = np.random.default_rng(seed)
    values = _random_walks(13, 9, seed)
    values.insert(0, "S12000001", values.mean(axis=1) + rng.normal(size=13))
    design = _design(values, "S12000001", 9)
    fit = sc.fit_scm(design)
    plain = _library_fit(design, "S12000001", design.donors)
    assert fit.estimate == plain.att
    assert fit.pre_rmspe == plain.pre_rmspe
    assert fit.ratio == plain.rmspe_ratio
    assert {d: w for d, w in fit.weights.items() if w > 0} == pytest.approx(plain.donor_weights)
    # the treated area in every placebo's pool: the library's own in_space_placebo
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = plain.in_space_placebo()
    assert fit.p_placebo_library == pytest.approx(plain.placebo_p_value, abs=TIGHT)
    assert fit.n_placebos_library == plain.n_placebos
    units = sorted(values.columns)
    matrix = values.loc[design.pre_years + design.post_years, units].to_numpy()
    batched = sc.placebo_ratios(matrix, units, "S12000001", 9, include_treated=True)
    library = frame.set_index("unit").loc[design.donors, "rmspe_ratio"].to_numpy()
    assert np.allclose(batched, library, rtol=TIGHT, atol=0)
    # the other donors as each placebo's pool: a loop of plain library fits
    own = sc.placebo_ratios(matrix, units, "S12000001", 9, include_treated=False)
    loop = [
        _library_fit(design, donor, [d for d in design.donors if d != donor]).rmspe_ratio
        for donor in design.donors
    ]
    assert np.allclose(own, loop, rtol=TIGHT, atol=0)
    assert fit.p_placebo == pytest.approx(sc.placebo_p_value(plain.rmspe_ratio, np.array(loop))[0])


def test_equal_outcome_weights_fit_the_pre_period_no_worse_than_the_nested_search():
    """The library's default nested V search minimises the same pre-period MSPE."""
    from diff_diff import SyntheticControl

    rng = np.random.default_rng(5)
    values = _random_walks(12, 7, 5)
    values.insert(0, "S12000001", values.iloc[:, :3].mean(axis=1) + rng.normal(size=12) * 0.3)
    design = _design(values, "S12000001", 9)
    fit = sc.fit_scm(design)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nested = SyntheticControl(seed=1).fit(
            design.long(), "y", "treated", "unit", "year", treated_unit="S12000001"
        )
    assert fit.pre_rmspe <= nested.pre_rmspe + 1e-9


def test_sdid_row_equals_the_plain_library_call():
    from diff_diff import SyntheticDiD

    design = _convex_case(effect=1.0, seed=4)
    rows, weights, _ = sc.synthetic_rows(design, MIN_PRE, reps=60, seed=7, alpha=0.05)
    sdid = next(row for row in rows if row["method"] == "sdid")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = SyntheticDiD(variance_method="placebo", n_bootstrap=60, seed=7).fit(
            design.long(), "y", "ever_treated", "unit", "year", post_periods=design.post_years
        )
    assert sdid["estimate"] == plain.att
    assert sdid["std_error"] == plain.se
    assert (sdid["conf_low"], sdid["conf_high"]) == plain.conf_int
    assert sdid["p_placebo"] == plain.p_value
    assert sdid["n_placebos"] == 60
    shown = {w["donor_code"]: w["weight"] for w in weights if w["method"] == "sdid"}
    assert shown == {d: w for d, w in plain.unit_weights.items() if w >= sc.MIN_WEIGHT_SHOWN}


def test_too_few_pre_periods_gives_the_status_and_note_not_a_fit(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a design with too few pre-periods must not be fitted")

    monkeypatch.setattr(sc, "library_scm", refuse)
    monkeypatch.setattr(sc, "library_sdid", refuse)
    design = _convex_case(effect=1.0, n_pre=2, n_post=10)
    rows, weights, paths = sc.synthetic_rows(design, MIN_PRE, reps=20, seed=1, alpha=0.05)
    assert [row["status"] for row in rows] == [TOO_FEW_PRE, TOO_FEW_PRE]
    assert rows[0]["note"].startswith("2 pre-years < minimum 5: not fitted")
    assert rows[1]["note"].startswith("2 pre-years < minimum 3: not fitted")
    assert all(math.isnan(row["estimate"]) for row in rows)
    assert weights == [] and paths.empty
    # a minimum met by one method only: sdid (3) fits 3 pre-years, scm (5) does not
    assert fit_status(_convex_case(1.0, n_pre=3, n_post=3), 3)[0] == OK
    assert fit_status(_convex_case(1.0, n_pre=3, n_post=3), 5)[0] == TOO_FEW_PRE


@pytest.fixture(scope="module")
def demo_exposure(areas, baseline):
    kinds = [PeriodType("financial"), PeriodType("academic"), PeriodType("snapshot", 1, "07-31")]
    return exposure_table(baseline, areas, range(2010, 2024), kinds)


def test_treated_partnerships_and_go_live_come_from_the_classification(areas, baseline):
    highland, moray = treated_partnerships([HIGHLAND, MORAY], baseline, areas)
    assert (highland.name, highland.go_live, highland.go_live_year) == (
        "Highland",
        "2012-04-01",
        2012,
    )
    assert (moray.name, moray.go_live_year, moray.category) == ("Moray", 2020, "full")
    assert highland.area_codes == ("S12000017",) and moray.area_codes == ("S12000020",)
    # another classification, another go-live: nothing is hard-coded
    moved = baseline.copy()
    row = (moved["hscp_code"] == MORAY) & (moved["category"] == "full")
    moved.loc[row, ["from_date", "from_year"]] = ["2021-04-01", 2021]
    assert treated_partnerships([MORAY], moved, areas)[0].go_live_year == 2021
    with pytest.raises(InputError, match="partnerships: 'S37999999' is not a partnership"):
        treated_partnerships(["S37999999"], baseline, areas)


def test_donor_pool_excludes_every_integrated_area(areas, baseline, demo_exposure):
    years = list(range(2010, 2024))
    for period in ("financial", "academic", "snapshot/07-31"):
        donors = donor_pool(demo_exposure, period, years)
        rows = demo_exposure[demo_exposure["period_key"] == period]
        ever = set(rows.loc[rows["integration"] != "none", "area_code"])
        assert donors and not ever & set(donors)
        assert set(donors) | ever == set(areas["area_code"])
    # one integrated or transition year anywhere in the indicator's years excludes an area
    exposure = pd.DataFrame(
        {
            "area_code": ["A", "A", "B", "B", "C", "C"],
            "year": [2015, 2016] * 3,
            "period_key": ["financial"] * 6,
            "integration": ["none", "partial", "none", "transition", "none", "none"],
        }
    )
    assert donor_pool(exposure, "financial", [2015, 2016]) == ["C"]
    assert donor_pool(exposure, "financial", [2015]) == ["A", "B", "C"]


def test_design_times_go_live_by_the_period_and_leaves_out_the_transition(demo_exposure):
    areas_ = sorted(demo_exposure["area_code"].unique())
    rows = [
        {"indicator_id": "x", "area_code": a, "year": y, "period_key": period, "y": float(y)}
        for period in ("financial", "academic")
        for a in areas_
        for y in range(2010, 2024)
    ]
    frame = pd.DataFrame(rows)
    financial = build_design(frame[frame["period_key"] == "financial"], demo_exposure,
                             "S12000017", "full")  # fmt: skip
    # Highland went live on 1 April 2012: financial 2011-12 (year 2012) is before it
    assert financial.pre_years == [2010, 2011, 2012] and financial.post_years[0] == 2013
    academic = build_design(frame[frame["period_key"] == "academic"], demo_exposure,
                            "S12000017", "full")  # fmt: skip
    # academic 2011-12 straddles go-live: left out, and said so
    assert academic.pre_years == [2010, 2011] and academic.post_years[0] == 2013
    assert "transition period left out: 2012" in academic.note
    assert all(d not in academic.donors for d in ("S12000017", "S12000020"))
    # a donor without a value in one year is left out and counted
    dropped = (frame["area_code"] == financial.donors[0]) & (frame["year"] == 2014)
    gap = frame[(frame["period_key"] == "financial") & ~dropped]
    short = build_design(gap, demo_exposure, "S12000020", "full")
    assert financial.donors[0] not in short.donors
    assert f"1 of {len(financial.donors)} donors lack a year" in short.note
    # never integrated in these years: no post-period
    never = build_design(frame[frame["period_key"] == "financial"], demo_exposure,
                         financial.donors[0], "full")  # fmt: skip
    assert never.status == NO_POST


def test_job_and_combining_command_write_checked_tables_and_the_figure(
    demo_panel, demo_exposure, tmp_path
):
    """Two demo indicators through the per-indicator job and the combining command."""
    from integration_models.cli import main
    from integration_models.data.ingest import write_panel
    from integration_models.results.schemas import read_table
    from integration_models.results.synthetic_control import synthetic_job
    from tests.conftest import AREAS, BASELINE, DEMO

    write_panel(demo_panel, pd.DataFrame({"file": [], "line": []}), tmp_path / "panel.parquet",
                tmp_path / "exclusions.csv")  # fmt: skip
    demo_exposure.to_parquet(tmp_path / "integration.parquet")
    settings = {"partnerships": [HIGHLAND, MORAY], "min_pre_years": MIN_PRE, "reps": 50,
                "seed": 1, "alpha": 0.05}  # fmt: skip
    scales = {"percentage": "identity", "rate": "log", "count": "log", "mean": "identity"}
    parts = {part: [] for part in ("estimates", "weights", "paths")}
    for indicator in ("lac_rate", "cp_reregistration"):
        rows = demo_panel[demo_panel["indicator_id"] == indicator]
        rows.to_parquet(tmp_path / f"{indicator}.parquet")
        outputs = {part: tmp_path / f"{indicator}.{part}.parquet" for part in parts}
        synthetic_job(
            indicator, outputs, tmp_path / f"{indicator}.log",
            observations=tmp_path / f"{indicator}.parquet",
            integration=tmp_path / "integration.parquet", areas=AREAS, classification=BASELINE,
            registry=DEMO / "indicators.csv",
            by_measure=scales, overrides={}, settings=settings,
        )  # fmt: skip
        for part in parts:
            parts[part].append(str(outputs[part]))
    argv = ["synthetic-control", "--panel", str(tmp_path / "panel.parquet"),
            "--registry", str(DEMO / "indicators.csv"), "--plan", "analysis_plan.yaml",
            "--estimates", *parts["estimates"], "--weights", *parts["weights"],
            "--paths", *parts["paths"], "--config-hash", "test",
            "--table", str(tmp_path / "synthetic_control.csv"),
            "--weights-table", str(tmp_path / "synthetic_weights.csv"),
            "--figure-stem", str(tmp_path / "synthetic_control")]  # fmt: skip
    assert main(argv) == 0  # write_csv checks both tables against their schemas
    table = read_table(tmp_path / "synthetic_control.csv")
    assert len(table) == 2 * 2 * 2  # indicators x areas x methods
    highland = table[table["area_name"] == "Highland"]
    assert set(highland["go_live_year"]) == {2012}
    assert (highland.loc[highland["method"] == "scm", "status"] == TOO_FEW_PRE).all()
    moray = table[(table["area_name"] == "Moray") & (table["method"] == "scm")]
    assert (moray["status"] == OK).all()
    ranks = moray["p_placebo"] * (moray["n_placebos"] + 1)  # p = rank / (n + 1)
    assert np.allclose(ranks, ranks.round(), atol=1e-4) and (ranks >= 1).all()
    weights = read_table(tmp_path / "synthetic_weights.csv")
    assert not set(weights["donor_code"]) & {"S12000017", "S12000020"}
    sums = weights[weights["method"] == "scm"].groupby(["indicator_id", "area_code"])["weight"]
    assert (sums.sum() <= 1 + 1e-9).all()
    assert (tmp_path / "synthetic_control.png").stat().st_size > 0
    svg = (tmp_path / "synthetic_control.svg").read_text(encoding="utf-8")
    assert "empty-panel-reason" in svg  # Highland's panels say why they are empty
