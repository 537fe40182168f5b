"""Property-based tests of the readers: random files never crash them and never lose a row.

Random cells (numbers in many spellings, markers, junk, empty, unicode), extra columns, odd
line endings and encodings go through the CSV reader, the column parser and the whole ingest.
The properties: the only exception is InputError, with a one-line message; a file that is
accepted loses no row (rows in = panel rows + exclusions); a well-formed file is always
accepted, with exactly the rows an independent oracle expects. Settings are deterministic
(``derandomize=True``, no example database) so CI runs the same examples every time.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.data.numbers import MARKERS, CellError, parse_cell, parse_cells
from integration_models.data.reading import read_table, spreadsheet_safe
from integration_models.data.reference import code_lookup
from integration_models.errors import InputError
from tests.conftest import DEMO

FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None)
SLOW = settings(max_examples=40, deadline=None, derandomize=True, database=None)
WINDOW = IngestSettings(2010, 2023)
HEADER = ["area_code", "year", "value"]

# text that a decoded file can hold (no lone surrogates), NUL excluded unless asked for
characters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff")
junk = st.text(characters, max_size=6)
number_text = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.floats(0, 100, allow_nan=False).map(lambda x: f"{x:.2f}"),
    st.sampled_from(["+7.", ".5", "1e3", "1E-2", "-0", "007", "1e999", "1e-999"]),
)
marker_text = st.sampled_from(sorted(MARKERS) + ["N/A", "DNA", "C", "X", "Z", "NA"])
odd_text = st.sampled_from(
    ["12,5", "NaN", "inf", "-Infinity", "１２", "١٢", "1 000", "5%", "=1+2", "-", "+", "", " "]
)
cell_text = st.one_of(number_text, marker_text, odd_text, junk, st.just(""))
line_endings = st.sampled_from(["\n", "\r\n", "\r"])
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"])


def encode(text: str, encoding: str) -> bytes:
    """Encode as a spreadsheet might; fall back to UTF-8 where latin-1 cannot hold the text
    or would read back differently (its bytes happen to be valid UTF-8, or look like a BOM)."""
    if encoding == "latin-1":
        try:
            raw = text.encode("latin-1")
            raw.decode("utf-8")
        except UnicodeEncodeError:
            return text.encode("utf-8")
        except UnicodeDecodeError:
            if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return raw
        return text.encode("utf-8")
    return text.encode(encoding)


def write_csv_text(rows: list[list[str]], ending: str, header: list[str] | None = HEADER) -> str:
    """CSV text as the csv module writes it, records ended by ``ending``; ``header=None``
    writes the rows only. (The writer quotes a cell holding CR or LF only if that character
    is in its line terminator, so each record is written with CRLF and the ending replaced.)"""
    records = []
    for row in ([header] if header else []) + rows:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\r\n").writerow(row)
        records.append(buffer.getvalue().removesuffix("\r\n") + ending)
    return "".join(records)


def one_line(err: InputError) -> None:
    message = str(err)
    assert "\n" not in message and "\r" not in message, message


# --- the column parser against the cell parser ----------------------------------------------


@FAST
@given(st.lists(cell_text, max_size=30))
def test_parse_cells_agrees_with_parse_cell(cells):
    """The vectorised parser gives parse_cell's result for every cell, or its first error."""
    expected_numbers, expected_reasons, first_error = [], [], None
    for i, text in enumerate(cells):
        try:
            cell = parse_cell(text)
        except ValueError as err:
            first_error = (i, str(err))
            break
        expected_numbers.append(math.nan if cell.number is None else cell.number)
        expected_reasons.append(cell.missing_reason)
    if first_error is not None:
        with pytest.raises(CellError) as info:
            parse_cells(cells)
        assert (info.value.index, str(info.value)) == first_error
        return
    numbers, reasons = parse_cells(cells)
    np.testing.assert_array_equal(numbers, np.array(expected_numbers, dtype=float))
    assert list(reasons) == expected_reasons
    assert np.isfinite(numbers[[r is None for r in reasons]]).all()


# --- the CSV reader -------------------------------------------------------------------------


@FAST
@given(
    st.lists(st.lists(junk, min_size=3, max_size=3), max_size=12),
    line_endings,
    encodings,
)
def test_reader_returns_every_record_with_its_line(tmp_path_factory, rows, ending, encoding):
    """Any file the csv module writes reads back: stripped cells, the line each record ends
    on (counted here from the text written), and no blank record."""
    text = write_csv_text(rows, ending)
    expected, lines = [], []
    written = write_csv_text([], ending)
    for row in rows:
        written += write_csv_text([row], ending, header=None)
        stripped = [cell.strip() for cell in row]
        if any(stripped):
            expected.append(stripped)
            lines.append(len(io.StringIO(written, newline="").readlines()))
    path = tmp_path_factory.mktemp("reader") / "values.csv"
    path.write_bytes(encode(text, encoding))
    frame = read_table(path, HEADER)
    assert frame[HEADER].values.tolist() == expected
    assert frame["lineno"].tolist() == lines


@FAST
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=200), encodings)
def test_reader_raises_only_input_error(tmp_path_factory, text, encoding):
    """Arbitrary text (quotes, NULs, ragged rows, anything) is read or refused in one line."""
    path = tmp_path_factory.mktemp("junk") / "values.csv"
    path.write_bytes(encode("area_code,year,value\n" + text, encoding))
    try:
        frame = read_table(path, HEADER)
    except InputError as err:
        one_line(err)
        assert str(err).startswith(str(path))
        return
    assert frame["lineno"].is_monotonic_increasing
    assert all(isinstance(cell, str) for cell in frame[HEADER].to_numpy().ravel())


