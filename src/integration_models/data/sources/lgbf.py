"""Adapters for the Local Government Benchmarking Framework (LGBF), January 2022 release.

Two files of the same release are read (see ``lgbf/SOURCE.md`` in the shared data folder):

* the long CSV ``lgbf_data_jan22_long.csv`` (:func:`read_lgbf_long`, :func:`lgbf_titles`), one
  row per council, series and year, with the indicator titles and their direction;
* the workbook ``lgbf_raw_new_bnch_data_jan22.xlsx``, sheet "Raw Data"
  (:func:`read_lgbf_raw`), which also holds the numerators and denominators of the indicators,
  among them the counts of looked-after children that no indicator row carries on its own
  terms.

Both identify councils by LGBF-style names only ("Edinburgh City", "Eilean Siar",
"Perth & Kinross", ...), which are mapped to current S12 codes through the project's reference
data. Both label years ``2015-16`` (financial or academic year, or ``2014-17`` for the pooled
survey years of CHN10); ``year`` is the calendar year in which the period ends.

Looked-after children counts (:data:`LAC_SERIES`) are point counts at 31 July, the end of the
children's social work statistics year that LGBF uses as the label: ``2011-12`` is the count
at 31 July 2012, ``2014-15`` at 31 July 2015, and so on. This was established from the data:
the 32 councils' residential and community counts sum exactly to the totals that the Scottish
Government published for 31 July of the label's end year (16,248 in 2012, 15,400 in 2015,
14,897 in 2017, 14,458 in 2020), and to the workbook's own Scotland row. ``year`` is therefore
the calendar year of the 31 July snapshot. The 2020-21 counts are ``dna`` in this release.

The workbook has no children's population series (its population denominators are all-age,
75+, working-age and 16-24 ``MYE Population`` series); take children's populations from the NRS
files instead.
"""

from __future__ import annotations

import difflib
import re
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from integration_models.data.reading import LINE, read_table
from integration_models.data.sources.common import (
    AreaMatcher,
    observations,
    period_end_year,
    refuse_rows,
)
from integration_models.errors import InputError

LONG_COLUMNS = ["Local Authority", "Indicator2", "Year", "Value"]
TITLE_COLUMNS = ["Indicator2", "Title", "One is high"]
RAW_SHEET = "Raw Data"
RAW_AREA_HEADER = "Local Authority"

#: Aggregate (non-council) rows of both LGBF files, normalised as by ``normalise_name``. The
#: January 2022 release has exactly one: the Scotland total. Any other name that is not a
#: council is an error, so that a new aggregate (or a new spelling) is noticed, not dropped.
LGBF_AGGREGATES = frozenset({"scotland"})

#: The looked-after children counts at 31 July in the "Raw Data" sheet (numerator and
#: denominator of CHN8a/CHN8b and CHN9), residential and community settings.
LAC_SERIES = ("No. Of Children (residential)", "No. Of Children (community)")

#: The workbook's missing-value markers (compared lower-cased) and the marker recorded for each;
#: the value is NaN. The text cells of the January 2022 release: ``dna`` (data not available,
#: 1,914 cells), ``NA`` (1,189: mostly the housing (HSN) series and their numerators and
#: denominators, also CHN6, CHN7, CHN12b/f, C&L3, ECON and FINSUS cells), ``#N/A`` (132, an Excel
#: lookup error, SW4b-SW4e 2020-21), ``*`` (64), ``N/A`` (34), ``n/a`` (3) and ``!`` (4:
#: ``Hourly Rate (Female)`` and ``(Male)``, 2015-16, South Ayrshire and South Lanarkshire).
#: Canonical markers
#: (:data:`integration_models.data.numbers.MARKERS`: ``dna``, ``*``, ``na``, ``n/a``) are kept as
#: they are. ``!`` is not canonical and the release does not say what it means; like the ``#N/A``
#: error it stands where no value is given, so both are recorded as ``na`` (not available). Any
#: other text in a data cell is an error, so that a new marker is noticed. (``pandas.read_excel``
#: would silently turn ``NA``, ``N/A``, ``n/a`` and ``#N/A`` into NaN without a reason, which is
#: one reason the sheet is read with openpyxl.)
RAW_MARKERS = {"dna": "dna", "*": "*", "na": "na", "n/a": "n/a", "!": "na", "#n/a": "na"}

