"""Strict patterns for identifiers that reach file names, formulas or shell commands.

Indicator ids, area codes and partnership codes come from data files. They are checked here
before any other module uses them, so that a crafted id such as ``x; import os`` or
``../../etc/passwd`` can never reach a path, a formula string or a command line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from integration_models.errors import InputError

INDICATOR_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
AREA_CODE = re.compile(r"S12[0-9]{6}")
HSCP_CODE = re.compile(r"S37[0-9]{6}")
BOARD_CODE = re.compile(r"S08[0-9]{6}")


def is_indicator_id(value: object) -> bool:
    """Return True if ``value`` is a legal indicator id (``[a-z][a-z0-9_]{0,62}``)."""
    return isinstance(value, str) and INDICATOR_ID.fullmatch(value) is not None


def is_area_code(value: object) -> bool:
    """Return True if ``value`` has the form of a council-area code (``S12`` and six digits)."""
    return isinstance(value, str) and AREA_CODE.fullmatch(value) is not None


def is_hscp_code(value: object) -> bool:
    """Return True if ``value`` has the form of a partnership code (``S37`` and six digits)."""
    return isinstance(value, str) and HSCP_CODE.fullmatch(value) is not None


def registry_ids(path: str | Path) -> list[str]:
    """Read only the indicator ids of a registry, checking each against the strict pattern.

    The workflow needs the ids when it starts (for targets and wildcard constraints), before
    the full validation in :func:`integration_models.registry.load_registry` runs in the ingest
    job; this reader needs neither pandas nor the other columns, so a rerun with nothing to do
    stays fast, and an illegal id never reaches a path or a pattern.

    Raises
    ------
    InputError
        If the file is missing or empty, has no ``indicator_id`` column, or holds an illegal id.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "registry file not found")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
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
                f"illegal indicator_id '{value}' (must match [a-z][a-z0-9_]{{0,62}})",
                reader.line_num,
            )
        ids.append(value)
    if not ids:
        raise InputError(path, "the registry lists no indicators")
    return ids
