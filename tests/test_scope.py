"""What the steps after the fits analyse: exactly the twfe terms whose fit is ``ok``.

Issue 12, items 1, 2 and 5: a window in which no area changes category, fits skipped under
``min_years``, and an extreme value that breaks an estimator must each leave a finished run
whose every table says which terms were not estimated and why, and whose headline counts only
what was estimated.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.inference.power import power_table
from integration_models.inference.scope import NOT_ESTIMATED, complete_rows, scope_from_fits
from integration_models.inference.size import size_table
from integration_models.inference.table import few_cluster_table
from integration_models.models.base import FitSettings
from integration_models.models.estimators import fit_indicator
from integration_models.models.fit_job import fit_did
from integration_models.results.sensitivity import sensitivity_table
from integration_models.results.summarise import PlannedTest, plan_headline
from tests.conftest import DEMO, copy_workflow, snakemake

IDS = ["attendance", "lac_rate", "balance_of_care"]
SCALES = {"attendance": "identity", "lac_rate": "log", "balance_of_care": "identity"}


@pytest.fixture(scope="module")
def panel(areas, baseline) -> pd.DataFrame:
    panel, _ = build_panel(DEMO, areas, baseline, IngestSettings(2010, 2023))
    return panel[panel["indicator_id"].isin(IDS)].reset_index(drop=True)


def payload(panel: pd.DataFrame, indicator: str, settings: FitSettings) -> dict:
    """A twfe fit as the fit job writes it."""
    result = fit_indicator(panel, indicator, "twfe", SCALES[indicator], settings)
    return {"fit": result.fit, "coefficients": result.coefficients}


def test_scope_follows_the_fit_status_and_the_estimated_terms(panel):
    fits = [payload(panel, i, FitSettings()) for i in IDS]
    fits[1] = payload(panel, "lac_rate", FitSettings(min_years=100))
    scope = scope_from_fits(fits, [*IDS, "missing_one"])
    assert scope.analysed == ["attendance", "balance_of_care"]
    assert scope.reason("lac_rate", "integration_full").startswith("twfe fit skipped (too little")
    assert scope.reason("missing_one", "integration_partial") == "no twfe fit"
    assert scope.count("integration_full") == 2
    assert scope.describe("integration_full") == (
        "2 of 4 indicators (2 not estimated by the twfe fit)"
    )


def test_inference_tests_and_adjusts_only_what_the_fits_estimated(panel):
    fits = [payload(panel, i, FitSettings()) for i in IDS]
    fits[1] = payload(panel, "lac_rate", FitSettings(min_years=100))
    scope = scope_from_fits(fits, IDS)
    table = few_cluster_table(panel, IDS, SCALES, reps=99, seed=1, scope=scope)
    skipped = table[table["indicator_id"] == "lac_rate"]
    # one row per term, saying why, no numbers, not in any adjustment
    assert len(skipped) == 2
    assert skipped["inference"].str.startswith(NOT_ESTIMATED + "twfe fit skipped").all()
    assert skipped[["estimate", "p_value", "p_adjusted", "p_romano_wolf"]].isna().all().all()
    tested = table[table["indicator_id"] != "lac_rate"]
    assert tested["adjustment"].str.contains("over 2 indicators").all()
    # the other indicators' rows are those of a table made without the skipped one
    alone = few_cluster_table(panel, ["attendance", "balance_of_care"], SCALES, reps=99, seed=1)
    pd.testing.assert_frame_equal(
        tested.reset_index(drop=True)[["indicator_id", "term", "inference", "p_value"]],
        alone[["indicator_id", "term", "inference", "p_value"]],
    )


def test_power_and_sensitivity_blank_what_the_fits_did_not_estimate(panel):
    fits = [payload(panel, i, FitSettings()) for i in IDS]
    fits[0] = payload(panel, "attendance", FitSettings(min_areas=100))
    scope = scope_from_fits(fits, IDS)
    power = power_table(panel, IDS, SCALES, reps=50, seed=1, scope=scope)
    assert len(power) == 6
    rows = power[power["indicator_id"] == "attendance"]
    assert rows["mde"].isna().all() and rows["note"].str.startswith(NOT_ESTIMATED).all()
    assert power.loc[power["indicator_id"] != "attendance", "mde"].notna().any()
    table = sensitivity_table(panel, IDS, SCALES, scope=scope)
    rows = table[table["indicator_id"] == "attendance"]
    assert rows["estimate"].isna().all() and (rows["conclusion"] == "n/a").all()
    assert rows["note"].str.startswith(NOT_ESTIMATED + "twfe fit skipped").all()
    others = table[table["indicator_id"] != "attendance"]
    assert others["estimate"].notna().any()


def test_a_window_without_change_gives_not_estimated_rows_not_an_error(panel):
    """Issue 12.1: from 2021 no area changes category, so nothing identifies a term."""
    late = panel[panel["year"] >= 2021]
    fits = [payload(late, i, FitSettings()) for i in IDS]
    scope = scope_from_fits(fits, IDS)
    assert scope.analysed == []
    assert "absorbed by the area effects" in scope.reason("attendance", "integration_full")
    size = size_table(late, IDS, SCALES, sims=20, reps=19, seed=1, scope=scope)
    assert size["rejection_rate"].isna().all() and (size["n_sims"] == 0).all()
    assert size["note"].str.startswith(NOT_ESTIMATED).all()
    inference = few_cluster_table(late, IDS, SCALES, reps=19, seed=1, scope=scope)
    assert len(inference) == 6 and inference["p_value"].isna().all()
    plan = PlannedTest("ri", 0.05, {"primary": "romano_wolf", "secondary": "benjamini_hochberg"})
    headline = plan_headline(inference, plan)
    assert (headline["n_estimated"] == 0).all()
    assert headline["statement"].str.contains("not tested, as no indicator's twfe fit").all()
    assert headline["statement"].str.contains("3 not estimated").all()


def test_complete_rows_adds_missing_pairs_and_keeps_index_labels():
    scope = scope_from_fits([], ["a", "b"])
    table = pd.DataFrame(
        {"indicator_id": ["b"], "term": ["integration_full"], "x": [1.0], "note": [""]},
        index=[7],
    )
    out = complete_rows(scope=scope, table=table, blank=["x"], note_column="note")
    assert list(zip(out["indicator_id"], out["term"], strict=True)) == [
        ("a", "integration_full"),
        ("a", "integration_partial"),
        ("b", "integration_full"),
        ("b", "integration_partial"),
    ]
    assert 7 in out.index and math.isnan(out.loc[7, "x"])
    assert (out["note"] == NOT_ESTIMATED + "no twfe fit").all()


def test_csdid_respects_min_years_and_min_areas(panel):
    """Issue 12.2: csdid ignored min_years (25 fits ok under min_years=100)."""
    result, events = fit_did(panel, "attendance", "identity", FitSettings(min_years=100))
    assert result.fit["status"] == "skipped"
    assert result.fit["message"].startswith("too little data: 14 years")
    rows = pd.DataFrame(result.coefficients).set_index("term")
    assert rows["estimate"].isna().all() and events == []
    ok, _ = fit_did(panel, "attendance", "identity", FitSettings())
    assert ok.fit["status"] == "ok"


def test_csdid_failure_is_recorded_not_raised(panel, monkeypatch):
    """Issue 12.5: a numerical failure inside the estimator is the fit's, not the run's."""
    import integration_models.models.csdid as did

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(did, "_pretrend", broken)
    result, events = fit_did(panel, "attendance", "identity", FitSettings())
    assert result.fit["status"] == "failed"
    assert "LinAlgError: SVD did not converge" in result.fit["message"]
    assert events == []


QUICK = ["inference_reps=99", "power_reps=100", "size_sims=100", "size_reps=99"]


def small_workflow(target) -> Path:
    """A copy of the project whose demo dataset keeps four indicators (a quick run)."""
    workdir = copy_workflow(target)
    raw = workdir / "data/raw"
    keep = ["attendance", "cost_per_lac", "lac_rate", "attainment_scqf5"]
    registry = pd.read_csv(raw / "indicators.csv", dtype=str, keep_default_na=False)
    registry[registry["indicator_id"].isin(keep)].to_csv(
        raw / "indicators.csv", index=False, lineterminator="\n"
    )
    for path in (raw / "values").iterdir():
        if path.name.removesuffix(".csv") not in keep:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return workdir


def test_an_extreme_value_fails_its_fits_and_the_run_goes_on(tmp_path):
    """Issue 12.5 through the workflow: a mean of 1e200 (no range check for means)."""
    workdir = small_workflow(tmp_path)
    raw = workdir / "data/raw"
    values = raw / "values/cost_per_lac.csv"
    lines = values.read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")
    fields[2] = "1e200"
    lines[5] = ",".join(fields)
    values.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = snakemake(workdir, "--config", *QUICK)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    fits = pd.read_csv(workdir / "results/tables/model_fit.csv").set_index(
        ["indicator_id", "model"]
    )
    assert fits.loc[("cost_per_lac", "twfe"), "status"] == "failed"
    inference = pd.read_csv(workdir / "results/tables/inference.csv")
    rows = inference[inference["indicator_id"] == "cost_per_lac"]
    assert len(rows) == 2 and rows["inference"].str.startswith("not estimated: twfe fit").all()
    headline = pd.read_csv(workdir / "results/tables/headline.csv")
    statement = headline.loc[headline["term"] == "integration_full", "statement"].iloc[0]
    assert " of 3 primary outcomes" in statement and "1 not estimated" in statement


def test_a_window_without_change_finishes_the_run(tmp_path):
    """Issue 12.1 and 12.2 through the workflow: first_year=2021, then min_years=100."""
    workdir = small_workflow(tmp_path)
    quick = QUICK
    run = snakemake(workdir, "--config", "first_year=2021", *quick)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    tables = workdir / "results/tables"
    headline = pd.read_csv(tables / "headline.csv")
    twfe = headline[headline["model"] == "twfe"].head(2)
    assert (twfe["n_estimated"] == 0).all()
    assert twfe["statement"].str.contains("not tested").all()
    inference = pd.read_csv(tables / "inference.csv")
    assert len(inference) == 8 and inference["inference"].str.startswith(NOT_ESTIMATED).all()
    report = (workdir / "results/report.html").read_text(encoding="utf-8")
    assert "not tested" in report
    run = snakemake(workdir, "--config", "first_year=2021", "min_years=100", *quick)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    fits = pd.read_csv(tables / "model_fit.csv")
    assert (fits["status"] == "skipped").all()
    headline = pd.read_csv(tables / "headline.csv")
    assert (headline["n_estimated"] == 0).all() and (headline["n_significant"] == 0).all()
