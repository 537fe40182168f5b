"""The headline counts under the analysis plan's test and adjustments, and the code inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from integration_models.cli import main
from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.results.summarise import (
    PlannedTest,
    conclusion_table,
    estimates_table,
    headline_label,
    multiplicity_table,
    plan_headline,
)
from integration_models.workflow import ENTRY, package_sources


def _inference(label: str) -> pd.DataFrame:
    rows = []
    for i, (p, adj, rw, est) in enumerate(
        [(0.01, 0.03, 0.04, 1.0), (0.02, 0.06, 0.08, -2.0), (0.5, 0.6, 0.7, 0.1), (np.nan,) * 4]
    ):
        for term in ("integration_full", "integration_partial"):
            rows.append(
                {
                    "indicator_id": f"i{i}",
                    "term": term,
                    "estimate": est,
                    "std_error": abs(est) / 2,
                    "conf_low": np.nan,
                    "conf_high": np.nan,
                    "p_value": p,
                    "p_adjusted": adj,
                    "p_romano_wolf": rw,
                    "inference": label,
                }
            )
    other = [dict(row, inference="CRV1 t(G-1)", p_value=0.001) for row in rows]
    return pd.DataFrame(rows + other)


FAMILIES = {"primary": "romano_wolf", "secondary": "benjamini_hochberg"}


def planned(test: str = "ri", alpha: float = 0.05, **families: str) -> PlannedTest:
    """The plan's test as the headline step builds it (primary Romano-Wolf, secondary BH)."""
    return PlannedTest(test, alpha, {**FAMILIES, **families})


def test_plan_headline_counts_the_plans_test_and_adjustment_only():
    label = INFERENCE_LABELS["wcr"].format(reps=9999)
    out = plan_headline(_inference(label), planned("wcr"))
    full = out.set_index("term").loc["integration_full"]
    # p 0.01 and 0.02 before adjustment; Romano-Wolf 0.04 and 0.08: one survives
    assert (full.n_significant, full.n_positive, full.n_negative, full.n_estimated) == (1, 1, 0, 3)
    assert full.inference == label and full.family == "integration, primary outcomes"
    assert f"{label}, Romano-Wolf within the 3 primary outcomes" in full.statement
    assert "2 before adjustment" in full.statement and "1 not estimated" in full.statement
    # under Benjamini-Hochberg (0.03, 0.06) the count is the BH one
    bh = plan_headline(_inference(label), planned("wcr", primary="benjamini_hochberg"))
    assert bh.set_index("term").loc["integration_full", "n_significant"] == 1
    assert "Benjamini-Hochberg within the 3 primary" in bh["statement"].iloc[0]


def test_the_headline_test_is_the_plans_not_the_size_simulations():
    """Issue 15: no simulation chooses the test; only the plan's ``test`` moves the headline."""
    inference = _inference(INFERENCE_LABELS["ri"].format(reps=99))
    crv1 = plan_headline(inference, planned("crv1"))
    ri = plan_headline(inference, planned("ri"))
    assert (crv1["inference"] == "CRV1 t(G-1)").all()
    assert (ri["inference"] == INFERENCE_LABELS["ri"].format(reps=99)).all()
    # CRV1 has no joint draws: its Romano-Wolf family falls back to Benjamini-Hochberg, said
    assert crv1["statement"].str.contains("Benjamini-Hochberg within the 4 primary").all()
    # the headline step takes no size table (its rule neither), so two size tables that
    # would favour different tests cannot give different headlines
    with pytest.raises(SystemExit):
        main(["headline", "--size", "size.csv"])
    from pathlib import Path

    rules = (Path(__file__).parents[1] / "rules" / "models.smk").read_text(encoding="utf-8")
    headline_rule = rules[rules.index("rule headline:") : rules.index("rule analyse:")]
    assert "size.csv" not in headline_rule and 'config["analysis_plan"]' in headline_rule


def test_each_step_depends_on_the_code_it_imports():
    names = {
        step: {p.split("integration_models/")[1] for p in package_sources(step)} for step in ENTRY
    }
    assert "models/twfe.py" in names["fit"] and "data/ingest.py" not in names["fit"]
    assert "report/render.py" not in names["fit"] and "report/render.py" in names["report"]
    # the report's templates and style sheet are code too: editing one reruns the report
    assert {"report/templates/report.html.j2", "report/templates/report.css"} <= names["report"]
    assert not any(name.startswith("report/templates/") for name in names["tables"])
    assert "data/ingest.py" in names["ingest"] and "models/mixed.py" not in names["ingest"]
    assert "results/provenance.py" in names["provenance"]
    assert {"workers.py", "commands/report.py"} <= names["report"]
    assert "workers.py" not in names["fit"]
    assert "results/sensitivity.py" in names["sensitivity"]
    assert "inference/size.py" in names["size"] and "inference/power.py" in names["analyse"]
    assert "inference/table.py" in names["analyse"] and "models/mixed.py" not in names["analyse"]


