"""The reviewer page: self-contained, escaped, complete, deterministic; renders in Chromium."""

import re
import shutil
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from integration_models.data.summary import (  # noqa: E402
    exclusion_counts,
    exposure_counts,
    indicator_summary,
)
from integration_models.report.render import SYNTHETIC_BANNER, write_report  # noqa: E402
from integration_models.results import schemas  # noqa: E402
from integration_models.results.summarise import (  # noqa: E402
    PlannedTest,
    estimates_table,
    multiplicity_table,
)
from tests.conftest import CHROMIUM, CHROMIUM_HEADLESS  # noqa: E402

EVIL = "<script>alert(1)</script>"


def tiny_png(path, colour):
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
    ax.plot([0, 1, 2], [0, 1, 0.5], color=colour)
    ax.set_title(path.stem)
    fig.savefig(path)
    plt.close(fig)


@pytest.fixture
def inputs(tmp_path):
    tables = tmp_path / "results" / "tables"
    figures = tmp_path / "results" / "figures"
    tables.mkdir(parents=True)
    figures.mkdir()
    ids = ["lac_rate", "attendance"]
    registry = pd.DataFrame(
        {
            "indicator_id": ids,
            "title": [f"Looked-after children {EVIL}", "School attendance"],
            "domain": ["children", "children"],
            "measure": ["rate", "percentage"],
            "unit": ["per 1,000 children", "% of half-days"],
            "higher_is_better": [False, True],
            "period": ["snapshot", "academic"],
            "source": ["Source & Co <b>table</b>", "SYNTHETIC demo"],
        }
    )
    areas = pd.DataFrame(
        {
            "area_code": ["S12000005", "S12000030", "S12000049"],
            "hscp_code": ["S37000005", "S37000005", "S37000034"],
            "hscp_name": [
                "Clackmannanshire and Stirling",
                "Clackmannanshire and Stirling",
                "Glasgow",
            ],
        }
    )
    classification = pd.DataFrame(
        {
            "hscp_code": ["S37000005", "S37000034", "S37000034"],
            "category": ["none", "partial", "full"],
            "from_year": [2016, 2016, 2019],
            "to_year": pd.array([pd.NA, 2018, pd.NA], dtype="Int64"),
            "evidence": [
                "assumption: default none",
                'council page https://example.org/a?x=1&y=2"onmouseover="alert(1) and more.',
                f"javascript:alert(1) {EVIL}",
            ],
        }
    )
    rows = []
    for indicator in ids:
        for area in areas["area_code"]:
            for year in range(2014, 2021):
                rows.append(
                    {"area_code": area, "year": year, "indicator_id": indicator, "value": 1.0}
                )
    panel = pd.DataFrame(rows)
    exclusions = pd.DataFrame(
        {
            "file": ["values/lac_rate.csv", "values/lac_rate.csv", f"values/{EVIL}.csv"],
            "line": [3, 9, 2],
            "area_code": ["S12000005"] * 3,
            "year": [2013, 2015, 2016],
            "indicator_id": ["lac_rate", "lac_rate", "attendance"],
            "raw_value": ["c", "1.0", ""],
            "reason": [
                "suppressed or not available: marker 'c'",
                "exact duplicate of values/lac_rate.csv:4",
                "missing: empty value " + "very long explanation " * 10,
            ],
        }
    )
    fit_rows = []
    coefficient_rows = []
    for model in ("mixed", "twfe"):
        for indicator in ids:
            failed = model == "twfe" and indicator == "attendance"
            fit_rows.append(
                {
                    "indicator_id": indicator,
                    "model": model,
                    "n_obs": 21,
                    "n_areas": 3,
                    "n_years": 7,
                    "converged": not failed,
                    "status": "failed" if failed else "ok",
                    "message": f"LinAlgError: Singular matrix {EVIL}" if failed else "",
                    "optimiser": "lbfgs" if model == "mixed" else "",
                    "log_likelihood": -12.5,
                    "r2_within": 0.4,
                    "outcome_mean": 1.0,
                    "outcome_sd": 0.1,
                    "scale": "log",
                    "formula": f"y ~ integration_full + integration_partial ({model})",
                    "warnings": "ConvergenceWarning: boundary | UserWarning: x"
                    if model == "mixed" and indicator == "lac_rate"
                    else "DeprecationWarning: old API"
                    if model == "twfe"
                    else "",
                }
            )
            for term in ("time", "integration_full", "integration_partial"):
                estimate = np.nan if failed else 0.123456
                coefficient_rows.append(
                    {
                        "indicator_id": indicator,
                        "model": model,
                        "term": term,
                        "estimate": estimate,
                        "std_error": np.nan if failed else 0.0456,
                        "statistic": np.nan if failed else 2.7,
                        "p_value": np.nan if failed else 0.0004,
                        "conf_low": np.nan if failed else 0.03,
                        "conf_high": np.nan if failed else 0.21,
                        "n_obs": 21,
                        "n_areas": 3,
                        "inference": "" if failed else f"cluster-robust by area ({model})",
                        "scale": "log",
                        "note": "not estimated: model failed" if failed else "",
                    }
                )
    pd.DataFrame(fit_rows).to_csv(tables / "model_fit.csv", index=False)
    pd.DataFrame(coefficient_rows).to_csv(tables / "coefficients.csv", index=False)
    pd.DataFrame(
        {
            "indicator_id": ids,
            "title": registry["title"],
            "domain": ["children"] * 2,
            "measure": ["rate", "percentage"],
            "scale": ["log", "identity"],
            "mixed_integration_full": ["+", "-"],
            "mixed_integration_partial": ["ns", "ns"],
            "twfe_integration_full": ["ns", ""],
            "twfe_integration_partial": ["-", ""],
        }
    ).to_csv(tables / "summary.csv", index=False)
    pd.DataFrame(
        {
            "model": ["mixed"],
            "term": ["integration_full"],
            "family": ["integration"],
            "n_significant": [2],
            "n_positive": [1],
            "n_negative": [1],
            "n_estimated": [2],
            "statement": [f"mixed: integration_full significant for 2 of 2 indicators {EVIL}"],
        }
    ).to_csv(tables / "headline.csv", index=False)
    headline_test = "randomization inference (partnership labels, B=99)"
    inference_rows = []
    for indicator, estimate, p in (("lac_rate", -0.2, 0.01), ("attendance", -0.5, 0.04)):
        for term in ("integration_full", "integration_partial"):
            for label, p_value in ((headline_test, p), ("CRV1 t(G-1)", 0.003)):
                inference_rows.append(
                    {
                        "indicator_id": indicator,
                        "model": "twfe",
                        "term": term,
                        "estimate": estimate if term == "integration_full" else 0.01,
                        "std_error": 0.05,
                        "p_value": p_value if term == "integration_full" else 0.9,
                        "conf_low": np.nan if label == headline_test else -0.3,
                        "conf_high": np.nan if label == headline_test else -0.1,
                        "inference": label,
                        "family": "primary",
                        "p_adjusted": 0.02 if term == "integration_full" else 0.9,
                        "p_romano_wolf": 0.03 if label == headline_test else np.nan,
                    }
                )
    pd.DataFrame(inference_rows).to_csv(tables / "inference.csv", index=False)
    pd.DataFrame(
        {
            "family": ["primary"] * 2,
            "term": ["integration_full", "integration_partial"],
            "test": [headline_test] * 2,
            "alpha": [0.1, 0.1],
            "summary": [
                f"Full integration, 2 primary outcomes: 2 worse {EVIL}.",
                "Partial integration, 2 primary outcomes: none better or worse.",
            ],
            "statement": [
                f"Full integration (compared with none): 2 of 2 {EVIL}",
                "Partial integration (compared with none): 0 of 2",
            ],
            "limits": ["What the data cannot say."] * 2,
        }
    ).to_csv(tables / "conclusion.csv", index=False)
    variants = ["baseline", "drop_S37000034"]
    pd.DataFrame(
        {
            "variant": variants,
            "kind": ["baseline", "leave_one_out"],
            "description": ["baseline: the panel as built", "leave out S37000034"],
            "term": ["integration_full"] * 2,
            "test": ["CR2 Bell-McCaffrey"] * 2,
            "n_indicators": [2, 2],
            "n_tested": [2, 2],
            "n_significant": [1, 0],
            "n_changed": [0, 1],
            "changes": ["", "lac_rate (- -> ns)"],
            "note": ["", ""],
        }
    ).to_csv(tables / "sensitivity_summary.csv", index=False)
    pd.DataFrame(
        {"variant": variants, "indicator_id": ["lac_rate"] * 2, "term": ["integration_full"] * 2}
    ).to_csv(tables / "sensitivity.csv", index=False)
    integration = pd.DataFrame(
        [
            {
                "area_code": area,
                "year": year,
                "period_key": "financial",
                "integration": "none"
                if area != "S12000049" or year < 2016
                else ("partial" if year < 2019 else "full"),
            }
            for area in areas["area_code"]
            for year in range(2014, 2021)
        ]
    )
    tiny_png(figures / "forest.png", "tab:red")
    tiny_png(figures / "coefficients_attendance.png", "tab:green")
    tiny_png(figures / "coefficients_lac_rate.png", "tab:orange")
    tiny_png(figures / "trends.png", "tab:blue")
    tiny_png(figures / "zz_extra.png", "tab:purple")
    (figures / "forest.svg").write_text("<svg/>")
    provenance = {
        "inputs": {"dataset": [{"path": f"data/{EVIL}.csv", "sha256": "ab" * 32, "size": 1234}]},
        "config": {
            "raw_dir": "data/raw",
            "classification": "data/reference/x.csv",
            "covid_window": {"start": "2020-03-23", "end": "2022-03-31"},
        },
        "versions": {"python": "3.11.9", "pandas": "3.1.1"},
        "git": {"commit": "0" * 40, "dirty": False},
        "created": "2025-01-01T00:00:00+00:00",
        "platform": "Linux",
        "analysis_plan": {
            "path": "analysis_plan.yaml",
            "sha256": "cd" * 32,
            "registered": "2026-12-05",
            "test": "ri",
            "alpha": 0.1,
            "families": {"primary": "romano_wolf", "secondary": "benjamini_hochberg"},
            "amendments": [{"date": "2027-01-10", "change": EVIL, "reason": "r"}],
            "deviations": [f"amendment of 2027-01-10: {EVIL} (reason: r)"],
        },
    }
    # what the headline step writes from these tables (integration_models.results.summarise)
    tested = pd.read_csv(tables / "inference.csv")
    tested = tested.assign(
        **{c: np.nan for c in ("p_adjusted", "p_romano_wolf") if c not in tested}
    )
    planned = PlannedTest("ri", 0.1, {"primary": "romano_wolf", "secondary": "benjamini_hochberg"})
    estimates_table(tested, registry, planned).to_csv(tables / "estimates.csv", index=False)
    multiplicity_table(tested, 0.1).to_csv(tables / "multiplicity.csv", index=False)
    # what the data-summary step writes from the panel, exclusions and exposure
    indicator_summary(panel, exclusions, registry).to_csv(tables / "data_summary.csv", index=False)
    exclusion_counts(exclusions).to_csv(tables / "exclusion_counts.csv", index=False)
    exposure_counts(integration).to_csv(tables / "exposure_counts.csv", index=False)
    conform(tables)
    return {
        "tables": sorted(tables.glob("*.csv")),
        "figures": sorted(figures.iterdir()),
        "registry": registry,
        "classification": classification,
        "areas": areas,
        "provenance": provenance,
    }