# --- the whole ingest -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_indicator(tmp_path_factory) -> Path:
    """A dataset with one percentage indicator; tests rewrite its values file."""
    raw = tmp_path_factory.mktemp("prop") / "raw"
    (raw / "values").mkdir(parents=True)
    shutil.copy(DEMO / "covariates.csv", raw / "covariates.csv")
    registry = pd.read_csv(DEMO / "indicators.csv", dtype=str, keep_default_na=False)
    registry = registry[registry.indicator_id == "attendance"].assign(indicator_id="prop")
    registry.to_csv(raw / "indicators.csv", index=False)
    return raw


@pytest.fixture(scope="module")
def aliases(areas) -> dict[str, list[str]]:
    """Each current council code with all its codes (current first, then former)."""
    codes: dict[str, list[str]] = {}
    for code, current in code_lookup(areas).items():
        codes.setdefault(current, [current])
        if code != current:
            codes[current].append(code)
    return codes


def write_values(raw: Path, text: str, encoding: str) -> None:
    (raw / "values" / "prop.csv").write_bytes(encode(text, encoding))


well_formed_value = st.one_of(
    st.floats(0, 100, allow_nan=False).map(lambda x: f"{x:.3f}"),
    st.integers(0, 100).map(str),
    st.sampled_from(["+7.", ".5", "1e1", "100", "0"]),
    marker_text,
    st.just(""),
)


@st.composite
def well_formed_rows(draw, aliases):
    """Rows with distinct (area, year) keys (any alias of a code), exact copies of some."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(aliases)), st.integers(2007, 2025)),
            unique=True,
            max_size=25,
        )
    )
    rows, truth = [], {}
    for current, year in keys:
        value = draw(well_formed_value)
        denominator = draw(st.sampled_from(["", "100", "2500", "*"]))
        rows.append([draw(st.sampled_from(aliases[current])), str(year), value, denominator])
        cell = parse_cell(value)
        if cell.number is not None and WINDOW.first_year <= year <= WINDOW.last_year:
            truth[(current, year)] = cell.number
    copies = draw(st.lists(st.sampled_from(rows), max_size=5)) if rows else []
    rows = draw(st.permutations(rows + [list(row) for row in copies]))
    return rows, truth


@SLOW
@given(st.data(), line_endings, encodings)
def test_well_formed_values_reconcile_exactly(
    one_indicator, aliases, areas, baseline, data, ending, encoding
):
    """A well-formed file is accepted; the panel holds exactly the usable distinct rows."""
    rows, truth = data.draw(well_formed_rows(aliases))
    assume(rows)
    blank = data.draw(st.integers(0, len(rows)))
    text = write_csv_text(rows[:blank] + [[]] + rows[blank:], ending, HEADER + ["denominator"])
    write_values(one_indicator, text, encoding)
    panel, exclusions = build_panel(one_indicator, areas, baseline, WINDOW)
    assert len(panel) + len(exclusions) == len(rows)
    got = dict(zip(zip(panel.area_code, panel.year, strict=True), panel.value, strict=True))
    assert got == pytest.approx(truth)
    assert (exclusions.reason != "").all()


HEADERS = [HEADER] * 4 + [
    HEADER + ["numerator"],
    HEADER + ["numerator", "denominator"],
    ["area_code", "year", "vlaue"],
    HEADER + ["notes"],
]
bad_cell = st.one_of(
    cell_text,
    st.text(characters, max_size=3),
    st.sampled_from(["201²", "２０１５", "2015.0", "1850", "s12000005", "S12999999", '"', "\x00"]),
)


@st.composite
def malformed_rows(draw, aliases):
    """Mostly good rows; about one in eight has a bad cell, or an extra cell (ragged)."""
    codes = sorted(code for codes in aliases.values() for code in codes)
    header = draw(st.sampled_from(HEADERS))
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        row = [draw(st.sampled_from(codes)), str(draw(st.integers(2005, 2026)))]
        row += [draw(well_formed_value) for _ in header[2:]]
        if draw(st.integers(0, 7)) == 0:
            position = draw(st.integers(0, len(row)))
            row[position : position + 1] = [draw(bad_cell)]
        rows.append(row)
    return header, rows


@SLOW
@given(st.data(), line_endings, encodings)
def test_malformed_values_never_lose_a_row(
    one_indicator, aliases, areas, baseline, data, ending, encoding
):
    """Anything else: a one-line InputError, or every non-blank row in panel or exclusions."""
    header, rows = data.draw(malformed_rows(aliases))
    write_values(one_indicator, write_csv_text(rows, ending, header), encoding)
    try:
        panel, exclusions = build_panel(one_indicator, areas, baseline, WINDOW)
    except InputError as err:
        one_line(err)
        return
    rows_in = sum(1 for row in rows if any(cell.strip() for cell in row))
    assert len(panel) + len(exclusions) == rows_in
    assert panel["value"].notna().all() and np.isfinite(panel["value"]).all()


# --- spreadsheet formulas -------------------------------------------------------------------


@FAST
@given(st.one_of(st.text(characters, max_size=12), number_text, st.sampled_from(["-", "+"])))
def test_spreadsheet_safe_never_leaves_a_formula(text):
    """The cell is kept or gets one leading quote; what is kept cannot start a formula,
    except a plain number or a lone sign, which spreadsheets read as text or numbers."""
    safe = spreadsheet_safe(text)
    assert safe in (text, "'" + text)
    if safe == text and text[:1] in ("=", "@", "\t", "\r", "+", "-"):
        assert text in ("+", "-") or (
            set(text) <= set("0123456789.eE+-") and float(text) == float(text)
        )
