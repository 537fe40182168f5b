"""Bad input, case by case: the exact one-line error (file, line, problem; exit status 2) or
the exact row of exclusions.csv with its reason. Also: identifiers that could reach a path or
a command, configuration keys, and formula-like text in the CSV outputs.

Every ingest case runs the command line in-process (``integration_models.cli.main``) on a
five-indicator copy of the demo dataset, so the table stays quick while covering a values file
per measure and an indicator split into one file per year.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from integration_models.cli import main
from integration_models.data.ingest import EXCLUSION_COLUMNS, write_panel
from integration_models.data.reading import read_table, spreadsheet_safe
from integration_models.data.registry import load_registry
from integration_models.errors import InputError
from integration_models.results.summarise import write_csv
from tests.conftest import (
    AREAS,
    BASELINE,
    DEMO,
    REPO,
    copy_workflow,
    snakemake,
    tiny_panel,
    workflow_env,
)

# attendance first: the covariates cases name the first indicator that needs a missing row
KEEP = ["attendance", "social_workers", "cost_per_lac", "attainment_scqf5", "lac_rate"]
MARKER_LIST = "(* - .. : c dna n/a na x z)"
ID_RULE = "(must match [a-z][a-z0-9_]{0,62})"


# --- the dataset and the command ------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The demo dataset cut to the indicators in KEEP (registry in KEEP's order)."""
    raw = tmp_path_factory.mktemp("template") / "raw"
    shutil.copytree(DEMO, raw)
    registry = pd.read_csv(raw / "indicators.csv", dtype=str, keep_default_na=False)
    registry = registry.set_index("indicator_id").loc[KEEP].reset_index()
    registry.to_csv(raw / "indicators.csv", index=False, lineterminator="\n")
    for path in (raw / "values").iterdir():
        if path.name.removesuffix(".csv") not in KEEP:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return raw


@pytest.fixture(scope="module")
def template_rows(template) -> int:
    """Data rows of the template, counted by pandas (independently of the package's reader)."""
    return sum(len(pd.read_csv(p)) for p in (template / "values").rglob("*.csv"))


@pytest.fixture
def raw(template, tmp_path) -> Path:
    target = tmp_path / "raw"
    shutil.copytree(template, target)
    return target


def run_ingest(raw: Path, out: Path, capsys, **options) -> tuple[int, list[str]]:
    """Run ``integration-models ingest``; return the exit status and the lines on stderr."""
    argv = [
        "ingest",
        "--raw-dir",
        str(raw),
        "--areas",
        str(options.get("areas", AREAS)),
        "--classification",
        str(options.get("classification", BASELINE)),
        "--first-year",
        "2010",
        "--last-year",
        "2023",
        "--covid-window",
        "2020-03-23",
        "2022-03-31",
        "--panel",
        str(out / "panel.parquet"),
        "--exclusions",
        str(out / "exclusions.csv"),
    ]
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


# --- editing files by physical line ---------------------------------------------------------


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str], ending: str = "\n") -> None:
    path.write_bytes((ending.join(lines) + ending).encode("utf-8"))


def set_line(path: Path, number: int, text: str) -> None:
    lines = lines_of(path)
    lines[number - 1] = text
    write_lines(path, lines)


def append(path: Path, *texts: str) -> int:
    """Append lines; return the line number of the last one."""
    lines = lines_of(path) + list(texts)
    write_lines(path, lines)
    return len(lines)


def line_starting(path: Path, prefix: str) -> int:
    return next(i for i, line in enumerate(lines_of(path), 1) if line.startswith(prefix))


# --- expectations ---------------------------------------------------------------------------


@dataclass
class Fails:
    """Exit status 2 and exactly ``error: <where>: <problem>`` on stderr."""

    where: str  # formatted with raw= and tmp=
    problem: str


@dataclass
class Excludes:
    """Exit status 0 and this row in exclusions.csv; ``added`` data rows were appended."""

    file: str
    line: int
    raw_value: str
    reason: str
    added: int = 0


@dataclass
class Accepts:
    """Exit status 0, every row accounted for, and an optional check of the panel."""

    added: int = 0
    check: Callable[[pd.DataFrame, Path], None] | None = None


@dataclass
class Case:
    expect: Fails | Excludes | Accepts
    options: dict = field(default_factory=dict)


CASES: dict[str, Callable[[Path, Path], Case]] = {}


def case(function: Callable[[Path, Path], Case]) -> Callable[[Path, Path], Case]:
    CASES[function.__name__] = function
    return function


def value_case(cell: str, problem: str) -> Callable[[Path, Path], Case]:
    """A case putting ``cell`` in the value column of attendance.csv line 2."""

    def mutate(raw: Path, tmp: Path) -> Case:
        set_line(raw / "values/attendance.csv", 2, f"S12000005,2010,{cell}")
        return Case(Fails("{raw}/values/attendance.csv:2", problem))

    return mutate


