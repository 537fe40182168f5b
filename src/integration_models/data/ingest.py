"""Build the analysis panel and the exclusions list from a dataset directory.

Every row of every values file ends in exactly one place: ``panel.parquet`` (a usable
observation, with its covariates and integration category) or ``exclusions.csv`` (with the
reason: suppressed, empty, outside the year window, an exact duplicate). Input that cannot be
trusted at all (an unknown area, a value that is not a number, a conflicting duplicate, ...)
stops the run with an :class:`~integration_models.errors.InputError` naming file and line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.exposure import (
    COVID_WINDOW,
    PeriodType,
    covid_share,
    exposure_table,
    period_span,
)
from integration_models.data.files import indicator_files, unread_files
from integration_models.data.identifiers import shown
from integration_models.data.numbers import MARKERS, CellError, parse_cells
from integration_models.data.panel import (
    BASELINE_OF,
    OBSERVATION_COLUMNS,
    OPTIONAL_COLUMNS,
    OPTIONAL_DERIVED,
    PANEL_COLUMNS,
    attach_integration,
)
from integration_models.data.reading import LINE, neutralise_formulas, read_table
from integration_models.data.reference import code_lookup
from integration_models.data.registry import load_registry, period_types
from integration_models.errors import InputError
from integration_models.io import atomic_path, write_parquet

VALUE_COLUMNS = ["area_code", "year", "value"]
VALUE_OPTIONAL = ["numerator", "denominator"]
COVARIATE_COLUMNS = [
    "area_code",
    "year",
    "population",
    "population_0_17",
    "land_area_km2",
    "deprivation",
]
# Optional covariates: an alternative deprivation percentage (0-100) for the sensitivity
# analysis; a column that is absent or empty in every row means "not in this dataset".
COVARIATE_OPTIONAL = OPTIONAL_COLUMNS
EXCLUSION_COLUMNS = ["file", "line", "area_code", "year", "indicator_id", "raw_value", "reason"]
PLAUSIBLE_YEARS = (1990, 2100)
# The year whose deprivation is each area's pre-integration baseline (config
# ``deprivation_baseline_year``): before partnerships went live (April 2015 to April 2016), and
# in the real data the SIMD 2016 edition, so never the SIMD 2020 edition that is built partly
# from 2017-19 outcomes.
DEPRIVATION_BASELINE_YEAR = 2015


@dataclass(frozen=True)
class IngestSettings:
    """What the configuration says about the panel: the year window and the COVID-19 window.

    ``covid_window`` is the pandemic's first and last day: each value's ``covid`` is the share
    of the days its period covers inside it (:func:`integration_models.data.exposure.covid_share`).
    """

    first_year: int
    last_year: int
    covid_window: tuple[date, date] = COVID_WINDOW
    deprivation_baseline_year: int = DEPRIVATION_BASELINE_YEAR

    @property
    def years(self) -> list[int]:
        """All years of the window, in order."""
        return list(range(self.first_year, self.last_year + 1))

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> IngestSettings:
        """Return the settings a command was given (:func:`commands.add_panel_arguments`).

        A ``--deprivation-baseline-year`` not given keeps :data:`DEPRIVATION_BASELINE_YEAR`.
        """
        settings = cls(args.first_year, args.last_year, tuple(args.covid_window))
        if args.deprivation_baseline_year is not None:
            settings = replace(settings, deprivation_baseline_year=args.deprivation_baseline_year)
        return settings


def value_files(
    raw_dir: Path, registry: pd.DataFrame, registry_path: Path
) -> dict[str, list[Path]]:
    """Find the values files of every registered indicator, and refuse unregistered ones.

    An indicator's rows are in ``values/<id>.csv`` and/or every ``values/<id>/*.csv``.

    Raises
    ------
    InputError
        If a registered indicator has no file, a file belongs to no registered indicator, or
        a file in ``values/`` does not end in ``.csv`` (e.g. ``.CSV`` or ``.xlsx``), which
        would otherwise be left out without a word. Hidden files (``.name``) are ignored.
    """
    values_dir = raw_dir / "values"
    files: dict[str, list[Path]] = {}
    for indicator, line in zip(registry["indicator_id"], registry[LINE], strict=True):
        found = indicator_files(values_dir, indicator)
        if not found:
            raise InputError(
                registry_path,
                f"indicator '{indicator}' has no values file (expected values/{indicator}.csv "
                f"or values/{indicator}/*.csv)",
                line,
            )
        files[indicator] = found
    claimed = {path for paths in files.values() for path in paths}
    for path in unread_files(values_dir, claimed):
        if path.suffix != ".csv":
            raise InputError(
                path, "file in values/ that would not be read (values files end in .csv)"
            )
        if path.parent.parent != values_dir and path.parent != values_dir:
            raise InputError(
                path, "values file in a nested folder (only values/<id>/*.csv are read)"
            )
        raise InputError(path, "values file of an indicator not in indicators.csv")
    return files


def _parse_column(frame: pd.DataFrame, column: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse one numeric column; return numbers (NaN where missing) and the missing reasons.

    The reasons are None for a number (see :func:`integration_models.data.numbers.parse_cells`).
    """
    try:
        return parse_cells(frame[column].to_numpy(dtype=object))
    except CellError as err:
        raise InputError(path, f"{column} {err}", int(frame[LINE].iloc[err.index])) from None


