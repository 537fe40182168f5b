"""Which jobs an annual update, a new classification, a report setting or a code edit reruns.

Each test copies the finished demo run (mtimes and Snakemake's records kept), changes one
thing and reads Snakemake's dry-run plan: the rules and wildcards of every job it would run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import DEMO_MODELS, snakemake

pytestmark = pytest.mark.slow
INDICATOR = "lac_rate"
AGGREGATES = {
    "panel",
    "data_summary",
    "tables",
    "headline",
    "inference",
    "size",
    "sensitivity",
    "provenance",
    "report",
    "all",
}
FIGURES = {
    "figures_trends",
    "figures_forest",
    "figures_indicator",
    "figures_power",
    "figures_estimators",
}
# issue 16: one job per indicator, and the steps combining them
PER_INDICATOR_CHECKS = {"diagnose", "synthetic_part"}
CHECKS = {"diagnostics", "synthetic_control", "design_checks"}


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    """A copy of the finished run that a test may change."""
    target = tmp_path / "run"
    shutil.copytree(finished, target, symlinks=True)
    return target


def plan(workdir: Path, *args: str) -> list[tuple[str, str]]:
    """The jobs a dry run would execute, as ``(rule, wildcards)`` pairs."""
    dry = snakemake(workdir, "-n", *args)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    jobs, rule = [], None
    for line in dry.stdout.splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):$", line.strip()):
            if rule is not None:
                jobs.append((rule, ""))
            rule = match.group(1)
        elif rule is not None and line.strip().startswith("wildcards:"):
            jobs.append((rule, line.strip().removeprefix("wildcards:").strip()))
            rule = None
    if rule is not None:
        jobs.append((rule, ""))
    return jobs


def rules(jobs: list[tuple[str, str]]) -> Counter:
    return Counter(rule for rule, _ in jobs)


def test_nothing_to_do_after_a_run(run_copy):
    assert plan(run_copy) == []


def test_new_year_file_reruns_only_that_indicator(run_copy):
    folder = run_copy / "data/raw/values" / INDICATOR
    folder.mkdir()
    (folder / "2024.csv").write_text("area_code,year,value\nS12000005,2024,1.5\n")
    jobs = plan(run_copy)
    counts = rules(jobs)
    assert counts["ingest"] == 1 and ("ingest", f"indicator={INDICATOR}") in jobs
    fits = [w for r, w in jobs if r == "fit"]
    assert len(fits) == len(DEMO_MODELS) and all(w.endswith(f"indicator={INDICATOR}") for w in fits)
    # the resampling, power and sensitivity refits of that indicator alone, then the
    # cheap steps that combine every indicator's
    assert [w for r, w in jobs if r == "analyse"] == [f"indicator={INDICATOR}"]
    assert "classify" not in counts
    for rule in PER_INDICATOR_CHECKS:
        assert [w for r, w in jobs if r == rule] == [f"indicator={INDICATOR}"]
    assert set(counts) - {"ingest", "fit", "analyse"} <= (
        AGGREGATES | FIGURES | PER_INDICATOR_CHECKS | CHECKS
    )
    assert [w for r, w in jobs if r == "figures_indicator"] == [f"indicator={INDICATOR}"]


def test_one_value_change_redraws_only_that_indicators_figures(run_copy):
    """Issue 14: one value of one indicator changed redraws its own coefficient and event-study
    figures (one job), and the figures spanning indicators, never another indicator's."""
    path = run_copy / "data/raw/values" / f"{INDICATOR}.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    cells = lines[1].rstrip("\n").split(",")
    column = header.index("value")
    cells[column] = f"{float(cells[column]) + 0.1:.1f}"
    lines[1] = ",".join(cells) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    jobs = plan(run_copy)
    assert [w for r, w in jobs if r == "figures_indicator"] == [f"indicator={INDICATOR}"]
    counts = rules(jobs)
    assert counts["figures_trends"] == 1 and counts["figures_forest"] == 1
    assert counts["figures_power"] == 1
    assert counts["ingest"] == 1 and counts["fit"] == len(DEMO_MODELS)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        # one code_digest job: the digest of the one step whose code imports the module
        (
            "plots/coefficients.py",
            {"code_digest": 1, "figures_indicator": 25, "report": 1, "all": 1},
        ),
        ("plots/trends.py", {"code_digest": 1, "figures_trends": 1, "report": 1, "all": 1}),
        ("plots/power.py", {"code_digest": 1, "figures_power": 1, "report": 1, "all": 1}),
    ],
)
def test_figure_code_edit_redraws_only_those_figures(run_copy, module, expected):
    path = run_copy / "src/integration_models" / module
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert rules(plan(run_copy)) == expected