def year_case(cell: str) -> Callable[[Path, Path], Case]:
    def mutate(raw: Path, tmp: Path) -> Case:
        set_line(raw / "values/attendance.csv", 2, f"S12000005,{cell},50")
        problem = f"year '{cell}' is not a plausible calendar year (1990-2100)"
        return Case(Fails("{raw}/values/attendance.csv:2", problem))

    return mutate


NOT_A_NUMBER = "is neither a number nor a known suppression marker " + MARKER_LIST
for _name, _cell, _shown in [
    ("decimal_comma", '"12,5"', "'12,5'"),
    ("text", "abc", "'abc'"),
    ("nan", "NaN", "'NaN'"),
    ("infinity", "inf", "'inf'"),
    ("thousands_space", "1 000", "'1 000'"),
    ("percent_sign", "5%", "'5%'"),
    ("fullwidth_digits", "１２", "'１２'"),
    ("arabic_indic_digits", "١٢", "'١٢'"),
    ("formula", '"=1+2"', "'=1+2'"),
]:
    CASES[f"value_{_name}"] = value_case(_cell, f"value {_shown} {NOT_A_NUMBER}")
CASES["value_overflow"] = value_case("1e999", "value '1e999' is not a finite number")
UNDERFLOW = "is not zero but too small for a number (underflow)"
CASES["value_underflow"] = value_case("1e-400", f"value '1e-400' {UNDERFLOW}")
CASES["value_underflow_below_subnormal"] = value_case("2e-324", f"value '2e-324' {UNDERFLOW}")
for _name, _cell in [
    ("too_early", "1850"),
    ("decimal", "2015.0"),
    ("superscript", "201²"),
    ("fullwidth", "２０１５"),
    ("words", "twenty"),
]:
    CASES[f"year_{_name}"] = year_case(_cell)


@case
def conflicting_duplicate(raw, tmp):
    path = raw / "values/attendance.csv"
    set_line(path, 2, "S12000005,2010,50")
    line = append(path, "S12000005,2010,51")
    problem = (
        "conflicting duplicate: area S12000005 year 2010 already has value 50 at "
        "values/attendance.csv:2 (this row: 51)"
    )
    return Case(Fails(f"{{raw}}/values/attendance.csv:{line}", problem))


@case
def conflicting_duplicate_across_files(raw, tmp):
    set_line(raw / "values/attainment_scqf5/2015.csv", 2, "S12000005,2015,40")
    line = append(raw / "values/attainment_scqf5/2016.csv", "S12000005,2015,41")
    problem = (
        "conflicting duplicate: area S12000005 year 2015 already has value 40 at "
        "values/attainment_scqf5/2015.csv:2 (this row: 41)"
    )
    return Case(Fails(f"{{raw}}/values/attainment_scqf5/2016.csv:{line}", problem))


@case
def exact_duplicate(raw, tmp):
    path = raw / "values/attendance.csv"
    set_line(path, 2, "S12000005,2010,50")
    line = append(path, "S12000005,2010,50.0")
    reason = "exact duplicate of values/attendance.csv:2"
    return Case(Excludes("values/attendance.csv", line, "50", reason, added=1))


@case
def unknown_code(raw, tmp):
    set_line(raw / "values/attendance.csv", 2, "S12999999,2010,50")
    return Case(Fails("{raw}/values/attendance.csv:2", "unknown area code 'S12999999'"))


@case
def lower_case_code(raw, tmp):
    set_line(raw / "values/attendance.csv", 2, "s12000005,2010,50")
    return Case(Fails("{raw}/values/attendance.csv:2", "unknown area code 's12000005'"))


@case
def former_code_recoded(raw, tmp):
    path = raw / "values/attendance.csv"
    set_line(path, line_starting(path, "S12000047,2012,"), "S12000015,2012,50")  # Fife

    def check(panel, out):
        row = panel[
            (panel.indicator_id == "attendance") & (panel.area_code_original == "S12000015")
        ]
        assert row[["area_code", "year", "value"]].values.tolist() == [["S12000047", 2012, 50.0]]

    return Case(Accepts(check=check))


@case
def former_code_conflicts_with_current(raw, tmp):
    path = raw / "values/attendance.csv"
    current = line_starting(path, "S12000047,2012,")
    set_line(path, current, "S12000047,2012,50")
    line = append(path, "S12000015,2012,51")
    problem = (
        "conflicting duplicate: area S12000047 year 2012 already has value 50 at "
        f"values/attendance.csv:{current} (this row: 51)"
    )
    return Case(Fails(f"{{raw}}/values/attendance.csv:{line}", problem))


@case
def empty_value(raw, tmp):
    set_line(raw / "values/attendance.csv", 2, "S12000005,2010,")
    return Case(Excludes("values/attendance.csv", 2, "", "missing: empty value"))


@case
def marker_value(raw, tmp):
    set_line(raw / "values/attendance.csv", 2, "S12000005,2010,N/A")
    reason = "suppressed or not available: marker 'N/A'"
    return Case(Excludes("values/attendance.csv", 2, "N/A", reason))


