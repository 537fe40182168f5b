"""Issue 15: the adjustments are within the plan's families; deviations from the plan are listed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from integration_models.inference.multiplicity import romano_wolf
from integration_models.inference.table import INFERENCE_LABELS, TABLE_COLUMNS, combine_few_cluster
from integration_models.plan.analysis_plan import deviations, load_plan, plan_record
from tests.conftest import REPO

PLAN = REPO / "analysis_plan.yaml"
REPS = 199
IDS = ["a", "b", "c", "d", "e"]
FAMILIES = {"a": "primary", "b": "primary", "c": "secondary", "d": "secondary", "e": "secondary"}
P_CRV1 = {"a": 0.001, "b": 0.04, "c": 0.03, "d": 0.02, "e": 0.5}
T_WCR = {"a": 2.5, "b": 2.0, "c": 2.2, "d": 1.0, "e": 0.3}


def _parts() -> list:
    """One part per indicator: a CRV1 row and a WCR row with its draws (joint: one seed)."""
    rng = np.random.default_rng(7)
    joint = rng.standard_normal((REPS, len(IDS)))
    wcr = INFERENCE_LABELS["wcr"].format(reps=REPS)
    parts = []
    for j, indicator in enumerate(IDS):
        rows = pd.DataFrame(
            [
                {
                    "indicator_id": indicator,
                    "model": "twfe",
                    "term": "integration_full",
                    "estimate": 1.0,
                    "std_error": 0.5,
                    "statistic": statistic,
                    "p_value": p,
                    "conf_low": np.nan,
                    "conf_high": np.nan,
                    "n_obs": 100,
                    "n_areas": 32,
                    "inference": label,
                }
                for label, statistic, p in (
                    ("CRV1 t(G-1)", 2.0, P_CRV1[indicator]),
                    (wcr, T_WCR[indicator], 0.0),  # p 0: Romano-Wolf is not floored by it
                )
            ],
            columns=TABLE_COLUMNS[: TABLE_COLUMNS.index("inference") + 1],
        )
        parts.append((rows, {(indicator, "integration_full", "wcr"): joint[:, j].copy()}))
    return parts, joint


def test_benjamini_hochberg_within_each_family_not_over_all():
    parts, _ = _parts()
    table = combine_few_cluster(parts, IDS, REPS, FAMILIES)
    crv1 = table[table["inference"] == "CRV1 t(G-1)"].set_index("indicator_id")
    assert crv1["family"].to_dict() == FAMILIES
    for family in ("primary", "secondary"):
        members = [i for i in IDS if FAMILIES[i] == family]
        expected = multipletests([P_CRV1[i] for i in members], method="fdr_bh")[1]
        np.testing.assert_allclose(crv1.loc[members, "p_adjusted"], expected, rtol=1e-12)
        assert crv1.loc[members, "adjustment"].str.endswith(f", {family} outcomes)").all()
    over_all = multipletests([P_CRV1[i] for i in IDS], method="fdr_bh")[1]
    # b: 0.04 within the 2 primary outcomes, 0.05 over all 5 (significant only within)
    assert crv1.loc["b", "p_adjusted"] == pytest.approx(0.04)
    assert over_all[IDS.index("b")] == pytest.approx(0.05)
    # no families: one family over all, as before the plan
    default = combine_few_cluster(parts, IDS, REPS).query("inference == 'CRV1 t(G-1)'")
    np.testing.assert_allclose(default["p_adjusted"], over_all, rtol=1e-12)
    assert (default["family"] == "primary").all()
    assert default["adjustment"].str.endswith("(CRV1 t(G-1), integration_full)").all()


def test_romano_wolf_within_each_family_from_the_joint_draws():
    parts, joint = _parts()
    table = combine_few_cluster(parts, IDS, REPS, FAMILIES)
    wcr = table[table["inference"].str.startswith("wild")].set_index("indicator_id")
    for family in ("primary", "secondary"):
        members = [IDS.index(i) for i in IDS if FAMILIES[i] == family]
        t_obs = np.array([T_WCR[IDS[j]] for j in members])
        expected = romano_wolf(t_obs, joint[:, members])
        np.testing.assert_allclose(
            wcr.loc[[IDS[j] for j in members], "p_romano_wolf"], expected, rtol=1e-12
        )
    over_all = romano_wolf(np.array([T_WCR[i] for i in IDS]), joint)
    # the max over 5 indicators exceeds |t| of a more often than the max over 2
    assert wcr.loc["a", "p_romano_wolf"] < over_all[0]
    assert wcr["p_romano_wolf"].notna().all()
    assert table.loc[table["inference"] == "CRV1 t(G-1)", "p_romano_wolf"].isna().all()


CONFIG = {"alpha": 0.05, "first_year": 2010, "last_year": 2023}


def test_no_deviation_when_the_config_is_the_plan():
    plan = load_plan(PLAN)
    assert deviations(plan, CONFIG) == []
    # the plan's window ends at the latest year: a configured last year is no deviation
    assert plan.last_year is None and deviations(plan, {**CONFIG, "last_year": 2019}) == []


def test_deviations_list_amendments_then_contradicting_settings():
    plan = dataclasses.replace(
        load_plan(PLAN),
        last_year=2022,
        amendments=(
            {"date": "2027-01-10", "change": "drop indicator x", "reason": "source withdrawn"},
        ),
    )
    found = deviations(plan, {"alpha": 0.1, "first_year": 2012, "last_year": 2022})
    assert found[0] == "amendment of 2027-01-10: drop indicator x (reason: source withdrawn)"
    assert found[1].startswith("config alpha 0.1 differs from the plan's 0.05")
    assert found[2] == "config first_year 2012 differs from the plan's 2010"
    assert len(found) == 3  # last_year agrees
    assert deviations(plan, {**CONFIG, "last_year": 2023})[-1] == (
        "config last_year 2023 differs from the plan's 2022"
    )


def test_a_romano_wolf_family_under_a_test_without_draws_is_a_deviation():
    plan = dataclasses.replace(load_plan(PLAN), test="cr2")
    found = deviations(plan, CONFIG)
    assert len(found) == 1 and "primary family's Romano-Wolf" in found[0]
    assert "Benjamini-Hochberg is used instead" in found[0]


def test_plan_record_for_provenance():
    plan = load_plan(PLAN)
    record = plan_record(plan, {**CONFIG, "alpha": 0.01})
    assert record["sha256"] == plan.sha256 and record["test"] == plan.test
    assert record["alpha"] == plan.alpha and record["registered"] == plan.registered
    assert record["amendments"] == [] and len(record["deviations"]) == 1
    assert record["families"] == {"primary": "romano_wolf", "secondary": "benjamini_hochberg"}


def test_families_of_every_registry_indicator():
    plan = load_plan(PLAN)
    registry = pd.DataFrame({"indicator_id": ["a", "b", "c"], "role": ["primary", "x", ""]})
    assert plan.families_of(registry) == {"a": "primary", "b": "secondary", "c": "secondary"}
    assert set(plan.families_of(registry.drop(columns="role")).values()) == {"primary"}


def test_what_the_intervals_rule_out_in_outcome_sds():
    """The conclusion's ruled-out sizes: per indicator the larger end over its SD, summarised."""
    from integration_models.results.summarise import _ruled_out

    equivalence = pd.DataFrame(
        {
            "indicator_id": ["a", "b", "c", "d"],
            "term": ["integration_full"] * 3 + ["integration_partial"],
            "ruled_out_below": [-0.1, -3.0, -0.2, -9.0],
            "ruled_out_above": [0.3, 1.0, np.inf, 9.0],
            "sd": [1.0, 2.0, 1.0, 1.0],
            "bound": [0.2] * 4,
            "bound_scale": ["sd"] * 4,
            "equivalent": [False, False, pd.NA, True],
        }
    )
    ruled = _ruled_out(equivalence, "integration_full", {"a", "b", "c"})
    # a: max(0.1, 0.3) / 1 = 0.3; b: 3 / 2 = 1.5; c: unbounded above
    assert ruled["n_equivalence"] == 3 and ruled["n_equivalent"] == 0
    assert ruled["ruled_out_sd_median"] == pytest.approx(1.5)
    assert np.isinf(ruled["ruled_out_sd_max"]) and ruled["bound"] == "+-0.2 SD"
    assert _ruled_out(equivalence, "integration_full", {"a"})["ruled_out_sd_max"] == 0.3
    assert _ruled_out(None, "integration_full", {"a"})["n_equivalence"] == 0


def test_estimates_flag_an_assumed_go_live_date():
    """The report flags an estimate whose identifying change rests on an assumed date."""
    from integration_models.results.summarise import identification_caveats

    coefficients = pd.DataFrame(
        {
            "indicator_id": ["a", "a", "b", "b"],
            "model": ["twfe", "twfe", "mixed", "twfe"],
            "term": ["integration_full", "integration_partial", "integration_full", "time"],
            "note": [
                "identifying change rests on an assumed classification row (Moray)",
                "",
                "identifying change rests on an assumed classification row (Fife)",
                "identifying change rests on an assumed classification row (Fife)",
            ],
        }
    )
    assert identification_caveats(coefficients) == {
        ("a", "integration_full"): "assumed go-live date: Moray"
    }
