"""The figures: files written, byte-identical reruns, input checks, awkward rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integration_models.figures import (
    SYNTHETIC_MARK,
    SYNTHETIC_MARK_ID,
    plot_coefficients,
    plot_forest,
    plot_trends,
    synthetic_figures,
)

INDICATORS = ["alpha", "beta", "gamma", "delta"]
MODELS = ["mixed", "twfe"]
TERMS = ["time", "integration_full", "integration_partial", "deprivation", "covid", "log_density"]
YEARS = range(2013, 2019)
AREAS = [f"S120000{i:02d}" for i in range(1, 9)]


def integration(area: int, year: int) -> str:
    if area in (0, 1) and year >= 2016:
        return "full"
    if area == 2 and year in (2016, 2017):
        return "partial"
    if area == 3 and year >= 2016:
        return "partial" if year == 2016 else "full"
    return "none"


def make_registry() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator_id": INDICATORS,
            # out of domain order on purpose; "$" must be drawn literally, never as mathtext
            "title": [
                "Looked-after children with a rather long title that has to be wrapped",
                "Cost in $ per $\\frac child",
                "Parents on a programme",
                "Workforce absence",
            ],
            "domain": ["children", "workforce", "families", "children"],
            "measure": ["rate", "mean", "count", "percentage"],
            "unit": ["per 1,000 children aged 0-17", "GBP $ per week", "families", "% of days"],
            "higher_is_better": [False, False, True, False],
            "period": ["snapshot"] * 4,
            "source": ["SYNTHETIC test"] * 4,
            "lineno": [2, 3, 4, 5],
        }
    )


def make_panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [
        {
            "area_code": code,
            "area_name": f"Area {a}",
            "year": year,
            "indicator_id": ind,
            "value": 50 + 2 * a + (year - 2013) + rng.normal(),
            "integration": integration(a, year),
            "covid": 0,
        }
        for ind in INDICATORS
        for a, code in enumerate(AREAS)
        for year in YEARS
    ]
    return pd.DataFrame(rows)


def make_coefficients() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = []
    for ind in INDICATORS:
        for model in MODELS:
            for term in TERMS:
                est = rng.normal()
                se = abs(rng.normal(0.3, 0.1))
                note = ""
                if (model == "twfe" and term in ("time", "covid")) or (
                    ind == "beta" and term == "integration_partial"
                ):
                    est, se, note = np.nan, np.nan, "absorbed by the year fixed effects"
                if ind == "delta" and model == "mixed":
                    est, se, note = np.nan, np.nan, "model failed: singular matrix"
                rows.append(
                    {
                        "indicator_id": ind,
                        "model": model,
                        "term": term,
                        "estimate": est,
                        "std_error": se,
                        "statistic": est / se,
                        "p_value": 0.5,
                        "conf_low": est - 1.96 * se,
                        "conf_high": est + 1.96 * se,
                        "n_obs": 48,
                        "n_areas": 8,
                        "inference": "cluster-robust",
                        "scale": "log" if ind == "beta" else "identity",
                        "note": note,
                    }
                )
    return pd.DataFrame(rows)


def make_model_fit() -> pd.DataFrame:
    rows = [
        {
            "indicator_id": ind,
            "model": model,
            "n_obs": 48,
            "n_areas": 8,
            "converged": not failed,
            "status": "failed" if failed else "ok",
            "outcome_sd": 2.5,
        }
        for ind in INDICATORS
        for model in MODELS
        for failed in [ind == "delta" and model == "mixed"]
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def tables():
    return {
        "panel": make_panel(),
        "registry": make_registry(),
        "coefficients": make_coefficients(),
        "model_fit": make_model_fit(),
    }


def draw_all(tables, folder):
    t = tables
    return [
        *plot_trends(t["panel"], t["registry"], folder / "trends"),
        *plot_forest(t["coefficients"], t["model_fit"], t["registry"], folder / "forest"),
        *plot_coefficients(t["coefficients"], t["registry"], "alpha", folder / "coef_alpha"),
    ]


def check_files(paths):
    assert len(paths) % 2 == 0
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 1000
        if path.suffix == ".png":
            assert data.startswith(b"\x89PNG")
        else:
            assert path.suffix == ".svg"
            assert b"<svg" in data[:2000]
            assert b"<dc:date>" not in data


def test_writes_identical_files_and_leaves_inputs_alone(tables, tmp_path):
    copies = {name: table.copy(deep=True) for name, table in tables.items()}
    first = draw_all(tables, tmp_path / "a")
    assert [p.name for p in first] == [
        "trends.png",
        "trends.svg",
        "forest.png",
        "forest.svg",
        "coef_alpha.png",
        "coef_alpha.svg",
    ]
    check_files(first)
    second = draw_all(tables, tmp_path / "b")
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes(), one.name
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, copies[name])


def test_same_bytes_in_a_fresh_process(tables, tmp_path):
    """A rerun (new process, other hash seed) must not touch the files of an unchanged figure."""
    here = plot_coefficients(tables["coefficients"], tables["registry"], "beta", tmp_path / "a")
    script = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        " import test_figures as t; from integration_models.figures import plot_coefficients;"
        " plot_coefficients(t.make_coefficients(), t.make_registry(), 'beta', Path(sys.argv[2]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    args = [sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path / "b")]
    subprocess.run(args, check=True, env=env)
    for path in here:
        assert path.read_bytes() == (tmp_path / f"b{path.suffix}").read_bytes(), path.name


def test_failed_model_and_not_estimated_still_write(tables, tmp_path):
    # delta: the mixed model failed (all NaN); beta: a term absorbed, log scale, "$" in texts
    for ind in ("delta", "beta"):
        check_files(
            plot_coefficients(tables["coefficients"], tables["registry"], ind, tmp_path / ind)
        )


def test_indicator_without_coefficients_still_writes(tables, tmp_path):
    coefficients = tables["coefficients"].query("indicator_id != 'gamma'")
    check_files(plot_coefficients(coefficients, tables["registry"], "gamma", tmp_path / "gamma"))


def test_trends_indicator_without_data(tables, tmp_path):
    panel = tables["panel"].query("indicator_id != 'gamma'")
    check_files(plot_trends(panel, tables["registry"], tmp_path / "t"))


def test_forest_without_any_usable_effect(tables, tmp_path):
    fit = tables["model_fit"].assign(status="failed")
    check_files(plot_forest(tables["coefficients"], fit, tables["registry"], tmp_path / "f"))


def test_suffix_of_out_is_replaced(tables, tmp_path):
    paths = plot_trends(tables["panel"], tables["registry"], tmp_path / "sub" / "trends.png")
    assert paths == [tmp_path / "sub" / "trends.png", tmp_path / "sub" / "trends.svg"]
    check_files(paths)


@pytest.mark.parametrize(
    ("which", "table", "column"),
    [
        ("trends", "panel", "integration"),
        ("trends", "registry", "unit"),
        ("forest", "coefficients", "conf_high"),
        ("forest", "model_fit", "outcome_sd"),
        ("forest", "registry", "higher_is_better"),
        ("coefficients", "coefficients", "estimate"),
        ("coefficients", "registry", "title"),
    ],
)
def test_missing_column(tables, tmp_path, which, table, column):
    t = dict(tables)
    t[table] = t[table].drop(columns=column)
    calls = {
        "trends": lambda: plot_trends(t["panel"], t["registry"], tmp_path / "x"),
        "forest": lambda: plot_forest(t["coefficients"], t["model_fit"], t["registry"], tmp_path),
        "coefficients": lambda: plot_coefficients(
            t["coefficients"], t["registry"], "alpha", tmp_path / "x"
        ),
    }
    with pytest.raises(ValueError, match=f"{table} lacks column\\(s\\): {column}"):
        calls[which]()
    assert not list(tmp_path.iterdir())


def test_unknown_indicator(tables, tmp_path):
    with pytest.raises(ValueError, match="nosuch"):
        plot_coefficients(tables["coefficients"], tables["registry"], "nosuch", tmp_path / "x")
    panel = tables["panel"].assign(indicator_id="nosuch")
    with pytest.raises(ValueError, match="missing from the registry: nosuch"):
        plot_trends(panel, tables["registry"], tmp_path / "x")


def test_synthetic_figures_carry_the_mark_and_others_do_not(tables, tmp_path):
    """Issue 14: a figure of synthetic data says so wherever it is copied; a real one does not."""
    import xml.etree.ElementTree as ET

    with synthetic_figures(True):
        marked = draw_all(tables, tmp_path / "synthetic")
    plain = draw_all(tables, tmp_path / "real")
    for path in marked:
        if path.suffix == ".svg":
            text = path.read_text(encoding="utf-8")
            assert f'id="{SYNTHETIC_MARK_ID}"' in text and SYNTHETIC_MARK in text, path.name
            assert ET.parse(path).getroot().tag.endswith("svg")
    for path in plain:
        if path.suffix == ".svg":
            text = path.read_text(encoding="utf-8")
            assert SYNTHETIC_MARK_ID not in text and SYNTHETIC_MARK not in text, path.name
    for one, two in zip(marked, plain, strict=True):
        assert one.read_bytes() != two.read_bytes(), one.name  # the PNG changes too
    with synthetic_figures(True):
        again = draw_all(tables, tmp_path / "again")
    for one, two in zip(marked, again, strict=True):
        assert one.read_bytes() == two.read_bytes(), one.name  # still deterministic