@case
def dash_marker(raw, tmp):
    set_line(raw / "values/attendance.csv", 2, "S12000005,2010,-")
    reason = "suppressed or not available: marker '-'"
    return Case(Excludes("values/attendance.csv", 2, "-", reason))


@case
def year_outside_window(raw, tmp):
    line = append(raw / "values/attendance.csv", "S12000005,2009,50")
    reason = "year outside the configured window 2010-2023"
    return Case(Excludes("values/attendance.csv", line, "50", reason, added=1))


@case
def percentage_above_100(raw, tmp):
    set_line(raw / "values/attendance.csv", 2, "S12000005,2010,100.5")
    problem = "value 100.5 out of range: a percentage must lie in 0-100"
    return Case(Fails("{raw}/values/attendance.csv:2", problem))


@case
def negative_rate(raw, tmp):
    set_line(raw / "values/social_workers.csv", 3, "S12000005,2011,-1")
    problem = "value -1 out of range: a rate must not be negative"
    return Case(Fails("{raw}/values/social_workers.csv:3", problem))


@case
def negative_denominator(raw, tmp):
    rows = ["area_code,year,value,numerator,denominator", "S12000005,2010,50,5,10"]
    write_lines(raw / "values/attendance.csv", [*rows, "S12000005,2011,50,5,-10"])
    problem = "denominator must not be negative"
    return Case(Fails("{raw}/values/attendance.csv:3", problem), {})


@case
def numerator_not_a_number(raw, tmp):
    rows = ["area_code,year,value,numerator", "S12000005,2010,50,five"]
    write_lines(raw / "values/attendance.csv", rows)
    return Case(Fails("{raw}/values/attendance.csv:2", f"numerator 'five' {NOT_A_NUMBER}"))


@case
def missing_column(raw, tmp):
    set_line(raw / "values/attendance.csv", 1, "area_code,yr,value")
    problem = "missing column(s): year (header is: area_code, yr, value)"
    return Case(Fails("{raw}/values/attendance.csv:1", problem))


@case
def extra_column(raw, tmp):
    path = raw / "values/attendance.csv"
    lines = lines_of(path)
    write_lines(path, [lines[0] + ",vlaue"] + [line + "," for line in lines[1:]])
    problem = (
        "unexpected column(s): vlaue (allowed: area_code, year, value, numerator, denominator)"
    )
    return Case(Fails("{raw}/values/attendance.csv:1", problem))


@case
def repeated_column(raw, tmp):
    write_lines(raw / "values/attendance.csv", ["area_code,year,value,value", "S12000005,2010,1,1"])
    problem = "column(s) repeated in the header: value"
    return Case(Fails("{raw}/values/attendance.csv:1", problem))


@case
def ragged_row(raw, tmp):
    set_line(raw / "values/attendance.csv", 3, "S12000005,2011,50,1")
    return Case(Fails("{raw}/values/attendance.csv:3", "expected 3 fields, found 4"))


@case
def unclosed_quote(raw, tmp):
    set_line(raw / "values/attendance.csv", 3, 'S12000005,2011,"50')
    problem = "a quote opened in this record is never closed"
    return Case(Fails("{raw}/values/attendance.csv:3", problem))


@case
def nul_byte(raw, tmp):
    set_line(raw / "values/attendance.csv", 4, "S12000005,2012,5\x000")
    problem = "contains a NUL byte (a binary file, or UTF-16 without BOM?)"
    return Case(Fails("{raw}/values/attendance.csv:4", problem))


@case
def empty_file(raw, tmp):
    (raw / "values/attendance.csv").write_bytes(b"")
    problem = "file is empty (expected a header row and data rows)"
    return Case(Fails("{raw}/values/attendance.csv", problem))


@case
def blank_lines_only(raw, tmp):
    (raw / "values/attendance.csv").write_text("\n \r\n\n")
    problem = "file is empty (expected a header row and data rows)"
    return Case(Fails("{raw}/values/attendance.csv", problem))


@case
def header_only(raw, tmp):
    write_lines(raw / "values/attendance.csv", ["area_code,year,value"])
    return Case(Fails("{raw}/values/attendance.csv", "file has a header but no data rows"))


@case
def blank_and_comma_lines_skipped(raw, tmp):
    path = raw / "values/attendance.csv"
    lines = lines_of(path)
    write_lines(path, [lines[0], "", " , , ", *lines[1:]])

    def check(panel, out):
        lines = pd.read_parquet(out / "panel.parquet").query("indicator_id == 'attendance'").line
        assert lines.min() == 4  # the first data row moved from line 2 to line 4

    return Case(Accepts(check=check))


@case
def utf8_bom_and_crlf(raw, tmp):
    path = raw / "values/attendance.csv"
    path.write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines_of(path)).encode("utf-8") + b"\r\n")
    return Case(Accepts())


@case
def cr_line_endings(raw, tmp):
    path = raw / "values/social_workers.csv"
    write_lines(path, lines_of(path), ending="\r")
    return Case(Accepts())


