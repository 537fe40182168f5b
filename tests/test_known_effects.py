"""Estimates against the demo's known effects (issue 14): the table, its flags, the summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from integration_models.errors import InputError
from integration_models.results.known_effects import (
    SUMMARY_COLUMNS,
    TABLE_COLUMNS,
    known_effects_summary,
    known_effects_table,
    load_truth,
)
from integration_models.results.stamp import STAMP_COLUMNS, SYNTHETIC_DATA

INTEGRATION = ("integration_full", "integration_partial")


def coefficient(indicator, model, term, estimate, low, high, p, scale="identity"):
    return {
        "indicator_id": indicator,
        "model": model,
        "term": term,
        "estimate": estimate,
        "conf_low": low,
        "conf_high": high,
        "p_value": p,
        "scale": scale,
    }


def test_flags_on_a_hand_made_table():
    truth = pd.DataFrame(
        {
            "indicator_id": ["a", "a", "b", "b"],
            "term": ["integration_full", "integration_partial"] * 2,
            "value": [1.0, 0.0, -0.2, 0.0],
            "scale": ["identity", "identity", "log", "log"],
        }
    )
    coefficients = pd.DataFrame(
        [
            coefficient("a", "twfe", "integration_full", 0.8, 0.5, 1.1, 0.001),  # covered
            coefficient("a", "twfe", "integration_partial", 0.4, 0.1, 0.7, 0.01),  # false +
            coefficient("a", "twfe", "deprivation_trend", 0.1, 0.0, 0.2, 0.2),  # no truth
            coefficient("b", "twfe", "integration_full", 0.1, 0.05, 0.15, 0.02, "log"),  # wrong
            coefficient("b", "glm", "integration_full", -0.1, -0.3, 0.1, 0.3, "logit"),  # scale
            coefficient("b", "csdid", "integration_partial", 0.2, np.nan, np.nan, np.nan, "log"),
            coefficient("b", "mixed", "integration_partial", np.nan, np.nan, np.nan, np.nan, "log"),
        ]
    )
    table = known_effects_table(coefficients, truth, alpha=0.05)
    assert list(table.columns) == TABLE_COLUMNS
    assert list(zip(table.indicator_id, table.model, table.term, strict=True)) == [
        ("a", "twfe", "integration_full"),
        ("a", "twfe", "integration_partial"),
        ("b", "twfe", "integration_full"),
        ("b", "csdid", "integration_partial"),
    ]
    assert table.covered.tolist() == [True, False, False, pd.NA]
    assert table.sign_right.tolist() == [True, pd.NA, False, pd.NA]
    assert table.significant.tolist() == [True, True, True, pd.NA]
    assert table.false_positive.tolist() == [pd.NA, True, pd.NA, pd.NA]
    summary = known_effects_summary(table)
    assert list(summary.columns) == SUMMARY_COLUMNS
    full = summary.set_index(["model", "term"]).loc[("twfe", "integration_full")]
    assert (full.estimates, full.with_interval, full.covered, full.coverage_pct) == (2, 2, 1, 50.0)
    assert (full.nonzero_truth, full.sign_right, full.zero_truth) == (2, 1, 0)
    partial = summary.set_index(["model", "term"]).loc[("csdid", "integration_partial")]
    assert partial.with_interval == 0 and np.isnan(partial.coverage_pct)


def test_no_truth_gives_the_columns_and_no_rows():
    table = known_effects_table(pd.DataFrame([coefficient("a", "twfe", "x", 1, 0, 2, 0.1)]), None)
    assert list(table.columns) == TABLE_COLUMNS and table.empty
    assert list(known_effects_summary(table).columns) == SUMMARY_COLUMNS


def test_truth_value_must_be_a_number(tmp_path):
    path = tmp_path / "demo_truth.csv"
    path.write_text("indicator_id,term,value,scale\na,time,0.1,log\na,covid,big,log\n")
    with pytest.raises(InputError, match="value is not a number"):
        load_truth(path)


@pytest.mark.slow
def test_demo_recovers_its_known_effects(finished):
    """On the demo, the 95% intervals of the integration terms cover the truth at about the
    nominal rate, and the table's flags agree with a recomputation from the tables."""
    tables = finished / "results" / "tables"
    table = pd.read_csv(tables / "known_effects.csv")
    summary = pd.read_csv(tables / "known_effects_summary.csv")
    assert list(table.columns) == [*TABLE_COLUMNS, *STAMP_COLUMNS]
    assert list(summary.columns) == [*SUMMARY_COLUMNS, *STAMP_COLUMNS]
    assert set(table["data"]) == {SYNTHETIC_DATA}
    # an independent recomputation from coefficients.csv and the truth file
    truth = pd.read_csv(finished / "data" / "raw" / "demo_truth.csv")
    coefficients = pd.read_csv(tables / "coefficients.csv")
    merged = table.merge(coefficients, on=["indicator_id", "model", "term"], suffixes=("", "_c"))
    merged = merged.merge(truth, on=["indicator_id", "term"], suffixes=("", "_t"))
    assert len(merged) == len(table)
    np.testing.assert_allclose(merged["estimate"], merged["estimate_c"])
    np.testing.assert_allclose(merged["truth"], merged["value"])
    assert (merged["scale"] == merged["scale_t"]).all()
    inside = (merged["conf_low_c"] <= merged["value"]) & (merged["value"] <= merged["conf_high_c"])
    has = merged["conf_low_c"].notna()
    assert (merged.loc[has, "covered"].astype(bool) == inside[has]).all()
    assert merged.loc[~has, "covered"].isna().all()
    for model in ("twfe", "mixed", "csdid"):
        rows = table[(table["model"] == model) & table["term"].isin(INTEGRATION)]
        rows = rows[rows["covered"].notna()]
        assert len(rows) >= 45, model
        # 50 terms at a true 95%: fewer than 85% covered happens by chance 3 times in 1,000
        assert 0.85 <= rows["covered"].astype(bool).mean() <= 1.0, model
    assert set(summary["model"]) >= {"twfe", "mixed", "csdid"}


