"""Read small CSV tables with exact line numbers, tolerant of encodings and line endings.

Every input row must be traceable to its file and physical line, so tables are read with the
standard ``csv`` module (which counts lines, including quoted line breaks) rather than with
``pandas.read_csv``. UTF-8 with or without a byte-order mark is tried first, then latin-1,
which spreadsheet exports from Windows often use; CRLF and LF line endings both work.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from integration_models.errors import InputError

LINE = "lineno"


def read_text(path: Path) -> str:
    """Return the decoded text of ``path``: UTF-8 (BOM stripped) if valid, else latin-1."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_table(
    path: str | Path,
    required: Iterable[str],
    optional: Iterable[str] = (),
    allow_extra: bool = False,
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

    Returns
    -------
    pandas.DataFrame
        All cells as stripped strings (empty string for an empty cell), plus ``lineno``, the
        1-based line on which each record ends (the header is line 1).

    Raises
    ------
    InputError
        If the file is empty, a column is missing or unknown, a header is repeated, or a record
        has the wrong number of fields.
    """
    path = Path(path)
    required = list(required)
    optional = list(optional)
    text = read_text(path)
    if not text.strip():
        raise InputError(path, "file is empty (expected a header row and data rows)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except csv.Error as err:
        raise InputError(path, f"cannot parse the header: {err}", line=1) from None
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(path, f"column(s) repeated in the header: {', '.join(duplicated)}", 1)
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing column(s): {', '.join(missing)} (header is: {', '.join(header)})",
            line=1,
        )
    extra = [c for c in header if c not in required and c not in optional]
    if extra and not allow_extra:
        raise InputError(
            path,
            f"unexpected column(s): {', '.join(extra)} (allowed: {', '.join(required + optional)})",
            line=1,
        )
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in reader:
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise InputError(
                    path,
                    f"expected {len(header)} fields, found {len(record)}",
                    line=reader.line_num,
                )
            rows.append([cell.strip() for cell in record])
            lines.append(reader.line_num)
    except csv.Error as err:
        raise InputError(path, f"cannot parse CSV: {err}", line=reader.line_num) from None
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    if frame.empty:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in header})
    for column in optional:
        if column not in frame.columns:
            frame[column] = ""
    frame[LINE] = pd.Series(lines, dtype="int64", index=frame.index)
    return frame