@case
def utf16_with_bom(raw, tmp):
    path = raw / "values/cost_per_lac.csv"
    path.write_bytes("\r\n".join(lines_of(path)).encode("utf-16"))  # Excel "Unicode text"
    return Case(Accepts())


@case
def latin1_registry(raw, tmp):
    path = raw / "indicators.csv"
    text = path.read_text(encoding="utf-8").replace("School attendance", "Assiduité scolaire")
    path.write_bytes(text.encode("latin-1"))

    def check(panel, out):
        titles = load_registry(raw / "indicators.csv").set_index("indicator_id").title
        assert titles["attendance"].startswith("Assiduité")

    return Case(Accepts(check=check))


@case
def registry_row_without_values(raw, tmp):
    path = raw / "indicators.csv"
    line = append(path, lines_of(path)[1].replace("attendance", "ghost", 1))
    problem = (
        "indicator 'ghost' has no values file (expected values/ghost.csv or values/ghost/*.csv)"
    )
    return Case(Fails(f"{{raw}}/indicators.csv:{line}", problem))


@case
def values_file_without_registry_row(raw, tmp):
    write_lines(raw / "values/stray.csv", ["area_code,year,value", "S12000005,2015,1"])
    problem = "values file of an indicator not in indicators.csv"
    return Case(Fails("{raw}/values/stray.csv", problem))


@case
def values_file_in_nested_folder(raw, tmp):
    nested = raw / "values/attainment_scqf5/old"
    nested.mkdir()
    write_lines(nested / "2009.csv", ["area_code,year,value", "S12000005,2009,1"])
    problem = "values file in a nested folder (only values/<id>/*.csv are read)"
    return Case(Fails("{raw}/values/attainment_scqf5/old/2009.csv", problem))


@case
def values_file_in_upper_case(raw, tmp):
    folder = raw / "values/attainment_scqf5"
    folder.mkdir(exist_ok=True)
    write_lines(folder / "2024.CSV", ["area_code,year,value", "S12000005,2023,1"])
    (raw / "values/.DS_Store").write_bytes(b"\0")  # hidden files are ignored
    problem = "file in values/ that would not be read (values files end in .csv)"
    return Case(Fails("{raw}/values/attainment_scqf5/2024.CSV", problem))


def test_file_name_with_line_break_stays_one_line(tmp_path):
    from integration_models.data.ingest import value_files
    from integration_models.data.registry import load_registry

    shutil.copytree(DEMO, tmp_path / "raw")
    stray = tmp_path / "raw" / "values" / "x\nfake.csv:1: all fine.csv"
    stray.write_text("area_code,year,value\n")
    registry_path = tmp_path / "raw" / "indicators.csv"
    with pytest.raises(InputError) as info:
        value_files(tmp_path / "raw", load_registry(registry_path), registry_path)
    message = str(info.value)
    assert "\n" not in message
    assert message == f"{str(stray)!r}: values file of an indicator not in indicators.csv"


def registry_case(old: str, new: str, problem: str) -> Callable[[Path, Path], Case]:
    def mutate(raw: Path, tmp: Path) -> Case:
        path = raw / "indicators.csv"
        lines = lines_of(path)
        assert old in lines[1]
        lines[1] = lines[1].replace(old, new, 1)
        write_lines(path, lines)
        return Case(Fails("{raw}/indicators.csv:2", problem))

    return mutate


CASES["registry_id_command"] = registry_case(
    "attendance", '"x; import os"', f"illegal indicator_id 'x; import os' {ID_RULE}"
)
CASES["registry_id_path"] = registry_case(
    "attendance", "../../etc/passwd", f"illegal indicator_id '../../etc/passwd' {ID_RULE}"
)
CASES["registry_unknown_measure"] = registry_case(
    ",percentage,", ",share,", "measure 'share' is not one of percentage, rate, count, mean"
)
CASES["registry_direction_not_boolean"] = registry_case(
    ",true,", ",yes,", "higher_is_better 'yes' is not true or false"
)

CONTROL = "holds control character {} (not allowed in text)"
for _name, _old, _new, _problem in [
    (
        "bel_in_title",
        "School attendance",
        "School\x07 attendance",
        "title " + CONTROL.format("U+0007"),
    ),
    ("bidi_override_in_unit", ",% of", ",\u202e% of", "unit " + CONTROL.format("U+202E")),
    (
        "zero_width_in_source",
        ",SYNTHETIC",
        ",\u200bSYNTHETIC",
        "source " + CONTROL.format("U+200B"),
    ),
]:
    CASES[f"registry_{_name}"] = registry_case(_old, _new, _problem)


@case
def registry_notes_with_escape(raw, tmp):
    path = raw / "indicators.csv"
    lines = lines_of(path)
    write_lines(
        path, [lines[0] + ",notes", lines[1] + ",\x1b[31mred", *(f"{x}," for x in lines[2:])]
    )
    return Case(Fails("{raw}/indicators.csv:2", "notes " + CONTROL.format("U+001B")))


