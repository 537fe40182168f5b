"""The per-indicator analysis jobs, combined, give the tables of one call over all indicators.

The workflow resamples, simulates power and size and refits the sensitivity variants one
indicator at a time (rule ``analyse``, :mod:`integration_models.results.indicator_analysis`) and
combines them (rules ``inference``, ``size`` and ``sensitivity``). Here the combined tables of
the finished demo run are compared with one call of each function over the whole panel, with
the bootstrap areas and permutation histories taken from the panel itself (the functions'
default): the same numbers show that no indicator's results depend on how the work is split,
and that the Romano-Wolf adjustment sees the same joint draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from integration_models.data.reference import load_areas
from integration_models.data.registry import load_registry
from integration_models.inference.equivalence import equivalence_rows
from integration_models.inference.power import power_table
from integration_models.inference.scope import load_scope
from integration_models.inference.size import size_table
from integration_models.inference.table import few_cluster_rows, few_cluster_table
from integration_models.models.design import indicator_scales
from integration_models.plan.analysis_plan import load_plan
from integration_models.results.indicator_analysis import draws_frame, read_draws
from integration_models.results.schemas import read_table
from integration_models.results.sensitivity import load_scenarios, sensitivity_table
from integration_models.results.stamp import STAMP_COLUMNS
from integration_models.results.summarise import write_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def whole(finished):
    """The finished run's panel, scales, scope and configuration."""
    config = yaml.safe_load((finished / "config.yaml").read_text(encoding="utf-8"))
    registry = load_registry(finished / "data/raw/indicators.csv")
    scales = indicator_scales(registry, config["outcome_scale"], config["outcome_scale_overrides"])
    ids = list(scales)
    fits = [finished / f"results/fits/twfe/{i}.json" for i in ids]
    panel = pd.read_parquet(finished / "data/processed/panel.parquet")
    return finished, config, panel, scales, load_scope(fits, ids)


def assert_same_file(finished, name: str, one_call: pd.DataFrame, tmp_path) -> None:
    """The run's table is byte-identical to ``one_call`` written by the same writer."""
    ours = finished / f"results/tables/{name}.csv"
    stamp = read_table(ours)[list(STAMP_COLUMNS)].iloc[0]
    write_csv(one_call.assign(**stamp.to_dict()), tmp_path / f"{name}.csv")
    assert (tmp_path / f"{name}.csv").read_bytes() == ours.read_bytes()


def test_inference_per_indicator_equals_one_call(whole, tmp_path):
    finished, config, panel, scales, scope = whole
    registry = load_registry(finished / "data/raw/indicators.csv")
    # the analysis plan's families, as the inference step adjusts within them
    families = load_plan(finished / config["analysis_plan"]).families_of(registry)
    one_call = few_cluster_table(
        panel, list(scales), scales, reps=config["inference_reps"], seed=config["seed"],
        alpha=config["alpha"], scope=scope, families=families,
    )  # fmt: skip
    assert_same_file(finished, "inference", one_call, tmp_path)
    ours = read_table(finished / "results/tables/inference.csv")
    # the adjustments span indicators: a family of 25 and joint draws, not 25 families of 1
    assert ours["adjustment"].str.contains(f"over {scope.count('integration_full')} ").any()
    adjusted = ours.dropna(subset=["p_romano_wolf"])
    assert len(adjusted) > 2 * len(scales)
    assert (adjusted["p_romano_wolf"] >= adjusted["p_value"]).all()
    assert (adjusted["p_romano_wolf"] > adjusted["p_value"]).any()


def test_power_per_indicator_equals_one_call(whole, tmp_path):
    finished, config, panel, scales, scope = whole
    plan = load_plan(finished / config["analysis_plan"])
    one_call = power_table(
        panel, list(scales), scales, reps=config["power_reps"], seed=config["seed"],
        alpha=config["alpha"], scope=scope, test=plan.test,
    )  # fmt: skip
    assert_same_file(finished, "power", one_call, tmp_path)


def test_equivalence_per_indicator_equals_one_call(whole, tmp_path):
    finished, config, panel, scales, scope = whole
    plan = load_plan(finished / config["analysis_plan"])
    one_call = equivalence_rows(
        panel, list(scales), scales, plan, reps=config["inference_reps"], seed=config["seed"],
        scope=scope,
    )  # fmt: skip
    assert_same_file(finished, "equivalence", one_call, tmp_path)
    ours = read_table(finished / "results/tables/equivalence.csv")
    estimated = ours.dropna(subset=["estimate"])
    assert len(estimated) == scope.count("integration_full") + scope.count("integration_partial")
    assert (estimated["test"].str.startswith("wild cluster bootstrap")).all()


def test_size_per_indicator_equals_one_call(whole, tmp_path):
    finished, config, panel, scales, scope = whole
    one_call = size_table(
        panel, list(scales), scales, sims=config["size_sims"], reps=config["size_reps"],
        seed=config["seed"], alpha=config["alpha"], dgps=config["size_dgps"], scope=scope,
    )  # fmt: skip
    assert_same_file(finished, "size", one_call, tmp_path)


def test_sensitivity_per_indicator_equals_one_call(whole, tmp_path):
    finished, config, panel, scales, scope = whole
    areas = load_areas(finished / config["areas"])
    scenarios = load_scenarios([finished / path for path in config["scenarios"]], areas)
    plan = load_plan(finished / config["analysis_plan"])
    one_call = sensitivity_table(
        panel, list(scales), scales, scenarios=scenarios, alpha=config["alpha"], scope=scope,
        plan=plan, seed=config["seed"],
    )  # fmt: skip
    assert_same_file(finished, "sensitivity", one_call, tmp_path)


def test_draws_round_trip(tmp_path, whole):
    finished, config, panel, scales, scope = whole
    rows, draws = few_cluster_rows(
        panel[panel["indicator_id"] == "lac_rate"], ["lac_rate"], scales, reps=99, seed=1
    )
    assert len(draws) == 4  # wcr and ri for both integration terms
    draws_frame(draws, 99).to_parquet(tmp_path / "draws.parquet")
    back = read_draws(tmp_path / "draws.parquet", "lac_rate")
    assert back.keys() == draws.keys()
    assert all(np.array_equal(back[key], draws[key], equal_nan=True) for key in draws)


def test_an_indicator_with_nothing_in_scope_keeps_numeric_columns(whole):
    """Its rows are all blank; they still combine with the others (numbers stay numbers)."""
    from integration_models.inference.scope import Scope
    from integration_models.inference.table import combine_few_cluster

    finished, config, panel, scales, scope = whole
    reasons = {
        ("lac_rate", t): "twfe fit failed" for t in ("integration_full", "integration_partial")
    }
    nothing = Scope(("lac_rate",), reasons)
    rows, draws = few_cluster_rows(
        panel[panel["indicator_id"] == "lac_rate"], ["lac_rate"], scales, reps=9, seed=1,
        scope=nothing,
    )  # fmt: skip
    assert draws == {} and rows["p_value"].dtype == float and rows["p_value"].isna().all()
    other = few_cluster_rows(
        panel[panel["indicator_id"] == "attendance"], ["attendance"], scales, reps=9, seed=1
    )
    table = combine_few_cluster([(rows, draws), other], ["lac_rate", "attendance"], 9)
    assert table.loc[table["indicator_id"] == "attendance", "p_adjusted"].notna().all()