def _check_codes(table: pd.DataFrame, codes: dict[str, str], path: Path) -> None:
    """Refuse the first area code that is neither a current nor a former council code."""
    unknown = ~table["area_code"].isin(codes.keys()).to_numpy()
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        code = table["area_code"].iloc[i]
        raise InputError(path, f"unknown area code {shown(code)}", int(table[LINE].iloc[i]))


def _parse_years(table: pd.DataFrame, path: Path) -> np.ndarray:
    """Return the ``year`` column as integers; refuse the first that is not a plausible year.

    Only four ASCII digits count (``str.isdigit`` would also take ``²`` or ``２０１５``).
    """
    text = table["year"]
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    year = np.where(np.abs(number) < 1e5, number, 0).astype("int64")  # NaN compares False
    # a year is exactly the digits of its number: refuses "2015.0", "+2015", "２０１５"
    spelled = pd.Series(year.astype(str), dtype=object).to_numpy() == text.to_numpy(dtype=object)
    bad = ~spelled | (year < PLAUSIBLE_YEARS[0]) | (year > PLAUSIBLE_YEARS[1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            path,
            f"year {shown(text.iloc[i])} is not a plausible calendar year "
            f"({PLAUSIBLE_YEARS[0]}-{PLAUSIBLE_YEARS[1]})",
            int(table[LINE].iloc[i]),
        )
    return year


def _check_range(measure: str, values: np.ndarray, frame: pd.DataFrame, path: Path) -> None:
    if measure == "percentage":
        bad = (values < 0) | (values > 100)
        rule = "a percentage must lie in 0-100"
    elif measure in ("rate", "count"):
        bad = values < 0
        rule = f"a {measure} must not be negative"
    else:
        return
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            path, f"value {frame['value'].iloc[i]} out of range: {rule}", int(frame[LINE].iloc[i])
        )


