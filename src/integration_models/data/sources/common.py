"""What every adapter shares: council matching, period labels, and the observation layout.

An adapter returns *observations*: one row per source series, council and year, with columns
``OBSERVATION_COLUMNS``. ``series`` is the source's own indicator name or code; ``year`` the
calendar year in which the period ends; ``value`` a float (NaN when missing); ``marker`` the
source's missing-value marker when ``value`` is missing (one of the canonical markers in
:data:`integration_models.data.numbers.MARKERS`, or empty when the source left the cell blank);
``numerator`` and ``denominator`` where the source gives them; ``period_label`` the source's
own label of the period (e.g. ``2015-16``), kept for the record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.numbers import parse_cell
from integration_models.data.reading import LINE
from integration_models.data.reference import code_lookup, name_lookup, normalise_name
from integration_models.errors import InputError

OBSERVATION_COLUMNS = [
    "series",
    "area_code",
    "year",
    "value",
    "numerator",
    "denominator",
    "marker",
    "period_label",
]
NOT_COUNCILS = frozenset({"scotland"})


class AreaMatcher:
    """Map council names (any listed variant) and codes (current or former) to current codes.

    Parameters
    ----------
    areas
        The council-area reference table (:func:`integration_models.data.reference.load_areas`).
    """

    def __init__(self, areas: pd.DataFrame) -> None:
        self.names = name_lookup(areas)
        self.codes = code_lookup(areas)

    def by_name(self, names: pd.Series, path: str | Path, ignore=NOT_COUNCILS) -> pd.Series:
        """Return the current code of each council name; None for names in ``ignore``.

        Raises
        ------
        InputError
            Naming the file and the first name that is neither a council nor ignored, and
            listing the accepted spellings' source (``data/reference/areas.csv``).
        """
        normalised = names.astype(str).map(normalise_name)
        unknown = sorted(set(normalised) - set(self.names) - set(ignore))
        if unknown:
            raise InputError(
                path,
                f"unknown council name(s) {unknown[:5]}: expected a council name or a variant "
                "listed in data/reference/areas.csv (add new spellings there)",
            )
        return normalised.map(self.names)

    def by_code(self, codes: pd.Series, path: str | Path) -> pd.Series:
        """Return the current code of each council code (former codes recoded)."""
        unknown = sorted(set(codes.astype(str)) - set(self.codes))
        if unknown:
            raise InputError(path, f"unknown council code(s) {unknown[:5]}")
        return codes.astype(str).map(self.codes)

    def check_complete(self, codes: pd.Series, path: str | Path) -> None:
        """Raise unless all 32 councils occur in ``codes``."""
        missing = sorted(set(self.codes.values()) - set(codes.dropna()))
        if missing:
            raise InputError(path, f"councils missing from the file: {', '.join(missing)}")


_RANGE = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*$")
_SINGLE = re.compile(r"^\s*(\d{4})\s*$")


def period_end_year(label: object) -> int:
    """Return the calendar year in which a period labelled ``label`` ends.

    ``2015-16``, ``2015/16`` and ``2015/2016`` end in 2016; pooled or rolled periods such as
    ``2014-17`` end in 2017; a single year ``2016`` is itself.

    Raises
    ------
    ValueError
        If the label is none of these forms, or the end is before the start.
    """
    text = str(label)
    single = _SINGLE.match(text)
    if single:
        return int(single.group(1))
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f"period label '{text}' is not a year or a year range")
    start, end = match.group(1), match.group(2)
    year = int(end) if len(end) == 4 else int(start[:2] + end)
    if year < int(start):
        year += 100
    if year < int(start):
        raise ValueError(f"period label '{text}' ends before it starts")
    return year


def refuse_rows(
    rows: pd.DataFrame,
    path: str | Path,
    problem: Callable[[pd.Series], str],
    *,
    last: bool = False,
) -> None:
    """Raise an :class:`InputError` about ``rows`` if there are any; do nothing otherwise.

    Parameters
    ----------
    rows
        The offending rows of a source file.
    path
        The file.
    problem
        What is wrong, in words, given the row to name: the first, or the last with ``last``
        (e.g. the later occurrence of a repeated key).
    last
        Name the last row instead of the first.

    Raises
    ------
    InputError
        Naming the file, the problem and the named row's line where ``rows`` carry the
        line column (:data:`integration_models.data.reading.LINE`).
    """
    if rows.empty:
        return
    row = rows.iloc[-1 if last else 0]
    raise InputError(path, problem(row), int(row[LINE]) if LINE in rows else None)


def require_columns(frame: pd.DataFrame, columns: list[str], path: str | Path) -> None:
    """Raise an InputError naming the file and the columns that were expected but missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            path,
            f"unexpected layout: missing column(s) {missing}; found {list(frame.columns)[:12]}",
        )


def observations(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the observation columns (absent ones empty), sorted."""
    out = frame.copy()
    for column in OBSERVATION_COLUMNS:
        if column not in out:
            out[column] = pd.NA
    out = out[OBSERVATION_COLUMNS].sort_values(["series", "area_code", "year"])
    return out.reset_index(drop=True)


def parse_numbers(
    cells: Iterable[str],
    lines: Iterable[int],
    column: str,
    path: str | Path,
    blank: Iterable[str] = (),
) -> tuple[np.ndarray, list[str]]:
    """Parse a column of numeric cells into floats and missing-value markers.

    Parameters
    ----------
    cells
        The cells as stripped strings.
    lines
        The physical line of each cell, for the error message.
    column
        The column's name, for the error message.
    path
        The file, for the error message.
    blank
        Cell texts that mean "left empty" rather than a publisher's marker, such as R's ``NA``
        in files written out from R data.

    Returns
    -------
    tuple
        The numbers (NaN where missing) and, per cell, ``""`` for a number or an empty cell,
        else the canonical (lower-case) marker from
        :data:`integration_models.data.numbers.MARKERS`.

    Raises
    ------
    InputError
        Naming the file, line and column of a cell that is neither a number nor a marker, so
        that a new notation in a release stops the run instead of becoming a missing value.
    """
    blank = frozenset(blank)
    numbers: list[float] = []
    markers: list[str] = []
    for text, line in zip(cells, lines, strict=True):
        text = "" if text in blank else text
        try:
            cell = parse_cell(text)
        except ValueError as err:
            raise InputError(path, f"{column}: {err}", int(line)) from None
        numbers.append(np.nan if cell.number is None else cell.number)
        markers.append("" if cell.number is not None or text == "" else text.lower())
    return np.array(numbers, dtype=float), markers
