"""Every results table and the panel match their declared schemas; a broken one is refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from integration_models.results import schemas
from integration_models.results.summarise import write_csv
from tests.conftest import tiny_panel

OLD = "the previous table\n"


def coefficients_row(**changes) -> pd.DataFrame:
    """One valid row of coefficients.csv, with ``changes`` applied."""
    row = {
        "indicator_id": "lac_rate",
        "model": "twfe",
        "term": "integration_full",
        "estimate": -1.5,
        "std_error": 0.5,
        "statistic": -3.0,
        "p_value": 0.01,
        "conf_low": -2.5,
        "conf_high": -0.5,
        "n_obs": 440,
        "n_areas": 32,
        "n_identifying_areas": 5,
        "inference": "CRV1",
        "scale": "identity",
        "note": np.nan,
        "p_adjusted": 0.02,
        "adjustment": "Benjamini-Hochberg",
        "data": "SYNTHETIC demo data",
        "config_hash": "feedfacecafebeef",
        "inputs_hash": "deadbeefdeadbeef",
    }
    return pd.DataFrame([{**row, **changes}])


def test_a_valid_table_is_written(tmp_path):
    write_csv(coefficients_row(), tmp_path / "coefficients.csv")
    schemas.check_csv(tmp_path / "coefficients.csv")


@pytest.mark.parametrize("digest", ["7489432838854e17", "1234567890123456", "0000000000001e00"])
def test_a_hash_that_looks_like_a_number_stays_text(tmp_path, digest):
    # a 16-hex-digit hash of decimal digits around one `e` parses as a float by default:
    # it was refused by the writer's own check, stopping a real run
    path = tmp_path / "coefficients.csv"
    write_csv(coefficients_row(config_hash=digest, inputs_hash=digest), path)
    read = schemas.read_table(path)
    assert read.loc[0, "inputs_hash"] == digest
    assert read.loc[0, "config_hash"] == digest
    assert read.loc[0, "estimate"] == -1.5


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        (coefficients_row(p_value=1.5), ["column 'p_value'", "in_range(0, 1)", "1.5"]),
        (coefficients_row().drop(columns="std_error"), ["column 'std_error' is missing"]),
        (coefficients_row(conf_low=1.0, conf_high=-1.0), ["conf_low <= conf_high", "rows 0"]),
        (coefficients_row(extra=1), ["column 'extra' is not in the schema"]),
        (
            coefficients_row()[
                ["data", *coefficients_row().columns[:-3], "config_hash", "inputs_hash"]
            ],
            ["out of order"],
        ),  # fmt: skip
        (coefficients_row(n_obs="many"), ["column 'n_obs'", "integer"]),
    ],
    ids=["p_value", "missing column", "interval", "extra column", "stamp not last", "type"],
)
def test_a_broken_table_is_refused_with_table_and_column_named(tmp_path, frame, named):
    path = tmp_path / "coefficients.csv"
    path.write_text(OLD, encoding="utf-8")
    with pytest.raises(schemas.TableSchemaError) as caught:
        write_csv(frame, path)
    message = str(caught.value)
    assert "table 'coefficients'" in message
    for text in named:
        assert text in message
    # nothing replaced, no temporary left behind
    assert path.read_text(encoding="utf-8") == OLD
    assert [p.name for p in tmp_path.iterdir()] == ["coefficients.csv"]


def test_an_interval_with_an_infinite_end_passes():
    frame = coefficients_row(conf_low=-np.inf, conf_high=-3.0)
    assert schemas.problems(frame, schemas.COEFFICIENTS) == []


def test_model_fit_status_is_one_of_the_known_set(tmp_path):
    frame = pd.DataFrame(
        [
            {
                "indicator_id": "x",
                "model": "twfe",
                "n_obs": 10,
                "n_areas": 2,
                "n_years": 5.0,
                "converged": True,
                "status": "fine",
                "message": np.nan,
                "optimiser": "ols",
                "log_likelihood": np.nan,
                "r2_within": 0.1,
                "outcome_mean": 1.0,
                "outcome_sd": 0.5,
                "scale": "identity",
                "formula": "y ~ x",
                "warnings": np.nan,
                "data": "real",
                "config_hash": "feedfacecafebeef",
                "inputs_hash": "deadbeefdeadbeef",
            }
        ]
    )
    with pytest.raises(schemas.TableSchemaError, match=r"column 'status' fails isin.*'fine'"):
        write_csv(frame, tmp_path / "model_fit.csv")


def test_a_table_without_a_schema_is_written_unchecked(tmp_path):
    write_csv(pd.DataFrame({"anything": [1.5]}), tmp_path / "not_a_results_table.csv")
    schemas.check_csv(tmp_path / "not_a_results_table.csv")


def test_an_empty_table_is_checked_for_its_columns_only():
    columns = list(schemas.KNOWN_EFFECTS.columns)
    assert schemas.problems(pd.DataFrame(columns=columns), schemas.KNOWN_EFFECTS) == []
    problems = schemas.problems(pd.DataFrame(columns=columns[1:]), schemas.KNOWN_EFFECTS)
    assert problems and "indicator_id" in problems[0]


def test_the_panel_is_checked_where_written(tmp_path):
    from integration_models.data.ingest import write_panel

    exclusions = pd.DataFrame({"file": ["values/x.csv"], "line": [3]})
    write_panel(tiny_panel(), exclusions, tmp_path / "panel.parquet", tmp_path / "ex.csv")
    broken = tiny_panel().assign(integration="sometimes")
    with pytest.raises(schemas.TableSchemaError, match=r"'panel'.*column 'integration'"):
        write_panel(broken, exclusions, tmp_path / "other.parquet", tmp_path / "ex2.csv")
    assert not (tmp_path / "other.parquet").exists()
    with pytest.raises(schemas.TableSchemaError, match=r"column 'value' is missing"):
        schemas.check_panel(tiny_panel().drop(columns="value"))


@pytest.mark.slow
def test_every_demo_table_and_the_panel_match_their_schemas(finished):
    tables = finished / "results/tables"
    written = {path.stem for path in tables.glob("*.csv")}
    assert set(schemas.TABLES) == written
    for name in sorted(schemas.TABLES):
        schemas.check_csv(tables / f"{name}.csv")
    schemas.check_panel(pd.read_parquet(finished / "data/processed/panel.parquet"))


@pytest.mark.slow
def test_the_report_names_a_table_that_breaks_its_schema(finished, tmp_path):
    """A corrupted table is named at the top of the page, and its section is left out."""
    from integration_models.report.render import Tables, _read_csv, _stamp, render_section

    tables = tmp_path / "tables"
    shutil.copytree(finished / "results/tables", tables)
    inference = pd.read_csv(tables / "inference.csv")
    inference.loc[0, "p_value"] = 1.5
    inference.to_csv(tables / "inference.csv", index=False)
    assert _read_csv(tables / "inference.csv") is None
    assert _read_csv(tables / "power.csv") is not None
    provenance = json.loads((finished / "results/provenance.json").read_text(encoding="utf-8"))
    alert = render_section("alerts", _stamp(Tables(tables.glob("*.csv")), provenance))
    assert "Tables not as declared" in alert and "inference.csv" in alert
    assert "p_value" in alert and "power.csv" not in alert and "Stale" not in alert