def read_values(
    path: Path,
    relative: str,
    indicator: str,
    measure: str,
    codes: dict[str, str],
    settings: IngestSettings,
    root: Path,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one values file into accepted rows and excluded rows.

    Parameters
    ----------
    path
        The file.
    relative
        Its path relative to the dataset directory, as written in the outputs.
    indicator, measure
        The indicator id and its registered measure (for range checks).
    codes
        Current and former council codes mapped to the current code.
    settings
        The year window.
    root
        The dataset directory: the file may be a link to another file inside it, no further.

    Returns
    -------
    tuple of pandas.DataFrame
        Accepted rows (``area_code, area_code_original, year, value, numerator, denominator,
        file, line``) and excluded rows (the columns of ``exclusions.csv``).
    """
    table = read_table(path, VALUE_COLUMNS, VALUE_OPTIONAL, root=root)
    if table.empty:
        raise InputError(path, "file has a header but no data rows")
    _check_codes(table, codes, path)
    year = _parse_years(table, path)
    value, reasons = _parse_column(table, "value", path)
    numerator, _ = _parse_column(table, "numerator", path)
    denominator, _ = _parse_column(table, "denominator", path)
    for name, column in (("numerator", numerator), ("denominator", denominator)):
        if np.any(column < 0):
            i = int(np.flatnonzero(column < 0)[0])
            raise InputError(path, f"{name} must not be negative", int(table[LINE].iloc[i]))
    _check_range(measure, value, table, path)
    outside = (year < settings.first_year) | (year > settings.last_year)
    reason = pd.Series(reasons, dtype=object)
    reason[outside] = (
        f"year outside the configured window {settings.first_year}-{settings.last_year}"
    )
    rows = pd.DataFrame(
        {
            "area_code": table["area_code"].map(codes).to_numpy(),
            "area_code_original": table["area_code"].to_numpy(),
            "year": year,
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "file": relative,
            "line": table[LINE].to_numpy(),
            "raw_value": table["value"].to_numpy(),
            "reason": reason.to_numpy(),
        }
    )
    rows["indicator_id"] = indicator
    excluded = rows["reason"].notna()
    return rows[~excluded].drop(columns=["reason", "raw_value"]), rows[excluded]


def resolve_duplicates(
    rows: pd.DataFrame, paths: dict[str, Path]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep one row per area and year of an indicator; exact repeats become exclusions.

    Raises
    ------
    InputError
        If two rows for the same area and year disagree on value, numerator or denominator.
    """
    key = ["area_code", "year"]
    rows = rows.sort_values(["file", "line"], kind="stable")
    repeated = rows.duplicated(key, keep=False)
    if not repeated.any():
        return rows, rows.iloc[0:0].assign(raw_value="", reason="")
    compare = ["value", "numerator", "denominator"]
    drop_index = []
    reasons = {}
    for _, group in rows[repeated].groupby(key, sort=True):
        first = group.iloc[0]
        for _, other in group.iloc[1:].iterrows():
            same = all(
                (pd.isna(first[c]) and pd.isna(other[c])) or first[c] == other[c] for c in compare
            )
            if not same:
                raise InputError(
                    paths[other["file"]],
                    f"conflicting duplicate: area {other['area_code']} year {other['year']} "
                    f"already has value {first['value']:g} at {first['file']}:{first['line']} "
                    f"(this row: {other['value']:g})",
                    int(other["line"]),
                )
            drop_index.append(other.name)
            reasons[other.name] = f"exact duplicate of {first['file']}:{first['line']}"
    dropped = rows.loc[drop_index].copy()
    dropped["raw_value"] = [f"{v:g}" for v in dropped["value"]]
    dropped["reason"] = [reasons[i] for i in drop_index]
    return rows.drop(index=drop_index), dropped


def read_covariates(path: Path, codes: dict[str, str], settings: IngestSettings) -> pd.DataFrame:
    """Read ``covariates.csv``: population, children, land area and deprivation by area and year.

    Rows outside the year window are not needed and are ignored. The optional
    ``deprivation_alt`` (an alternative deprivation percentage, checked as ``deprivation``) is
    returned only when the file has it; a column empty in every row counts as absent.

    Each deprivation column also gets its pre-integration baseline (``deprivation_baseline``,
    ``deprivation_alt_baseline``): the area's value in ``settings.deprivation_baseline_year``,
    read even when that year lies outside the window, constant within the area. The
    within-area models use it (times time) instead of the yearly series, whose only change
    within an area may be a change of SIMD edition. An area without a row for that year gets
    no value (missing, never imputed); the models then say the term is not estimable.

    Raises
    ------
    InputError
        On an unknown area, a bad or missing number, an out-of-range value or a conflicting
        duplicate, naming the line.
    """
    table = read_table(path, COVARIATE_COLUMNS, COVARIATE_OPTIONAL)
    if table.empty:
        raise InputError(path, "file has a header but no data rows")
    out = pd.DataFrame({"line": table[LINE].to_numpy()})
    _check_codes(table, codes, path)
    out["area_code"] = table["area_code"].map(codes).to_numpy()
    out["year"] = _parse_years(table, path)
    limits = {
        "population": (0, None, False),
        "population_0_17": (0, None, True),
        "land_area_km2": (0, None, False),
        "deprivation": (0, 100, True),
    }
    limits.update({c: (0, 100, True) for c in COVARIATE_OPTIONAL if table[c].ne("").any()})
    for column, (low, high, low_ok) in limits.items():
        numbers, reasons = _parse_column(table, column, path)
        for i, reason in enumerate(reasons):
            if reason is not None:
                raise InputError(path, f"{column} is missing ({reason})", int(table[LINE].iloc[i]))
        bad = (numbers < low) if low_ok else (numbers <= low)
        if high is not None:
            bad |= numbers > high
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            bound = f">= {low}" if low_ok else f"> {low}"
            span = f"{bound}" + (f" and <= {high}" if high is not None else "")
            raise InputError(
                path, f"{column} {numbers[i]:g} out of range (must be {span})", int(out["line"][i])
            )
        out[column] = numbers
    in_window = (out["year"] >= settings.first_year) & (out["year"] <= settings.last_year)
    out = out[in_window | (out["year"] == settings.deprivation_baseline_year)]
    repeated = out[out.duplicated(["area_code", "year"], keep=False)]
    for _, group in repeated.groupby(["area_code", "year"]):
        if len(group.drop(columns="line").drop_duplicates()) > 1:
            raise InputError(
                path,
                f"conflicting duplicate: area {group['area_code'].iloc[0]} year "
                f"{group['year'].iloc[0]} also on line {group['line'].iloc[0]}",
                int(group["line"].iloc[1]),
            )
    out = out.drop_duplicates(["area_code", "year"]).drop(columns="line")
    at_baseline = out[out["year"] == settings.deprivation_baseline_year].set_index("area_code")
    for column, baseline in BASELINE_OF.items():
        if column in out.columns:
            out[baseline] = out["area_code"].map(at_baseline[column]).astype(float)
    in_window = (out["year"] >= settings.first_year) & (out["year"] <= settings.last_year)
    return out[in_window].reset_index(drop=True)


@dataclass(frozen=True)
class Dataset:
    """What every indicator's ingest shares: the registry, the covariates and the reference.

    Build it with :func:`open_dataset`; the dataset-level checks (every registered indicator
    has a values file, no values file lacks a registry row, covariates are valid) run there.
    """

    raw_dir: Path
    registry: pd.DataFrame
    files: dict[str, list[Path]]
    covariates: pd.DataFrame
    covariates_path: Path
    codes: dict[str, str]
    areas: pd.DataFrame
    settings: IngestSettings


def open_dataset(raw_dir: str | Path, areas: pd.DataFrame, settings: IngestSettings) -> Dataset:
    """Read and check the dataset's registry, file layout and covariates.

    Raises
    ------
    InputError
        For an unusable registry, values-file layout or covariates file, naming file and line.
    """
    raw_dir = Path(raw_dir)
    registry_path = raw_dir / "indicators.csv"
    registry = load_registry(registry_path)
    codes = code_lookup(areas)
    files = value_files(raw_dir, registry, registry_path)
    covariates_path = raw_dir / "covariates.csv"
    covariates = read_covariates(covariates_path, codes, settings)
    return Dataset(raw_dir, registry, files, covariates, covariates_path, codes, areas, settings)


def ingest_indicator(dataset: Dataset, indicator: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one indicator's values files into observations and exclusions.

    The observations carry every panel column except ``integration`` (which depends on the
    classification and is attached by :func:`attach_integration`), so that a new
    classification does not rerun the ingest, and a new values file reruns only its indicator.

    Returns
    -------
    tuple of pandas.DataFrame
        Observations with ``OBSERVATION_COLUMNS`` sorted by area and year, and exclusions with
        ``EXCLUSION_COLUMNS`` sorted by file and line; their row counts add up to the data
        rows read (checked here).

    Raises
    ------
    InputError
        For any input that cannot be used, naming file and line.
    """
    registry = dataset.registry.set_index("indicator_id")
    if indicator not in registry.index:
        raise InputError(
            dataset.raw_dir / "indicators.csv", f"no registry row for indicator '{indicator}'"
        )
    measure = registry.loc[indicator, "measure"]
    raw_dir, settings = dataset.raw_dir, dataset.settings
    paths = {path.relative_to(raw_dir).as_posix(): path for path in dataset.files[indicator]}
    parts = [
        read_values(path, relative, indicator, measure, dataset.codes, settings, raw_dir)
        for relative, path in paths.items()
    ]
    rows_in = sum(len(ok) + len(bad) for ok, bad in parts)
    values, duplicates = resolve_duplicates(pd.concat([ok for ok, _ in parts]), paths)
    merged = values.merge(dataset.covariates, on=["area_code", "year"], how="left", validate="m:1")
    lacking = merged["population"].isna()
    if lacking.any():
        first = merged[lacking].iloc[0]
        raise InputError(
            dataset.covariates_path,
            f"no row for area {first['area_code']} year {first['year']} "
            f"(needed by {first['file']} line {first['line']}; {int(lacking.sum())} rows lack "
            "covariates)",
        )
    info = dataset.areas[["area_code", "area_name", "hscp_code", "health_board_code"]]
    info = info.assign(hscp_start_year=dataset.areas["hscp_start_year"])
    observations = merged.merge(info, on="area_code", how="left", validate="m:1")
    observations["population_density"] = observations["population"] / observations["land_area_km2"]
    kind = PeriodType.from_key(registry.loc[indicator, "period_key"])
    observations["period_key"] = kind.key
    observations["covid"] = [
        covid_share(*period_span(kind, int(year)), settings.covid_window)
        for year in observations["year"]
    ]
    optional = [c for c in COVARIATE_OPTIONAL + OPTIONAL_DERIVED if c in observations.columns]
    observations = observations[OBSERVATION_COLUMNS + optional]
    observations = observations.sort_values(["area_code", "year"])
    exclusions = pd.concat([bad for _, bad in parts] + [duplicates], ignore_index=True)
    exclusions = exclusions.assign(area_code=exclusions["area_code_original"])
    exclusions = exclusions[EXCLUSION_COLUMNS].sort_values(["file", "line"])
    if len(observations) + len(exclusions) != rows_in:
        raise RuntimeError(
            f"reconciliation failed for {indicator}: {rows_in} rows read, {len(observations)} "
            f"in the panel, {len(exclusions)} excluded"
        )
    return observations.reset_index(drop=True), exclusions.reset_index(drop=True)


def combine_exclusions(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-indicator exclusions in the order of the exclusions table."""
    frame = pd.concat(parts, ignore_index=True)[EXCLUSION_COLUMNS]
    return frame.sort_values(["file", "line"], kind="stable").reset_index(drop=True)


def build_panel(
    raw_dir: str | Path,
    areas: pd.DataFrame,
    classification: pd.DataFrame,
    settings: IngestSettings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a dataset directory and return the long panel and the exclusions.

    The whole ingest in one call (the workflow runs :func:`ingest_indicator` per indicator
    and :func:`attach_integration` once, to the same result).

    Parameters
    ----------
    raw_dir
        Dataset directory in the canonical format (``indicators.csv``, ``values/``,
        ``covariates.csv``).
    areas
        Council-area reference table (:func:`integration_models.data.reference.load_areas`).
    classification
        Integration periods (:func:`integration_models.data.reference.load_classification`).
    settings
        Year window and COVID-19 window.

    Returns
    -------
    tuple of pandas.DataFrame
        ``panel`` with ``PANEL_COLUMNS``, sorted by indicator, area and year, and
        ``exclusions`` with ``EXCLUSION_COLUMNS``, sorted by file and line. Their row counts add
        up to the number of data rows read, which is checked per indicator.

    Raises
    ------
    InputError
        For any input that cannot be used, naming file and line.
    """
    dataset = open_dataset(raw_dir, areas, settings)
    parts = [ingest_indicator(dataset, i) for i in dataset.registry["indicator_id"]]
    observations = pd.concat([rows for rows, _ in parts], ignore_index=True)
    kinds = period_types(dataset.registry)
    panel = attach_integration(
        observations, exposure_table(classification, areas, settings.years, kinds)
    )
    return panel, combine_exclusions([bad for _, bad in parts])


def write_panel(
    panel: pd.DataFrame,
    exclusions: pd.DataFrame,
    panel_path: Path,
    exclusions_path: Path,
    input_hashes: dict[str, str] | None = None,
) -> None:
    """Write the panel (Parquet) and the exclusions (CSV), each atomically (``io``).

    ``input_hashes`` (``{path: sha256}`` of every input file read) go into the panel's
    metadata (see :func:`integration_models.io.write_parquet`).

    ``raw_value`` in the exclusions is copied from the input, so the CSV goes through
    :func:`integration_models.data.reading.neutralise_formulas`: a cell such as ``=HYPERLINK(...)``
    is written as ``'=HYPERLINK(...)`` and cannot run when the file is opened in a
    spreadsheet program.

    The panel is checked against :data:`integration_models.data.schemas.PANEL` first (its
    columns in order, their types, the integration categories): a panel that breaks it is
    a bug in the step that assembled it, and nothing is written.

    Raises
    ------
    integration_models.table_schema.TableSchemaError
        If the panel does not match its schema.
    """
    from integration_models.data.schemas import check_panel

    check_panel(panel, panel_path)
    write_parquet(panel, panel_path, input_hashes)
    with atomic_path(exclusions_path) as temporary:
        neutralise_formulas(exclusions).to_csv(temporary, index=False, lineterminator="\n")


__all__ = [
    "IngestSettings",
    "attach_integration",
    "build_panel",
    "ingest_indicator",
    "open_dataset",
    "write_panel",
    "MARKERS",
    "PANEL_COLUMNS",
]
