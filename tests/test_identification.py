"""Which partnerships identify an integration term, and what every table does below the minimum.

Hand-made designs: a term is identified only by partnerships whose exposure changes within the
indicator's years (switch on or off); areas integrated in every observed year count for
nothing, two areas of one partnership count once, and a change resting on an ``assumed``
classification row is flagged. Then the same rule in the models' coefficient rows, the
few-cluster inference rows, power, sensitivity and ``csdid``; and on the real data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from integration_models.inference.design import build_design
from integration_models.inference.identification import (
    count_identifying,
    identification,
    partnership_names,
)
from integration_models.inference.power import power_table
from integration_models.inference.table import few_cluster_rows
from integration_models.models.base import COEFFICIENT_COLUMNS, FitSettings
from integration_models.models.csdid import callaway_santanna, did_rows
from integration_models.models.estimators import fit_indicator
from integration_models.results import sensitivity as sens
from tests.conftest import AREAS, BASELINE, SHARED

YEARS = list(range(2014, 2020))


def _rows(spec: dict[str, tuple[str, list[int]]]) -> pd.DataFrame:
    """Model rows: ``area -> (partnership, exposure by year of YEARS)`` for ``integration_full``."""
    records = [
        {"area_code": area, "hscp_code": hscp, "year": year, "integration_full": float(value)}
        for area, (hscp, exposure) in spec.items()
        for year, value in zip(YEARS, exposure, strict=True)
    ]
    return pd.DataFrame(records)


NEVER = [0, 0, 0, 0, 0, 0]
ALWAYS = [1, 1, 1, 1, 1, 1]
ON_2017 = [0, 0, 0, 1, 1, 1]
OFF_2017 = [1, 1, 1, 0, 0, 0]


def test_always_treated_areas_identify_nothing():
    rows = _rows({"A": ("P1", ALWAYS), "B": ("P2", ALWAYS), "C": ("P3", NEVER)})
    ident = identification(rows, "integration_full")
    assert ident.n_identifying_areas == 0
    assert not ident.identified(2)
    assert ident.reason(2) == (
        "not identified: 0 partnership(s) change status within 2014-2019 (none); at least 2 needed"
    )


def test_a_single_switcher_is_not_enough_at_the_default_minimum():
    rows = _rows({"A": ("P1", ALWAYS), "B": ("P2", ON_2017), "C": ("P3", NEVER)})
    ident = identification(rows, "integration_full", names={"P2": "Moray"})
    assert ident.partnerships == ("P2",)
    assert ident.n_identifying_areas == 1
    assert not ident.identified(2) and ident.identified(1)
    assert "1 partnership(s) change status within 2014-2019 (Moray)" in ident.reason(2)
    assert ident.reason(1) == ""


def test_a_switch_off_counts_like_a_switch_on():
    rows = _rows({"A": ("P1", OFF_2017), "B": ("P2", ON_2017), "C": ("P3", NEVER)})
    ident = identification(rows, "integration_full")
    assert ident.partnerships == ("P1", "P2")
    assert ident.identified(2)


def test_two_areas_of_one_partnership_count_once():
    rows = _rows({"A": ("P5", ON_2017), "B": ("P5", ON_2017), "C": ("P3", NEVER)})
    ident = identification(rows, "integration_full")
    assert ident.n_identifying_areas == 1
    # the array form used by the sensitivity loop agrees, and counts areas without the map
    area, exposure = rows["area_code"].to_numpy(), rows["integration_full"].to_numpy()
    assert count_identifying(area, exposure, {"A": "P5", "B": "P5"}) == 1
    assert count_identifying(area, exposure) == 2


def test_a_change_outside_the_observed_years_identifies_nothing():
    # integrated from 2016, but the indicator is observed from 2017 only
    rows = _rows({"A": ("P1", [0, 0, 1, 1, 1, 1]), "B": ("P2", NEVER)})
    assert identification(rows, "integration_full").n_identifying_areas == 1
    later = rows[rows["year"] >= 2017]
    assert identification(later, "integration_full").n_identifying_areas == 0


def _classification(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    columns = ["hscp_code", "category", "from_date", "to_date", "confidence"]
    return pd.DataFrame(rows, columns=columns)


def test_a_switch_on_an_assumed_date_is_flagged():
    rows = _rows({"A": ("P1", ON_2017), "B": ("P2", OFF_2017), "C": ("P3", NEVER)})
    classification = _classification(
        [
            ("P1", "none", "2014-04-01", "2016-03-31", "confirmed"),
            ("P1", "full", "2016-04-01", "", "assumed"),  # P1's switch on rests on this
            ("P2", "full", "2014-04-01", "2016-06-30", "inferred"),
            ("P2", "partial", "2016-07-01", "", "assumed"),  # not what P2 leaving full rests on
            ("P3", "none", "2014-04-01", "", "assumed"),  # P3 never changes
        ]
    )
    ident = identification(rows, "integration_full", classification)
    assert ident.partnerships == ("P1", "P2")
    assert ident.assumed == ("P1",)
    assert ident.rests_on_assumed
    assert "P1 [assumed]" in ident.describe() and "P2 [assumed]" not in ident.describe()
    # an assumed row outside the change's years does not flag it
    dated = classification.assign(from_date=classification["from_date"].str.replace("2016", "2012"))
    dated = dated.assign(to_date=dated["to_date"].str.replace("2016", "2011"))
    assert identification(rows, "integration_full", dated).assumed == ()


def test_design_counts_identifying_partnerships_not_ever_treated():
    rows = _rows(
        {
            "A": ("P1", ALWAYS),
            "B": ("P2", ON_2017),
            "C": ("P5", ON_2017),
            "D": ("P5", ON_2017),
            "E": ("P3", NEVER),
        }
    )
    design = build_design(rows, terms=["integration_full"], controls=[])
    assert list(design.treated_areas) == [4]
    assert list(design.identifying_areas) == [2]


def test_partnership_names_from_area_names_join_shared_partnerships():
    areas = pd.DataFrame(
        {
            "area_code": ["S1", "S2", "S3"],
            "area_name": ["Stirling", "Clackmannanshire", "Moray"],
            "hscp_code": ["H5", "H5", "H19"],
        }
    )
    assert partnership_names(areas) == {"H5": "Clackmannanshire and Stirling", "H19": "Moray"}


# --------------------------------------------------------------------------------------------
# The rule in every table


def _panel(exposure: dict[str, list[str]], n_never: int = 12, seed: int = 3) -> pd.DataFrame:
    """A panel of one indicator: the listed areas' categories by year, and never-integrated areas.

    Financial years (no transition periods are involved: the categories are given per year).
    """
    rng = np.random.default_rng(seed)
    coding = dict(exposure)
    coding.update({f"N{i:02d}": ["none"] * len(YEARS) for i in range(n_never)})
    records = []
    for k, (area, categories) in enumerate(sorted(coding.items())):
        level = rng.normal(50, 5)
        baseline = 10 + k
        for t, (year, category) in enumerate(zip(YEARS, categories, strict=True)):
            records.append(
                {
                    "indicator_id": "outcome",
                    "area_code": area,
                    "hscp_code": f"H_{area}",
                    "hscp_start_year": 2016,
                    "year": year,
                    "period_key": "financial",
                    "value": level + 0.5 * t + rng.normal(0, 1),
                    "integration": category,
                    "integration_exposed": category,
                    "area_name": area,
                    "deprivation": baseline + 0.1 * t,
                    "deprivation_baseline": float(baseline),
                    "covid": 0.0,
                    "population_density": 100.0 + k,
                    "denominator": 1000.0,
                    "population_0_17": 20000.0,
                }
            )
    return pd.DataFrame(records)


FULL = ["full"] * len(YEARS)
LATE = ["none", "none", "none", "full", "full", "full"]
EARLY = ["none", "full", "full", "full", "full", "full"]


@pytest.mark.parametrize("model", ["twfe", "mixed", "glm"])
def test_one_switcher_withholds_the_p_value_in_every_model(model):
    panel = _panel({"A01": FULL, "A02": FULL, "A03": LATE})
    result = fit_indicator(panel, "outcome", model, "identity", measure="percentage")
    rows = result.coefficient_frame().set_index("term")
    assert list(result.coefficient_frame().columns) == COEFFICIENT_COLUMNS
    full = rows.loc["integration_full"]
    assert full["n_identifying_areas"] == 1
    assert math.isfinite(full["estimate"])
    assert full[["std_error", "p_value", "conf_low", "conf_high"]].isna().all()
    assert full["note"].startswith("not identified: 1 partnership(s) change status within ")
    assert full["inference"] == ""
    assert result.fit["status"] == "ok"
    # a term that is not an integration term has no count
    assert pd.isna(rows.loc["time", "n_identifying_areas"])


def test_two_switchers_are_identified_and_tested():
    panel = _panel({"A01": FULL, "A02": LATE, "A03": EARLY})
    rows = fit_indicator(panel, "outcome", "twfe", "identity").coefficient_frame()
    full = rows.set_index("term").loc["integration_full"]
    assert full["n_identifying_areas"] == 2
    assert math.isfinite(full["p_value"]) and not full["note"].startswith("not identified")
    # the plan's minimum is a parameter, not a constant
    strict = fit_indicator(panel, "outcome", "twfe", "identity", FitSettings(min_partnerships=3))
    row = strict.coefficient_frame().set_index("term").loc["integration_full"]
    assert math.isnan(row["p_value"]) and row["note"].startswith("not identified: 2 ")


def test_few_cluster_rows_say_not_identified_without_draws():
    panel = _panel({"A01": FULL, "A02": FULL, "A03": LATE})
    rows, draws = few_cluster_rows(panel, ["outcome"], {}, reps=99, seed=1)
    full = rows[rows["term"] == "integration_full"]
    assert len(full) == 1  # one row, not one per test
    assert (
        full["inference"]
        .iloc[0]
        .startswith(
            "not estimated: not identified: 1 partnership(s) change status within 2014-2019"
        )
    )
    assert full["n_identifying_areas"].iloc[0] == 1
    assert full[["std_error", "p_value", "conf_low", "conf_high"]].isna().all().all()
    assert not any(key[1] == "integration_full" for key in draws)
    identified, _ = few_cluster_rows(panel, ["outcome"], {}, reps=99, seed=1, min_partnerships=1)
    tested = identified[identified["term"] == "integration_full"]
    assert len(tested) == 4 and tested["p_value"].notna().all()


def test_power_and_sensitivity_count_identifying_partnerships():
    panel = _panel({"A01": FULL, "A02": FULL, "A03": FULL, "A04": LATE})
    power = power_table(panel, ["outcome"], {}, reps=50, seed=1).set_index("term")
    full = power.loc["integration_full"]
    assert full["n_treated_areas"] == 4 and full["n_identifying_areas"] == 1
    assert math.isnan(full["mde"]) and "not identified: 1 partnership(s)" in full["note"]
    table = sens.sensitivity_table(panel, ["outcome"], {})
    base = table[(table["variant"] == "baseline") & (table["term"] == "integration_full")]
    assert base["n_treated_areas"].iloc[0] == 4 and base["n_identifying_areas"].iloc[0] == 1
    assert math.isnan(base["p_value"].iloc[0]) and math.isfinite(base["estimate"].iloc[0])
    assert base["note"].iloc[0].startswith("not identified: 1 partnership(s)")


def _exposure(panel: pd.DataFrame, before: dict[str, str]) -> pd.DataFrame:
    """The classification's exposure: the panel's years plus earlier ones (``before``)."""
    rows = panel[["area_code", "year", "period_key", "integration"]].drop_duplicates()
    earlier = [
        {"area_code": a, "year": year, "period_key": "financial", "integration": category}
        for a, category in before.items()
        for year in range(2010, YEARS[0])
    ]
    return pd.concat([rows, pd.DataFrame(earlier)], ignore_index=True)


def test_csdid_cohorts_come_from_the_classification_and_need_a_pre_period():
    # A01, A02 integrated since 2012 (before the indicator's first year 2014); A03 switches 2017
    panel = _panel({"A01": FULL, "A02": FULL, "A03": LATE})
    before = {"A01": "none", "A02": "none"}
    exposure = _exposure(panel, before)
    exposure.loc[exposure["area_code"].isin(before) & exposure["year"].isin([2012, 2013]),
                 "integration"] = "full"  # fmt: skip
    result = callaway_santanna(panel, "outcome", "identity", "full", exposure=exposure)
    assert result["cohorts"] == {2012: 2, 2017: 1}
    assert result["cohort_cells"] == {2012: 0, 2017: len(YEARS) - 1}
    assert result["n_identifying_areas"] == 1
    row = did_rows(result, "outcome")[0]
    assert row["n_identifying_areas"] == 1 and math.isfinite(row["estimate"])
    assert math.isnan(row["p_value"]) and math.isnan(row["conf_low"])
    assert row["note"].startswith("not identified: 1 partnership(s) change status within 2014-2019")
    assert (
        "2012: 2 area(s), 0 cell(s) (treated by the first observed year: no pre-period)"
        in (row["note"])
    )
    # from the indicator's own rows the two would look like a 2014 cohort
    own = callaway_santanna(panel, "outcome", "identity", "full")
    assert own["cohorts"] == {2014: 2, 2017: 1}


def test_csdid_with_two_switching_partnerships_is_identified():
    panel = _panel(
        {"A01": FULL, "A02": LATE, "A03": ["none", "none", "full", "full", "full", "full"]}
    )
    result = callaway_santanna(panel, "outcome", "identity", "full", exposure=_exposure(panel, {}))
    assert result["n_identifying_areas"] == 2 and result["not_identified"] == ""
    assert math.isfinite(did_rows(result, "outcome")[0]["p_value"])


# --------------------------------------------------------------------------------------------
# The real data


@pytest.fixture(scope="module")
def real_panel(tmp_path_factory):
    if not SHARED.is_dir():
        pytest.skip(f"real data not found at {SHARED}")
    from integration_models.data.ingest import IngestSettings, build_panel
    from integration_models.data.reference import load_areas, load_classification
    from integration_models.data.scotland import BuildSettings, build_dataset

    out = tmp_path_factory.mktemp("scotland") / "raw"
    build_dataset(SHARED, AREAS, BASELINE, out, BuildSettings())
    areas = load_areas(AREAS)
    classification = load_classification(BASELINE, areas)
    panel, _ = build_panel(out, areas, classification, IngestSettings(2010, 2022))
    return panel, classification, partnership_names(areas)


def test_participation_16_19_full_term_rests_on_few_switchers(real_panel):
    """The review expected Moray and North Lanarkshire only; the data say five partnerships.

    ``participation_16_19`` is a financial-year indicator observed 2016-2021: the year
    labelled 2016 is April 2015 to March 2016, so the partnerships that went live on
    1 April 2016 (Argyll and Bute, Orkney, Glasgow; North Lanarkshire too) switch on inside
    the window, as Moray does in 2020 (assumed date) and North Lanarkshire switches off in
    2019. The 2015 go-lives fall in the transition year and are absorbed; Highland (2012)
    too. 13 partnerships are ever coded full.
    """
    from integration_models.models.design import model_data

    panel, classification, names = real_panel
    frame = model_data(panel, "participation_16_19", "identity").frame
    assert (frame["year"].min(), frame["year"].max()) == (2016, 2021)
    ever = frame.loc[frame["integration_full"] > 0, "hscp_code"].nunique()
    ident = identification(frame, "integration_full", classification, names)
    assert ever == 13
    assert set(ident.names) == {
        "Argyll and Bute",
        "Glasgow City",
        "Moray",
        "North Lanarkshire",
        "Orkney Islands",
    }
    # Moray's switch on rests on its assumed 1 April 2020; North Lanarkshire leaving full on
    # its inferred full row (its assumed partial row matters to the partial term)
    assert [names[code] for code in ident.assumed] == ["Moray"]
    partial = identification(frame, "integration_partial", classification, names)
    assert "North Lanarkshire" in [names[code] for code in partial.assumed]


def test_an_identified_term_resting_on_an_assumed_row_says_so():
    panel = _panel({"A01": FULL, "A02": LATE, "A03": EARLY})
    classification = _classification(
        [
            ("H_A02", "none", "2010-04-01", "2016-03-31", "confirmed"),
            ("H_A02", "full", "2016-04-01", "", "assumed"),
            ("H_A03", "none", "2010-04-01", "2014-03-31", "confirmed"),
            ("H_A03", "full", "2014-04-01", "", "confirmed"),
        ]
    )
    names = {"H_A02": "Moray"}
    result = fit_indicator(
        panel, "outcome", "twfe", "identity", classification=classification, names=names
    )
    full = result.coefficient_frame().set_index("term").loc["integration_full"]
    assert math.isfinite(full["p_value"])
    assert "identifying change rests on an assumed classification row (Moray)" in full["note"]


def test_participation_16_19_csdid_cohorts_without_pre_period_contribute_nothing(real_panel):
    from integration_models.data.exposure import PeriodType, exposure_table
    from integration_models.data.reference import load_areas

    panel, classification, names = real_panel
    years = list(range(2010, 2023))
    exposure = exposure_table(classification, load_areas(AREAS), years, [PeriodType("financial")])
    result = callaway_santanna(
        panel, "participation_16_19", "identity", "full", exposure=exposure, names=names
    )
    cells = result["cohort_cells"]
    # Highland (2012 go-live: financial 2013) and the 2015 go-lives (transition in 2016) have
    # no pre-period in 2016-2021; the 1 April 2016 go-lives (2017) and Moray (2021) do
    assert cells[2013] == 0 and cells[2016] == 0
    assert cells[2017] > 0 and cells[2021] > 0
    assert result["n_identifying_areas"] == 5 and result["not_identified"] == ""
