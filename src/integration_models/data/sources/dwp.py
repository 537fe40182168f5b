"""DWP/HMRC Children in Low Income Families: the Stat-Xplore export and a Scottish extract.

The Stat-Xplore export covers every UK local authority by **name** only, so the Scottish
councils are picked out by name and the others dropped. Because dropping unknown names is
legitimate here, a Scottish council whose spelling changed would vanish silently; the reader
therefore insists that exactly the 32 councils match, once each, and names any unknown
spelling among or next to the Scottish rows when they do not.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.reading import LINE, read_table, read_text
from integration_models.data.reference import normalise_name
from integration_models.data.sources.common import (
    NOT_COUNCILS,
    AreaMatcher,
    observations,
    parse_numbers,
    period_end_year,
    refuse_rows,
)
from integration_models.data.sources.opendata import percentage_mismatches
from integration_models.errors import InputError

STAT_XPLORE_SERIES = "children_relative_low_income_count"
CHILD_POVERTY_COUNT = "children_low_income_count"
CHILD_POVERTY_PERCENT = "children_low_income_percent"
CHILD_POVERTY_COLUMNS = [
    "ltla21_name",
    "ltla21_code",
    "year",
    "children_low_income_abs",
    "population_0_16",
    "children_low_income_perc",
]
FIRST_HEADER = "Year"
SECOND_HEADER = "National - Regional - LA - OAs"
NOT_AUTHORITIES = frozenset({"unknown", "total"})
_FYE = re.compile(r"(\d{4}/\d{2})(?: \(p\))?")
_ANNOTATION = re.compile(r"(\d{4}/\d{2}) - Annotations")
PERCENT_TOLERANCE = 0.001


def _header(cells: list[str], path: Path) -> list[tuple[int, str, int | None]]:
    """Return (count column, year label, annotation column) per year of the first header line.

    The line is ``"Year", "2014/15", "2014/15 - Annotations", ...`` with an optional empty
    last cell; ``(p)`` after a label marks a provisional year.
    """
    while cells and cells[-1] == "":
        cells = cells[:-1]
    if not cells or cells[0] != FIRST_HEADER:
        raise InputError(
            path,
            f"not a Stat-Xplore export: line 1 should start with '{FIRST_HEADER}', found "
            f"{cells[:3]}",
            1,
        )
    years = []
    position = 1
    while position < len(cells):
        label = cells[position]
        match = _FYE.fullmatch(label)
        if match is None:
            raise InputError(
                path,
                f"column {position + 1} of the header is '{label}', expected a financial year "
                "such as '2015/16' or '2021/22 (p)'",
                1,
            )
        annotation = None
        if position + 1 < len(cells):
            note = _ANNOTATION.fullmatch(cells[position + 1])
            if note is not None:
                if note.group(1) != match.group(1):
                    raise InputError(
                        path,
                        f"annotation column '{cells[position + 1]}' follows '{label}'",
                        1,
                    )
                annotation = position + 1
        years.append((position, label, annotation))
        position += 1 if annotation is None else 2
    labels = [label for _, label, _ in years]
    if len(set(labels)) != len(labels):
        raise InputError(path, f"a year is repeated in the header: {labels}", 1)
    return years


def _scottish_rows(names: list[str], lines: list[int], matcher: AreaMatcher, path: Path):
    """Return the current code of each row's name (None for other authorities), checked."""
    normalised = [normalise_name(n) for n in names]
    codes = [matcher.names.get(n) for n in normalised]
    seen: dict[str, int] = {}
    for code, name, line in zip(codes, names, lines, strict=True):
        if code is None:
            continue
        if code in seen:
            raise InputError(
                path, f"council '{name}' ({code}) occurs again (first on line {seen[code]})", line
            )
        seen[code] = line
    matched = [i for i, code in enumerate(codes) if code is not None]
    missing = sorted(set(matcher.codes.values()) - set(seen))
    if not matched:
        raise InputError(path, "no Scottish council name found (expected 32)")
    # Stat-Xplore lists authorities by nation, so the Scottish councils form one block; an
    # unknown name inside it is most likely a council with a new spelling (or a row that does
    # not belong there). A renamed first or last council falls just outside the block, so
    # when nothing inside explains the missing councils, the rows next to it are named too.
    ignored = NOT_COUNCILS | NOT_AUTHORITIES

    def unknown_between(low: int, high: int) -> list[int]:
        low, high = max(low, 0), min(high, len(names) - 1)
        return [
            i for i in range(low, high + 1) if codes[i] is None and normalised[i] not in ignored
        ]

    inside = unknown_between(matched[0], matched[-1])
    if len(inside) < len(missing):
        inside = unknown_between(matched[0] - len(missing), matched[-1] + len(missing))
    suspects = [f"'{names[i]}' (line {lines[i]})" for i in inside]
    if missing or suspects:
        known: dict[str, str] = {}
        for name, code in matcher.names.items():
            known.setdefault(code, name)
        expected = ", ".join(f"{c} ({known.get(c, '?')})" for c in missing) or "none"
        listed = ", ".join(suspects) or "none found"
        raise InputError(
            path,
            f"{len(seen)} of {len(set(matcher.codes.values()))} councils matched by name "
            f"(missing: {expected}); unknown name(s) among or next to the Scottish rows: "
            f"{listed}. Add new spellings to data/reference/areas.csv",
        )
    return codes