@case
def registry_quoted_line_break_in_title(raw, tmp):
    path = raw / "indicators.csv"
    set_line(path, 2, lines_of(path)[1].replace("School attendance", '"School\nattendance"', 1))
    return Case(Fails("{raw}/indicators.csv:3", "title " + CONTROL.format("U+000A")))


@case
def registry_tab_in_title_accepted(raw, tmp):
    path = raw / "indicators.csv"
    set_line(path, 2, lines_of(path)[1].replace("School attendance", "School\tattendance", 1))
    return Case(Accepts())


@case
def registry_repeated_id(raw, tmp):
    path = raw / "indicators.csv"
    line = append(path, lines_of(path)[1])
    return Case(Fails(f"{{raw}}/indicators.csv:{line}", "indicator_id 'attendance' repeats line 2"))


def _known_attendance(raw: Path) -> None:
    """Replace attendance.csv by three rows of area S12000005 (2010-2012)."""
    rows = ["S12000005,2010,50", "S12000005,2011,51", "S12000005,2012,52"]
    write_lines(raw / "values/attendance.csv", ["area_code,year,value", *rows])


@case
def covariates_missing_a_year(raw, tmp):
    _known_attendance(raw)
    path = raw / "covariates.csv"
    lines = lines_of(path)
    write_lines(path, [line for line in lines if not line.startswith("S12000005,2011,")])
    problem = (
        "no row for area S12000005 year 2011 (needed by values/attendance.csv line 3; "
        "1 rows lack covariates)"
    )
    return Case(Fails("{raw}/covariates.csv", problem))


@case
def covariates_missing_an_area(raw, tmp):
    _known_attendance(raw)
    path = raw / "covariates.csv"
    write_lines(path, [line for line in lines_of(path) if not line.startswith("S12000005,")])
    problem = (
        "no row for area S12000005 year 2010 (needed by values/attendance.csv line 2; "
        "3 rows lack covariates)"
    )
    return Case(Fails("{raw}/covariates.csv", problem))


@case
def covariates_population_not_a_number(raw, tmp):
    path = raw / "covariates.csv"
    fields = lines_of(path)[4].split(",")
    fields[2] = "lots"
    set_line(path, 5, ",".join(fields))
    return Case(Fails("{raw}/covariates.csv:5", f"population 'lots' {NOT_A_NUMBER}"))


def covariates_year_case(cell: str) -> Callable[[Path, Path], Case]:
    def mutate(raw: Path, tmp: Path) -> Case:
        path = raw / "covariates.csv"
        fields = lines_of(path)[4].split(",")
        fields[1] = cell
        set_line(path, 5, ",".join(fields))
        problem = f"year '{cell}' is not a plausible calendar year (1990-2100)"
        return Case(Fails("{raw}/covariates.csv:5", problem))

    return mutate


# read_covariates belongs to another change; these pass once it uses _parse_years (see the
# report): today "201²" gives a ValueError traceback and "２０１５" is read as 2015.
PENDING: set[str] = set()
CASES["covariates_year_superscript"] = covariates_year_case("201²")
CASES["covariates_year_fullwidth"] = covariates_year_case("２０１５")


def _classification_with(tmp: Path, *rows: str) -> tuple[Path, int]:
    path = tmp / "classification.csv"
    shutil.copy(BASELINE, path)
    return path, append(path, *rows)


@case
def classification_overlap(raw, tmp):
    path, line = _classification_with(tmp, "S37000001,full,2018-04-01,,test,assumed")
    first = line_starting(BASELINE, "S37000001,")
    problem = f"partnership S37000001: period overlaps the open-ended period on line {first}"
    return Case(Fails(f"{{tmp}}/classification.csv:{line}", problem), {"classification": path})


@case
def classification_unknown_partnership(raw, tmp):
    path, line = _classification_with(tmp, "S37000099,none,2016-04-01,,test,assumed")
    problem = "unknown partnership code 'S37000099'"
    return Case(Fails(f"{{tmp}}/classification.csv:{line}", problem), {"classification": path})


@case
def areas_file_missing(raw, tmp):
    return Case(Fails("{tmp}/nope.csv", "file not found"), {"areas": tmp / "nope.csv"})


@case
def dataset_directory_missing(raw, tmp):
    shutil.rmtree(raw)
    return Case(Fails("{raw}/indicators.csv", "file not found"))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                name in PENDING, reason="read_covariates year check", strict=True
            ),
        )
        for name in CASES
    ],
)
def test_bad_input(name, raw, tmp_path, capsys, template_rows):
    spec = CASES[name](raw, tmp_path)
    out = tmp_path / "out"
    code, stderr = run_ingest(raw, out, capsys, **spec.options)
    expect = spec.expect
    if isinstance(expect, Fails):
        where = expect.where.format(raw=raw, tmp=tmp_path)
        assert (code, stderr) == (2, [f"error: {where}: {expect.problem}"])
        assert not (out / "panel.parquet").exists()
        return
    assert code == 0, stderr
    panel = pd.read_parquet(out / "panel.parquet")
    exclusions = pd.read_csv(out / "exclusions.csv", dtype=str, keep_default_na=False)
    rows_in = template_rows + expect.added
    assert stderr == [
        f"ingest: {rows_in} rows read, {len(panel)} in the panel, {len(exclusions)} excluded"
    ]
    assert list(exclusions.columns) == EXCLUSION_COLUMNS
    if isinstance(expect, Excludes):
        row = exclusions[(exclusions.file == expect.file) & (exclusions.line == str(expect.line))]
        assert row[["raw_value", "reason"]].values.tolist() == [[expect.raw_value, expect.reason]]
    elif expect.check is not None:
        expect.check(panel, out)


