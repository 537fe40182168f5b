"""The machinery of a declared table schema: column declarations, their check and its error.

A table's schema is a :mod:`pandera` schema built from the column helpers here
(:func:`number`, :func:`integer`, :func:`text`, :func:`flag`, :func:`one_of`); a frame is
checked by :func:`problems`, which names each failing column and check in one line, and a
table that fails is refused with :class:`TableSchemaError`. The schemas themselves are
declared where their tables are: the panel's in :mod:`integration_models.data.schemas`, the
results tables' in :mod:`integration_models.results.schemas`. This module declares no table,
so a step that checks the panel does not depend on the results tables' schemas (adding one
reruns only the steps that write or read results).

Types are checked as a CSV reader sees them: numbers are any numeric column (a float column
whose values are all whole is read back as integers), text is text or empty (an all-empty
text column is read back as floats), and flags (``sign_right``, ``false_positive``,
``changed``) are True, False or empty. A table with no rows (the known-effects tables of real
data) is checked for its columns only, as nothing types an empty column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

# at most this many failing values are quoted per column and check
QUOTED = 3


class TableSchemaError(Exception):
    """A table that does not match its declared schema.

    Parameters
    ----------
    table
        The table's name (the file stem, e.g. ``coefficients``).
    path
        The file written or read.
    problems
        One line per failing column and check.
    module
        The module declaring the schema, named in the message.
    """

    def __init__(
        self,
        table: str,
        path: str | Path,
        problems: Sequence[str],
        module: str = "integration_models.results.schemas",
    ) -> None:
        self.table = table
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(
            f"table '{table}' ({self.path}) does not match its schema in {module}: "
            f"{'; '.join(self.problems)}"
        )


def is_number(series: pd.Series) -> bool:
    """Tell whether ``series`` is numeric (integers or floats, not True/False)."""
    return is_numeric_dtype(series) and not is_bool_dtype(series)


def _is_text(series: pd.Series) -> pd.Series:
    return series.map(lambda value: isinstance(value, str))


def _is_flag(series: pd.Series) -> pd.Series:
    return series.map(lambda value: isinstance(value, bool | np.bool_))


def number(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    """Declare a numeric column (integers or floats), empty cells allowed if ``nullable``."""
    return pa.Column(
        None, [pa.Check(is_number, name="numeric"), *checks], nullable=nullable, coerce=False
    )


def integer(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    """Declare a count: integers, never empty; or, if ``nullable``, whole numbers or empty.

    A column with empty cells is read back as floats, so a nullable count is checked for
    whole values rather than an integer type (``n_romano_wolf`` is empty when the headline
    test has no Romano-Wolf p-values).
    """
    if nullable:
        whole = pa.Check(lambda series: series % 1 == 0, name="whole number")
        return number(whole, *checks)
    return pa.Column(None, [pa.Check(is_integer_dtype, name="integer"), *checks], nullable=False)


def text(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    """Declare a text column, empty cells allowed if ``nullable``."""
    return pa.Column(None, [pa.Check(_is_text, name="text"), *checks], nullable=nullable)


def flag(*, nullable: bool = True) -> pa.Column:
    """Declare a True/False column, empty where the flag does not apply if ``nullable``."""
    return pa.Column(None, pa.Check(_is_flag, name="True or False"), nullable=nullable)


def one_of(values: Iterable[str]) -> pa.Check:
    """Values restricted to a known set."""
    return pa.Check.isin(list(values))


P_VALUE = pa.Check.in_range(0, 1)
NON_NEGATIVE = pa.Check.ge(0)
PERCENT = pa.Check.in_range(0, 100)


def problems(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> list[str]:
    """Return what is wrong with ``frame`` under ``schema``: one line per column and check.

    An empty list means the frame matches. A frame with no rows is checked for its column
    names and their order only.
    """
    if frame.empty:
        expected = list(schema.columns)
        if schema.strict and list(frame.columns) != expected:
            return [f"columns are {list(frame.columns)}, expected {expected}"]
        absent = [c for c in expected if schema.columns[c].required and c not in frame]
        return [f"column '{c}' is missing" for c in absent]
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as error:
        return _describe(error.failure_cases)
    return []


def _describe(cases: pd.DataFrame) -> list[str]:
    """One line per failing column and check, quoting a few failing values and their rows.

    A check of the whole table (the interval order, the column layout) is reported once,
    with the rows that fail it, rather than once per column.
    """
    lines = []
    whole = cases["schema_context"].astype(str) == "DataFrameSchema"
    for check, group in cases[whole].groupby(cases["check"].astype(str), sort=False):
        values = [str(v) for v in group["failure_case"]]
        if check == "column_in_dataframe":
            lines.extend(f"column '{value}' is missing" for value in values)
        elif check == "column_in_schema":
            lines.extend(f"column '{value}' is not in the schema" for value in values)
        elif check == "column_ordered":
            lines.append(f"columns out of order, from '{values[0]}' on")
        else:
            rows = sorted({int(row) for row in group["index"].dropna()})
            shown = ", ".join(str(row) for row in rows[:QUOTED])
            more = f" and {len(rows) - QUOTED} more" if len(rows) > QUOTED else ""
            lines.append(f"table fails {check}" + (f": rows {shown}{more}" if rows else ""))
    columns = cases[~whole]
    for (column, check), group in columns.groupby(
        [columns["column"].astype(str), columns["check"].astype(str)], sort=False
    ):
        quoted = ", ".join(
            f"{value!r}" + ("" if pd.isna(row) else f" (row {int(row)})")
            for value, row in zip(
                group["failure_case"].head(QUOTED), group["index"].head(QUOTED), strict=True
            )
        )
        more = f" and {len(group) - QUOTED} more" if len(group) > QUOTED else ""
        lines.append(f"column '{column}' fails {check}: {quoted}{more}")
    return lines


def text_columns(schema: pa.DataFrameSchema) -> list[str]:
    """Return the columns ``schema`` declares as text (by name)."""
    return [
        name
        for name, column in schema.columns.items()
        if any(getattr(c, "name", None) == "text" for c in column.checks)
    ]
