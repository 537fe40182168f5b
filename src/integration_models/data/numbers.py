"""Turn value cells into numbers, missing values with a reason, or a precise complaint.

Publishers mark suppressed or unavailable cells with symbols; the contract lists the accepted
ones. Anything else that is not a plain decimal number in ASCII digits (``12,5``, ``abc``,
``NaN``, ``inf``, ``1e999``, ``１２``) is bad input, because guessing would silently change
results; so is a nonzero number too small for a float (``1e-400``), which would become 0.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.data.identifiers import shown

MARKERS = frozenset({"*", "c", "..", "x", "-", ":", "z", "na", "n/a", "dna"})
# every spelling of the markers that parse_cell accepts (it compares case-insensitively)
MARKER_FORMS = frozenset(
    "".join(letters)
    for marker in MARKERS
    for letters in itertools.product(*({c, c.upper()} for c in marker))
)
# [0-9], not \d: \d and float() also take other scripts' digits ("١٢", "１２")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# a decimal whose digits before the exponent are not all zero: it must not parse to 0.0
NONZERO = r"^[^eE]*[1-9]"


@dataclass(frozen=True)
class Cell:
    """A parsed cell: a finite number, or missing with the reason it is missing."""

    number: float | None
    missing_reason: str | None = None


def parse_cell(text: str) -> Cell:
    """Parse one cell of a value, numerator or denominator column.

    Parameters
    ----------
    text
        The cell, already stripped of surrounding blanks.

    Returns
    -------
    Cell
        ``Cell(number)`` for a finite decimal number; ``Cell(None, reason)`` for an empty cell
        or a known suppression marker (compared case-insensitively).

    Raises
    ------
    ValueError
        With a message quoting the cell (escaped and shortened, see
        :func:`integration_models.data.identifiers.shown`), if it is neither a number nor a known
        marker, or if it overflows to infinity or underflows to zero.
    """
    if text == "":
        return Cell(None, "missing: empty value")
    if text.lower() in MARKERS:
        return Cell(None, f"suppressed or not available: marker '{text}'")
    if DECIMAL.fullmatch(text) is None:
        raise ValueError(
            f"{shown(text)} is neither a number nor a known suppression marker "
            f"({' '.join(sorted(MARKERS))})"
        )
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{shown(text)} is not a finite number")
    if number == 0 and re.match(NONZERO, text):
        raise ValueError(f"{shown(text)} is not zero but too small for a number (underflow)")
    return Cell(number)


class CellError(ValueError):
    """:func:`parse_cell`'s complaint about one cell of a column, with the cell's position."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def parse_cells(cells: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse a whole column of cells at once, exactly as :func:`parse_cell` parses each one.

    The column-at-a-time version exists for speed (a data-zone panel has millions of cells):
    markers are found by one hash lookup, numbers are checked against :data:`DECIMAL` by the
    vectorised regular-expression engine of pyarrow and converted by numpy.

    Parameters
    ----------
    cells
        The cells, already stripped of surrounding blanks.

    Returns
    -------
    tuple of numpy.ndarray
        The numbers (float, NaN where missing) and the missing reasons (object: None where
        the cell is a number, else the reason :func:`parse_cell` gives).

    Raises
    ------
    CellError
        For the first cell that :func:`parse_cell` refuses, with its message and ``index``.
    """
    text = np.asarray(cells, dtype=object)
    empty = text == ""
    marker = pd.Series(text, dtype=object).isin(MARKER_FORMS).to_numpy(dtype=bool)
    numeric = ~(empty | marker)
    numbers = np.full(len(text), np.nan)
    if numeric.any():
        candidates = pd.Series(text[numeric], dtype="string[pyarrow]")
        valid = candidates.str.fullmatch(DECIMAL.pattern).to_numpy(dtype=bool)
        parsed = np.full(len(candidates), np.inf)
        parsed[valid] = text[numeric][valid].astype(np.float64)
        numbers[numeric] = parsed
        bad = ~np.isfinite(parsed)
        zero = parsed == 0
        if zero.any():
            bad[zero] = candidates[zero].str.contains(NONZERO).to_numpy(dtype=bool)
        if bad.any():
            index = int(np.flatnonzero(numeric)[np.flatnonzero(bad)[0]])
            try:
                parse_cell(text[index])
            except ValueError as err:
                raise CellError(str(err), index) from None
            raise AssertionError(f"parse_cell accepted {text[index]!r}")  # pragma: no cover
    reasons = np.full(len(text), None, dtype=object)
    reasons[empty] = parse_cell("").missing_reason
    if marker.any():
        forms = pd.unique(text[marker])
        reason = {form: parse_cell(form).missing_reason for form in forms}
        reasons[marker] = [reason[form] for form in text[marker]]
    return numbers, reasons
