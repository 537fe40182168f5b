"""The run stamp (issue 12.1): no table of an earlier configuration may pass for current."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from integration_models.report.render import Tables, _stamp, render_section
from integration_models.results import schemas
from integration_models.results.stamp import (
    REAL_DATA,
    STAMP_COLUMNS,
    SYNTHETIC_DATA,
    Stamp,
    config_hash,
    foreign_tables,
    inputs_hash,
    stamp_of_table,
)
from integration_models.results.summarise import write_csv
from tests.conftest import snakemake

CONFIG = {"alpha": 0.05, "models": ["twfe"], "report_title": "A"}


def test_config_hash_ignores_keys_that_change_no_result_and_sees_the_rest():
    assert config_hash(CONFIG) == config_hash({**CONFIG, "report_title": "B"})
    assert config_hash(CONFIG) == config_hash({**CONFIG, "results_dir": "elsewhere"})
    assert config_hash(CONFIG) != config_hash({**CONFIG, "alpha": 0.1})
    assert config_hash(CONFIG) == config_hash(dict(reversed(list(CONFIG.items()))))
    assert len(config_hash(CONFIG)) == 16


def test_inputs_hash_is_of_the_whole_map_in_any_order():
    hashes = {"a.csv": "1" * 64, "b.csv": "2" * 64}
    assert inputs_hash(hashes) == inputs_hash(dict(reversed(list(hashes.items()))))
    assert inputs_hash(hashes) != inputs_hash({**hashes, "b.csv": "3" * 64})


def test_a_table_carries_its_stamp(tmp_path):
    stamp = Stamp("c" * 16, "i" * 16)
    frame = stamp.apply(pd.DataFrame({"x": [1, 2]}))
    assert list(frame.columns) == ["x", *STAMP_COLUMNS]
    assert STAMP_COLUMNS == ("data", "config_hash", "inputs_hash")
    assert set(frame["data"]) == {REAL_DATA}
    synthetic = Stamp("c" * 16, "i" * 16, synthetic=True)
    assert set(synthetic.apply(frame)["data"]) == {SYNTHETIC_DATA}  # restamped, not repeated
    assert list(synthetic.apply(frame).columns) == list(frame.columns)
    assert synthetic == stamp  # the label follows from the inputs; the hashes identify them
    write_csv(frame, tmp_path / "t.csv")
    assert stamp_of_table(tmp_path / "t.csv") == stamp
    pd.DataFrame({"x": [1]}).to_csv(tmp_path / "old.csv", index=False)
    assert stamp_of_table(tmp_path / "old.csv") is None


def stamp_part(folder, provenance):
    """The alerts at the top of a report given the tables in ``folder``, and its stamp."""
    data = _stamp(Tables(sorted(folder.glob("*.csv"))), provenance)
    return render_section("alerts", data) + "\n" + render_section("stamp", data)


def test_the_report_names_tables_of_another_run(tmp_path):
    current, earlier = Stamp("c" * 16, "i" * 16), Stamp("e" * 16, "i" * 16)
    # toy tables, not of their schemas: written as plain CSV (write_csv would refuse them)
    current.apply(pd.DataFrame({"x": [1]})).to_csv(tmp_path / "sensitivity.csv", index=False)
    earlier.apply(pd.DataFrame({"x": [1]})).to_csv(tmp_path / "summary.csv", index=False)
    current.apply(pd.DataFrame({"x": []})).to_csv(tmp_path / "event_study.csv", index=False)
    assert foreign_tables(sorted(tmp_path.glob("*.csv")), current) == ["summary.csv"]
    provenance = {"stamp": {"config_hash": "c" * 16, "inputs_hash": "i" * 16}}
    text = stamp_part(tmp_path, provenance)
    assert "Stale results" in text and "summary.csv" in text and "1 table of 3" in text
    (tmp_path / "summary.csv").unlink()
    text = stamp_part(tmp_path, provenance)
    assert "Stale" not in text and "All 2 tables" in text and "c" * 16 in text


def test_inputs_changed_during_the_run_are_named_at_the_top(tmp_path):
    provenance = {
        "stamp": {"config_hash": "c", "inputs_hash": "i"},
        "changed_during_run": ["data/raw/values/attendance.csv"],
    }
    text = stamp_part(tmp_path, provenance)
    assert "Stale inputs" in text and "data/raw/values/attendance.csv" in text


@pytest.mark.slow
def test_every_table_and_the_report_carry_the_run_stamp(finished):
    """The demo run: one stamp on every row of every table, the same in provenance and report."""
    provenance = json.loads((finished / "results/provenance.json").read_text(encoding="utf-8"))
    expected = Stamp(provenance["stamp"]["config_hash"], provenance["stamp"]["inputs_hash"])
    tables = sorted((finished / "results/tables").glob("*.csv"))
    assert {path.stem for path in tables} == set(schemas.TABLES)  # 15, each declared
    assert foreign_tables(tables, expected) == []
    assert all(stamp_of_table(path) == expected for path in tables if path.stat().st_size > 200)
    for path in tables:  # the demo's tables say on every row that the data are synthetic
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert list(frame.columns[-3:]) == list(STAMP_COLUMNS), path.name
        assert set(frame["data"]) <= {SYNTHETIC_DATA}, path.name
    parquet = pd.read_parquet(finished / "results/tables/coefficients.parquet")
    assert set(parquet["config_hash"]) == {expected.config_hash}
    report = (finished / "results/report.html").read_text(encoding="utf-8")
    assert f"configuration <code>{expected.config_hash}</code>" in report
    assert f"All {len(tables)} tables in the tables folder carry this stamp" in report


def test_a_stopped_run_leaves_no_table_looking_current(tmp_path):
    """Issue 12.1: after a run under another configuration stops halfway, the tables it did
    not rewrite carry the earlier stamp, and a report over them names them."""
    from tests.test_scope import QUICK, small_workflow

    workdir = small_workflow(tmp_path)
    run = snakemake(workdir, "--config", *QUICK)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    tables = workdir / "results/tables"
    # headline.csv waits for the inference; the coefficient tables no longer do
    first = stamp_of_table(tables / "headline.csv")
    # a new configuration whose inference step is made to fail: sensitivity still runs
    source = workdir / "src/integration_models/commands/inference.py"
    source.write_text(
        source.read_text(encoding="utf-8").replace(
            '    """Write inference.csv', '    raise SystemExit(3)\n    """Write inference.csv'
        ),
        encoding="utf-8",
    )
    run = snakemake(workdir, "--keep-going", "--config", *QUICK, "alpha=0.1")
    assert run.returncode != 0
    second = stamp_of_table(tables / "sensitivity.csv")
    assert second is not None and second.config_hash != first.config_hash
    # summary.csv needs the fits only and is rewritten; the headline waits for the inference
    assert stamp_of_table(tables / "summary.csv") == second
    assert stamp_of_table(tables / "headline.csv") == first  # left over, and says so
    assert foreign_tables(sorted(tables.glob("*.csv")), second) != []