def test_a_results_schema_reruns_no_step_before_the_tables():
    """Adding or changing a results table's schema reruns neither the data nor the fits.

    The steps before the tables check the panel only: its schema is ``data/schemas.py`` and the
    machinery ``table_schema.py``, not the results tables' schemas nor the stamp.
    """
    results = {"results/__init__.py", "results/schemas.py", "results/stamp.py"}
    for step in ("ingest", "classify", "panel", "fit"):
        names = {p.split("integration_models/")[1] for p in package_sources(step)}
        assert not names & results, step
    for step in ("ingest", "panel", "fit"):
        names = {p.split("integration_models/")[1] for p in package_sources(step)}
        assert {"data/schemas.py", "table_schema.py"} <= names, step
    tables = {p.split("integration_models/")[1] for p in package_sources("tables")}
    assert {"results/schemas.py", "data/schemas.py", "table_schema.py"} <= tables


def test_ingest_indicator_refuses_an_illegal_id(dataset, tmp_path, capsys):
    status = main(
        [
            "ingest-indicator",
            "--raw-dir", str(dataset),
            "--indicator", "../../etc/passwd",
            "--areas", "data/reference/areas.csv",
            "--first-year", "2010",
            "--last-year", "2023",
            "--observations", str(tmp_path / "o.parquet"),
            "--exclusions", str(tmp_path / "e.parquet"),
        ]
    )  # fmt: skip
    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "error: --indicator: not a valid indicator id: '../../etc/passwd'"
    )
    assert not list(tmp_path.glob("*.parquet"))


def test_conclusion_counts_better_and_worse_under_the_headline_test():
    label = INFERENCE_LABELS["ri"].format(reps=99)
    inference = _inference(label)
    # i0 rises and lower is better: worse; i1 falls and lower is better: better
    registry = pd.DataFrame(
        {
            "indicator_id": ["i0", "i1", "i2", "i3"],
            "title": ["zero", "one", "two", "three"],
            "higher_is_better": [False, False, True, True],
        }
    )
    power = pd.DataFrame(
        {
            "term": ["integration_full"] * 3 + ["integration_partial"] * 3,
            "mde_size_adjusted_sd": [0.2, 0.4, np.nan, 0.1, 0.3, 0.5],
        }
    )
    assert headline_label(inference, "ri") == label
    out = conclusion_table(inference, power, registry, planned("ri")).set_index("term")
    full = out.loc["integration_full"]
    assert (full.n_indicators, full.n_tested, full.n_unadjusted) == (4, 3, 2)
    # significant after Romano-Wolf within the primary family: i0 only (worse)
    assert (full.n_significant, full.n_better, full.n_worse) == (1, 0, 1)
    assert (full.n_bh, full.n_romano_wolf, full.family) == (1, 1, "primary")
    assert full.adjustment == "Romano-Wolf within the 3 primary outcomes"
    mde = (full.n_mde, full.mde_sd_median, full.mde_sd_min, full.mde_sd_max)
    assert mde == pytest.approx((2, 0.3, 0.2, 0.4))
    assert "0 better, 1 worse" in full.statement
    # the report's first screen: one short sentence, the test named once above it
    # (the MDE here is of the CRV1 test, not the plan's: the summary names it)
    assert full.summary == (
        "Full integration, 3 primary outcomes: 0 better, 1 worse than with no integration "
        "(Romano-Wolf within the 3 primary outcomes); for the median outcome, below about 0.3 SD "
        "could have been missed (CRV1 t(G-1), size-adjusted)."
    )
    assert full.test not in full.summary
    assert "80% power, CRV1 t(G-1), size-adjusted" in full.statement  # no plan-test MDE given
    # with the plan test's MDEs in power.csv, those are used (model units -> SDs by row)
    planned_power = power.assign(
        indicator_id=["i0", "i1", "i2"] * 2,
        mde=1.0,
        mde_sd=[0.5, 1.0, 1.0, 1.0, 1.0, 1.0],
        mde_plan_test=[2.0, 3.0, np.nan, 1.0, 1.0, 1.0],
        test="wild cluster bootstrap (B=199 per replicate)",
    )
    with_plan = conclusion_table(inference, planned_power, registry, planned("ri"))
    row = with_plan.set_index("term").loc["integration_full"]
    assert (row.n_mde, row.mde_sd_min, row.mde_sd_max) == (2, 1.0, 3.0)
    assert row.mde_test == "wild cluster bootstrap (B=199 per replicate)"
    assert row.summary.endswith(
        "could have been missed (wild cluster bootstrap (B=199 per replicate))."
    )
    assert "1 of the 4 could not be tested" in full.statement
    assert "cannot say" in full.limits
    # at alpha 0.01 nothing is significant, and the level is said as the plan sets it
    strict = conclusion_table(inference, power, registry, planned("ri", 0.01)).set_index("term")
    assert strict.loc["integration_partial", "n_significant"] == 0
    assert "at the 1% level" in strict.loc["integration_partial", "statement"]
    # no row tested under the plan's test: said, not counted
    none = conclusion_table(inference, None, registry, planned("cr2")).set_index("term")
    assert (none.n_tested == 0).all() and none.statement.str.contains("not tested").all()
    assert none.summary.str.endswith("not tested (no estimate under the plan's test).").all()