# A denominator series copied into the long CSV once per indicator that uses it: readxl made
# the repeated workbook headers unique by appending "...<column number>".
_COPY_SUFFIX = re.compile(r"\.\.\.\d+$")
_RAW_HEADER = re.compile(r"^(?P<series>.+?)\s+(?P<label>\d{4}-\d{2})(?P<real>\s+Real)?$")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DIRECTION = {"Yes": True, "No": False, "": None}


def _read_long(path: str | Path, columns: list[str]) -> pd.DataFrame:
    """Read the long CSV as stripped strings with line numbers, checking ``columns``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found (expected the LGBF long CSV)")
    return read_table(path, columns, allow_extra=True)


def _end_years(labels: pd.Series, lines: pd.Series, path: Path) -> pd.Series:
    """Map period labels to end years, or raise naming the line of the first bad label."""
    years: dict[str, int] = {}
    for label in labels.unique():
        try:
            years[label] = period_end_year(label)
        except ValueError as err:
            line = int(lines[labels == label].iloc[0])
            raise InputError(path, f"Year: {err}", line) from None
    return labels.map(years).astype("int64")


def _numbers(text: pd.Series, lines: pd.Series, path: Path, column: str) -> pd.Series:
    """Parse decimal strings to floats (empty -> NaN); raise naming the line of other text."""
    bad = (text != "") & ~text.str.fullmatch(_NUMBER.pattern)
    if bad.any():
        first = bad.idxmax()
        raise InputError(
            path, f"{column} '{text[first]}' is not a number or empty", int(lines[first])
        )
    values = pd.to_numeric(text.where(text != ""), errors="raise").astype(float)
    if not np.isfinite(values.dropna()).all():
        first = (~np.isfinite(values) & values.notna()).idxmax()
        raise InputError(
            path, f"{column} '{text[first]}' is not a finite number", int(lines[first])
        )
    return values


def _codes(names: pd.Series, matcher: AreaMatcher, path: Path) -> pd.Series:
    """Council code of each name (NaN for aggregates), matching each distinct name once."""
    distinct = pd.Series(names.unique(), dtype=object)
    codes = matcher.by_name(distinct, path, ignore=LGBF_AGGREGATES)
    matcher.check_complete(codes, path)
    return names.map(dict(zip(distinct, codes, strict=True)))


def _check_unique(frame: pd.DataFrame, path: Path) -> None:
    """Raise naming the line of the first repeated (series, council, year)."""
    refuse_rows(
        frame[frame.duplicated(["series", "area_code", "year"])],
        path,
        lambda row: (
            f"series '{row['series']}' repeated for {row['area_code']} {row['period_label']}"
        ),
    )


def read_lgbf_long(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read the LGBF long CSV into observations.

    ``series`` is ``Indicator2`` (e.g. ``CHN11``, ``CHN8b-Real``, or a numerator/denominator
    name such as ``No. Of Children (residential)``); ``year`` the end year of ``Year``;
    ``value`` the number, NaN where the CSV is empty (the workbook's ``dna``, ``*`` and ``!``
    markers became empty cells in this export, so the reason is lost and ``marker`` is empty).
    Numerators and denominators are separate series here, so those columns stay empty.

    Rows that are skipped, and why:

    * the Scotland rows (:data:`LGBF_AGGREGATES`): an aggregate, not a council;
    * the *repeated denominator copies*, whose ``Year`` carries a suffix such as
      ``2010-11...1090``. In the workbook a denominator that feeds several indicators appears
      once per indicator under the same header (``MYE Population 2010-11`` in columns 1090,
      1278, 1421 and 1892); when the Improvement Service read the sheet with R's readxl, the
      repeated headers were made unique by appending ``...<column number>``, and that suffix
      ended up in ``Year`` when the sheet was pivoted long. The January 2022 release has 4,158
      such rows (126 workbook columns x 33 rows) in four series: ``MYE Population`` (2,310),
      ``Number of Premises for Refuse Collection`` (924), ``Rent due in year`` (528, one of
      its workbook headers has a leading blank) and ``Properties within scope of SHQS year
      end`` (396; its two unrepeated years, 2019-20 and 2020-21, are kept). The copies are not
      always identical (Glasgow City's ``MYE Population`` 2010-11 is 592,820 in three copies
      and 598,830 in one), so no copy can be preferred on the file's evidence: use
      :func:`read_lgbf_raw` to compare them, or the NRS population files.

    The counts of skipped rows are in ``result.attrs["dropped"]``
    (``{"denominator copies": n, "Scotland": k}``).

    Parameters
    ----------
    path
        ``lgbf_data_jan22_long.csv``.
    matcher
        Maps LGBF council names to current S12 codes.

    Returns
    -------
    pandas.DataFrame
        Observations (:data:`integration_models.data.sources.common.OBSERVATION_COLUMNS`).

    Raises
    ------
    InputError
        Naming the file if a column is missing, a council name is unknown, a council is absent,
        and naming the line if a period label cannot be parsed, a value is not a number, or a
        series is repeated for a council and year.
    """
    path = Path(path)
    table = _read_long(path, LONG_COLUMNS)
    copies = table["Year"].str.contains(_COPY_SUFFIX)
    table = table[~copies]
    codes = _codes(table["Local Authority"], matcher, path)
    aggregate = codes.isna()
    table = table[~aggregate]
    frame = pd.DataFrame(
        {
            "series": table["Indicator2"].astype(str),
            "area_code": codes[~aggregate],
            "year": _end_years(table["Year"], table[LINE], path),
            "value": _numbers(table["Value"], table[LINE], path, "Value"),
            "marker": "",
            "period_label": table["Year"].astype(str),
            LINE: table[LINE],
        }
    )
    empty_series = frame["series"] == ""
    if empty_series.any():
        raise InputError(path, "Indicator2 is empty", int(frame.loc[empty_series, LINE].iloc[0]))
    _check_unique(frame, path)
    out = observations(frame)
    out.attrs["dropped"] = {
        "denominator copies": int(copies.sum()),
        "Scotland": int(aggregate.sum()),
    }
    return out