def test_report_section_says_when_there_are_no_known_effects(tmp_path):
    from integration_models.report.render import Tables, _known_effects, render_section
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    def section():
        return render_section("known_effects", _known_effects(Tables(tmp_path.glob("*.csv"))))

    assert "was not found" in section()
    stamp = Stamp("c" * 16, "i" * 16)
    table = known_effects_table(pd.DataFrame([coefficient("a", "twfe", "x", 1, 0, 2, 0.1)]), None)
    write_csv(stamp.apply(table), tmp_path / "known_effects.csv")
    write_csv(stamp.apply(known_effects_summary(table)), tmp_path / "known_effects_summary.csv")
    assert "No known effects (real data)" in section()


@pytest.mark.slow
def test_demo_report_and_a_real_registry(finished, tmp_path):
    """The demo report shows coverage per model and term; a registry that does not declare
    itself synthetic stamps its tables ``real``."""
    from integration_models.results.stamp import REAL_DATA, Stamp

    page = (finished / "results" / "report.html").read_text(encoding="utf-8")
    section = page[page.index('id="known-effects"') :]
    assert "Known effects (synthetic data)" in section
    assert "interval covers truth" in section and "<details>" in section
    registry = (finished / "data" / "raw" / "indicators.csv").read_text(encoding="utf-8")
    real = tmp_path / "indicators.csv"
    real.write_text(registry.replace("SYNTHETIC demo data", "Public Health Scotland"), "utf-8")
    panel = finished / "data" / "processed" / "panel.parquet"
    stamp = Stamp.of_run("c" * 16, panel, real)
    assert stamp.apply(pd.DataFrame({"x": [1]}))["data"].tolist() == [REAL_DATA]
    demo = Stamp.of_run("c" * 16, panel, finished / "data" / "raw" / "indicators.csv")
    assert demo.synthetic and demo == stamp