def test_every_exclusion_reason_is_stated(raw, tmp_path, capsys):
    code, _ = run_ingest(raw, tmp_path / "out", capsys)
    exclusions = pd.read_csv(tmp_path / "out" / "exclusions.csv", keep_default_na=False)
    assert code == 0 and len(exclusions) > 0
    assert (exclusions.reason != "").all()


# --- identifiers that could reach a path or a command ---------------------------------------


@pytest.mark.parametrize("bad_id", ["x; import os", "../../etc/passwd"])
def test_snakefile_parse_refuses_crafted_ids(tmp_path, bad_id):
    workdir = copy_workflow(tmp_path)
    registry = workdir / "data" / "raw" / "indicators.csv"
    lines = lines_of(registry)
    lines[1] = lines[1].replace("lac_rate", f'"{bad_id}"', 1)
    write_lines(registry, lines)
    result = snakemake(workdir, "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"error: data/raw/indicators.csv:2: illegal indicator_id '{bad_id}' {ID_RULE}" in output
    assert "Traceback" not in output


def test_snakefile_parse_refuses_broken_registry(tmp_path):
    workdir = copy_workflow(tmp_path)
    registry = workdir / "data" / "raw" / "indicators.csv"
    registry.write_bytes(registry.read_bytes().replace(b"lac_rate", b"lac\x00rate", 1))
    result = snakemake(workdir, "-n")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "indicators.csv:2: contains a NUL byte" in output
    assert "Traceback" not in output


def test_snakemake_refuses_absolute_processed_dir(tmp_path):
    workdir = copy_workflow(tmp_path)
    result = snakemake(workdir, "-n", "--config", "processed_dir=/tmp/elsewhere")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "processed_dir '/tmp/elsewhere' must be a relative path inside the project" in output
    assert "Traceback" not in output


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("raw_dirr: data/raw\n", 1, "unknown key 'raw_dirr' (did you mean 'raw_dir'?)"),
        ("\nfirst_year: soon\n", 2, "key 'first_year': 'soon' is not of type 'integer'"),
        ("alpha: 1.5\n", 1, "key 'alpha': 1.5 is greater than or equal to the maximum of 1"),
        (
            "models: [twfe, bogus]\n",
            1,
            "key 'models.1': 'bogus' is not one of "
            "['mixed', 'mixed_year', 'twfe', 'glm', 'csdid', 'sunab', 'bjs', 'dcdh']",
        ),
        (
            "outcome_scale: {ratio: log}\n",
            1,
            "key 'outcome_scale': Additional properties are not allowed ('ratio' was unexpected)",
        ),
        ("raw_dir: 'data/raw; rm -rf'\n", 1, "key 'raw_dir': 'data/raw; rm -rf' does not match"),
        (
            "results_dir: ../elsewhere\n",
            1,
            "results_dir '../elsewhere' must be a relative path inside the project "
            "(outputs are never written elsewhere)",
        ),
        (
            "processed_dir: /tmp/x\n",
            1,
            "processed_dir '/tmp/x' must be a relative path inside the project "
            "(outputs are never written elsewhere)",
        ),
        (
            "processed_dir: data/../../x\n",
            1,
            "processed_dir 'data/../../x' must be a relative path inside the project "
            "(outputs are never written elsewhere)",
        ),
        ("first_year: [2010\n", 2, "not valid YAML: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_config_problem_names_file_and_line(tmp_path, monkeypatch, text, line, problem):
    from integration_models.configuration import load_config

    override = tmp_path / "override.yaml"
    override.write_text(text, encoding="utf-8")
    monkeypatch.chdir(REPO)
    with pytest.raises(InputError) as info:
        load_config([override])
    assert str(info.value).startswith(f"{override}:{line}: {problem}")
    assert "\n" not in str(info.value)


def test_config_overrides_merge_nested_keys_like_snakemake(tmp_path, monkeypatch):
    from integration_models.configuration import load_config

    override = tmp_path / "override.yaml"
    override.write_text("outcome_scale: {rate: identity}\n", encoding="utf-8")
    monkeypatch.chdir(REPO)
    scales = load_config([override])["outcome_scale"]
    assert scales == {
        "percentage": "identity",
        "rate": "identity",
        "count": "log",
        "mean": "identity",
    }


# --- formula-like text in CSV outputs -------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1+2", "-2+3", "\tx", "\r=1", "="]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_cells_are_quoted(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["-", "+", "ns", "", "-1.5", "+7", "1e3", "x=1", "'=1", " =1"])
def test_harmless_cells_are_kept(text):
    assert spreadsheet_safe(text) == text


def _cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def test_result_tables_neutralise_text_but_not_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "title": FORMULAS[:4] + ["Looked-after children"],
            "estimate": [-1.5, 2.0, -0.25, 1e-9, -3.0],
            "twfe_integration_full": ["-", "+", "ns", "", "-"],
        }
    )
    # a toy table shaped like summary.csv; not named so, as write_csv checks summary.csv
    # against its schema (integration_models.results.schemas)
    path = tmp_path / "summary_like.csv"
    write_csv(frame, path)
    rows = _cells(path)[1:]
    assert [row[0] for row in rows] == ["'" + text for text in FORMULAS[:4]] + [
        "Looked-after children"
    ]
    assert [row[1] for row in rows] == ["-1.5", "2", "-0.25", "1e-09", "-3"]
    assert [row[2] for row in rows] == ["-", "+", "ns", "", "-"]
    assert pd.read_csv(path)["estimate"].tolist() == [-1.5, 2.0, -0.25, 1e-9, -3.0]


