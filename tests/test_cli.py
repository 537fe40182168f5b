"""The command line reports bad input in one line with exit status 2, never a traceback."""

import subprocess
import sys

from tests.conftest import AREAS, BASELINE


def run_ingest(raw, tmp_path):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "integration_models",
            "ingest",
            "--raw-dir",
            str(raw),
            "--areas",
            str(AREAS),
            "--classification",
            str(BASELINE),
            "--first-year",
            "2010",
            "--last-year",
            "2023",
            "--covid-window",
            "2020-03-23",
            "2022-03-31",
            "--panel",
            str(tmp_path / "out" / "panel.parquet"),
            "--exclusions",
            str(tmp_path / "out" / "exclusions.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_success(dataset, tmp_path):
    result = run_ingest(dataset, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "in the panel" in result.stderr
    assert (tmp_path / "out" / "panel.parquet").is_file()


def test_cli_bad_input_one_line(dataset, tmp_path):
    path = dataset / "values" / "attendance.csv"
    lines = path.read_text().split("\n")
    lines[3] = lines[3].rsplit(",", 1)[0] + ",abc"
    path.write_text("\n".join(lines))
    result = run_ingest(dataset, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {path}:4: value 'abc' is neither a number nor a known suppression marker "
        "(* - .. : c dna n/a na x z)"
    ]
    assert not (tmp_path / "out" / "panel.parquet").exists()


def test_tables_needs_inference_and_size_together(tmp_path):
    args = ["--fits", str(tmp_path / "fit.json"), "--registry", str(tmp_path / "indicators.csv")]
    args += ["--inference", str(tmp_path / "inference.csv"), "--out-dir", str(tmp_path)]
    args += ["--panel", str(tmp_path / "panel.parquet"), "--config-hash", "0" * 16]
    result = subprocess.run(
        [sys.executable, "-m", "integration_models", "tables", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: --inference/--size: give both or neither"]
    assert list(tmp_path.iterdir()) == []