def lgbf_titles(path: str | Path) -> dict[str, tuple[str, bool | None]]:
    """Return each series' title and direction from the LGBF long CSV.

    The direction tells how to read an indicator: ``True`` where a higher value is better
    (``One is high`` = Yes), ``False`` where lower is better, ``None`` where the CSV gives none
    (numerator and denominator series). The title is the CSV's ``Title``, empty where it gives
    none. These are the publisher's own labels, taken as they are: note for example that CHN14a
    and CHN14b (attainment *gaps*) are marked ``One is high`` = Yes in this release.

    Parameters
    ----------
    path
        ``lgbf_data_jan22_long.csv``.

    Returns
    -------
    dict
        ``{series: (title, one_is_high)}`` for every ``Indicator2`` in the file.

    Raises
    ------
    InputError
        If a column is missing, ``One is high`` is not Yes, No or empty, or a series has more
        than one title or direction.
    """
    path = Path(path)
    table = _read_long(path, TITLE_COLUMNS)
    bad = ~table["One is high"].isin(list(_DIRECTION))
    if bad.any():
        first = table[bad].iloc[0]
        raise InputError(
            path, f"One is high '{first['One is high']}' is not Yes, No or empty", int(first[LINE])
        )
    distinct = table.drop_duplicates(TITLE_COLUMNS)
    repeated = distinct.duplicated("Indicator2")
    if repeated.any():
        first = distinct[repeated].iloc[0]
        raise InputError(
            path,
            f"series '{first['Indicator2']}' has more than one title or direction",
            int(first[LINE]),
        )
    return {
        row["Indicator2"]: (row["Title"], _DIRECTION[row["One is high"]])
        for _, row in distinct.iterrows()
    }