def read_stat_xplore(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read the DWP Stat-Xplore export of children in relative low income by local authority.

    The export is wide: line 1 is ``"Year"`` then, per financial year, a count column
    (``2014/15`` ... ``2021/22 (p)``) and an annotations column; line 2 is the row-field title
    ``"National - Regional - LA - OAs"``; then one row per UK local authority by name, closing
    with ``Unknown`` (counts ``..``) and ``Total``.

    Parameters
    ----------
    path
        The Stat-Xplore CSV export.
    matcher
        Maps council names (and variants) to current codes.

    Returns
    -------
    pandas.DataFrame
        Observations of ``children_relative_low_income_count`` (children under 16 in relative
        low income before housing costs) for the 32 Scottish councils. ``year`` is the end
        year of the financial year (``2015/16`` is 2016); ``period_label`` is the column's
        label, ``(p)`` marking a provisional year (2021/22 in the 2022 release), followed by
        ``[annotation: ...]`` when Stat-Xplore annotated the cell. ``..`` is NaN with marker
        ``..``. Rows of other UK authorities, ``Unknown`` and ``Total`` are dropped.

    Raises
    ------
    InputError
        Naming the file and line on a header that is not the Stat-Xplore layout (including an
        extra or missing header line), a row with too few or too many cells, or a count that
        is neither a number nor a marker; naming the unknown spelling when fewer than 32
        councils match, or when an unknown name sits among the Scottish rows; and on a
        council that occurs twice.
    """
    path = Path(path)
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):
                rows.append([cell.strip() for cell in record])
                lines.append(reader.line_num)
    except csv.Error as err:
        raise InputError(path, f"cannot parse CSV: {err}", reader.line_num) from None
    if len(rows) < 3:
        raise InputError(path, "too short for a Stat-Xplore export (two header lines and data)")
    years = _header(rows[0], path)
    second = [cell for cell in rows[1] if cell]
    if second != [SECOND_HEADER]:
        raise InputError(
            path,
            f"line {lines[1]} should be the row-field title '{SECOND_HEADER}' alone, found "
            f"{rows[1][:3]} (extra or missing header line?)",
            lines[1],
        )
    last_count = years[-1][0]
    body, body_lines = rows[2:], lines[2:]
    for row, line in zip(body, body_lines, strict=True):
        # Cells after the last count (its annotation, a trailing comma) may be left off.
        if not last_count < len(row) <= len(rows[0]):
            raise InputError(
                path, f"expected {len(rows[0])} fields as in the header, found {len(row)}", line
            )
        if row[0] in (FIRST_HEADER, SECOND_HEADER):
            raise InputError(path, f"header line repeated ('{row[0]}')", line)
    codes = _scottish_rows([row[0] for row in body], body_lines, matcher, path)
    scottish = [
        (row, line, code) for row, line, code in zip(body, body_lines, codes, strict=True) if code
    ]
    frames = []
    for column, label, annotation in years:
        cells = [row[column] for row, _, _ in scottish]
        notes = [
            row[annotation] if annotation is not None and annotation < len(row) else ""
            for row, _, _ in scottish
        ]
        values, markers = parse_numbers(cells, [n for _, n, _ in scottish], label, path)
        frames.append(
            pd.DataFrame(
                {
                    "series": STAT_XPLORE_SERIES,
                    "area_code": [code for _, _, code in scottish],
                    "year": period_end_year(_FYE.fullmatch(label).group(1)),
                    "value": values,
                    "numerator": np.nan,
                    "denominator": np.nan,
                    "marker": markers,
                    "period_label": [
                        label + (f" [annotation: {note}]" if note else "") for note in notes
                    ],
                }
            )
        )
    return observations(pd.concat(frames, ignore_index=True))


def read_child_poverty_csv(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read the Scottish extract of children in low income with its NRS 0-16 denominators.

    ``population_0_16`` is what its name says, ages 0-16 (17 single years; it equals the NRS
    sums exactly), while the counts are of children under 16, so the published percentage
    understates the rate by about 6%. The build uses this file only to check the Stat-Xplore
    counts (:mod:`integration_models.data.scotland`) and takes its denominators, ages 0-15, from
    the NRS files.

    Parameters
    ----------
    path
        CSV with ``ltla21_name, ltla21_code, year, children_low_income_abs, population_0_16,
        children_low_income_perc``; ``year`` is the financial year end (2015 = 2014/15),
        written as ``2015.0``.
    matcher
        Maps council codes, current or former, and names to current codes.

    Returns
    -------
    pandas.DataFrame
        Two series per council and year: ``children_low_income_percent`` (value = the
        published percentage, numerator = the count, denominator = the NRS population aged
        0-16) and ``children_low_income_count`` (value = the count, denominator = that
        population). ``year`` is the file's ``year`` (already the end year); ``period_label``
        is the cell as written. Former codes are recoded, but the file itself lacks 14
        council-years (Fife and Perth and Kinross 2015-2017, Glasgow City and North
        Lanarkshire 2015-2018): its origin joined on current codes and lost them, so recoding
        cannot bring them back; :func:`read_stat_xplore` has their counts (without
        denominators).

    Raises
    ------
    InputError
        Naming the file on a missing column, and the line on a year that is not a whole
        year, a cell that is not a number, a code that does not match its name, a repeated
        council-year, or a percentage that differs from count / population * 100 by more than
        0.001 points; also if a council is missing.
    """
    path = Path(path)
    table = read_table(path, CHILD_POVERTY_COLUMNS)
    lines = table[LINE].tolist()
    years, _ = parse_numbers(table["year"], lines, "year", path)
    bad = ~np.isfinite(years) | (years != np.round(years)) | (years < 1900) | (years > 2100)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(path, f"year '{table['year'].iloc[i]}' is not a year", lines[i])
    codes = matcher.by_code(table["ltla21_code"], path)
    clash = codes != matcher.by_name(table["ltla21_name"], path)
    if clash.any():
        i = int(np.flatnonzero(clash.to_numpy())[0])
        raise InputError(
            path,
            f"code {table['ltla21_code'].iloc[i]} does not belong to "
            f"'{table['ltla21_name'].iloc[i]}'",
            lines[i],
        )
    count, count_markers = parse_numbers(
        table["children_low_income_abs"], lines, "children_low_income_abs", path
    )
    population, _ = parse_numbers(table["population_0_16"], lines, "population_0_16", path)
    percent, percent_markers = parse_numbers(
        table["children_low_income_perc"], lines, "children_low_income_perc", path
    )
    base = pd.DataFrame(
        {
            "area_code": codes.to_numpy(),
            "year": years.astype(int),
            "denominator": population,
            "period_label": table["year"].to_numpy(),
            LINE: lines,
        }
    )
    refuse_rows(
        base[base.duplicated(["area_code", "year"], keep=False)],
        path,
        lambda row: f"{row['area_code']} {row['year']} occurs more than once",
        last=True,
    )
    percent_rows = base.assign(
        series=CHILD_POVERTY_PERCENT, value=percent, numerator=count, marker=percent_markers
    )
    mismatches = percentage_mismatches(percent_rows, PERCENT_TOLERANCE)
    refuse_rows(
        mismatches,
        path,
        lambda _: (
            f"{len(mismatches)} row(s) where children_low_income_perc differs from "
            f"children_low_income_abs / population_0_16 * 100 by more than {PERCENT_TOLERANCE}"
        ),
    )
    count_rows = base.assign(
        series=CHILD_POVERTY_COUNT, value=count, numerator=np.nan, marker=count_markers
    )
    frame = pd.concat([percent_rows, count_rows], ignore_index=True)
    matcher.check_complete(frame["area_code"], path)
    return observations(frame)