def test_exclusions_neutralise_raw_values(tmp_path):
    exclusions = pd.DataFrame(
        {
            "file": "values/x.csv",
            "line": [2, 3, 4, 5, 6],
            "area_code": "S12000005",
            "year": [2009, 2009, 2009, 2009, 2009],
            "indicator_id": "x",
            "raw_value": FORMULAS[:3] + ["-1.5", "-"],
            "reason": "year outside the configured window 2010-2023",
        }
    )
    write_panel(tiny_panel(), exclusions, tmp_path / "panel.parquet", tmp_path / "exclusions.csv")
    rows = _cells(tmp_path / "exclusions.csv")
    assert rows[0] == EXCLUSION_COLUMNS
    assert [row[5] for row in rows[1:]] == ["'" + t for t in FORMULAS[:3]] + ["-1.5", "-"]
    assert [row[3] for row in rows[1:]] == ["2009"] * 5


def test_areas_table_holds_one_level(tmp_path):
    from integration_models.data.reference import load_areas

    lines = lines_of(AREAS)
    path = tmp_path / "areas.csv"
    write_lines(path, [lines[0], lines[1].replace("S12000005", "S01006506", 1), *lines[2:]])
    with pytest.raises(InputError) as info:
        load_areas(path)
    assert str(info.value) == (
        f"{path}:3: area_code 'S12000006' is not a data zone code like the first row's"
        " (one table holds one level)"
    )
    write_lines(path, [*lines[:3], lines[3].replace("S12", "S01", 1), *lines[4:]])
    with pytest.raises(InputError, match=r"areas\.csv:4: area_code 'S01\d{6}' is not a council"):
        load_areas(path)
    write_lines(path, [lines[0], lines[1].replace("S12000005", "S02006506", 1), *lines[2:]])
    with pytest.raises(InputError, match=r"areas\.csv:2: area_code 'S02006506' is not a valid"):
        load_areas(path)


def test_data_zone_areas_table(tmp_path):
    from integration_models.data.reference import load_areas

    lines = lines_of(AREAS)
    path = tmp_path / "areas.csv"
    write_lines(
        path,
        [lines[0]] + [line.replace(",S12", ",S01").replace("S12", "S01", 1) for line in lines[1:]],
    )
    areas = load_areas(path)
    assert len(areas) == len(lines) - 1
    assert areas["area_code"].str.fullmatch(r"S01\d{6}").all()


def test_partnership_described_twice_differently(tmp_path):
    from integration_models.data.reference import load_areas

    path = tmp_path / "areas.csv"
    shutil.copy(AREAS, path)
    stirling = line_starting(path, "S12000030,")  # shares S37000005 with Clackmannanshire
    set_line(path, stirling, lines_of(path)[stirling - 1].replace(",2016,", ",2015,", 1))
    first = line_starting(path, "S12000005,")
    with pytest.raises(InputError) as info:
        load_areas(path)
    assert str(info.value) == (
        f"{path}:{stirling}: hscp_code S37000005: hscp_name, hscp_start_year, "
        f"health_board_code differ from line {first}"
    )


def test_reader_reports_unreadable_paths(tmp_path):
    with pytest.raises(InputError, match="is a directory, expected a CSV file"):
        read_table(tmp_path, ["a"])


# --- special files, links and sizes: checked before a file is opened ----------------------

PASSWD = Path("/etc/passwd")


