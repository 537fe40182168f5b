"""Build the real Scottish dataset, in the canonical format, from the public sources.

The sources directory (default ``../shared/data/scotland``) holds the publishers' files as
released; this module runs the adapters of :mod:`integration_models.data.sources`, picks about 25
council-level indicators in the three domains, computes the looked-after children rate and the
covariates, and writes ``indicators.csv``, ``values/<id>.csv``, ``covariates.csv``,
``covariate_flags.csv``, ``value_flags.csv``, ``build_exclusions.csv`` and a ``README.md`` that
documents every choice and gap.

Every source row an indicator selects (after area matching and series selection) ends either
in its values file or in ``build_exclusions.csv`` with the reason; the build checks, per
indicator, that rows selected = rows written + rows excluded (the ledger), as the ingest does
for the panel, and reports the counts in the README.

The build happens in a temporary folder next to the target and is validated by the ingest
before anything is copied; only files whose content changed are then replaced, so a failed
build never overwrites a good one, and Snakemake reruns only what a new release changed.
"""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from integration_models.data.ingest import IngestSettings, build_panel
from integration_models.data.reference import load_areas, load_classification
from integration_models.data.registry import DEFAULT_ROLE, ROLES
from integration_models.data.sources.common import AreaMatcher, observations, refuse_rows
from integration_models.data.specs import IndicatorEntry, load_entries, registry_row
from integration_models.errors import InputError
from integration_models.io import atomic_path

LGBF_LONG = "lgbf/lgbf_data_jan22_long.csv"
LGBF_RAW = "lgbf/lgbf_raw_new_bnch_data_jan22.xlsx"
CPOP = "cpop/CPPcleandata.csv"
IMMUNISATION = "opendatascot_fixtures/sparql-eb1108-POST.csv"
LOW_INCOME = "child_poverty/children_low_income_ltla_scotland_2015_2020.csv"
LOW_INCOME_COUNTS = "child_poverty/dwp_children_relative_low_income_ltla_fye2015_2022.csv"
# DWP counts children under 16; the denominator is the NRS population of the same ages.
LOW_INCOME_AGES = range(0, 16)
BUILD_EXCLUSIONS = "build_exclusions.csv"
VALUE_FLAGS = "value_flags.csv"
LEDGER_COLUMNS = [
    "indicator_id",
    "source",
    "area_code",
    "year",
    "series",
    "period_label",
    "raw_value",
    "reason",
]
VALUE_FLAG_COLUMNS = ["indicator_id", "area_code", "year", "flag", "note"]
# The deprivation measure written as ``deprivation_alt``: the one not chosen as ``deprivation``.
OTHER_DEPRIVATION = {"children_simd": "income", "income": "children_simd"}
SPEC_FILE = "scotland_indicators.yaml"


# the readers of the sources, by the ``origin`` an indicator names (see :func:`_loaders`)
ORIGINS = ("lgbf", "lac", "cpop", "immunisation", "low_income")


@dataclass(frozen=True)
class RealIndicator(IndicatorEntry):
    """One indicator of the real dataset: its registry row and where its values come from.

    The entries are data, in ``specs/scotland_indicators.yaml``.
    """

    origin: str = field(metadata={"choices": ORIGINS})
    series: str
    source: str
    notes: str = ""
    period_years: int = 1
    # what the indicator is for in the analysis (primary/secondary/context), which indicators
    # measure the same thing, and why: written to the registry and the dataset's README
    role: str = field(default=DEFAULT_ROLE, metadata={"choices": ROLES})
    construct: str = ""
    role_reason: str = ""


