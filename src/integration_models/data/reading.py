"""Read small CSV tables with exact line numbers, tolerant of encodings and line endings.

Every input row must be traceable to its file and physical line, so tables are read with the
standard ``csv`` module (which counts lines, including quoted line breaks) rather than with
``pandas.read_csv``. UTF-8 with or without a byte-order mark is tried first, then latin-1,
which spreadsheet exports from Windows often use; a UTF-16 file with a byte-order mark (Excel's
"Unicode text") is decoded as such. CRLF, LF and CR line endings all work.

CSV files written for people (``exclusions.csv``, the result tables) pass through
:func:`neutralise_formulas`, so that a cell copied from an input file cannot run as a formula
when the file is opened in a spreadsheet program.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from integration_models.data.identifiers import shown
from integration_models.data.inputs import read_input
from integration_models.data.numbers import DECIMAL
from integration_models.errors import InputError

LINE = "lineno"
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# a blank character other than CR and LF (which end records, so no cell holds one unquoted)
BLANK = re.compile(r"[^\S\r\n]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def read_text(path: Path, root: Path | None = None) -> str:
    """Return the decoded text of ``path``: UTF-8 (BOM stripped) if valid, else latin-1.

    The bytes come from :func:`integration_models.data.inputs.read_input` (``root`` is passed on),
    which checks the file before opening it and records its hash. A file starting with a
    UTF-16 byte-order mark is decoded as UTF-16 (instead of becoming latin-1 text full of
    NUL characters).

    Raises
    ------
    InputError
        If :func:`~integration_models.data.inputs.read_input` refuses the file, or it is not valid
        UTF-16 despite its byte-order mark.
    """
    raw = read_input(path, root).data
    if raw.startswith(UTF16_BOMS):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise InputError(path, f"starts like UTF-16 but is not: {err.reason}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _refuse_nul(path: Path, text: str) -> None:
    """Stop on a NUL character: a binary file, or UTF-16 without a byte-order mark."""
    if "\x00" in text:
        line = _line_count(text[: text.index("\x00") + 1])
        raise InputError(path, "contains a NUL byte (a binary file, or UTF-16 without BOM?)", line)


def _unclosed_quote(text: str, start: int) -> bool:
    """Return True if the record starting on physical line ``start`` never closes a quote.

    The lenient ``csv`` reader silently swallows the rest of the file into one field when a
    quote is not closed, so such a record always ends on the last line (the caller checks
    that); reading it again in strict mode tells it apart from a quoted line break.
    """
    tail = "".join(io.StringIO(text, newline="").readlines()[start - 1 :])
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), strict=True):
            pass
    except csv.Error:
        return True
    return False


def _may_need_strip(text: str) -> bool:
    """Return False only if no cell can have blanks around it (then stripping is skipped).

    Without quotes, a cell can only hold a blank (a ``str.isspace`` character, as
    ``str.strip`` removes) if the text has one outside the line breaks. Values files usually
    have none, which saves a Python-level pass over millions of cells.
    """
    return '"' in text or BLANK.search(text) is not None


def _line_count(text: str) -> int:
    """Return the number of physical lines as the ``csv`` reader counts them (CR, LF, CRLF)."""
    return len(io.StringIO(text, newline="").readlines())


def _records(path: Path, text: str, reader: Any) -> tuple[list[list[str]], list[int]]:
    """Return every record after the header and the physical line on which each ends.

    Without a quote character in the file every record is one physical line, so records are
    numbered by position and the C reader runs without a Python loop (millions of rows in a
    data-zone panel). Otherwise the reader's line count is read after each record, and a
    quote that is never closed (the lenient reader would swallow the rest of the file into
    one field) raises an InputError naming the line where the record starts.
    """
    first = reader.line_num + 1
    try:
        if '"' not in text:
            records = list(reader)
            return records, list(range(first, first + len(records)))
        records, lines = [], []
        end, last = first - 1, 0
        for record in reader:
            start, end = end + 1, reader.line_num
            runs_to_end = end > start and end == (last := last or _line_count(text))
            if runs_to_end and _unclosed_quote(text, start):
                raise InputError(path, "a quote opened in this record is never closed", start)
            records.append(record)
            lines.append(end)
    except csv.Error as err:
        raise InputError(path, f"cannot parse CSV: {err}", reader.line_num) from None
    return records, lines


def _frame(
    path: Path, records: list[list[str]], lines: list[int], header: list[str], strip: bool
) -> pd.DataFrame:
    """Build the table of cells (stripped if ``strip``); skip blank records, refuse ragged ones."""
    width = len(header)
    ragged = [i for i, record in enumerate(records) if len(record) != width]
    for i in ragged:
        if any(cell.strip() for cell in records[i]):
            raise InputError(path, f"expected {width} fields, found {len(records[i])}", lines[i])
    if ragged:  # only blank lines left among them
        skip = set(ragged)
        lines = [line for i, line in enumerate(lines) if i not in skip]
        records = [record for i, record in enumerate(records) if i not in skip]
    frame = pd.DataFrame(records, columns=header, dtype=object)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in header})
    if strip:
        for column in header:
            frame[column] = frame[column].str.strip().astype(object)
    frame[LINE] = pd.Series(lines, dtype="int64", index=frame.index)
    blank = (frame[header] == "").all(axis=1).to_numpy(dtype=bool)
    if blank.any():
        frame = frame[~blank].reset_index(drop=True)
    return frame


def read_table(
    path: str | Path,
    required: Iterable[str],
    optional: Iterable[str] = (),
    allow_extra: bool = False,
    root: Path | None = None,
) -> pd.DataFrame:
    """Read a CSV file into strings, one row per record, with its physical line in ``lineno``.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns that must be present.
    optional
        Columns that may be present; absent ones are added as empty strings.
    allow_extra
        Whether columns outside ``required`` and ``optional`` are kept (else they are an error,
        which catches misspelt headers such as ``vlaue``).
    root
        The folder the file must resolve into (see
        :func:`integration_models.data.inputs.read_input`; default: its own folder).

    Returns
    -------
    pandas.DataFrame
        All cells as stripped strings (empty string for an empty cell), plus ``lineno``, the
        1-based line on which each record ends (the header is line 1).

    Raises
    ------
    InputError
        If the file is missing, not a regular file, a link leading outside ``root``, over
        the size limit, empty or holds a NUL byte, a column is missing or unknown, a
        header is repeated, a quote is never closed, or a record has the wrong number of
        fields; the message is one line (cells and names from the file are escaped).
    """
    path = Path(path)
    required = list(required)
    optional = list(optional)
    text = read_text(path, root)
    if not text.strip():
        raise InputError(path, "file is empty (expected a header row and data rows)")
    _refuse_nul(path, text)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error as err:
        raise InputError(path, f"cannot parse the header: {err}", line=1) from None
    _check_header(path, header, required, optional, allow_extra)
    records, lines = _records(path, text, reader)
    frame = _frame(path, records, lines, header, _may_need_strip(text))
    for column in optional:
        if column not in frame.columns:
            frame[column] = pd.Series("", index=frame.index, dtype=object)
    return frame


def _check_header(
    path: Path, header: list[str], required: list[str], optional: list[str], allow_extra: bool
) -> None:
    """Refuse a header with a repeated, missing or (unless allowed) unknown column."""
    names = ", ".join(shown(c) if not c.isprintable() else c for c in header)
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(path, f"column(s) repeated in the header: {', '.join(duplicated)}", 1)
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(path, f"missing column(s): {', '.join(missing)} (header is: {names})", 1)
    extra = [shown(c) if not c.isprintable() else c for c in header if c not in required + optional]
    if extra and not allow_extra:
        raise InputError(
            path,
            f"unexpected column(s): {', '.join(extra)} (allowed: {', '.join(required + optional)})",
            line=1,
        )


def spreadsheet_safe(cell: object) -> object:
    """Return ``cell`` so that no spreadsheet program runs it as a formula.

    The rule (OWASP's advice on CSV injection, narrowed so that tables stay readable): a text
    cell starting with ``=``, ``@``, a tab or a carriage return, or starting with ``+`` or
    ``-`` and followed by more characters, gets a leading single quote, which spreadsheets
    show as text. Left as they are: anything that is not a ``str`` (numbers in numeric
    columns); a plain decimal number written as text (``-1.5``, ``+7``, ``1e3``: a spreadsheet
    reads it as that number, never as a formula); and a lone ``+`` or ``-`` (the significance
    signs of ``summary.csv`` and the ``-`` suppression marker).
    """
    if not isinstance(cell, str) or not cell.startswith(FORMULA_START):
        return cell
    if cell in ("+", "-") or DECIMAL.fullmatch(cell):
        return cell
    return "'" + cell


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells pass through :func:`spreadsheet_safe`.

    Only text (``object`` or string dtype) columns are touched; numeric columns, where a
    negative number must stay a number, are returned unchanged.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(spreadsheet_safe)
    return out