def _column_letter(index: int) -> str:
    """Excel column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _read_sheet(path: Path) -> list[tuple]:
    """Return the "Raw Data" sheet as rows of cell values (openpyxl, read-only)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise InputError(path, "file not found (expected the LGBF raw-data workbook)")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as err:
        raise InputError(path, f"cannot open as an .xlsx workbook: {err}") from None
    try:
        if RAW_SHEET not in book.sheetnames:
            raise InputError(
                path, f"sheet '{RAW_SHEET}' not found; the workbook has {book.sheetnames}"
            )
        return list(book[RAW_SHEET].iter_rows(values_only=True))
    finally:
        book.close()


def _cell(value: object, path: Path, where: str) -> tuple[float, str]:
    """Return (value, marker) of a workbook cell."""
    if value is None:
        return np.nan, ""
    if isinstance(value, bool):
        raise InputError(path, f"{where}: TRUE/FALSE where a number was expected")
    if isinstance(value, int | float):
        if not np.isfinite(value):
            raise InputError(path, f"{where}: '{value}' is not a finite number")
        return float(value), ""
    text = str(value).strip()
    if text == "":
        return np.nan, ""
    if text.lower() in RAW_MARKERS:
        return np.nan, RAW_MARKERS[text.lower()]
    if _NUMBER.fullmatch(text):
        return float(text), ""
    raise InputError(
        path,
        f"{where}: '{text}' is neither a number nor one of the markers {', '.join(RAW_MARKERS)}",
    )


def _parse_header(header: tuple, path: Path, rows: list[tuple]) -> dict[int, tuple[str, str]]:
    """Map column index -> (series, period label) for every data column of the header."""
    first = str(header[0]).strip() if header and header[0] is not None else ""
    if first != RAW_AREA_HEADER:
        raise InputError(
            path,
            f"sheet '{RAW_SHEET}': unexpected layout: cell A1 is '{first}', expected "
            f"'{RAW_AREA_HEADER}' with the council names below it",
        )
    columns: dict[int, tuple[str, str]] = {}
    for j, name in enumerate(header[1:], start=1):
        text = "" if name is None else str(name).strip()
        if text == "":
            if any(j < len(row) and row[j] not in (None, "") for row in rows):
                raise InputError(
                    path, f"sheet '{RAW_SHEET}': column {_column_letter(j)} has data but no header"
                )
            continue
        match = _RAW_HEADER.match(text)
        if match is None:
            raise InputError(
                path,
                f"sheet '{RAW_SHEET}': header '{text}' of column {_column_letter(j)} is not "
                "'<series> <year>' (e.g. 'CHN9 2015-16')",
            )
        series = match.group("series") + ("-Real" if match.group("real") else "")
        columns[j] = (series, match.group("label"))
    return columns