STAMP_VALUES = {
    "data": "SYNTHETIC demo data",
    "config_hash": "feedfacecafebeef",
    "inputs_hash": "deadbeefdeadbeef",
}


def _default(column):
    """A filler for a column the hand-made table leaves out, of the schema's kind."""
    kinds = {check.name for check in column.checks}
    if "integer" in kinds:
        return 0
    if "True or False" in kinds:
        return np.nan if column.nullable else False
    if "numeric" in kinds:
        return np.nan if column.nullable else 0.0
    return np.nan if column.nullable else "x"


def conform(tables):
    """Give each hand-made table the columns its schema declares, in order, with a stamp.

    The tables above hold only what the tests look at; the report refuses a table that does
    not match its schema (:mod:`integration_models.results.schemas`), so the rest is filled in.
    """
    for path in sorted(tables.glob("*.csv")):
        schema = schemas.TABLES.get(path.stem)
        if schema is None:
            continue
        frame = pd.read_csv(path)
        for name, column in schema.columns.items():
            if name not in frame:
                frame[name] = STAMP_VALUES.get(name, _default(column))
        declared = [c for c in schema.columns if c not in STAMP_VALUES]
        middle = [c for c in frame if c not in schema.columns]
        frame[[*declared, *middle, *STAMP_VALUES]].to_csv(path, index=False)
        assert not schemas.problems(pd.read_csv(path), schema), path.name