def test_conclusion_reports_the_primary_family_first_and_the_secondary_apart():
    label = INFERENCE_LABELS["ri"].format(reps=99)
    inference = _inference(label)
    inference["family"] = inference["indicator_id"].map(
        {"i0": "secondary", "i1": "primary", "i2": "secondary", "i3": "primary"}
    )
    registry = pd.DataFrame(
        {
            "indicator_id": ["i0", "i1", "i2", "i3"],
            "title": ["zero", "one", "two", "three"],
            "higher_is_better": [False, False, True, True],
        }
    )
    out = conclusion_table(inference, None, registry, planned("ri"))
    assert list(zip(out["family"], out["term"], strict=True)) == [
        ("primary", "integration_full"),
        ("primary", "integration_partial"),
        ("secondary", "integration_full"),
        ("secondary", "integration_partial"),
    ]
    rows = out.set_index(["family", "term"])
    primary = rows.loc[("primary", "integration_full")]
    assert (primary.n_indicators, primary.n_tested) == (2, 1)
    assert primary.adjustment == "Romano-Wolf within the 1 primary outcome"
    secondary = rows.loc[("secondary", "integration_full")]
    assert secondary.adjustment == "Benjamini-Hochberg within the 2 secondary outcomes"
    # i0 BH-adjusted 0.03: significant in its (secondary) family, and worse
    assert (secondary.n_tested, secondary.n_significant, secondary.n_worse) == (2, 1, 1)
    estimates = estimates_table(inference, registry, planned("ri"))
    assert list(dict.fromkeys(estimates["indicator_id"])) == ["i1", "i3", "i0", "i2"]
    headline = plan_headline(inference, planned("ri"))
    assert (
        list(headline["family"])
        == ["integration, primary outcomes"] * 2 + ["integration, secondary outcomes"] * 2
    )


def test_estimates_say_better_or_worse_once_for_the_conclusion_and_the_report():
    label = INFERENCE_LABELS["ri"].format(reps=99)
    inference = _inference(label)
    registry = pd.DataFrame(
        {
            "indicator_id": ["i0", "i1", "i2", "i3"],
            "title": ["zero", "one", "two", "three"],
            "higher_is_better": [False, False, True, True],
        }
    )
    bh = planned("ri", primary="benjamini_hochberg")
    table = estimates_table(inference, registry, bh)
    full = table[table["term"] == "integration_full"].set_index("indicator_id")
    # Benjamini-Hochberg 0.03, 0.06, 0.6: only i0 is significant after adjustment
    assert list(full["outcome"]) == ["worse", "not significant", "not significant", "not estimated"]
    assert list(full["p_family_adjusted"].iloc[:3]) == [0.03, 0.06, 0.6]
    assert (full["family"] == "primary").all() and (
        full["adjustment"] == "Benjamini-Hochberg"
    ).all()
    assert (table["test"] == label).all() and list(full["title"]) == ["zero", "one", "two", "three"]
    conclusion = conclusion_table(inference, None, registry, bh).set_index("term")
    counts = table.groupby("term")["outcome"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=["better", "worse"], fill_value=0)
    for term, row in conclusion.iterrows():
        assert (row.n_better, row.n_worse) == (
            counts.loc[term, "better"],
            counts.loc[term, "worse"],
        )
    many = multiplicity_table(inference, 0.05).set_index(["test", "term"])
    assert many.loc[(label, "integration_full")].tolist() == ["primary", 3, 2, 1, 1]
    assert many.loc[("CRV1 t(G-1)", "integration_full"), "significant"] == 4
