"""Strict patterns for identifiers that reach file names, formulas or shell commands.

Indicator ids, area codes and partnership codes come from data files. They are checked here
before any other module uses them, so that a crafted id such as ``x; import os`` or
``../../etc/passwd`` can never reach a path, a formula string or a command line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from integration_models.data.inputs import read_input
from integration_models.errors import InputError

INDICATOR_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
AREA_CODE = re.compile(r"S12[0-9]{6}")
# 2011 data zones, the small areas (about 7,000) that council areas are built from; an areas
# table holds either council areas or data zones (reference.AREA_LEVELS).
DATA_ZONE_CODE = re.compile(r"S01[0-9]{6}")
HSCP_CODE = re.compile(r"S37[0-9]{6}")
BOARD_CODE = re.compile(r"S08[0-9]{6}")
SHOWN_LENGTH = 60


def shown(text: object, limit: int = SHOWN_LENGTH) -> str:
    r"""Quote untrusted text for a one-line message: escaped and shortened.

    Cells and headers come from input files and may hold line breaks, NUL bytes, control
    characters or a whole file (after an unclosed quote). ``repr`` escapes all of these, so an
    error message stays one line and shows exactly what the file holds; text longer than
    ``limit`` characters is cut, with ``...`` marking the cut.

    Examples
    --------
    >>> shown("abc")
    "'abc'"
    >>> shown("1\n2")
    "'1\\n2'"
    """
    text = str(text)
    if len(text) > limit:
        return repr(text[: limit - 3]) + "..."
    return repr(text)


def is_indicator_id(value: object) -> bool:
    """Return True if ``value`` is a legal indicator id (``[a-z][a-z0-9_]{0,62}``)."""
    return isinstance(value, str) and INDICATOR_ID.fullmatch(value) is not None


def registry_ids(path: str | Path) -> list[str]:
    """Read only the indicator ids of a registry, checking each against the strict pattern.

    The workflow needs the ids when it starts (for targets and wildcard constraints), before
    the full validation in :func:`integration_models.data.registry.load_registry` runs in the ingest
    job; this reader needs neither pandas nor the other columns, so a rerun with nothing to do
    stays fast, and an illegal id never reaches a path or a pattern.

    Raises
    ------
    InputError
        If :func:`integration_models.data.inputs.read_input` refuses the file (missing, not a
        regular file, a link leading out of its folder, too large), it is empty, has no
        ``indicator_id`` column, or holds an illegal id.
    """
    path = Path(path)
    text = read_input(path).data.decode("utf-8-sig", errors="replace")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError(path, "contains a NUL byte (a binary or UTF-16 file?)", line)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        ids = _ids_in(reader, path)
    except csv.Error as err:
        raise InputError(path, f"cannot parse CSV: {err}", reader.line_num) from None
    if not ids:
        raise InputError(path, "the registry lists no indicators")
    return ids


def _ids_in(reader: Iterator[list[str]], path: Path) -> list[str]:
    """Return the checked ids of the ``indicator_id`` column of a registry's CSV records."""
    header = next(reader, None)
    if not header or "indicator_id" not in [cell.strip() for cell in header]:
        raise InputError(path, "missing column: indicator_id", 1)
    column = [cell.strip() for cell in header].index("indicator_id")
    ids = []
    for record in reader:
        if not any(cell.strip() for cell in record):
            continue
        value = record[column].strip() if column < len(record) else ""
        if not is_indicator_id(value):
            raise InputError(
                path,
                f"illegal indicator_id {shown(value)} (must match [a-z][a-z0-9_]{{0,62}})",
                reader.line_num,
            )
        ids.append(value)
    return ids
