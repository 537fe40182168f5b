"""Plain-text formatting of the report's cells: numbers, counts, p-values, words.

The report (:mod:`integration_models.report.render`) turns every value from the tables into text
here, once, and the templates only lay the text out; escaping is the templates' job, so
nothing here returns markup.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from integration_models.inference.cluster import minimum_p_value

REASON_WIDTH = 80


def is_missing(value: object) -> bool:
    """Tell whether a cell is empty: None, NaN or pandas' NA (an empty string is not)."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def text(value: object) -> str:
    """Return the plain text of a cell: empty for missing values, yes/no for flags."""
    if is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def _as_float(value: object) -> float | None:
    """Return ``value`` as a float, or None if it is missing, blank or not a number."""
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def number(value: object, digits: int = 4) -> str:
    """Round a number to ``digits`` significant digits, without exponent where sensible."""
    number_ = _as_float(value)
    if number_ is None:
        return text(value)
    if not math.isfinite(number_):
        return str(number_)
    if number_ == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(number_)))
    if magnitude < -4 or magnitude >= 9:
        return f"{number_:.{digits - 1}e}"
    return f"{number_:.{max(0, digits - 1 - magnitude)}f}"


def whole(value: object, *, grouped: bool = True) -> str:
    """Format a whole number: a count with thousands separators, or a year without them."""
    number_ = _as_float(value)
    if number_ is None or not math.isfinite(number_):
        return text(value)
    return f"{int(number_):,}" if grouped else str(int(number_))


def year(value: object) -> str:
    """Format a year: a whole number without separators (empty if missing)."""
    return whole(value, grouped=False)


def decimals(std_error: object) -> int | None:
    """Decimals that show a standard error to 3 significant digits (None if it is unusable)."""
    value = _as_float(std_error)
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return min(8, max(0, 2 - math.floor(math.log10(value))))


def fixed(value: object, places: int | None) -> str:
    """Format ``value`` with ``places`` decimals, or to 4 significant digits if None.

    A value that rounds to zero is shown without its minus sign (``0.00``, not ``-0.00``).
    """
    number_ = _as_float(value)
    if places is None or number_ is None:
        return number(value)
    shown = f"{number_:.{places}f}"
    return shown[1:] if shown.startswith("-") and not shown.strip("-0.") else shown


def format_p_value(value: object, draws: int | None = None) -> str:
    """Format a p-value for display: 3 decimals, ``<0.001`` below 0.001, empty if missing.

    ``draws`` is ``B`` of a resampling test, whose smallest p-value is ``1/(B+1)``
    (:func:`integration_models.inference.cluster.resampling_p_value`): no draw as extreme as the
    observed statistic. That value is shown as ``≤ 1/(B+1)`` in decimals rounded up
    (``≤ 0.0001`` for B = 9999, ``≤ 0.01`` for B = 99), saying that the test cannot resolve a
    smaller p-value with ``B`` draws; never as ``<0.001`` or 0. The CSV keeps the number.
    """
    number_ = _as_float(value)
    if number_ is None:
        return "" if is_missing(value) else text(value)
    if math.isnan(number_):
        return ""
    if draws is not None and number_ <= minimum_p_value(draws) * (1 + 1e-9):
        return f"≤ {_round_up(minimum_p_value(draws))}"
    return "<0.001" if number_ < 0.001 else f"{number_:.3f}"


def _round_up(value: float, digits: int = 2) -> str:
    """``value`` (positive) rounded up to ``digits`` significant digits, in plain decimals."""
    exponent = math.floor(math.log10(value)) - digits + 1
    rounded = math.ceil(value / 10.0**exponent * (1 - 1e-12)) * 10.0**exponent
    return np.format_float_positional(round(rounded, -exponent), trim="-")


def draws_in_label(label: str) -> int | None:
    """``B`` of a resampling test from its label (``... B=9999)``), None for other tests."""
    match = re.search(r"\bB=(\d+)\)$", label)
    return int(match.group(1)) if match else None


def truncate(value: str, width: int = REASON_WIDTH) -> str:
    """Shorten ``value`` to at most ``width`` characters at a word boundary, marking the cut."""
    value = " ".join(value.split())
    if len(value) <= width:
        return value
    cut = value[: width - 1]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "\N{HORIZONTAL ELLIPSIS}"


def plural(count: int, word: str, plural_form: str | None = None) -> str:
    """Say ``count`` things: ``1 table``, ``2 tables``, with thousands separators."""
    return f"{count:,} {word if count == 1 else (plural_form or word + 's')}"


def direction(higher_is_better: object) -> str:
    """Say which way an indicator improves: ``higher is better`` or ``lower is better``."""
    value = text(higher_is_better).strip().lower()
    if value in ("true", "yes", "1"):
        return "higher is better"
    if value in ("false", "no", "0"):
        return "lower is better"
    return value


def term_words(term: str) -> str:
    """Name an integration term in words (``integration_full`` -> ``full integration``)."""
    return {
        "integration_full": "full integration",
        "integration_partial": "partial integration",
    }.get(term, term)