def table(inputs, name):
    """The path of the table ``name`` among the files given to the report."""
    return next(path for path in inputs["tables"] if path.stem == name)


def render(tmp_path, inputs, synthetic=True, name="report.html"):
    out = tmp_path / "results" / name
    write_report(out, synthetic=synthetic, **inputs)
    return out, out.read_text(encoding="utf-8")


def section(text, anchor):
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', text, re.S)
    assert match, anchor
    return match.group(1)


def test_report_written_and_self_contained(tmp_path, inputs):
    out, text = render(tmp_path, inputs)
    assert out.is_file()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count("data:image/png;base64,") == 5
    for external in ('src="http', "src='http", "<link", "@import", "url(", "<iframe", "<object"):
        assert external not in text.lower()
    for src in re.findall(r'src="([^"]*)"', text):
        assert src.startswith("data:image/png;base64,")
    assert "forest.svg" not in text
    assert [p.name for p in out.parent.iterdir() if p.is_file()] == ["report.html"]


def test_synthetic_banner_iff_synthetic(tmp_path, inputs):
    _, with_banner = render(tmp_path, inputs, synthetic=True)
    _, without = render(tmp_path, inputs, synthetic=False, name="real.html")
    assert SYNTHETIC_BANNER in with_banner
    assert with_banner.index(SYNTHETIC_BANNER) < with_banner.index("<h1>")
    assert "SYNTHETIC DEMO DATA" not in without


