"""The figures: files written, byte-identical reruns, input checks, awkward rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integration_models.plots import LINEAR_MODELS
from integration_models.plots import coefficients as coefficient_plot
from integration_models.plots import forest as forest_plot
from integration_models.plots import power as power_plot
from integration_models.plots import trends as trends_plot
from integration_models.plots.base import (
    EMPTY_PANEL_ID,
    SYNTHETIC_MARK,
    SYNTHETIC_MARK_ID,
    synthetic_figures,
)
from integration_models.plots.coefficients import plot_coefficients
from integration_models.plots.forest import plot_forest
from integration_models.plots.trends import plot_trends

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
        " import test_figures as t; from integration_models.plots.coefficients import"
        " plot_coefficients;"
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


def captured(monkeypatch, module, draw):
    """Run ``draw`` with ``module.save_figure`` replaced; return the figure, laid out."""
    drawn = []
    monkeypatch.setattr(module, "save_figure", lambda fig, out: drawn.append(fig) or [])
    draw()
    (fig,) = drawn
    fig.canvas.draw()
    return fig


def texts(ax) -> list[str]:
    return [t.get_text().replace("\n", " ") for t in ax.texts]


def is_sentence_only(ax) -> bool:
    """True if ``ax`` shows no ticks, no frame and no data, only its sentence(s)."""
    return (
        len(ax.get_xticks()) == 0
        and len(ax.get_yticks()) == 0
        and not any(spine.get_visible() for spine in ax.spines.values())
        and not ax.lines
        and not ax.collections
    )


def test_coefficients_without_any_row_say_why_instead_of_axes(tables, monkeypatch):
    coefficients = tables["coefficients"].query("indicator_id != 'gamma'")
    fig = captured(
        monkeypatch,
        coefficient_plot,
        lambda: plot_coefficients(coefficients, tables["registry"], "gamma", "unused"),
    )
    (ax,) = fig.axes
    assert texts(ax) == [coefficient_plot.NO_COEFFICIENTS]
    assert f"no linear model ({', '.join(LINEAR_MODELS)})" in texts(ax)[0]
    assert is_sentence_only(ax)
    assert ax.texts[0].get_gid() == EMPTY_PANEL_ID


def test_term_no_model_estimated_has_only_its_reasons(tables, monkeypatch):
    # beta: integration_partial absorbed in both models
    fig = captured(
        monkeypatch,
        coefficient_plot,
        lambda: plot_coefficients(tables["coefficients"], tables["registry"], "beta", "x"),
    )
    by_label = {ax.get_yticklabels()[0].get_text(): ax for ax in fig.axes}
    empty = by_label["partial integration (vs none)"]
    # the models not estimated for the same reason share one line
    assert texts(empty) == [
        f"not estimated ({', '.join(MODELS)}): absorbed by the year fixed effects"
    ]
    assert len(empty.get_xticks()) == 0 and not empty.lines
    assert not any(spine.get_visible() for spine in empty.spines.values())
    drawn = by_label["full integration (vs none)"]
    assert len(drawn.get_xticks()) > 0 and drawn.lines and not drawn.texts


def test_point_without_interval_says_why(tables, monkeypatch):
    table = tables["coefficients"].copy()
    row = (table["indicator_id"] == "alpha") & (table["term"] == "integration_partial")
    row &= table["model"] == "twfe"
    table.loc[row, ["conf_low", "conf_high"]] = np.nan
    table.loc[row, "note"] = "only 1 treated area: no valid standard error; status ok"
    fig = captured(
        monkeypatch,
        coefficient_plot,
        lambda: plot_coefficients(table, tables["registry"], "alpha", "x"),
    )
    by_label = {ax.get_yticklabels()[0].get_text(): ax for ax in fig.axes}
    partial = by_label["partial integration (vs none)"]
    assert texts(partial) == ["no interval (twfe): only 1 treated area: no valid standard error"]
    assert not by_label["full integration (vs none)"].texts


def test_trends_indicator_without_data(tables, tmp_path):
    panel = tables["panel"].query("indicator_id != 'gamma'")
    check_files(plot_trends(panel, tables["registry"], tmp_path / "t"))


def test_trends_panel_without_data_says_why(tables, monkeypatch):
    panel = tables["panel"].copy()
    panel = panel.loc[panel["indicator_id"] != "gamma"]
    panel.loc[panel["indicator_id"] == "delta", "value"] = np.nan
    fig = captured(
        monkeypatch, trends_plot, lambda: plot_trends(panel, tables["registry"], "unused")
    )
    by_title = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_visible()}
    gamma = by_title["Parents on a programme"]
    assert texts(gamma) == [trends_plot.NO_ROWS] and is_sentence_only(gamma)
    delta = by_title["Workforce absence"]
    assert texts(delta) == [trends_plot.NO_VALUES] and is_sentence_only(delta)
    alpha = next(ax for title, ax in by_title.items() if title.startswith("Looked-after"))
    assert alpha.lines and not alpha.texts


def test_forest_without_any_usable_effect(tables, tmp_path):
    fit = tables["model_fit"].assign(status="failed")
    check_files(plot_forest(tables["coefficients"], fit, tables["registry"], tmp_path / "f"))


def test_forest_rows_say_why_they_have_no_point(tables, monkeypatch):
    fit = tables["model_fit"].copy()
    fit["message"] = ""
    failed = fit["indicator_id"] == "gamma"
    fit.loc[failed, "status"] = "skipped"
    fit.loc[failed, "message"] = "too little data: 2 areas; needs 5"
    fig = captured(
        monkeypatch,
        forest_plot,
        lambda: plot_forest(tables["coefficients"], fit, tables["registry"], "unused"),
    )
    full, partial = fig.axes
    reason = "not estimated (mixed, twfe): skipped (too little data: 2 areas)"
    assert reason in texts(full), texts(full)
    # beta's partial term: absorbed in both models, said on its row of the right panel only
    assert "not estimated (mixed, twfe): absorbed by the year fixed effects" in texts(partial)
    assert not any("absorbed" in text for text in texts(full))


def test_forest_point_without_interval_says_why(tables, monkeypatch):
    table = tables["coefficients"].copy()
    row = (table["indicator_id"] == "alpha") & (table["term"] == "integration_full")
    row &= table["model"] == "twfe"
    table.loc[row, ["conf_low", "conf_high"]] = np.nan
    table.loc[row, "note"] = "only 1 treated area: no valid standard error"
    fig = captured(
        monkeypatch,
        forest_plot,
        lambda: plot_forest(table, tables["model_fit"], tables["registry"], "unused"),
    )
    full, partial = fig.axes
    assert texts(full) == ["no interval (twfe: only 1 treated area: no valid standard error)"]
    assert not any(text.startswith("no interval") for text in texts(partial))


def power_table(rows: list[tuple]) -> pd.DataFrame:
    columns = ["indicator_id", "term", "mde_sd", "size", "mde_size_adjusted_sd", "note", "reps"]
    table = pd.DataFrame(rows, columns=columns)
    return table.assign(over_rejects=table["size"] > 0.1)


def test_power_term_without_mde_says_why(tables, monkeypatch):
    table = power_table(
        [
            ("alpha", "integration_full", 0.4, 0.05, 0.4, "", 200),
            (
                "alpha",
                "integration_partial",
                np.nan,
                np.nan,
                np.nan,
                "not estimated: one treated area",
                200,
            ),
            ("beta", "integration_full", np.nan, np.nan, np.nan, "", 200),
            ("beta", "integration_partial", 0.9, 0.05, 0.9, "", 200),
        ]
    )
    fig = captured(
        monkeypatch,
        power_plot,
        lambda: power_plot.plot_power(table, tables["registry"], "unused"),
    )
    (ax,) = fig.axes
    assert sorted(texts(ax)) == [
        "full integration: no MDE",
        "partial integration: not estimated: one treated area",
    ]


def test_power_without_rows_says_why_instead_of_axes(tables, monkeypatch):
    fig = captured(
        monkeypatch,
        power_plot,
        lambda: power_plot.plot_power(power_table([]), tables["registry"], "unused"),
    )
    (ax,) = fig.axes
    assert texts(ax) == [power_plot.NO_ROWS] and is_sentence_only(ax)


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