def _prepare(entry: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    """Return one spec file entry with its ``source`` filled in (``{series}``, release names).

    Raises
    ------
    ValueError
        If ``source`` names a placeholder that is neither ``series`` nor a release.
    """
    if not isinstance(entry.get("source"), str):
        return entry  # the type check names the problem
    try:
        source = entry["source"].format(series=entry.get("series", ""), **content["releases"])
    except (KeyError, IndexError) as err:
        raise ValueError(
            f"source: {entry['source']!r} names {err}, which is neither {{series}} nor a "
            f"release ({', '.join(content['releases'])})"
        ) from None
    return entry | {"source": source}


INDICATORS: tuple[RealIndicator, ...] = load_entries(SPEC_FILE, RealIndicator, _prepare)


@dataclass(frozen=True)
class BuildSettings:
    """Choices of the real-data build (set in ``config.scotland.yaml``)."""

    first_year: int = 2010
    last_year: int = 2022
    simd_switch_year: int = 2020
    deprivation_measure: str = "children_simd"


def _add_alternative_deprivation(
    sources: Path,
    areas: pd.DataFrame,
    settings: BuildSettings,
    covariates: pd.DataFrame,
    flags: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add the other deprivation measure as ``deprivation_alt``, with its flags.

    The sensitivity analysis reruns the headline estimates with this column in place of
    ``deprivation`` (``alt_deprivation``): ``income`` when ``deprivation`` is ``children_simd``
    and the reverse. Its flags are those of the measure, under the column ``deprivation_alt``.
    """
    from integration_models.data.covariates import build_covariates

    other = OTHER_DEPRIVATION[settings.deprivation_measure]
    alternative, alternative_flags = build_covariates(
        sources, areas, settings.first_year, settings.last_year, settings.simd_switch_year, other
    )
    alternative = alternative[["area_code", "year", "deprivation"]]
    covariates = covariates.merge(
        alternative.rename(columns={"deprivation": "deprivation_alt"}),
        on=["area_code", "year"],
        how="left",
        validate="1:1",
    )
    alternative_flags = alternative_flags[alternative_flags["column"] == "deprivation"]
    flags = pd.concat([flags, alternative_flags.assign(column="deprivation_alt")])
    flags = flags.sort_values(["column", "area_code", "year"], kind="stable")
    return covariates, flags.reset_index(drop=True)


def _format(value: float) -> str:
    return "" if not np.isfinite(value) else repr(float(value))


def _values_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Canonical values rows from observations: value, or the marker when missing."""
    out = pd.DataFrame(
        {
            "area_code": rows["area_code"],
            "year": rows["year"].astype(int),
            "value": _raw_value(rows),
        }
    )
    for column in ("numerator", "denominator"):
        numbers = pd.to_numeric(rows[column], errors="coerce").astype(float)
        if numbers.notna().any():
            out[column] = [_format(v) for v in numbers]
    return out.sort_values(["area_code", "year"]).reset_index(drop=True)


def _lac_rate(raw: pd.DataFrame, covariates: pd.DataFrame) -> pd.DataFrame:
    """Looked-after children per 1,000 aged 0-17: residential + community counts / children.

    One row per council and year of the counts (the two source cells of a council-year make
    one row). An area-year whose counts are not all given keeps its row, with the source's
    marker (``dna`` in 2020-21), so that the ingest lists it in ``exclusions.csv`` with that
    reason instead of it vanishing (``pivot_table`` drops rows that are all missing). Years
    without covariates keep their rows too (no denominator), for the build's ledger to place.
    """
    index = ["area_code", "year"]
    counts = raw.pivot(index=index, columns="series", values="value")  # noqa: PD010 - keeps all-missing rows
    markers = (
        raw[raw["marker"] != ""].groupby(index)["marker"].agg(lambda m: "/".join(sorted(set(m))))
    )
    labels = raw.groupby(index)["period_label"].first()
    total = counts.sum(axis=1, min_count=counts.shape[1]).rename("numerator").reset_index()
    merged = total.merge(covariates[[*index, "population_0_17"]], on=index, how="left")
    merged["denominator"] = merged["population_0_17"]
    merged["value"] = merged["numerator"] / merged["denominator"] * 1000
    keys = merged.set_index(index).index
    source_marker = keys.map(markers).fillna("dna").to_numpy()
    merged["marker"] = np.where(merged["numerator"].isna(), source_marker, "")
    merged["period_label"] = keys.map(labels).to_numpy()
    merged["series"] = "lac_rate"
    return merged


def _low_income(
    sources: Path, areas: pd.DataFrame, matcher: AreaMatcher
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Children in relative low income per 100 children aged 0-15, with the flags of the rows.

    Numerator: DWP's Stat-Xplore counts of children under 16 (all councils, financial years
    ending 2015-2022). The Scottish extract (:data:`LOW_INCOME`) lacks 14 council-years (Fife
    and Perth and Kinross 2015-2017, Glasgow City and North Lanarkshire 2015-2018) and ends in
    2020; its counts must equal the export's wherever both have a council-year, a check of
    the export's name matching, and its denominators (NRS ages 0-16, one year too many for
    children under 16) are not used.

    Denominator: the NRS mid-year population aged 0-15 at 30 June of the year in which the
    financial year starts (2019-20, ``year`` 2020, uses mid-2019): the one mid-year date
    inside the financial year. Mid-2019 and mid-2021 have no single-age council estimates in
    the sources, so they are interpolated (:func:`covariates.population_by_age`) and each row
    that uses one is flagged ``denominator interpolated``. A year the export marks ``(p)``
    (2021/22) is flagged ``provisional``: DWP revises it in the next release.

    Returns
    -------
    tuple of pandas.DataFrame
        The observations of ``children_low_income_percent`` (value, numerator = count,
        denominator = population aged 0-15), and flags ``series, area_code, year, flag,
        note``.

    Raises
    ------
    InputError
        If a source is unreadable, or the extract's counts differ from the export's.
    """
    from integration_models.data.covariates import population_by_age
    from integration_models.data.sources import dwp
    from integration_models.data.sources.nrs import band_column

    counts = dwp.read_stat_xplore(sources / LOW_INCOME_COUNTS, matcher)
    extract = dwp.read_child_poverty_csv(sources / LOW_INCOME, matcher)
    extract = extract[extract["series"] == dwp.CHILD_POVERTY_COUNT]
    both = extract.merge(counts, on=["area_code", "year"], suffixes=("_extract", ""))
    differ = both[both["value_extract"] != both["value"]]
    refuse_rows(
        differ,
        sources / LOW_INCOME,
        lambda row: (
            f"{len(differ)} count(s) differ from the Stat-Xplore export "
            f"{LOW_INCOME_COUNTS}, e.g. {row['area_code']} {row['year']}: "
            f"{row['value_extract']:g} against {row['value']:g}"
        ),
    )
    column = band_column(LOW_INCOME_AGES)
    mid_years = counts["year"] - 1
    population, population_flags = population_by_age(
        sources,
        areas,
        list(range(int(mid_years.min()), int(mid_years.max()) + 1)),
        LOW_INCOME_AGES,
    )
    rows = counts.assign(mid_year=mid_years).merge(
        population.rename(columns={"year": "mid_year"}),
        on=["area_code", "mid_year"],
        how="left",
        validate="m:1",
    )
    rows["numerator"] = rows["value"]
    rows["denominator"] = rows[column].astype(float)
    rows["value"] = rows["numerator"] / rows["denominator"] * 100
    rows["series"] = dwp.CHILD_POVERTY_PERCENT
    flags = []
    filled = population_flags[population_flags["area_code"] != ""].rename(
        columns={"year": "mid_year"}
    )
    denominator = rows.merge(filled, on=["area_code", "mid_year"])
    flags.append(
        pd.DataFrame(
            {
                "series": dwp.CHILD_POVERTY_PERCENT,
                "area_code": denominator["area_code"],
                "year": denominator["year"],
                "flag": "denominator " + denominator["flag"],
                "note": "NRS population aged 0-15 at mid-"
                + denominator["mid_year"].astype(str)
                + ": "
                + denominator["note"],
            }
        )
    )
    provisional = rows[rows["period_label"].str.contains("(p)", regex=False)]
    flags.append(
        pd.DataFrame(
            {
                "series": dwp.CHILD_POVERTY_PERCENT,
                "area_code": provisional["area_code"],
                "year": provisional["year"],
                "flag": "provisional",
                "note": "DWP Stat-Xplore labels "
                + provisional["period_label"]
                + " provisional: the count is revised in the next release",
            }
        )
    )
    return observations(rows), pd.concat(flags, ignore_index=True)


def _selected(frame: pd.DataFrame, source: str, reason: str | pd.Series = "") -> pd.DataFrame:
    """Observations with the source file they come from and why a row is set aside ("": kept)."""
    return frame.assign(source=source, reason=reason)


NO_FLAGS = pd.DataFrame(columns=["series", "area_code", "year", "flag", "note"])


def _loaders(
    sources: Path, matcher: AreaMatcher, areas: pd.DataFrame
) -> dict[str, Callable[[], tuple[pd.DataFrame, pd.DataFrame]]]:
    """Per origin: a reader of (selected rows with ``source`` and ``reason``, value flags)."""
    from integration_models.data.sources import cpop, lgbf, opendata

    def read_cpop() -> tuple[pd.DataFrame, pd.DataFrame]:
        observed = _selected(cpop.read_cpop(sources / CPOP, matcher)[0], CPOP)
        modelled = cpop.read_cpop_model_output(sources / CPOP, matcher)
        modelled = _selected(
            modelled.drop(columns="type"),
            CPOP,
            "CPOP " + modelled["type"] + " (model output, not an observation)",
        )
        return pd.concat([observed, modelled], ignore_index=True), NO_FLAGS

    def read_low_income() -> tuple[pd.DataFrame, pd.DataFrame]:
        rows, flags = _low_income(sources, areas, matcher)
        return _selected(rows, LOW_INCOME_COUNTS), flags

    return {
        "lgbf": lambda: (
            _selected(lgbf.read_lgbf_long(sources / LGBF_LONG, matcher), LGBF_LONG),
            NO_FLAGS,
        ),
        "cpop": read_cpop,
        "immunisation": lambda: (
            _selected(
                opendata.immunisation_observations(sources / IMMUNISATION, matcher), IMMUNISATION
            ),
            NO_FLAGS,
        ),
        "low_income": read_low_income,
    }


def _raw_value(rows: pd.DataFrame) -> list[str]:
    """Return each row's value as a values file writes it: the number, or else the marker."""
    return [
        _format(v) if np.isfinite(v) else (m if isinstance(m, str) else "")
        for v, m in zip(rows["value"].astype(float), rows["marker"], strict=True)
    ]


def _ledger(
    spec: RealIndicator, selected: pd.DataFrame, settings: BuildSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split an indicator's selected rows into kept rows and build exclusions with reasons.

    A row already set aside by its reader keeps that reason; a row outside the build window
    is excluded as such. Everything else is kept, missing values (a marker or an empty cell)
    included: the ingest lists those in ``exclusions.csv`` with the marker as the reason.
    """
    reason = selected["reason"].astype(str).copy()
    outside = (reason == "") & ~selected["year"].between(settings.first_year, settings.last_year)
    reason[outside] = f"year outside the build window {settings.first_year}-{settings.last_year}"
    dropped = selected[reason != ""]
    exclusions = pd.DataFrame(
        {
            "indicator_id": spec.indicator_id,
            "source": dropped["source"],
            "area_code": dropped["area_code"],
            "year": dropped["year"].astype(int),
            "series": dropped["series"],
            "period_label": dropped["period_label"],
            "raw_value": _raw_value(dropped),
            "reason": reason[reason != ""],
        }
    )[LEDGER_COLUMNS]
    return selected[reason == ""], exclusions


def build_dataset(
    sources_dir: str | Path,
    areas_path: str | Path,
    classification_path: str | Path,
    out_dir: str | Path,
    settings: BuildSettings | None = None,
) -> dict:
    """Build the real dataset into ``out_dir`` and return a summary of what was written.

    Parameters
    ----------
    sources_dir
        The folder of public source files (``../shared/data/scotland``).
    areas_path, classification_path
        Reference data; the classification is used only to validate the build by ingesting it.
    out_dir
        The dataset directory to create or update (e.g. ``data/raw/scotland``).
    settings
        Year window, SIMD switch year and deprivation measure.

    Raises
    ------
    InputError
        If a source file is missing or has an unexpected layout or council name, if an
        indicator's ledger does not balance (rows selected from its source differ from rows
        written plus rows in ``build_exclusions.csv``), or if the built dataset does not pass
        the ingest; ``out_dir`` is then left as it was.
    """
    from integration_models.data.covariates import build_covariates
    from integration_models.data.sources import lgbf

    settings = settings or BuildSettings()
    sources = Path(sources_dir)
    if not sources.is_dir():
        raise InputError(
            sources,
            f"sources directory not found (looked in {sources.resolve()}); it is the "
            "sources_dir setting (README.md, 'Real Scottish data', lists the files it needs)",
        )
    areas = load_areas(areas_path)
    matcher = AreaMatcher(areas)
    covariates, flags = build_covariates(
        sources,
        areas,
        settings.first_year,
        settings.last_year,
        settings.simd_switch_year,
        settings.deprivation_measure,
    )
    covariates, flags = _add_alternative_deprivation(sources, areas, settings, covariates, flags)
    loaders = _loaders(sources, matcher, areas)
    loaded: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    raw = lgbf.read_lgbf_raw(sources / LGBF_RAW, matcher, list(lgbf.LAC_SERIES))
    loaded["lac"] = (_selected(_lac_rate(raw, covariates), LGBF_RAW), NO_FLAGS)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out_dir.parent))
    try:
        (staging / "values").mkdir()
        summary = {}
        exclusions_parts, flag_parts = [], []
        for spec in INDICATORS:
            if spec.origin not in loaded:
                loaded[spec.origin] = loaders[spec.origin]()
            rows, origin_flags = loaded[spec.origin]
            selected = rows[rows["series"] == spec.series]
            if selected.empty:
                raise InputError(
                    sources,
                    f"series '{spec.series}' not found in the {spec.origin} source (needed by "
                    f"{spec.indicator_id}); the release's layout or naming may have changed",
                )
            kept, excluded = _ledger(spec, selected, settings)
            values = _values_frame(kept)
            if len(selected) != len(values) + len(excluded):
                raise InputError(
                    sources,
                    f"{spec.indicator_id}: the build's ledger does not balance: "
                    f"{len(selected)} source rows selected, {len(values)} written to "
                    f"values/{spec.indicator_id}.csv + {len(excluded)} in {BUILD_EXCLUSIONS}",
                )
            values.to_csv(
                staging / "values" / f"{spec.indicator_id}.csv", index=False, lineterminator="\n"
            )
            exclusions_parts.append(excluded)
            flags_here = origin_flags[origin_flags["series"] == spec.series].merge(
                values[["area_code", "year"]], on=["area_code", "year"]
            )
            flag_parts.append(flags_here.assign(indicator_id=spec.indicator_id))
            missing = (~np.isfinite(kept["value"].astype(float))).sum()
            summary[spec.indicator_id] = {
                "rows": len(values),
                "years": f"{values['year'].min()}-{values['year'].max()}",
                "selected": len(selected),
                "written": len(values),
                "missing": int(missing),
                "excluded": len(excluded),
                "reasons": excluded["reason"].value_counts().to_dict(),
            }
        build_exclusions = pd.concat(exclusions_parts, ignore_index=True)
        build_exclusions.to_csv(staging / BUILD_EXCLUSIONS, index=False, lineterminator="\n")
        value_flags = pd.concat(flag_parts, ignore_index=True)[VALUE_FLAG_COLUMNS]
        value_flags = value_flags.sort_values(
            ["indicator_id", "area_code", "year", "flag"], kind="stable"
        ).reset_index(drop=True)
        value_flags.to_csv(staging / VALUE_FLAGS, index=False, lineterminator="\n")
        registry = pd.DataFrame(
            [
                registry_row(s, s.source)
                | {"notes": s.notes, "role": s.role, "construct": s.construct or s.indicator_id}
                for s in INDICATORS
            ]
        )
        registry, indices = _add_domain_indices(registry, staging)
        registry.to_csv(staging / "indicators.csv", index=False, lineterminator="\n")
        covariates.to_csv(staging / "covariates.csv", index=False, lineterminator="\n")
        flags.to_csv(staging / "covariate_flags.csv", index=False, lineterminator="\n")
        readme = _readme(summary, settings, flags, value_flags) + _roles_readme(registry, indices)
        (staging / "README.md").write_text(readme, encoding="utf-8")
        classification = load_classification(classification_path, areas)
        ingest = IngestSettings(settings.first_year, settings.last_year)
        try:
            panel, exclusions = build_panel(staging, areas, classification, ingest)
        except InputError as err:
            raise InputError(
                err.path, f"built dataset fails validation: {err.problem}", err.line
            ) from None
        changed = _sync(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "indicators": summary,
        "panel_rows": len(panel),
        "excluded_rows": len(exclusions),
        "changed_files": changed,
        "indices": {domain: info for domain, info in indices.items() if "weights" in info},
    }


def _sync(staging: Path, target: Path) -> list[str]:
    """Copy changed and new files from ``staging`` into ``target``; delete files not rebuilt.

    Unchanged files keep their modification time, so Snakemake reruns only what changed.
    """
    target.mkdir(parents=True, exist_ok=True)
    built = {p.relative_to(staging) for p in staging.rglob("*") if p.is_file()}
    existing = {p.relative_to(target) for p in target.rglob("*") if p.is_file()}
    changed = []
    for relative in sorted(built):
        source, destination = staging / relative, target / relative
        if destination.exists() and filecmp.cmp(source, destination, shallow=False):
            continue
        with atomic_path(destination) as temporary:
            shutil.copy2(source, temporary)
        changed.append(relative.as_posix())
    for relative in sorted(existing - built):
        (target / relative).unlink()
        changed.append(f"removed {relative.as_posix()}")
    return changed


def _readme(
    summary: dict, settings: BuildSettings, flags: pd.DataFrame, value_flags: pd.DataFrame
) -> str:
    """Write the dataset's README: sources, choices, the ledger and the flags, for a reviewer."""
    lines = [
        "# Real Scottish dataset (built, not committed)",
        "",
        "Built by `python -m integration_models build-scotland` from the public files in the",
        "sources directory (Open Government Licence v3; see each folder's SOURCE.md there). Do",
        "not edit: rebuild. Never commit this folder.",
        "",
        f"Years {settings.first_year}-{settings.last_year}; `year` is the calendar year in which",
        "the source's period ends (31 July snapshots: the year of that 31 July).",
        "",
        "## Indicators",
        "",
        "| indicator | source | unit | period | rows | years | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in INDICATORS:
        info = summary[spec.indicator_id]
        lines.append(
            f"| `{spec.indicator_id}` | {spec.source} | {spec.unit} | `{spec.period_type().key}` | "
            f"{info['rows']} | {info['years']} | {spec.notes} |"
        )
    lines += [
        "",
        "## Ledger: where every selected source row went",
        "",
        "Per indicator, the source rows it selects (after matching councils and picking its",
        "series; for `looked_after_rate` one row per council-year, made of the residential and",
        "community counts) are either written to `values/<id>.csv` or listed, with the reason,",
        f"in `{BUILD_EXCLUSIONS}`; the build stops if selected differs from written +",
        "excluded. Written rows include missing values, kept with the source's marker (e.g.",
        "`dna`) or empty: the ingest lists those in `exclusions.csv` with that reason.",
        "",
        "| indicator | selected | written | of which missing | excluded by the build | reasons |",
        "|---|---|---|---|---|---|",
    ]
    for spec in INDICATORS:
        info = summary[spec.indicator_id]
        reasons = "; ".join(f"{reason}: {n}" for reason, n in info["reasons"].items())
        lines.append(
            f"| `{spec.indicator_id}` | {info['selected']} | {info['written']} | "
            f"{info['missing']} | {info['excluded']} | {reasons} |"
        )
    lines += [
        "",
        "## Children in low-income families",
        "",
        "`children_low_income` = children under 16 in relative low income before housing costs",
        "(DWP/HMRC, the Stat-Xplore export of every financial year ending 2015-2022) / NRS",
        "mid-year population aged 0-15 x 100; `numerator` is the count, `denominator` the",
        "population. Choices:",
        "",
        "- Denominator ages 0-15, matching the counts. The Scottish extract's `population_0_16`",
        "  (ages 0-16) is not used: it understated the rate by about 6%.",
        "- Denominator year: 30 June of the year in which the financial year starts (2019-20,",
        "  `year` 2020, uses mid-2019), the one mid-year date inside the financial year.",
        "- Single-age council estimates exist for mid-1998 to mid-2018, mid-2020 (data zones",
        "  summed) and mid-2022. Mid-2019 and mid-2021 (used by 2019-20 and 2021-22) are",
        "  interpolated linearly, as the covariates; mid-2021 lies across the 2022 Census",
        "  rebasing. `population21_ltla21.csv` has all-age totals only and is not used.",
        "- Counts: from the Stat-Xplore export for every council-year, which fills the 14",
        "  council-years missing from the Scottish extract (Fife and Perth and Kinross",
        "  2015-2017, Glasgow City and North Lanarkshire 2015-2018) and adds 2020-21 and",
        "  2021-22. Where both files have a council-year their counts must be equal (checked).",
        "- 2021-22 (`year` 2022) is provisional in the export (`2021/22 (p)`).",
        "",
        f"Every such value is listed in `{VALUE_FLAGS}`:",
        "",
        "| indicator | flag | rows |",
        "|---|---|---|",
    ]
    value_counts = value_flags.groupby(["indicator_id", "flag"]).size().reset_index(name="rows")
    lines += [
        f"| `{r.indicator_id}` | {r.flag} | {r.rows} |"
        for r in value_counts.itertuples(index=False)
    ]
    counts = flags.groupby(["column", "flag"]).size().reset_index(name="rows")
    lines += [
        "",
        "## Covariates",
        "",
        "`covariates.csv`: all-ages population and children aged 0-17 (NRS mid-year estimates",
        "1998-2018, data-zone estimates for 2020, council estimates for 2022; 2019 and 2021",
        "interpolated linearly, later years held at 2022; a step between 2020 and 2022 comes",
        "from the 2022 Census rebasing), land area from the data-zone standard areas, and",
        f"deprivation ({settings.deprivation_measure}): the percentage of children living in",
        "Scotland's 20% most deprived data zones, SIMD 2016 before "
        f"{settings.simd_switch_year} and SIMD 2020 from then on (or the ScotPHO",
        "income-deprived share where configured). `deprivation_alt` is the other measure",
        f"({OTHER_DEPRIVATION[settings.deprivation_measure]}), used only by the sensitivity",
        "analysis in place of `deprivation`. Every value that is not a direct observation is",
        "listed in `covariate_flags.csv`:",
        "",
        "| column | flag | rows |",
        "|---|---|---|",
    ]
    lines += [f"| {r.column} | {r.flag} | {r.rows} |" for r in counts.itertuples(index=False)]
    lines += [
        "",
        "## How the models time exposure and use the covariates",
        "",
        "- **Exposure by period.** Each value's `period` (table above: `financial` 1 April to",
        "  31 March, `academic` August to June, `calendar`, `snapshot/07-31` a 31 July count,",
        "  `/3y` a three-year rolling average labelled by its last period) gives the days it",
        "  covers (`integration_models.data.exposure`). A value is exposed to a partnership's",
        "  category when all those days fall on or after the go-live date of the dated",
        "  classification (`data/reference/classification/baseline.csv`, each row with its",
        "  evidence and confidence) and before any switch-off; a period that straddles a change",
        "  is a `transition` period: in the panel, out of every model's integration contrast,",
        "  and counted as exposed in the `transition_exposed` sensitivity variant. Highland's",
        "  financial 2011-12 is not exposed (the lead-agency model began on 1 April 2012);",
        "  2012-13 is.",
        "- **COVID-19.** `covid` is the share of a value's days inside `covid_window` (config;",
        "  default 23 March 2020 to 31 March 2022): financial 2019-20 is 9/366, academic",
        "  2021-22 243/334. The `no_covid` variant leaves out periods at least half inside.",
        "- **Deprivation.** The within-area models (`twfe`, `glm`, `csdid` and the few-cluster",
        "  inference, power and sensitivity refits) use each council's deprivation in",
        "  `deprivation_baseline_year` (config; 2015, the SIMD 2016 edition here) times time,",
        "  never the yearly series, whose only within-area change is the SIMD 2016 to 2020",
        "  edition step (SIMD 2020 is partly built from 2017-19 outcomes). The replication",
        "  `mixed` model keeps the yearly level, as the original study did.",
        "- **Population density** varies within councils only by interpolation and the 2022",
        "  Census rebasing: it is left out of the within-area models (absorbed by the area",
        "  effects) and added back in the `log_density` sensitivity variant; `no_covariates`",
        "  gives the main estimates without any covariate.",
        "",
        "## Gaps",
        "",
        "No annual council series is available in the sources for child-protection",
        "registrations, breastfeeding, teenage pregnancy, smoking in pregnancy, premature",
        "births, dental health, youth offending referrals, CAMHS waits (health boards only) or",
        "the children's social-work workforce; the ScotPHO profile extract has these for one",
        "period only, so they cannot enter a panel model. LGBF ends in 2020-21 (most children's",
        "series in 2019-20). CPOP rows marked Imputed or Projected are model output: an",
        f"indicator's are listed in `{BUILD_EXCLUSIONS}` (the two CPOP series used have none).",
        "",
    ]
    return "\n".join(lines)


# --- Summary indices per domain (issue 13.2): kept apart from the build so merges stay clean ---

INDEX_UNIT = "SD (reference period)"
WORKFORCE_GAP = (
    "not measured (no council-level workforce measure in the public sources): LGBF, CPOP, "
    "ScotPHO profiles and the statistics.gov.scot extracts hold no annual council series of "
    "children's social-work, health-visiting or other children's services staff. Teachers' "
    "FTE (LGBF, the denominator of CORP 6a) is the education workforce, which is not "
    "delegated; patients per GP (ScotPHO) ends in 2013 and is adult primary care; "
    "statistics.gov.scot's Social Work Staffing is listed in the catalogue extract only, "
    "without its data. The two cost-of-care measures filed under this domain are inputs "
    "(role context), not workforce outcomes."
)


def _add_domain_indices(registry: pd.DataFrame, staging: Path) -> tuple[pd.DataFrame, dict]:
    """Write each domain's Anderson index as an ordinary indicator; demote its components.

    A domain with at least two ``primary`` indicators (its chosen outcomes, at most one per
    construct) gets ``index_<domain>``: values in ``values/index_<domain>.csv`` and a registry
    row (measure ``mean``, unit :data:`INDEX_UNIT`, higher is better, role ``primary``,
    construct ``summary index``, notes naming the components and their weights), so the
    pipeline fits and tests it like any indicator. Its components become ``secondary``: the
    domain is tested once, through the index, and each component is still reported. A domain
    with fewer than two primary indicators keeps them as they are (one primary outcome is
    already one test), and the reason is recorded.

    Returns
    -------
    tuple
        The registry with index rows appended, and per domain either the index's
        ``components`` and ``weights`` (with ``complete_rows`` and ``rows``) or a ``reason``
        why there is none.
    """
    from integration_models.data.indices import (
        REFERENCE_LAST_YEAR,
        describe_weights,
        domain_index,
    )
    from integration_models.data.registry import DOMAINS

    registry = registry.copy()
    direction = dict(zip(registry["indicator_id"], registry["higher_is_better"], strict=True))
    indices: dict[str, dict] = {}
    rows = []
    for domain in DOMAINS:
        primary = registry[(registry["domain"] == domain) & (registry["role"] == "primary")]
        components = list(primary["indicator_id"])
        if len(components) < 2:
            indices[domain] = {
                "components": components,
                "reason": f"{len(components)} primary indicator(s), so no index: "
                + (f"{components[0]} is tested alone" if components else "nothing to test"),
            }
            continue
        values = {
            c: pd.read_csv(staging / "values" / f"{c}.csv", dtype={"value": str})
            for c in components
        }
        table, result = domain_index(values, {c: direction[c] == "true" for c in components})
        indicator_id = f"index_{domain}"
        table["value"] = [_format(v) for v in table["value"]]
        table.to_csv(staging / "values" / f"{indicator_id}.csv", index=False, lineterminator="\n")
        registry.loc[primary.index, "role"] = "secondary"
        registry.loc[primary.index, "notes"] = [
            "; ".join(filter(None, [note, f"component of {indicator_id}"]))
            for note in primary["notes"]
        ]
        rows.append(
            {
                "indicator_id": indicator_id,
                "title": f"Summary index of {domain}'s primary outcomes",
                "domain": domain,
                "measure": "mean",
                "unit": INDEX_UNIT,
                "higher_is_better": "true",
                "period": "financial",
                "period_years": 1,
                "snapshot_day": "",
                "source": "derived from this dataset's indicators (Anderson 2008)",
                "notes": f"{describe_weights(result)}; standardised on {REFERENCE_LAST_YEAR} "
                "and earlier; at least half of the components present",
                "role": "primary",
                "construct": "summary index",
            }
        )
        indices[domain] = {
            "components": components,
            "weights": {name: float(w) for name, w in result.weights.items()},
            "complete_rows": result.complete_rows,
            "rows": len(table),
            "years": f"{table['year'].min()}-{table['year'].max()}",
        }
    if rows:
        registry = pd.concat([registry, pd.DataFrame(rows)], ignore_index=True)
    return registry, indices


def _roles_readme(registry: pd.DataFrame, indices: dict) -> str:
    """Return the README section on roles, constructs, the primary outcomes and the indices."""
    from integration_models.data.indices import REFERENCE_LAST_YEAR

    reasons = {spec.indicator_id: spec.role_reason for spec in INDICATORS}
    for domain, info in indices.items():
        for component in info["components"] if "weights" in info else ():
            reasons[component] = (
                f"chosen primary outcome of its construct, tested once through "
                f"`index_{domain}`: {reasons[component]}"
            )
    lines = [
        "## Roles, constructs and summary indices",
        "",
        "Each indicator's `role` says what it is for: `primary` outcomes are the headline",
        "tests, `secondary` ones are reported but not the headline (process measures, measures",
        "at their ceiling, other members of a construct, components of an index), `context`",
        "ones are inputs. Indicators with one `construct` measure the same thing; at most one",
        "of them is chosen as a primary outcome. The primary outcomes were chosen for being",
        "outcomes (not processes or inputs) that children's community health or children's",
        "social work can change, with values before the partnerships went live.",
        "",
        "| indicator | domain | role | construct | why |",
        "|---|---|---|---|---|",
    ]
    for row in registry.itertuples(index=False):
        why = reasons.get(row.indicator_id, "the domain's summary index: tested once")
        lines.append(
            f"| `{row.indicator_id}` | {row.domain} | {row.role} | {row.construct} | {why} |"
        )
    lines += [
        "",
        "A domain's summary index (`index_<domain>`) is Anderson's (2008) inverse-covariance",
        "weighted mean of its primary outcomes, each standardised by its mean and SD over all",
        f"councils in {REFERENCE_LAST_YEAR} and earlier (before most partnerships went live;",
        "the classification plays no part) and oriented so that higher is better; the index is",
        "restandardised to SD 1 in that period. Its components become `secondary`, so the",
        "domain is tested once. An area-year needs at least half of the components; the",
        "index's `period` is `financial` although its components' periods differ.",
        "",
    ]
    for domain, info in indices.items():
        if "weights" in info:
            weights = ", ".join(f"`{c}` {w:.3f}" for c, w in info["weights"].items())
            lines.append(
                f"- {domain}: `index_{domain}` = {weights} ({info['rows']} area-years, "
                f"{info['years']}; weights from {info['complete_rows']} complete area-years)."
            )
        elif domain == "workforce":
            lines.append(f"- workforce: {WORKFORCE_GAP}")
        else:
            lines.append(f"- {domain}: {info['reason']}.")
    lines.append("")
    return "\n".join(lines)
