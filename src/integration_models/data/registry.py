"""The indicator registry (``indicators.csv``): what each indicator is and how to read it."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from integration_models.data.exposure import PERIODS, PeriodType
from integration_models.data.identifiers import is_indicator_id, shown
from integration_models.data.reading import LINE, read_table
from integration_models.errors import InputError

REGISTRY_COLUMNS = [
    "indicator_id",
    "title",
    "domain",
    "measure",
    "unit",
    "higher_is_better",
    "period",
    "source",
]
# what a value covers beyond its period's kind: how many periods one value averages (3 for a
# three-year rolling average labelled by its last period) and a snapshot's day (MM-DD)
# ``role`` and ``construct`` say what an indicator is for in the analysis: ``primary``
# outcomes form the headline family (a domain is tested once), ``secondary`` ones are reported
# but not the headline (process measures, measures at their ceiling, components of a summary
# index), ``context`` ones are inputs rather than outcomes. Indicators sharing a ``construct``
# measure the same thing. Absent or empty: ``primary`` and the indicator's own id, so that a
# registry written before these columns existed loads unchanged.
OPTIONAL_COLUMNS = ["notes", "period_years", "snapshot_day", "role", "construct"]
DOMAINS = ("children", "families", "workforce")
ROLES = ("primary", "secondary", "context")
DEFAULT_ROLE = "primary"
# roles whose indicators measure an outcome of their domain (``context`` ones do not)
OUTCOME_ROLES = ("primary", "secondary")
MEASURES = ("percentage", "rate", "count", "mean")
SYNTHETIC_MARK = "SYNTHETIC"
# Unicode categories refused in registry text: controls (BEL, NUL, line breaks; a tab is
# allowed) make SVG invalid XML, and format characters (U+202E and the other bidi controls,
# zero-width characters) can make a title read differently from what it says.
REFUSED_CATEGORIES = ("Cc", "Cf")


def load_registry(path: str | Path) -> pd.DataFrame:
    """Read and check the indicator registry.

    Parameters
    ----------
    path
        ``indicators.csv`` of a dataset directory.

    Returns
    -------
    pandas.DataFrame
        One row per indicator in file order, ``higher_is_better`` as bool, ``period_key``
        (:attr:`integration_models.data.exposure.PeriodType.key`: what one value covers), ``role``
        (``primary`` where not given) and ``construct`` (the indicator's id where not given),
        plus ``lineno``.

    Raises
    ------
    InputError
        Naming the line of an illegal or repeated id, an unknown domain, measure or period, a
        snapshot without its day (``snapshot_day``, MM-DD) or a bad ``period_years``, a
        direction that is not true/false, a role other than primary/secondary/context, an
        empty title, or a control or format character in any text (see
        :func:`refuse_control_characters`); or if the registry has no rows.
    """
    path = Path(path)
    table = read_table(path, REGISTRY_COLUMNS, OPTIONAL_COLUMNS)
    if table.empty:
        raise InputError(path, "the registry lists no indicators")
    refuse_control_characters(table, path)
    seen: dict[str, int] = {}
    for row in table.itertuples(index=False):
        line = getattr(row, LINE)
        if not is_indicator_id(row.indicator_id):
            raise InputError(
                path,
                f"illegal indicator_id {shown(row.indicator_id)} "
                "(must match [a-z][a-z0-9_]{0,62})",
                line,
            )
        if row.indicator_id in seen:
            raise InputError(
                path,
                f"indicator_id '{row.indicator_id}' repeats line {seen[row.indicator_id]}",
                line,
            )
        seen[row.indicator_id] = line
        for column, allowed in (("domain", DOMAINS), ("measure", MEASURES), ("period", PERIODS)):
            value = getattr(row, column)
            if value not in allowed:
                raise InputError(
                    path, f"{column} {shown(value)} is not one of {', '.join(allowed)}", line
                )
        if row.higher_is_better.lower() not in ("true", "false"):
            raise InputError(
                path, f"higher_is_better {shown(row.higher_is_better)} is not true or false", line
            )
        if not row.title:
            raise InputError(path, "title is empty", line)
        if row.role and row.role not in ROLES:
            raise InputError(path, f"role {shown(row.role)} is not one of {', '.join(ROLES)}", line)
    table["period_key"] = [_period_type(row, path).key for row in table.itertuples(index=False)]
    table["higher_is_better"] = table["higher_is_better"].str.lower() == "true"
    table["role"] = table["role"].where(table["role"] != "", DEFAULT_ROLE)
    table["construct"] = table["construct"].where(table["construct"] != "", table["indicator_id"])
    return table


def unmeasured_domains(registry: pd.DataFrame) -> list[str]:
    """Return the domains (in :data:`DOMAINS` order) that no outcome indicator measures.

    A domain counts as measured only by an indicator whose role is ``primary`` or
    ``secondary``: a ``context`` indicator (e.g. a cost per child) is an input, so a domain
    holding only such indicators is still unmeasured. The report states these domains
    plainly, so that "no association" is never read into a domain without data.

    Parameters
    ----------
    registry
        As returned by :func:`load_registry` (a frame without ``role`` counts every indicator
        as ``primary``).
    """
    roles = registry["role"] if "role" in registry else pd.Series(DEFAULT_ROLE, registry.index)
    measured = set(registry.loc[roles.isin(OUTCOME_ROLES), "domain"])
    return [domain for domain in DOMAINS if domain not in measured]


def _period_type(row, path: Path) -> PeriodType:
    """Return what one registry row's values cover, or stop naming the line."""
    line = getattr(row, LINE)
    years = row.period_years or "1"
    if not years.isdigit() or not years.isascii():
        raise InputError(path, f"period_years {shown(years)} is not a whole number", line)
    try:
        return PeriodType(row.period, int(years), row.snapshot_day)
    except ValueError as err:
        raise InputError(path, str(err), line) from None


def refuse_control_characters(table: pd.DataFrame, path: Path) -> None:
    """Refuse the first cell holding a control or format character other than a tab.

    The registry's text reaches SVG figures, HTML and tables; such a character would make an
    SVG invalid XML or reorder the text a reader sees, so it is refused, naming the column
    and the character's code point, rather than stripped.

    Raises
    ------
    InputError
        Naming the line, the column and the code point (e.g. ``U+0007``).
    """
    columns = [column for column in table.columns if column != LINE]
    for row in table.itertuples(index=False):
        for column in columns:
            bad = next((c for c in getattr(row, column) if _refused(c)), None)
            if bad is not None:
                raise InputError(
                    path,
                    f"{column} holds control character U+{ord(bad):04X} (not allowed in text)",
                    getattr(row, LINE),
                )


def _refused(character: str) -> bool:
    """Return True for a control or format character other than a tab."""
    return character != "\t" and unicodedata.category(character) in REFUSED_CATEGORIES


def is_synthetic(registry: pd.DataFrame) -> bool:
    """Return True if the dataset declares itself synthetic (a source starting ``SYNTHETIC``)."""
    return bool(registry["source"].str.startswith(SYNTHETIC_MARK).any())


def period_types(registry: pd.DataFrame) -> list[PeriodType]:
    """Return the distinct kinds of period the registry's indicators cover, by ``period_key``."""
    return [PeriodType.from_key(key) for key in sorted(set(registry["period_key"]))]
