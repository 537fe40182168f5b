"""The headline counts for the honest few-cluster test, and the per-step code inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from integration_models.cli import main
from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.results.summarise import (
    conclusion_table,
    estimates_table,
    headline_label,
    honest_headline,
    multiplicity_table,
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


def test_honest_headline_counts_the_chosen_test_only():
    label = INFERENCE_LABELS["wcr"].format(reps=9999)
    size = pd.DataFrame(
        {
            "method": ["wcr", "wcr"],
            "label": [INFERENCE_LABELS["wcr"].format(reps=999)] * 2,
            "term": ["integration_full", "integration_partial"],
            "rate": [0.049, 0.01],
        }
    )
    out = honest_headline(_inference(label), size, "wcr", 0.05)
    full = out.set_index("term").loc["integration_full"]
    assert (full.n_significant, full.n_positive, full.n_negative, full.n_estimated) == (2, 1, 1, 3)
    assert full.inference == label  # matched although the simulation ran fewer draws
    assert "1 after Benjamini-Hochberg; 1 after Romano-Wolf" in full.statement
    assert "4.9% of simulated null outcomes" in full.statement


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
    out = conclusion_table(inference, power, registry, label, 0.05).set_index("term")
    full = out.loc["integration_full"]
    assert (full.n_indicators, full.n_tested, full.n_significant) == (4, 3, 2)
    assert (full.n_better, full.n_worse, full.n_bh, full.n_romano_wolf) == (1, 1, 1, 1)
    mde = (full.n_mde, full.mde_sd_median, full.mde_sd_min, full.mde_sd_max)
    assert mde == pytest.approx((2, 0.3, 0.2, 0.4))
    assert "1 better, 1 worse" in full.statement and "not of the headline test" in full.statement
    assert "1 of the 4 could not be tested" in full.statement
    assert "cannot say" in full.limits
    # at alpha 0.01 nothing is significant, and the level is said as configured
    strict = conclusion_table(inference, power, registry, label, 0.01).set_index("term")
    assert strict.loc["integration_partial", "n_significant"] == 0
    assert "at the 1% level" in strict.loc["integration_partial", "statement"]
    # no row tested under the label: said, not counted
    none = conclusion_table(inference, None, registry, "", 0.05).set_index("term")
    assert (none.n_tested == 0).all() and none.statement.str.contains("not tested").all()


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
    table = estimates_table(inference, registry, label, 0.05)
    full = table[table["term"] == "integration_full"].set_index("indicator_id")
    assert list(full["outcome"]) == ["worse", "better", "not significant", "not estimated"]
    assert (table["test"] == label).all() and list(full["title"]) == ["zero", "one", "two", "three"]
    conclusion = conclusion_table(inference, None, registry, label, 0.05).set_index("term")
    counts = table.groupby("term")["outcome"].value_counts().unstack(fill_value=0)
    for term, row in conclusion.iterrows():
        assert (row.n_better, row.n_worse) == (
            counts.loc[term, "better"],
            counts.loc[term, "worse"],
        )
    many = multiplicity_table(inference, 0.05).set_index(["test", "term"])
    assert many.loc[(label, "integration_full")].tolist() == [3, 2, 1, 1]
    assert many.loc[("CRV1 t(G-1)", "integration_full"), "significant"] == 4