def read_lgbf_raw(
    path: str | Path,
    matcher: AreaMatcher,
    series: list[str],
    *,
    on_conflict: Literal["error", "first"] = "error",
) -> pd.DataFrame:
    """Read the requested series from the LGBF workbook's "Raw Data" sheet into observations.

    The sheet has one row per council plus Scotland (skipped, :data:`LGBF_AGGREGATES`) and one
    column per series and year, headed ``<series> <year>`` (``No. Of Children (residential)
    2015-16``, ``MYE Population 2015-16``, ``CHN9 2015-16``); inflation-adjusted costs are
    headed ``<series> <year> Real`` and are named ``<series>-Real`` here, as in the long CSV.
    Surrounding blanks in headers are ignored (one header has a leading blank).

    Markers are kept (:data:`RAW_MARKERS`): ``dna``, ``*``, ``NA`` and ``N/A`` as themselves
    (lower-cased), ``!`` and the Excel error ``#N/A`` as ``na``; their value is NaN. An empty
    cell is NaN with an empty marker. Numerators and denominators are separate series in this
    sheet, so those columns stay empty.

    A series that feeds several indicators appears once per indicator under the same header.
    Identical copies are read once. Copies that differ (``MYE Population`` in 2010-11, 2013-14
    and 2014-15; ``Properties within scope of SHQS year end`` in 2013-14 and 2014-15) raise an
    error unless ``on_conflict="first"``, which takes the leftmost copy.

    For the looked-after children counts (:data:`LAC_SERIES`) the label is the statistics year
    ending 31 July and ``year`` the calendar year of that 31 July (see the module docstring).

    Parameters
    ----------
    path
        ``lgbf_raw_new_bnch_data_jan22.xlsx``.
    matcher
        Maps LGBF council names to current S12 codes.
    series
        Series names as in the headers, without the year (e.g. ``"No. Of Children
        (community)"``).
    on_conflict
        What to do when repeated columns of a requested series disagree.

    Returns
    -------
    pandas.DataFrame
        Observations for the requested series, every council and year.

    Raises
    ------
    InputError
        Naming the file if it is not a workbook, the sheet is missing, a header or a cell is not
        as expected, a requested series is absent (listing close names), repeated columns
        disagree, or a council name is unknown or a council missing.
    """
    path = Path(path)
    rows = _read_sheet(path)
    if not rows:
        raise InputError(path, f"sheet '{RAW_SHEET}' is empty")
    header, body = rows[0], rows[1:]
    columns = _parse_header(header, path, body)
    known = sorted({name for name, _ in columns.values()})
    for name in series:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
            raise InputError(
                path,
                f"sheet '{RAW_SHEET}': series '{name}' not found; close names: "
                f"{close if close else 'none'}",
            )
    # Row numbers in messages are the sheet's (the header is row 1).
    data = [(i + 2, row) for i, row in enumerate(body) if any(c not in (None, "") for c in row)]
    for number, row in data:
        if row[0] is None or str(row[0]).strip() == "":
            raise InputError(path, f"sheet '{RAW_SHEET}': row {number} has data but no council")
    names = pd.Series([str(row[0]).strip() for _, row in data])
    codes = matcher.by_name(names, path, ignore=LGBF_AGGREGATES)
    matcher.check_complete(codes, path)

    wanted: dict[tuple[str, str], list[int]] = {}
    for j, key in columns.items():
        if key[0] in series:
            wanted.setdefault(key, []).append(j)
    records = []
    for (name, label), indices in sorted(wanted.items()):
        cells = [
            [
                _cell(
                    row[j] if j < len(row) else None,
                    path,
                    f"sheet '{RAW_SHEET}', cell {_column_letter(j)}{number}",
                )
                for number, row in data
            ]
            for j in indices
        ]
        for k in range(1, len(cells)):
            differs = [
                i
                for i, (a, b) in enumerate(zip(cells[0], cells[k], strict=True))
                if not (a[1] == b[1] and (a[0] == b[0] or (np.isnan(a[0]) and np.isnan(b[0]))))
            ]
            if differs and on_conflict == "error":
                letters = ", ".join(_column_letter(j) for j in indices)
                raise InputError(
                    path,
                    f"sheet '{RAW_SHEET}': the columns headed '{name} {label}' ({letters}) "
                    f"disagree, e.g. for {names[differs[0]]} ({cells[0][differs[0]][0]} in "
                    f"{_column_letter(indices[0])}, {cells[k][differs[0]][0]} in "
                    f"{_column_letter(indices[k])}); pass on_conflict='first' to take the "
                    "leftmost, or take the series from another source",
                )
        year = period_end_year(label)
        for i, code in enumerate(codes):
            if code is None or pd.isna(code):
                continue
            value, marker = cells[0][i]
            records.append((name, code, year, value, marker, label))
    frame = pd.DataFrame(
        records, columns=["series", "area_code", "year", "value", "marker", "period_label"]
    )
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype(float)
    return observations(frame)
