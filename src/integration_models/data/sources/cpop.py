"""Adapter for the Community Planning Outcomes Profile (CPOP), Improvement Service, Sep 2023.

``cpop/CPPcleandata.csv`` is a long table (``CPP, Indicator, Type, Year, value,
IndicatorFullName, FG``) of 20 indicators for the 32 councils (community planning
partnerships) and Scotland, 2010/11 to 2024/25. It mixes observations with model output:
``Type`` is ``Raw data``, ``Imputed`` (back-cast, e.g. Child Poverty 2010/11-2013/14) or
``Projected`` (2022/23-2024/25). Only ``Raw data`` rows are observations; the others are
dropped and counted, so that the build can report how much was model output.

Several indicators are multi-year averages labelled by the last year of the window
(:func:`cpop_rolled_series`); consecutive values overlap and are not independent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.reading import LINE, read_table
from integration_models.data.sources.common import (
    OBSERVATION_COLUMNS,
    AreaMatcher,
    observations,
    period_end_year,
)
from integration_models.errors import InputError

CPOP_COLUMNS = ["CPP", "Indicator", "Type", "Year", "value"]
OBSERVED = "Raw data"
MODEL_OUTPUT = ("Imputed", "Projected")

#: Aggregate (non-council) rows, normalised as by ``normalise_name``: only the Scotland total
#: in the September 2023 build. Any other name that is not a council is an error.
CPOP_AGGREGATES = frozenset({"scotland"})

#: Cells with no value: empty, or ``NA`` (how R, which wrote the file, spells a missing
#: value; two Raw data cells in the September 2023 build: Inverclyde's Primary 1 BMI and
#: Orkney's Well-being). Both are recorded with an empty marker, as blanks left by the source:
#: ``NA`` here is the writer's missing value, not a publisher's suppression marker.
_EMPTY = frozenset({"", "NA"})

_ROLLED = frozenset(
    {
        "Healthy Birthweight",
        "Primary 1 Body Mass Index",
        "Attainment",
        "Employment Rate",
        "Median Earnings",
        "Fuel Poverty",
        "Fragility",
    }
)


def cpop_rolled_series() -> frozenset[str]:
    """Return the CPOP series whose values are three-year averages, labelled by the last year.

    The evidence, from the files in ``cpop/``:

    * ``Metadata.csv`` gives the raw time period of each as a run of three-year windows:
      Healthy Birthweight, Primary 1 Body Mass Index, Employment Rate and Median Earnings
      ``2008/09-2010/11 to 2019/20-2021/22``; Average Highest Attainment (``Attainment`` in
      ``CPPcleandata.csv``) ``2011/12 - 2013/14 to 2018/19 - 2020/21``; Fuel Poverty
      ``2016-2018 to 2017-2019`` (pooled Scottish House Condition Survey years); Fragility
      ``2009-2011 to 2020-2022``.
    * The workbook ``Final_CPP_Data_Sep_2023.xlsx`` names four of its sheets ``... - Rolled``
      (birthweight, P1 BMI, employment rate, earnings), and its notes page lists birthweight,
      P1 BMI, employment rate, median earnings, education attainment and crime as rolled.

    Crime Rate is left out: the notes page is older than the current data (updated "all" in
    2019 and since), and ``Metadata.csv`` gives single years (``2013/14 to 2021/22``).
    Well-being (a note of 2019 says "rolled this year", but the measure was replaced in 2020
    and ``Metadata.csv`` gives single years) is left out for the same reason.

    Returns
    -------
    frozenset of str
        ``Indicator`` names as in ``CPPcleandata.csv``.
    """
    return _ROLLED


def read_cpop(path: str | Path, matcher: AreaMatcher) -> tuple[pd.DataFrame, dict[str, int]]:
    """Read ``CPPcleandata.csv`` into observations of the councils' raw data.

    ``series`` is ``Indicator`` (e.g. ``Child Poverty``); ``year`` the end year of ``Year``
    (``2015/16`` -> 2016; for rolled series the last year of the window); ``value`` the number,
    NaN with an empty marker where the file has none (empty or ``NA``). Numerator and
    denominator are not given.

    Parameters
    ----------
    path
        ``CPPcleandata.csv``.
    matcher
        Maps CPOP council names ("Edinburgh, City of", "Eilean Siar", ...) to S12 codes.

    Returns
    -------
    tuple
        The observations, and the count of dropped rows by reason: ``{"Imputed": n,
        "Projected": m, "Scotland": k}``. Each row counts once, under the first reason that
        applies in that order (so ``Scotland`` counts the Scotland rows of raw data only).

    Raises
    ------
    InputError
        Naming the file if a column is missing, a council name is unknown or a council absent
        from the raw data, and the line if a ``Type`` is unknown, a period label cannot be
        parsed, a value is not a number, or an indicator is repeated for a council and year.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found (expected the CPOP CPPcleandata.csv)")
    table = read_table(path, CPOP_COLUMNS, allow_extra=True)
    types = (OBSERVED, *MODEL_OUTPUT)
    unknown = ~table["Type"].isin(types)
    if unknown.any():
        first = table[unknown].iloc[0]
        raise InputError(
            path, f"Type '{first['Type']}' is not one of {', '.join(types)}", int(first[LINE])
        )
    codes = matcher.by_name(table["CPP"], path, ignore=CPOP_AGGREGATES)
    dropped = {kind: int((table["Type"] == kind).sum()) for kind in MODEL_OUTPUT}
    raw = table["Type"] == OBSERVED
    aggregate = codes.isna()
    dropped["Scotland"] = int((raw & aggregate).sum())
    keep = raw & ~aggregate
    table, codes = table[keep], codes[keep]
    matcher.check_complete(codes, path)

    years: dict[str, int] = {}
    for label in table["Year"].unique():
        try:
            years[label] = period_end_year(label)
        except ValueError as err:
            line = int(table.loc[table["Year"] == label, LINE].iloc[0])
            raise InputError(path, f"Year: {err}", line) from None
    text = table["value"].where(~table["value"].isin(_EMPTY))
    values = pd.to_numeric(text, errors="coerce").astype(float)
    bad = (text.notna() & values.isna()) | np.isinf(values)
    if bad.any():
        first = table[bad].iloc[0]
        raise InputError(
            path, f"value '{first['value']}' is not a number, empty or NA", int(first[LINE])
        )
    frame = pd.DataFrame(
        {
            "series": table["Indicator"].astype(str),
            "area_code": codes,
            "year": table["Year"].map(years).astype("int64"),
            "value": values,
            "marker": "",
            "period_label": table["Year"].astype(str),
            LINE: table[LINE],
        }
    )
    repeated = frame.duplicated(["series", "area_code", "year"])
    if repeated.any():
        first = frame[repeated].iloc[0]
        raise InputError(
            path,
            f"indicator '{first['series']}' repeated for {first['area_code']} "
            f"{first['period_label']}",
            int(first[LINE]),
        )
    return observations(frame), dropped