def test_text_from_data_is_escaped(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    assert "<script" not in text.lower()
    assert "Looked-after children &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Source &amp; Co &lt;b&gt;table&lt;/b&gt;" in text
    assert "<b>table</b>" not in text
    assert "javascript:" not in re.findall(r'href="([^"]*)"', text)[0]
    hrefs = re.findall(r'href="([^"#][^"]*)"', text)
    assert hrefs == ["https://example.org/a?x=1&amp;y=2"]
    assert "&#34;onmouseover=&#34;alert(1) and more." in text  # Jinja2's escape of \"


def test_sections_in_order_and_content(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    order = [
        "<h1>",
        'id="conclusion"',
        'id="plan"',
        'id="estimates"',
        'id="about"',
        'id="headline"',
        'id="inference"',
        'id="sensitivity"',
        'id="summary"',
        'id="figures"',
        'id="coefficients"',
        'id="data"',
        'id="registry"',
        'id="classification"',
        'id="models"',
        'id="convergence"',
        'id="provenance"',
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    headline = "<strong>mixed: integration_full significant for 2 of 2 indicators &lt;script&gt;"
    assert headline in text
    data = section(text, "data")
    assert "<strong>45</strong> rows read" in data
    assert "<strong>42</strong> in the panel" in data
    assert "exact duplicate of an earlier row" in data
    assert "\N{HORIZONTAL ELLIPSIS}" in data
    assert "exclusions.csv" in data
    classification = section(text, "classification")
    assert "Clackmannanshire and Stirling" in classification
    plain = classification.replace(' class="num"', "")
    # council areas, full / partial / none, counted from integration.parquet
    assert "<td>2014</td><td>0 / 0 / 3</td>" in plain
    assert "<td>2017</td><td>0 / 1 / 2</td>" in plain
    assert "<td>2019</td><td>1 / 0 / 2</td>" in plain
    models = section(text, "models")
    assert "<h3>replication (mixed)</h3>" in models
    assert "y ~ integration_full + integration_partial (twfe)" in models
    assert "cluster-robust by area (mixed)" in models
    summary = section(text, "summary")
    assert re.search(r'<td class="pos[^"]*">\+</td>', summary)
    assert re.search(r'<td class="neg[^"]*">-</td>', summary)
    assert '<th colspan="2" class="group">replication (mixed)</th>' in summary
    assert "<td>lower</td>" in summary and "better if" in summary
    coefficients = section(text, "coefficients")
    assert "0.1235" in coefficients and "&lt;0.001" in coefficients
    assert ">time<" not in coefficients
    provenance = section(text, "provenance")
    assert "0" * 40 in provenance and "ab" * 32 in provenance


def test_figures_in_order_with_captions(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    figures = section(text, "figures")
    names = re.findall(r"<code>([^<]+\.png)</code>", figures)
    assert names == [
        "trends.png",
        "forest.png",
        "coefficients_lac_rate.png",
        "coefficients_attendance.png",
        "zz_extra.png",
    ]
    assert figures.count("<figcaption>") == 5


def test_failed_models_in_convergence_section(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    convergence = section(text, "convergence")
    assert "1 of 4 models did not reach status ok" in convergence
    assert "LinAlgError: Singular matrix &lt;script&gt;" in convergence
    assert "ConvergenceWarning: boundary<br>UserWarning: x" in convergence
    # each distinct warning once, model warnings before library notices, with the fits
    grouped = convergence[convergence.index("distinct warning") :]
    assert grouped.index("ConvergenceWarning: boundary") < grouped.index(
        "DeprecationWarning: old API"
    )
    assert "all 2 twfe fits" in grouped and "mixed: lac_rate" in grouped
    assert "all 4 models converged" not in convergence


def test_all_converged_is_stated(tmp_path, inputs):
    fit = pd.read_csv(table(inputs, "model_fit"))
    fit["status"] = "ok"
    fit["converged"] = True
    fit["warnings"] = ""
    fit["message"] = ""
    fit.to_csv(table(inputs, "model_fit"), index=False)
    _, text = render(tmp_path, inputs)
    assert "all 4 models converged" in section(text, "convergence")
    assert "No model recorded a warning" in section(text, "convergence")
    assert "<table" not in section(text, "convergence")


def test_missing_tables_are_announced(tmp_path, inputs):
    for name in ("headline", "summary"):
        table(inputs, name).unlink()
    _, text = render(tmp_path, inputs)
    assert "tables/headline.csv was not found" in text
    assert "tables/summary.csv was not found" in text


def test_deterministic(tmp_path, inputs):
    _, first = render(tmp_path, inputs, name="a.html")
    _, second = render(tmp_path, inputs, name="b.html")
    assert first == second


def distinct_colours(png):
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0))


def screenshot(html_file, png, tmp_path, height=2000):
    """Render ``html_file`` headless with Chromium into ``png``; return the completed process."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [
        *CHROMIUM_HEADLESS,
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size=1280,{height}",
        html_file.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} is absent (Debian: apt-get install chromium); see docs/report_check.md",
)
def test_report_renders_in_chromium(tmp_path, inputs):
    out, _ = render(tmp_path, inputs)
    png = tmp_path / "report.png"
    result = screenshot(out, png, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert png.is_file() and png.stat().st_size > 0, result.stderr[-2000:]
    from PIL import Image

    with Image.open(png) as image:
        assert image.size == (1280, 2000)
        red = np.asarray(image.convert("RGB"))[5:40, 100:1180]
    assert distinct_colours(png) > 50
    # the synthetic banner is rendered at the very top, in red
    assert (red[..., 0] > 150).mean() > 0.5 and (red[..., 1] < 90).mean() > 0.5


@pytest.mark.parametrize(
    ("p", "draws", "shown"),
    [
        (1 / 10000, 9999, "≤ 0.0001"),  # the smallest p of B = 9999 draws
        (1 / 100, 99, "≤ 0.01"),
        (1 / 1000, 999, "≤ 0.001"),
        (1 / 3000, 2999, "≤ 0.00034"),  # rounded up, so the bound stays true
        (2 / 10000, 9999, "<0.001"),  # not the minimum
        (2 / 100, 99, "0.020"),
        (1 / 10000, None, "<0.001"),  # not a resampling test
        (float("nan"), 99, ""),
    ],
)
def test_format_p_value(p, draws, shown):
    from integration_models.report.render import format_p_value

    assert format_p_value(p, draws) == shown


def test_inference_section_shows_the_resampling_minimum():
    from integration_models.report.render import _inference, render_section

    labels = {
        "crv1": "CRV1 t(G-1)",
        "wcr": "wild cluster bootstrap (WCR, Webb, B=9999)",
        "ri": "randomization inference (partnership labels, B=99)",
    }
    rows = [
        {"indicator_id": "lac_rate", "term": "integration_full", "inference": label, "p_value": p}
        for label, p in zip(labels.values(), (1e-7, 1 / 10000, 1 / 100), strict=True)
    ]
    frame = pd.DataFrame(rows).assign(p_adjusted=np.nan, p_romano_wolf=np.nan)
    page = render_section("inference", _inference(frame, None))
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert cells[:5] == ["lac_rate", "integration_full", "&lt;0.001", "≤ 0.0001", "≤ 0.01"]
    assert ">0<" not in page and "0.000<" not in page


def test_conclusion_first_then_estimates_under_the_headline_test(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    body = text[text.index("<main>") :]
    assert body.index("<h1>") < body.index('<section id="conclusion">') < body.index("<nav")
    conclusion = section(text, "conclusion")
    # the test and level once, a short sentence per family and term, the limits, then the
    # full sentences folded
    assert "test, randomization inference (partnership labels, B=99), at the 10% level" in (
        conclusion
    )
    assert "<li>Full integration, 2 primary outcomes: 2 worse &lt;script&gt;" in conclusion
    assert conclusion.index("<li>") < conclusion.index("What the data cannot say.")
    assert conclusion.index("What the data cannot say.") < conclusion.index("<details>")
    assert "Full integration (compared with none): 2 of 2 &lt;script&gt;" in conclusion
    assert conclusion.count("What the data cannot say.") == 1
    estimates = section(text, "estimates")
    assert "<td>School attendance</td>" in estimates and "<td>attendance</td>" not in estimates
    assert "randomization inference (partnership labels, B=99)" in estimates
    # p < 0.1 (alpha of conclusion.csv): lac_rate lower is better and fell, attendance fell
    assert '<td class="better">better</td>' in estimates
    assert '<td class="worse">worse</td>' in estimates
    assert "% interval</th>" not in estimates  # the headline test gives no interval
    assert '<th rowspan="2">family</th>' in estimates and '<td class="id">primary</td>' in estimates
    assert '<th class="num">adjusted p</th>' in estimates


def test_analysis_plan_near_the_top_with_its_hash_and_deviations(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    assert text.index('id="conclusion"') < text.index('id="plan"') < text.index('id="estimates"')
    plan = section(text, "plan")
    assert "cd" * 32 in plan and "registered 2026-12-05" in plan
    assert "randomization inference (partnership labels, B=99)" in plan  # conclusion's label
    assert "primary: Romano-Wolf step-down; secondary: Benjamini-Hochberg" in plan
    assert "Looked-after children &lt;script&gt;" in plan and "School attendance" in plan
    assert (
        "<li>amendment of 2027-01-10: &lt;script&gt;alert(1)&lt;/script&gt; (reason: r)</li>"
        in (plan)
    )
    assert "<script>" not in plan
    # a provenance without a plan is said, not hidden
    _, bare = render(
        tmp_path,
        {
            **inputs,
            "provenance": {k: v for k, v in inputs["provenance"].items() if k != "analysis_plan"},
        },
        name="bare.html",
    )
    assert "records no analysis plan" in section(bare, "plan")


def test_details_grouped_with_contents_and_sticky_headers(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    anchors = re.findall(r'<nav class="toc"[^>]*>(.*?)</nav>', text, re.S)[0]
    for anchor in re.findall(r'href="#([^"]+)"', anchors):
        assert f'<section id="{anchor}">' in text, anchor
    assert section(text, "data").startswith("<details open><summary><h2>")
    assert "position:sticky" in text


def test_tables_decide_alpha_and_names(tmp_path, inputs):
    _, text = render(tmp_path, inputs)
    inference = section(text, "inference")
    assert "p &lt; 0.1" in inference and "p &lt; 0.05" not in inference
    assert "25 indicators" not in inference and "the 2 indicators each test" in inference
    sensitivity = section(text, "sensitivity")
    assert "drop Glasgow" in sensitivity and "S37000034" not in sensitivity


def test_classification_without_exposure_counts_shows_the_periods_only(tmp_path, inputs):
    tables = [path for path in inputs["tables"] if path.stem != "exposure_counts"]
    _, text = render(tmp_path, {**inputs, "tables": tables})
    classification = section(text, "classification")
    assert "Clackmannanshire and Stirling" in classification
    assert "Council areas by category and year" not in classification


def test_reads_only_the_files_it_is_given(tmp_path, inputs):
    """A table or figure in the results folders that the rule did not pass is not read."""
    tables = [path for path in inputs["tables"] if path.stem != "summary"]
    figures = [path for path in inputs["figures"] if path.name != "zz_extra.png"]
    _, text = render(tmp_path, {**inputs, "tables": tables, "figures": figures})
    assert table(inputs, "summary").is_file()
    assert "tables/summary.csv was not found" in section(text, "summary")
    assert "zz_extra.png" not in text and text.count("data:image/png;base64,") == 4
    assert f"{len(tables)} tables of {len(tables)} in the tables folder" in text  # stamps checked