def test_new_classification_reruns_models_not_ingest(run_copy):
    path = run_copy / "data/reference/classification/baseline.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("assumption:", "edited:", 1))
    counts = rules(plan(run_copy))
    assert "ingest" not in counts
    assert counts["classify"] == 1 and counts["panel"] == 1
    assert counts["fit"] == 25 * len(DEMO_MODELS)
    assert {"tables", "inference", "report"} <= set(counts)


def test_report_setting_reruns_only_provenance_and_report(run_copy):
    jobs = plan(run_copy, "--config", "report_title=Annual update 2026")
    assert set(rules(jobs)) == {"provenance", "report", "all"}


def test_input_size_limit_reruns_only_provenance_and_report(run_copy):
    """max_input_mb decides whether a job may read its inputs, never what it writes; only
    the provenance (which records the whole configuration) and the report rerun."""
    assert set(rules(plan(run_copy, "--config", "max_input_mb=100"))) == {
        "provenance",
        "report",
        "all",
    }


def test_report_code_edit_reruns_only_the_report(run_copy):
    path = run_copy / "src/integration_models/report/render.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    jobs = plan(run_copy)
    assert set(rules(jobs)) == {"code_digest", "report", "all"}
    assert ("code_digest", "step=report") in jobs


def test_model_code_edit_reruns_fits_not_ingest(run_copy):
    path = run_copy / "src/integration_models/models/twfe.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    counts = rules(plan(run_copy))
    assert counts["fit"] == 25 * len(DEMO_MODELS)
    assert not {"ingest", "classify", "panel"} & set(counts)


def test_ingest_code_edit_reruns_the_ingest(run_copy):
    path = run_copy / "src/integration_models/data/ingest.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    counts = rules(plan(run_copy))
    assert counts["ingest"] == 25 and "classify" not in counts


@pytest.mark.parametrize("name", [f"{INDICATOR}/2024.CSV", "stray.csv", "notes.xlsx"])
def test_file_no_ingest_reads_reruns_the_ingest(run_copy, name):
    """A values file that would be left out reruns every ingest job, which stops naming it."""
    path = run_copy / "data/raw/values" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("area_code,year,value\nS12000005,2024,1.5\n")
    (run_copy / "data/raw/values/.hidden").write_text("ignored")
    assert rules(plan(run_copy))["ingest"] == 25
    run = snakemake(run_copy)
    assert run.returncode != 0
    assert f"data/raw/values/{name}" in run.stderr + run.stdout


def test_input_edited_after_the_ingest_makes_the_run_say_stale(run_copy):
    """Issue 12 item 3: a values file edited after the panel was built (its mtime kept, so
    Snakemake sees nothing new) is named by provenance.json and by the run itself."""
    values = run_copy / "data/raw/values/attendance.csv"
    before = values.stat()
    values.write_text(values.read_text(encoding="utf-8") + "S12000005,2099,1\n")
    os.utime(values, ns=(before.st_atime_ns, before.st_mtime_ns))
    run = snakemake(run_copy, "--forcerun", "provenance")
    assert run.returncode == 0, run.stdout + run.stderr
    path = "data/raw/values/attendance.csv"
    assert f"warning: {path} changed after the run read it" in run.stdout + run.stderr
    provenance = json.loads((run_copy / "results/provenance.json").read_text(encoding="utf-8"))
    assert provenance["changed_during_run"] == [path] and provenance["stale"] is True


def test_tables_and_figures_do_not_wait_for_the_inference(run_copy):
    """The coefficient tables and their figures need the fits only; the headline waits."""
    for target in ("tables/coefficients.csv", "figures/forest.png"):
        jobs = rules(plan(run_copy, "--forceall", f"results/{target}"))
        assert jobs["tables"] == 1 and "inference" not in jobs and "headline" not in jobs
    jobs = rules(plan(run_copy, "--forceall", "results/tables/headline.csv"))
    assert jobs["inference"] == 1 and jobs["headline"] == 1
