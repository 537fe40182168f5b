"""Turn value cells into numbers, missing values with a reason, or a precise complaint.

Publishers mark suppressed or unavailable cells with symbols; the contract lists the accepted
ones. Anything else that is not a plain decimal number (``12,5``, ``abc``, ``NaN``, ``inf``,
``1e999``) is bad input, because guessing would silently change results.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MARKERS = frozenset({"*", "c", "..", "x", "-", ":", "z", "na", "n/a", "dna"})
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


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
        With a message quoting the cell, if it is neither a number nor a known marker, or if it
        overflows to infinity.
    """
    if text == "":
        return Cell(None, "missing: empty value")
    if text.lower() in MARKERS:
        return Cell(None, f"suppressed or not available: marker '{text}'")
    if _DECIMAL.fullmatch(text) is None:
        raise ValueError(
            f"'{text}' is neither a number nor a known suppression marker "
            f"({' '.join(sorted(MARKERS))})"
        )
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"'{text}' is not a finite number")
    return Cell(number)