def ingest_process(raw: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run the ingest in a child process with a timeout, so that a hang fails the test."""
    argv = [sys.executable, "-m", "integration_models", "ingest", "--raw-dir", str(raw)]
    argv += ["--areas", str(AREAS), "--classification", str(BASELINE)]
    argv += ["--first-year", "2010", "--last-year", "2023", "--panel", str(out / "panel.parquet")]
    argv += ["--exclusions", str(out / "exclusions.csv"), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def refused(result: subprocess.CompletedProcess, where: Path, problem: str) -> None:
    assert (result.returncode, result.stderr) == (2, f"error: {where}: {problem}\n")


def test_fifo_among_values_stops_without_hanging(raw, tmp_path):
    fifo = raw / "values/attainment_scqf5/x.csv"
    os.mkfifo(fifo)
    result = ingest_process(raw, tmp_path / "out")
    refused(result, fifo, "is a FIFO (named pipe), expected a CSV file (not read)")


def test_fifo_with_another_suffix_is_named(raw, tmp_path):
    fifo = raw / "values/attendance.pipe"
    os.mkfifo(fifo)
    result = ingest_process(raw, tmp_path / "out")
    refused(result, fifo, "file in values/ that would not be read (values files end in .csv)")


@pytest.mark.parametrize("target", ["/dev/zero", str(PASSWD)])
def test_link_leaving_the_dataset_is_refused_unread(raw, tmp_path, target):
    link = raw / "values/attainment_scqf5/x.csv"
    link.symlink_to(target)
    result = ingest_process(raw, tmp_path / "out")
    refused(result, link, f"symbolic link leading outside {raw} (refused, not followed)")
    for line in PASSWD.read_text(encoding="utf-8", errors="replace").splitlines():
        assert line not in result.stderr


def test_link_leaving_the_dataset_through_a_folder_is_refused(raw, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.move(raw / "values/attainment_scqf5", elsewhere)
    (raw / "values/attainment_scqf5").symlink_to(elsewhere)
    result = ingest_process(raw, tmp_path / "out")
    link = raw / "values/attainment_scqf5" / min(p.name for p in elsewhere.glob("*.csv"))
    refused(result, link, f"symbolic link leading outside {raw} (refused, not followed)")


def test_link_inside_the_dataset_is_read(raw, tmp_path):
    (raw / "archive").mkdir()
    shutil.move(raw / "values/attendance.csv", raw / "archive/attendance.csv")
    (raw / "values/attendance.csv").symlink_to("../archive/attendance.csv")
    result = ingest_process(raw, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    panel = pd.read_parquet(tmp_path / "out/panel.parquet")
    assert (panel.indicator_id == "attendance").sum() > 0


def test_file_over_the_size_limit_is_named_with_its_size(raw, tmp_path):
    path = raw / "values/attendance.csv"
    path.write_bytes(path.read_bytes() + b"\n" * (2 << 20))
    result = ingest_process(raw, tmp_path / "out", "--max-input-mb", "1")
    size = path.stat().st_size / (1 << 20)
    refused(result, path, f"file is {size:.1f} MB, over the limit of 1.0 MB (max_input_mb)")


def test_reader_refuses_devices_and_reads_at_most_the_limit(tmp_path):
    from integration_models.data.inputs import read_input, reading

    with pytest.raises(InputError, match=r"^/dev/zero: is a character device, expected a CSV"):
        read_input("/dev/zero", root="/")
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 3000)
    with reading(max_mb=2000 / (1 << 20)), pytest.raises(InputError, match="over the limit"):
        read_input(path)


def test_reader_refuses_a_link_loop(tmp_path):
    from integration_models.data.inputs import read_input

    (tmp_path / "a.csv").symlink_to("b.csv")
    (tmp_path / "b.csv").symlink_to("a.csv")
    with pytest.raises(InputError, match="a.csv: symbolic link loop"):
        read_input(tmp_path / "a.csv")


def test_reader_hashes_what_it_parses(tmp_path):
    from integration_models.data.inputs import reading

    path = tmp_path / "areas.csv"
    shutil.copy(AREAS, path)
    with reading() as hashes:
        read_table(path, ["area_code"], allow_extra=True)
    assert hashes == {path.as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()}


def test_workflow_start_and_run_with_a_fifo_among_values(tmp_path):
    """Snakemake lists and stats the values files at start-up: a FIFO must not hang it."""
    workdir = copy_workflow(tmp_path)
    os.mkfifo(workdir / "data/raw/values/attainment_scqf5/x.csv")
    os.mkfifo(workdir / "data/raw/values/stray.fifo")
    argv = ["snakemake", "--cores", "2"]
    env = workflow_env(workdir)
    run = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode != 0, run.stdout + run.stderr
    logs = [p.read_text() for p in (workdir / "data/processed/logs/ingest").glob("*.log")]
    problem = "data/raw/values/stray.fifo: file in values/ that would not be read"
    assert logs and all(f"error: {problem}" in log for log in logs)


def test_workflow_start_refuses_a_fifo_registry(tmp_path):
    workdir = copy_workflow(tmp_path)
    registry = workdir / "data/raw/indicators.csv"
    registry.unlink()
    os.mkfifo(registry)
    argv = ["snakemake", "--cores", "2", "-n"]
    env = workflow_env(workdir)
    run = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode != 0
    assert "data/raw/indicators.csv: is a FIFO (named pipe)" in run.stdout + run.stderr