def read_cpop_model_output(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Return the council rows that :func:`read_cpop` drops as model output, for the record.

    The build's ledger lists every row an indicator selects; for a CPOP series that includes
    its ``Imputed`` and ``Projected`` rows, which are the Improvement Service's model output,
    not observations. This reads them with the same matching of names and periods.

    Parameters
    ----------
    path
        ``CPPcleandata.csv``.
    matcher
        Maps CPOP council names to S12 codes.

    Returns
    -------
    pandas.DataFrame
        The observation columns (``value`` NaN where the cell is not a number) plus ``type``
        (``Imputed`` or ``Projected``), one row per council, series and period.

    Raises
    ------
    InputError
        Naming the file if a column is missing or a council name is unknown, and the line if
        a period label cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found (expected the CPOP CPPcleandata.csv)")
    table = read_table(path, CPOP_COLUMNS, allow_extra=True)
    codes = matcher.by_name(table["CPP"], path, ignore=CPOP_AGGREGATES)
    keep = table["Type"].isin(MODEL_OUTPUT) & codes.notna()
    table, codes = table[keep], codes[keep]
    years = []
    for label, line in zip(table["Year"], table[LINE], strict=True):
        try:
            years.append(period_end_year(label))
        except ValueError as err:
            raise InputError(path, f"Year: {err}", int(line)) from None
    text = table["value"].where(~table["value"].isin(_EMPTY))
    frame = pd.DataFrame(
        {
            "series": table["Indicator"].astype(str),
            "area_code": codes,
            "year": pd.Series(years, index=table.index, dtype="int64"),
            "value": pd.to_numeric(text, errors="coerce").astype(float),
            "marker": "",
            "period_label": table["Year"].astype(str),
            "type": table["Type"].astype(str),
        }
    )
    frame = frame.assign(numerator=np.nan, denominator=np.nan)[[*OBSERVATION_COLUMNS, "type"]]
    return frame.sort_values(["series", "area_code", "year"], kind="stable").reset_index(drop=True)
