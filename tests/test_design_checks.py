"""The sentences of the design checks and the estimators' agreement, on hand-made tables."""

from __future__ import annotations

import math

import pandas as pd

from integration_models.results import design_checks as checks


def _coefficient(indicator, model, estimate, low, high, term="integration_full"):
    return {
        "indicator_id": indicator,
        "model": model,
        "term": term,
        "estimate": estimate,
        "conf_low": low,
        "conf_high": high,
    }


def test_agreement_needs_the_sign_and_an_interval_around_the_reference():
    rows = [
        # a: both agree (same sign, intervals contain 1.0)
        _coefficient("a", "twfe", 1.0, 0.5, 1.5),
        _coefficient("a", "csdid", 1.2, 0.1, 2.3),
        _coefficient("a", "sunab", 0.8, 0.2, 1.4),
        # b: sunab has the other sign; csdid's interval misses the reference
        _coefficient("b", "twfe", 1.0, 0.5, 1.5),
        _coefficient("b", "csdid", 2.0, 1.5, 2.5),
        _coefficient("b", "sunab", -0.1, -2.0, 1.8),
        # c: csdid not identified (no interval): left out, counted apart; nothing compared
        _coefficient("c", "twfe", -1.0, -1.5, -0.5),
        _coefficient("c", "csdid", -0.7, math.nan, math.nan),
        # d: no reference estimate: no row
        _coefficient("d", "twfe", math.nan, math.nan, math.nan),
        _coefficient("d", "csdid", 1.0, 0.0, 2.0),
        # not a primary outcome
        _coefficient("e", "twfe", 1.0, 0.5, 1.5),
    ]
    table = checks.estimator_agreement(
        pd.DataFrame(rows), ["a", "b", "c", "d"], ["csdid", "sunab"], "twfe"
    ).set_index("indicator_id")
    assert list(table.index) == ["a", "b", "c"]
    assert table.loc["a", "agree"] and table.loc["a", "n_estimators"] == 2
    assert not table.loc["b", "agree"] and table.loc["b", "differing"] == "csdid, sunab"
    assert table.loc["b", "n_same_sign"] == 1 and table.loc["b", "n_cover"] == 1
    assert table.loc["c", "n_estimators"] == 0 and table.loc["c", "n_without_interval"] == 1
    assert not table.loc["c", "agree"]
    sentence = checks.agreement_statement(table.reset_index(), ["csdid", "sunab"], "twfe")
    assert "2 primary outcome-terms with at least one other identified estimate" in sentence
    assert "sign for 1, every interval contains the twfe estimate for 1, and both" in sentence
    assert "they differ for b (full): csdid, sunab" in sentence


def test_weights_statement_counts_the_terms_not_to_be_trusted():
    diagnostics = pd.DataFrame(
        {
            "indicator_id": ["a", "a", "b"],
            "term": ["integration_full", "integration_partial", "integration_full"],
            "n_weights": [40, 30, 40],
            "negative_sum": [-0.33, 0.0, -0.02],
            "sigma_ratio": [0.5, 3.0, 2.0],
            "bacon_forbidden_weight": [0.12, math.nan, 0.0],
            "verdict": [
                "negative weights sum to -0.33 (below -0.10): TWFE not to be trusted",
                "no negative weights",
                "negative weights sum to -0.02 (within -0.10): TWFE usable",
            ],
        }
    )
    sentence = checks.weights_statement(diagnostics)
    assert "not to be trusted for 1 of 3 indicator-terms (a (full))" in sentence
    assert "the most negative sum is -0.33 (a, full)" in sentence
    assert "In 1, effect heterogeneity smaller than the estimate" in sentence
    assert "at most 12% of a term's weight" in sentence


def test_honest_statement_gives_breakdown_values_and_reasons():
    breakdown = pd.DataFrame(
        {
            "indicator_id": ["a", "b", "c"],
            "term": ["integration_full"] * 3,
            "breakdown": [0.5, math.nan, math.nan],
            "breakdown_text": [
                "0.50",
                "none: interval covers zero under parallel trends (Mbar = 0)",
                "not computable: no pre-periods",
            ],
        }
    )
    sentence = checks.honest_statement(breakdown)
    assert "breakdown values Mbar of a (full) 0.50" in sentence
    assert "interval covers zero under parallel trends: 1" in sentence
    assert "not computable: no pre-periods: 1" in sentence


def test_synthetic_statements_use_the_plans_alpha_and_say_the_resolution():
    synthetic = pd.DataFrame(
        {
            "indicator_id": ["x", "y", "x", "y"],
            "area_name": ["Moray", "Moray", "Highland", "Highland"],
            "method": ["scm"] * 4,
            "status": ["ok", "ok", "too few pre-periods", "too few pre-periods"],
            "go_live_year": [2020, 2020, 2012, 2012],
            "p_placebo": [1 / 16, 0.5, math.nan, math.nan],
            "n_placebos": [15, 15, math.nan, math.nan],
        }
    )
    moray, highland = checks.synthetic_statements(synthetic, alpha=0.1)
    assert "fitted for 2 of 2 indicators" in moray and "below 0.1 for 1 (x)" in moray
    assert "15 placebos, so no p below 0.0625 is possible" in moray
    assert "not the plan's" in moray
    assert highland == (
        "Synthetic control, Highland: not fitted for any of the 2 indicators "
        "(too few pre-periods: 2)."
    )
