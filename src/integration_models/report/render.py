"""The reviewer's page: one self-contained HTML file that summarises a run.

``report.html`` is what a reviewer reads first. It is a single file with the style sheet
inlined and the figures embedded as base64 data URIs, so it can be mailed or archived and
opened offline; it loads nothing from elsewhere and contains no script (a
Content-Security-Policy in the page forbids both). Apart from what the provenance contains
(the time of the run, the git commit) it depends only on its inputs, so two runs on the same
inputs give the same page, byte for byte.

The page is laid out by Jinja2 templates shipped with the package (``report/templates/``),
rendered with autoescaping and strict undefined variables: every piece of text that comes
from data, configuration or model output is escaped by Jinja2; only markup written in the
templates is trusted. This module prepares plain data for them: lists of rows of
already-formatted text (:mod:`integration_models.report.format`), read from the files the
workflow rule declares and nothing else (:class:`Tables`).

The page leads with the answer: after the SYNTHETIC banner (demo data only) and the title,
the conclusion (``conclusion.csv``: the headline test's result for full and for partial
integration in plain words, the minimum detectable effects and what the data cannot say), a
table of contents, and the integration estimates under the headline test. Everything else
follows in collapsible sections, grouped: results in detail (every headline statement, the
few-cluster inference and power, sensitivity, the summary of significant terms, the figures,
the coefficients), data and design (the data, the registry, the classification, the models),
and checks (known effects, convergence, provenance).

The page displays what the tables upstream decided (the headline test, alpha, the family
sizes, which terms were estimable); it does not choose again.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from importlib import resources
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

import integration_models
from integration_models.data.registry import is_synthetic, unmeasured_domains
from integration_models.io import write_text
from integration_models.models.labels import model_label
from integration_models.plan.analysis_plan import FAMILY_ADJUSTMENTS
from integration_models.report.format import (
    decimals,
    direction,
    draws_in_label,
    fixed,
    format_p_value,
    number,
    plural,
    term_words,
    text,
    truncate,
    whole,
    year,
)
from integration_models.results import schemas
from integration_models.results.stamp import STAMP_COLUMNS, Stamp, foreign_tables

__all__ = ["SYNTHETIC_BANNER", "Tables", "format_p_value", "render_report", "write_report"]

SYNTHETIC_BANNER = "SYNTHETIC DEMO DATA \N{EM DASH} NOT REAL STATISTICS"
TITLE = "Integration of children's health and social care and outcomes in Scotland"
TEMPLATES = "templates"
INTEGRATION_PREFIX = "integration_"
CATEGORIES = ("full", "partial", "none")
SUMMARY_BASE = tuple(schemas.SUMMARY_FIXED)
COEFFICIENT_DISPLAY = (
    "indicator_id",
    "model",
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "p_adjusted",
    "conf_low",
    "conf_high",
    "n_obs",
    "n_areas",
    "inference",
    "scale",
    "note",
)
MANY_ROWS = 12
LIBRARY_WARNINGS = ("DeprecationWarning", "FutureWarning", "PendingDeprecationWarning")
URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}|\\^]+")
PARTNERSHIP_CODE = re.compile(r"S37\d{6}")
COVARIATE_VARIANTS = {  # sensitivity variant -> column header of the with/without table
    "baseline": "main (deprivation baseline x time)",
    "no_covariates": "without covariates",
    "log_density": "log density added",
}
FIGURE_CAPTIONS = {  # the overview figures, first, in this order
    "trends.png": "Trends: mean value of each indicator by year, areas grouped by their "
    "integration history",
    "forest.png": "Forest plot: the integration effects of every indicator and model, "
    "standardised by the SD of each outcome, with confidence intervals",
}

Cell = dict[str, object]
Data = dict[str, object]


# --- templates ------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    """Return the Jinja2 environment of the package's report templates (escaping HTML)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _style_sheet() -> Markup:
    """Return the page's CSS (``report.css``), to be inlined: package text, not data."""
    css = resources.files(__package__).joinpath(TEMPLATES, "report.css")
    return Markup(css.read_text(encoding="utf-8"))  # noqa: S704 - a file of the package


def render_section(name: str, data: object) -> str:
    """Render one part of the page alone: the macro ``name`` of ``sections.html.j2``.

    The page calls the same macros; this renders one of them for a check of its content.
    """
    module = _environment().get_template("sections.html.j2").module
    return str(getattr(module, name)(data))


# --- tables ---------------------------------------------------------------------------------


class Tables:
    """The result tables the report was given, by name; it opens no other file.

    Parameters
    ----------
    paths
        The CSV files declared as the report's inputs; a table is found by its file stem
        (``inference`` for ``.../inference.csv``). A name not among them, or a file that is
        absent or does not match its schema, reads as None and its section says so.
    """

    def __init__(self, paths: Iterable[str | Path]) -> None:
        found = sorted((Path(path) for path in paths), key=lambda path: path.name)
        self.paths = {path.stem: path for path in found if path.suffix == ".csv"}
        self._tables: dict[str, tuple[pd.DataFrame | None, list[str]]] = {}

    def read(self, name: str) -> pd.DataFrame | None:
        """Return the table ``name`` without its stamp columns, or None if not usable."""
        return self._checked(name)[0] if name in self.paths else None

    def present(self) -> list[Path]:
        """Return the declared tables that exist, by file name."""
        return [path for path in self.paths.values() if path.is_file()]

    def faults(self) -> list[tuple[str, str]]:
        """Return (file name, what is wrong) of each table that does not match its schema."""
        found = [
            (path.name, "; ".join(self._checked(name)[1])) for name, path in self.paths.items()
        ]
        return [(name, problems) for name, problems in found if problems]

    def _checked(self, name: str) -> tuple[pd.DataFrame | None, list[str]]:
        """Read and check the table ``name`` once, however many sections use it."""
        if name not in self._tables:
            self._tables[name] = _checked_table(self.paths[name])
        return self._tables[name]


def _checked_table(path: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """Read a result table without its stamp columns and say what is wrong with it.

    A table with a schema in :data:`integration_models.results.schemas.TABLES` is checked against
    it: one that does not match (left by another version of the package, edited by hand) is
    treated as absent, so its section says so instead of the page failing, and the alerts
    at the top name it and its faults. Returns (None, []) for an absent file, (None,
    problems) for a malformed one. The stamp is checked once, at the top of the page
    (:func:`_stamp`).
    """
    if not path.is_file():
        return None, []
    try:
        frame = schemas.read_table(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        return None, [f"cannot be read as CSV: {error}"]
    schema = schemas.TABLES.get(path.stem)
    problems = [] if schema is None else schemas.problems(frame, schema)
    if problems:
        return None, problems
    return frame.drop(columns=[c for c in STAMP_COLUMNS if c in frame]), []


def _read_csv(path: Path) -> pd.DataFrame | None:
    """Return a result table without its stamp columns, or None if absent or malformed."""
    return _checked_table(path)[0]


# --- generic table data ---------------------------------------------------------------------


def _cell(value: object = "", css: str = "") -> Cell:
    """Return one table cell: its text, or ``links`` or ``lines``, and its CSS class."""
    cell: Cell = {"text": "", "css": css, "links": None, "lines": None, "span": 1}
    if isinstance(value, dict):
        cell.update(value)
    else:
        cell["text"] = text(value)
    return cell


def _table(
    frame: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    headers: dict[str, str] | None = None,
    formats: dict[str, Callable[[object], object]] | None = None,
    numeric: Iterable[str] = (),
    classes: dict[str, str] | None = None,
    cell_class: Callable[[str, object], str] | None = None,
    caption: str = "",
    empty: str = "none",
) -> Data:
    """Return ``frame`` as the rows of text of a table for the ``table`` macro.

    Parameters
    ----------
    frame
        The rows to show, in order.
    columns
        Which columns, in order (default: all).
    headers
        Header text per column (default: the column name).
    formats
        Formatter per column, from the raw value to text, or to a dict of cell fields
        (``links``: (text, href) pairs; ``lines``: lines of text).
    numeric
        Columns to right-align.
    classes
        A CSS class per column for every cell of it.
    cell_class
        A function of (column, raw value) giving a CSS class for one cell, or ``""``.
    caption
        Table caption.
    empty
        Text shown instead of a table without rows.
    """
    columns = list(frame.columns if columns is None else columns)
    headers, formats, numeric = headers or {}, formats or {}, set(numeric)
    css = {
        c: " ".join(filter(None, ((classes or {}).get(c, ""), "num" * (c in numeric))))
        for c in columns
    }
    rows = [
        [
            _cell(
                formats[column](value) if column in formats else value,
                " ".join(
                    filter(None, (css[column], cell_class(column, value) if cell_class else ""))
                ),
            )
            for column, value in zip(columns, values, strict=True)
        ]
        for values in frame[columns].itertuples(index=False, name=None)
    ]
    head = [_cell(headers.get(c, c), "num" if c in numeric else "") for c in columns]
    return {"caption": caption, "empty": empty, "head": head, "rows": rows}


def _linkify(value: object) -> Cell:
    """Split text into (text, href) parts: http(s) URLs become links, nothing else does."""
    value = text(value)
    parts: list[tuple[str, str]] = []
    position = 0
    for match in URL.finditer(value):
        url = match.group(0).rstrip(".,;:!?")
        parts += [(value[position : match.start()], ""), (url, url)]
        position = match.start() + len(url)
    parts.append((value[position:], ""))
    return {"links": [part for part in parts if part[0]]}


def _warning_list(value: object) -> list[str]:
    return [part.strip() for part in text(value).split(" | ") if part.strip()]


def _warning_lines(value: object) -> Cell:
    return {"lines": _warning_list(value)}


def _is_integration(term: object) -> bool:
    return isinstance(term, str) and term.startswith(INTEGRATION_PREFIX)


def _models_in(model_fit: pd.DataFrame | None) -> list[str]:
    if model_fit is None:
        return []
    return [str(m) for m in dict.fromkeys(model_fit["model"].dropna())]


def _statuses(model_fit: pd.DataFrame, *, skip_ok: bool = False) -> str:
    """Count fits by status in words: ``3 ok, 1 not converged`` (known statuses first)."""
    counts = model_fit["status"].fillna("missing").astype(str).value_counts()
    known = [k for k in schemas.STATUSES if k in counts]
    keys = known + sorted(k for k in counts.index if k not in known)
    return ", ".join(
        f"{int(counts[k])} {k.replace('_', ' ')}" for k in keys if not (skip_ok and k == "ok")
    )


def _partnership_names(areas: pd.DataFrame) -> dict[str, str]:
    """Return partnership code -> name from the council areas table."""
    return areas.drop_duplicates("hscp_code").set_index("hscp_code")["hscp_name"].to_dict()


def _named(value: object, names: dict[str, str]) -> str:
    """Replace partnership codes in ``value`` by names: ``drop_S37000022`` -> ``drop Highland``."""
    value = text(value)
    value = re.sub(r"drop_(S37\d{6})", lambda m: f"drop {names.get(m.group(1), m.group(1))}", value)
    return PARTNERSHIP_CODE.sub(lambda m: names.get(m.group(0), m.group(0)), value)


def _level(alpha: float | None) -> str:
    return "the configured level" if alpha is None else f"{alpha * 100:g}%"


# --- the answer -----------------------------------------------------------------------------


def _stamp(tables: Tables, provenance: dict) -> Data:
    """Say which run wrote this page, and name any table (or input) that is not of it.

    Every table carries the configuration and inputs hashes of the run that wrote it; a
    table of an earlier configuration or of changed inputs (left by a run that stopped before
    rewriting it) is named at the top, as is a table that does not match its schema and an
    input file that changed while the run read it; the statement of the stamp goes under
    About this page.
    """
    stamp = provenance.get("stamp") or {}
    expected = Stamp(str(stamp.get("config_hash", "")), str(stamp.get("inputs_hash", "")))
    present = tables.present()
    foreign = foreign_tables(present, expected)
    faults = tables.faults()
    changed = provenance.get("changed_during_run") or []
    git = provenance.get("git") or {}
    return {
        "config_hash": expected.config_hash,
        "inputs_hash": expected.inputs_hash,
        "created": str(provenance.get("created", "unknown")),
        "commit": str(git.get("commit", "unknown"))[:12],
        "tables": len(present),
        "foreign": foreign,
        "foreign_count": plural(len(foreign), "table"),
        "faults": faults,
        "faults_count": plural(len(faults), "table"),
        "changed": [str(c.get("path", c)) if isinstance(c, dict) else str(c) for c in changed],
    }


def _conclusion(conclusion: pd.DataFrame | None) -> Data | None:
    """Return the answer of ``conclusion.csv`` as written upstream: short, then in full.

    The sentences (one per family of outcomes and integration term, primary first) are
    written by :func:`integration_models.results.summarise.conclusion_table`, so the page
    shows the test, alpha and counts that the tables used: the test and level once, the
    short ``summary`` sentences, what the data cannot say (``limits``), and the full
    ``statement`` sentences folded below. None if the table is absent.
    """
    if conclusion is None:
        return None
    level = f"{float(conclusion['alpha'].iloc[0]) * 100:g}%" if len(conclusion) else ""
    return {
        "test": _headline_test(conclusion),
        "level": level,
        "summaries": [text(v) for v in conclusion["summary"] if text(v)],
        "statements": [text(v) for v in conclusion["statement"] if text(v)],
        "limits": [v for v in dict.fromkeys(conclusion["limits"].map(text)) if v],
    }


def _plan(provenance: dict, estimates: pd.DataFrame | None, label: str) -> Data | None:
    """Return the analysis plan the headline follows and the run's deviations from it.

    Displays ``provenance.json``'s ``analysis_plan`` (written by the ``provenance`` step with
    :func:`integration_models.plan.analysis_plan.plan_record`, deviations included) and the
    primary outcomes as ``estimates.csv`` marks them; None if the provenance has no plan.
    """
    plan = provenance.get("analysis_plan")
    if not isinstance(plan, dict):
        return None
    families = plan.get("families") or {}
    primary: list[str] = []
    if estimates is not None and "family" in estimates:
        chosen = estimates[estimates["family"].map(text) == "primary"]
        titles = chosen.drop_duplicates("indicator_id")
        primary = [
            text(title) or text(indicator)
            for indicator, title in zip(titles["indicator_id"], titles["title"], strict=True)
        ]
    return {
        "path": text(plan.get("path", "")),
        "sha256": text(plan.get("sha256", "")),
        "registered": text(plan.get("registered", "")),
        "test": label or text(plan.get("test", "")),
        "alpha": text(plan.get("alpha", "")),
        "families": [
            f"{family}: {FAMILY_ADJUSTMENTS.get(str(method), str(method))}"
            for family, method in families.items()
        ],
        "primary": primary,
        "deviations": [text(d) for d in plan.get("deviations") or []],
    }


def _alpha(conclusion: pd.DataFrame | None, config: dict) -> float | None:
    """Return the test level the tables used: ``conclusion.csv``'s, else the configuration's."""
    if conclusion is not None and len(conclusion):
        return float(conclusion["alpha"].iloc[0])
    value = config.get("alpha")
    return None if value is None else float(value)


def _headline_test(conclusion: pd.DataFrame | None) -> str:
    """Return the label of the headline test as ``conclusion.csv`` names it ("" if none)."""
    if conclusion is None or not len(conclusion):
        return ""
    return text(conclusion["test"].iloc[0])


def _estimate_cells(row: object, draws: int | None) -> list:
    """Return the cells of one indicator and term of the estimates table (``estimates.csv``)."""
    places = decimals(row.std_error)  # type: ignore[attr-defined]
    estimate = fixed(row.estimate, places)  # type: ignore[attr-defined]
    low, high = row.conf_low, row.conf_high  # type: ignore[attr-defined]
    interval = (
        "" if pd.isna(low) or pd.isna(high) else f"{fixed(low, places)} to {fixed(high, places)}"
    )
    error = fixed(row.std_error, places)  # type: ignore[attr-defined]
    outcome = str(row.outcome)  # type: ignore[attr-defined]
    if outcome == "not estimated":  # one cell: the caller spans it over the term's columns
        return [_cell("not estimated", "muted")]
    shown = outcome if outcome in ("better", "worse", "unknown direction") else "\N{EN DASH}"
    return [
        _cell(f"{estimate} ({error})" if estimate else "", "num"),
        _cell(interval, "num"),
        _cell(format_p_value(row.p_value, draws), "num"),  # type: ignore[attr-defined]
        _cell(format_p_value(row.p_family_adjusted, draws), "num"),  # type: ignore[attr-defined]
        _cell(shown, outcome if outcome in ("better", "worse") else "muted"),
        _identified_by(row),
    ]


def _identified_by(row: object) -> Cell:
    """Return the cell naming how many partnerships identify an estimate, and its caveat.

    Flagged where the estimate rests on one partnership or on an assumed go-live date
    (``estimates.csv``'s ``n_identifying_areas`` and ``caveat``).
    """
    count = getattr(row, "n_identifying_areas", np.nan)
    caveat = text(getattr(row, "caveat", ""))
    shown = "" if pd.isna(count) else plural(int(count), "partnership")
    flagged = bool(caveat) or (not pd.isna(count) and int(count) <= 1)
    return _cell("; ".join(part for part in (shown, caveat) if part), "flag" if flagged else "")


def _estimates(estimates: pd.DataFrame | None, alpha: float | None) -> Data:
    """Return the integration estimates under the headline test, one row per indicator.

    Displays ``estimates.csv`` (:func:`integration_models.results.summarise.estimates_table`): the
    test, the verdicts and the order were decided there.
    """
    if estimates is None:
        return {"absent": "estimates.csv"}
    if not len(estimates) or not text(estimates["test"].iloc[0]):
        return {"absent": "conclusion.csv"}
    label = text(estimates["test"].iloc[0])
    terms = list(dict.fromkeys(estimates["term"]))
    has_interval = bool(estimates[["conf_low", "conf_high"]].notna().all(axis=1).any())
    interval = "interval" if alpha is None else f"{(1 - alpha) * 100:g}% interval"
    columns = [
        "estimate (SE)",
        *([interval] if has_interval else []),
        "p",
        "adjusted p",
        "outcome",
        "identified by",
    ]
    draws = draws_in_label(label)
    body = []
    for indicator, group in estimates.groupby("indicator_id", sort=False):
        first = group.iloc[0]
        cells = [
            _cell(text(first["title"]) or str(indicator)),
            _cell(direction(first["higher_is_better"]).removesuffix(" is better")),
            _cell(text(first["family"]), "id"),
        ]
        by_term = {row.term: row for row in group.itertuples(index=False)}
        for term in terms:
            parts = _estimate_cells(by_term[term], draws)
            if len(parts) == 1:
                parts[0]["span"] = len(columns)
            elif not has_interval:
                parts = [parts[0], *parts[2:]]
            cells += parts
        body.append(cells)
    return {
        "absent": "",
        "label": label,
        "level": _level(alpha),
        "has_interval": has_interval,
        "terms": [term_words(t) for t in terms],
        "columns": columns,
        "rows": body,
    }


# --- results in detail ----------------------------------------------------------------------


def _about(model_fit: pd.DataFrame | None, registry: pd.DataFrame, config: dict) -> str:
    """Return the run at a glance: indicators, models, fits by status, dataset."""
    glance = [plural(len(registry), "indicator")]
    models = _models_in(model_fit)
    if model_fit is not None and models:
        glance.append(f"{plural(len(models), 'model')} ({', '.join(models)})")
        glance.append(f"{plural(len(model_fit), 'fit')}: {_statuses(model_fit)}")
    for key, label in (("raw_dir", "dataset"), ("classification", "classification")):
        if config.get(key):
            glance.append(f"{label} {config[key]}")
    return "; ".join(glance)


def _headline(headline: pd.DataFrame | None) -> list[tuple[str, bool]] | None:
    """Return every headline statement, with whether it is an integration term (in bold)."""
    if headline is None:
        return None
    return [
        (text(statement), text(family).startswith("integration"))
        for statement, family in zip(headline["statement"], headline["family"], strict=True)
        if text(statement)
    ]


def _size(size: pd.DataFrame, label: str, alpha: float | None) -> Data:
    """Return the size diagnostic summarised over indicators, and the test the headline uses.

    ``size.csv`` has one row per indicator, term, null DGP and test
    (:mod:`integration_models.inference.size`); the page shows per term, DGP and test the
    indicators simulated, the median and largest rejection rate and how many over-reject.
    ``label`` and ``alpha`` are the headline test and level of ``conclusion.csv``.
    """
    rated = size.loc[pd.to_numeric(size["rejection_rate"], errors="coerce").notna()]
    summary = (
        rated.assign(over=rated["over_rejects"].astype(str).str.lower() == "true")
        .groupby(["term", "dgp", "test"], sort=False)
        .agg(
            indicators=("indicator_id", "nunique"),
            median_rate=("rejection_rate", "median"),
            max_rate=("rejection_rate", "max"),
            over_rejecting=("over", "sum"),
            sims=("n_sims", "max"),
        )
        .reset_index()
    )
    columns = ["term", "dgp", "test", "indicators", "sims", "median_rate", "max_rate"]
    return {
        "level": _level(alpha),
        "design": "each indicator's own design, under the null DGPs of column dgp",
        "label": label,
        "table": _table(
            summary,
            [*columns, "over_rejecting"],
            headers={
                "dgp": "null DGP",
                "median_rate": "median rejection rate",
                "max_rate": "largest rejection rate",
                "over_rejecting": "indicators over-rejecting",
            },
            formats={"median_rate": number, "max_rate": number},
            numeric=["indicators", "sims", "median_rate", "max_rate", "over_rejecting"],
        ),
    }


def _multiplicity(multiplicity: pd.DataFrame | None, alpha: float | None) -> Data | None:
    """Return how many indicators each test finds before and after multiplicity adjustment.

    Displays ``multiplicity.csv`` (:func:`integration_models.results.summarise.multiplicity_table`);
    the family of each test is the indicators it tested (``tested``).
    """
    if multiplicity is None or alpha is None:
        return None
    below = f"p < {alpha:g}"
    frame = multiplicity.rename(
        columns={
            "significant": below,
            "after_bh": "after BH",
            "after_romano_wolf": "after Romano-Wolf",
        }
    )
    families = sorted({int(n) for n in frame["tested"] if n}) if len(frame) else []
    return {
        "level": _level(alpha),
        "family": f"the {families[0]} indicators each test was applied to"
        if len(families) == 1
        else "the indicators each test was applied to (tested)",
        "table": _table(
            frame,
            formats={"after Romano-Wolf": whole},
            numeric=["tested", below, "after BH", "after Romano-Wolf"],
        ),
    }


def _power(power: pd.DataFrame, alpha: float | None = None) -> Data:
    """Return the minimum detectable effects, their units, and where the test misleads."""
    numbers = ["mde", "mde_sd", "mde_units", "mde_pct_pre_mean", "size", "mde_size_adjusted_sd"]
    columns = ["indicator_id", "term", "scale", "n_treated_areas", *numbers, "units_note", "note"]
    level = _level(alpha)
    return {
        "level": level,
        "over": plural(int(power["over_rejects"].eq(True).sum()), "term"),
        "any_over": bool(power["over_rejects"].eq(True).any()),
        "table": _table(
            power,
            columns,
            headers={
                "mde": "MDE (model scale)",
                "mde_sd": "MDE (SDs)",
                "mde_units": "MDE (units)",
                "mde_pct_pre_mean": "MDE (% of pre-period mean)",
                "size": f"size at {level}",
                "mde_size_adjusted_sd": "size-adjusted MDE (SDs)",
            },
            formats=dict.fromkeys(numbers, number),
            numeric=numbers,
        ),
    }


def _inference(
    inference: pd.DataFrame | None,
    power: pd.DataFrame | None,
    size: pd.DataFrame | None = None,
    multiplicity: pd.DataFrame | None = None,
    *,
    label: str = "",
    alpha: float | None = None,
) -> Data | None:
    """Return the twfe integration terms under each few-cluster method, and the MDEs."""
    if inference is None:
        return None
    wide = inference.pivot_table(
        index=["indicator_id", "term"], columns="inference", values="p_value", aggfunc="first"
    ).reset_index()
    methods = [m for m in dict.fromkeys(inference["inference"]) if m in wide.columns]
    return {
        "size": None if size is None else _size(size, label, alpha),
        "table": _table(
            wide,
            ["indicator_id", "term", *methods],
            formats={m: partial(format_p_value, draws=draws_in_label(m)) for m in methods},
            numeric=methods,
        ),
        "multiplicity": _multiplicity(multiplicity, alpha),
        "power": None if power is None else _power(power, alpha),
    }


def _covariates(table: pd.DataFrame) -> Data | None:
    """Return the main twfe integration estimates next to those without covariates.

    The within-area models control only for the pre-integration deprivation baseline times
    time; a reviewer should see at once how much that, or adding log density, moves each
    estimate (CR2 Bell-McCaffrey standard errors in brackets, from ``sensitivity.csv``).
    """
    rows = table.loc[table["variant"].isin(list(COVARIATE_VARIANTS))]
    if rows.empty:
        return None
    wide: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows.itertuples(index=False):
        estimate, se = float(row.estimate), float(row.std_error)
        cell = f"{number(estimate)} ({number(se)})" if np.isfinite(estimate) else "n/a"
        key = (str(row.indicator_id), str(row.term))
        wide.setdefault(key, {"indicator_id": key[0], "term": key[1]})[row.variant] = cell
    columns = ["indicator_id", "term", *(v for v in COVARIATE_VARIANTS if v in set(rows.variant))]
    frame = pd.DataFrame(list(wide.values())).reindex(columns=columns).fillna("")
    return _table(frame, columns, headers=COVARIATE_VARIANTS)


def _sensitivity(
    table: pd.DataFrame | None, summary: pd.DataFrame | None, names: dict[str, str]
) -> Data | None:
    """Return whether any conclusion changes under the sensitivity variants, in words first.

    Partnership codes in the variant names and descriptions (``drop_S37000022``) are shown as
    the partnership's name (``names``, from the council areas table).
    """
    from integration_models.results.sensitivity import describe_sensitivity

    if table is None or summary is None:
        return None
    summary = summary.assign(
        variant=summary["variant"].map(partial(_named, names=names)),
        description=summary["description"].map(partial(_named, names=names)),
    )
    columns = ["variant", "term", "n_tested", "n_significant", "n_changed", "changes", "note"]
    return {
        "words": _named(describe_sensitivity(summary), names),
        "table": _table(summary, columns, numeric=["n_tested", "n_significant", "n_changed"]),
        "covariates": _covariates(table),
    }


def _summary_class(value: object) -> str:
    return {"+": "pos", "-": "neg", "\N{MINUS SIGN}": "neg", "ns": "ns", "": "na"}.get(
        text(value).strip(), ""
    )


def _summary_groups(
    columns: list[str], models: list[str], integration: bool
) -> list[tuple[str, list[str]]]:
    """Group ``<model>_<term>`` columns by model (longest matching model name wins).

    Only the integration terms if ``integration``, else only the other terms, in file order.
    """
    groups: dict[str, list[str]] = {}
    for column in columns:
        owners = [m for m in models if column.startswith(m + "_")]
        if owners:
            model = max(owners, key=len)
            if _is_integration(column[len(model) + 1 :]) == integration:
                groups.setdefault(model, []).append(column)
    return [(model, groups[model]) for model in models if model in groups]


def _summary_table(
    frame: pd.DataFrame, base: list[str], groups: list[tuple[str, list[str]]]
) -> Data:
    """Return a summary table: the base columns, then one group of term columns per model."""
    starts = {columns[0] for _, columns in groups}
    terms = [column for _, columns in groups for column in columns]
    rows = [
        [_cell(row[c], "mono id" if c == "indicator_id" else "") for c in base]
        + [
            _cell(row[c], " ".join(filter(None, (_summary_class(row[c]), "first" * (c in starts)))))
            for c in terms
        ]
        for _, row in frame.iterrows()
    ]
    return {
        "base": base,
        "groups": [
            {
                "model": model_label(model),
                "terms": [(c[len(model) + 1 :].split("_"), c in starts) for c in columns],
            }
            for model, columns in groups
        ],
        "rows": rows,
    }


def _summary(
    summary: pd.DataFrame | None, registry: pd.DataFrame, models: list[str]
) -> Data | None:
    """Return the significant terms of every indicator, integration terms first."""
    if summary is None:
        return None
    better = dict(zip(registry["indicator_id"], registry["higher_is_better"], strict=True))
    frame = summary.assign(
        **{
            "better if": summary["indicator_id"].map(
                lambda i: direction(better.get(i, "")).replace(" is better", "")
            )
        }
    )
    candidates = [c for c in frame.columns if c not in SUMMARY_BASE]
    main = _summary_groups(candidates, models, integration=True)
    other = _summary_groups(candidates, models, integration=False)
    grouped = {c for _, columns in main + other for c in columns}
    base = [c for c in frame.columns if c not in grouped]
    return {
        "empty": frame.empty,
        "main": _summary_table(frame, base, main),
        "other": _summary_table(frame, ["indicator_id", "title", "better if"], other)
        if other
        else None,
    }


def _figure(path: Path, caption: str) -> Data:
    """Return a figure embedded as a data URI, with its caption and file name."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return {"src": f"data:image/png;base64,{data}", "caption": caption, "name": path.name}


def _figures(figures: Sequence[Path], registry: pd.DataFrame) -> Data:
    """Return the declared PNG figures: overview, then per indicator, then the others.

    Only files passed to the report are shown; the SVG copies are not embedded.
    """
    pngs = {
        p.name: p
        for p in sorted(figures, key=lambda p: p.name)
        if p.suffix == ".png" and p.is_file()
    }
    main = [_figure(pngs.pop(n), caption) for n, caption in FIGURE_CAPTIONS.items() if n in pngs]
    titles = dict(zip(registry["indicator_id"], registry["title"], strict=True))
    order = [f"coefficients_{i}.png" for i in titles]
    names = [n for n in order if n in pngs]
    names += sorted(n for n in pngs if n.startswith("coefficients_") and n not in order)
    per_indicator = []
    for name in names:
        indicator = name.removeprefix("coefficients_").removesuffix(".png")
        title = text(titles.get(indicator, ""))
        label = f"{title} ({indicator})" if title else indicator
        per_indicator.append(_figure(pngs.pop(name), f"{label}: estimates of all terms by model"))
    others = [_figure(path, path.stem.replace("_", " ")) for path in pngs.values()]
    return {"main": main, "per_indicator": per_indicator, "others": others}


def _coefficients(coefficients: pd.DataFrame | None) -> Data | None:
    """Return the integration terms of every indicator and model, rounded to their precision."""
    if coefficients is None:
        return None
    frame = coefficients[coefficients["term"].map(_is_integration)].copy()
    columns = list(COEFFICIENT_DISPLAY)
    per_model = [
        len({text(v) for v in group if text(v)}) <= 1
        for _, group in frame.groupby("model", sort=True)["inference"]
    ]
    same_inference = bool(per_model) and all(per_model)
    if same_inference:
        columns.remove("inference")
    empty = [c for c in ("note", "p_adjusted") if not frame[c].map(text).any()]
    columns = [c for c in columns if c not in empty]
    places = [decimals(v) for v in frame["std_error"]]
    for column in ("estimate", "std_error", "conf_low", "conf_high"):
        frame[column] = [fixed(v, d) for v, d in zip(frame[column], places, strict=True)]
    numeric = ["estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    numeric += ["p_adjusted", "n_obs", "n_areas"]
    return {
        "same_inference": same_inference,
        "table": _table(
            frame,
            columns,
            formats={
                "statistic": partial(fixed, places=2),
                "p_value": format_p_value,
                "p_adjusted": format_p_value,
                "n_obs": whole,
                "n_areas": whole,
            },
            numeric=[c for c in numeric if c in columns],
            classes={"indicator_id": "mono id", "term": "id", "note": "wrap"},
        ),
    }


# --- data and design ------------------------------------------------------------------------


def _per_indicator(summary: pd.DataFrame) -> Data:
    """Show the rows in the panel, rows excluded, areas and years of each indicator."""
    numeric = ["rows", "excluded", "areas", "first_year", "last_year"]
    return _table(
        summary,
        ["indicator_id", "title", *numeric],
        headers={
            "rows": "rows in panel",
            "excluded": "rows excluded",
            "first_year": "first year",
            "last_year": "last year",
        },
        formats={
            "rows": whole,
            "excluded": whole,
            "areas": whole,
            "first_year": year,
            "last_year": year,
        },
        numeric=numeric,
        classes={"indicator_id": "mono id"},
    )


def _data(summary: pd.DataFrame | None, counts: pd.DataFrame | None, config: dict) -> Data | None:
    """Show the rows read, kept and excluded, per indicator, reason and file (``data-summary``)."""
    if summary is None or counts is None:
        return None
    kept, excluded = int(summary["rows"].sum()), int(summary["excluded"].sum())
    by = {
        key: counts.loc[counts["by"] == key, ["value", "rows"]].rename(columns={"value": key})
        for key in ("reason", "file")
    }
    return {
        "read": f"{kept + excluded:,}",
        "kept": f"{kept:,}",
        "excluded": f"{excluded:,}",
        "per_indicator": _per_indicator(summary),
        "by_reason": _table(
            by["reason"],
            caption="By reason",
            formats={"reason": lambda value: truncate(text(value)), "rows": whole},
            numeric=["rows"],
        ),
        "by_file": _table(
            by["file"],
            caption="By file",
            formats={"rows": whole},
            numeric=["rows"],
            classes={"file": "mono"},
        ),
        "files": len(by["file"]),
        "many_files": len(by["file"]) > MANY_ROWS,
        "processed": text(config.get("processed_dir")),
    }


def _registry(registry: pd.DataFrame) -> Data:
    """Return the indicator registry and the domains no outcome indicator measures."""
    columns = ["indicator_id", "title", "domain", "measure", "unit", "period", "direction"]
    columns += ["role", "construct", "source"]
    optional = {c: "" for c in ("role", "construct") if c not in registry}
    frame = registry.assign(direction=registry["higher_is_better"].map(direction), **optional)
    # a domain without any outcome indicator is stated, so no null is read into it
    unmeasured = unmeasured_domains(frame) if "role" in registry else []
    return {
        "count": plural(len(frame), "indicator"),
        "table": _table(frame, columns, classes={"indicator_id": "mono id", "source": "wrap"}),
        "unmeasured": unmeasured,
        "where": "this synthetic dataset" if is_synthetic(frame) else "the public sources",
    }


def _category_class(column: str, value: object) -> str:
    return f"cat-{value}" if column == "category" and value in CATEGORIES else ""


def _exposure_counts(counts: pd.DataFrame) -> Data:
    """Show the council areas per year and category in each kind of period, as classified.

    ``counts`` is ``exposure_counts.csv`` (the ``data-summary`` step's count of
    ``integration.parquet``): one row per year with a ``full / partial / none`` cell per kind
    of period.
    """
    keys = [str(k) for k in sorted(counts["period_key"].unique())]
    cells = counts.assign(
        cell=counts[list(CATEGORIES)].astype(int).astype(str).agg(" / ".join, axis=1)
    )
    wide = cells.pivot_table(index="year", columns="period_key", values="cell", aggfunc="first")
    wide = wide.reindex(columns=keys).fillna("0 / 0 / 0").reset_index()
    return _table(
        wide[["year", *keys]],
        headers={k: f"{k}: full / partial / none" for k in keys},
        numeric=["year", *keys],
        empty="no years",
    )


def _classification(
    classification: pd.DataFrame,
    names: dict[str, str],
    counts: pd.DataFrame | None,
    config: dict,
) -> Data:
    """Return the dated periods of each partnership and, if given, the areas per category."""
    optional = {c: "" for c in ("from_date", "to_date", "confidence") if c not in classification}
    frame = classification.assign(
        hscp_name=classification["hscp_code"].map(lambda c: names.get(c, "")), **optional
    ).sort_values(["hscp_code", "from_year"], kind="stable")
    columns = ["hscp_code", "hscp_name", "category", "from_date", "to_date", "from_year"]
    columns += ["to_year", "confidence", "evidence"]
    exposed = counts is not None and not counts.empty
    return {
        "source": text(config.get("classification")),
        "periods": _table(
            frame,
            columns,
            headers={
                "hscp_code": "partnership",
                "hscp_name": "name",
                "from_date": "go-live",
                "to_date": "last day",
                "from_year": "from",
                "to_year": "to",
            },
            formats={"from_year": year, "to_year": year, "evidence": _linkify},
            numeric=["from_year", "to_year"],
            classes={"hscp_code": "mono id", "evidence": "wrap"},
            cell_class=_category_class,
        ),
        "areas": int(counts[list(CATEGORIES)].sum(axis=1).max()) if exposed else 0,
        "counts": _exposure_counts(counts) if exposed else None,
    }


def _model(model: str, fits: pd.DataFrame, coefficients: pd.DataFrame | None) -> Data:
    """Return one model's formulas, standard-error conventions and facts."""
    formulas = [f for f in dict.fromkeys(fits["formula"].dropna().map(text)) if f]
    chosen = (
        []
        if coefficients is None
        else coefficients.loc[coefficients["model"] == model, "inference"]
    )
    scales = fits["scale"].map(text).value_counts().sort_index()
    optimisers = sorted({o for o in fits["optimiser"].map(text) if o})
    facts = [
        plural(len(fits), "indicator"),
        "outcome scale " + ", ".join(f"{s or '(none)'}: {n}" for s, n in scales.items()),
        *(["optimiser " + ", ".join(optimisers)] if optimisers else []),
        f"status {_statuses(fits)}",
    ]
    return {
        "name": model_label(model),
        "formulas": formulas,
        "inference": [i for i in dict.fromkeys(map(text, chosen)) if i],
        "facts": "; ".join(facts),
    }


def _models(model_fit: pd.DataFrame | None, coefficients: pd.DataFrame | None) -> list[Data] | None:
    """Return every model fitted, in the order of ``model_fit.csv``."""
    if model_fit is None:
        return None
    return [
        _model(m, model_fit[model_fit["model"] == m], coefficients) for m in _models_in(model_fit)
    ]


# --- checks ---------------------------------------------------------------------------------


def _known_effects(tables: Tables) -> Data | None:
    """Set the estimates against the dataset's known effects, if it has any (the demo does).

    Reads ``known_effects_summary.csv`` and ``known_effects.csv``
    (:mod:`integration_models.results.known_effects`): a synthetic dataset simulated from known
    coefficients shows whether the models recover them (interval coverage, sign, false
    positives), per model and term; the per-estimate rows are collapsed below. A dataset
    without a truth file has the tables with no rows. None if either table is missing.
    """
    summary, rows = tables.read("known_effects_summary"), tables.read("known_effects")
    if summary is None or rows is None:
        return None

    def share(hits: pd.Series, of: pd.Series) -> list[str]:
        return [f"{whole(c)} of {whole(n)}" if n else "-" for c, n in zip(hits, of, strict=True)]

    coverage = [
        f"{c} ({number(p, 3)}%)" if c != "-" else c
        for c, p in zip(
            share(summary["covered"], summary["with_interval"]),
            summary["coverage_pct"],
            strict=True,
        )
    ]
    summary = summary.assign(
        coverage=coverage,
        sign=share(summary["sign_right"], summary["nonzero_truth"]),
        false_pos=share(summary["false_positives"], summary["zero_truth"]),
    )
    three = partial(number, digits=3)
    return {
        "empty": summary.empty,
        "summary": _table(
            summary,
            ["model", "term", "estimates", "coverage", "sign", "false_pos"],
            headers={
                "coverage": "interval covers truth",
                "sign": "right sign (truth not 0)",
                "false_pos": "false positives (truth 0)",
            },
            numeric=["estimates", "coverage", "sign", "false_pos"],
            classes={"term": "id"},
        ),
        "count": len(rows),
        "rows": _table(
            rows,
            formats={
                "p_value": format_p_value,
                **dict.fromkeys(("truth", "estimate", "conf_low", "conf_high"), three),
            },
            numeric=["truth", "estimate", "conf_low", "conf_high", "p_value"],
            classes={"indicator_id": "mono id", "term": "id"},
        ),
    }


def _warning_kind(warning: str) -> str:
    return "library notice" if warning.startswith(LIBRARY_WARNINGS) else "model or numerical"


def _where(fits: list[tuple[str, str]], totals: dict[str, int]) -> str:
    """Describe which fits (indicator, model) share a warning, compactly."""
    parts = []
    for model in dict.fromkeys(model for _, model in fits):
        ids = [indicator for indicator, m in fits if m == model]
        if len(ids) == totals.get(model, -1) and len(ids) > 1:
            parts.append(f"all {len(ids)} {model} fits")
        else:
            parts.append(f"{model}: {', '.join(ids)}")
    return "; ".join(parts)


def _status_class(column: str, value: object) -> str:
    return "neg" if column == "status" and text(value) not in ("ok", "") else ""


def _fits_table(frame: pd.DataFrame, columns: list[str]) -> Data:
    return _table(
        frame,
        columns,
        formats={"warnings": _warning_lines},
        classes={"indicator_id": "mono id", "message": "wrap", "warnings": "wrap"},
        cell_class=_status_class,
    )


def _grouped_warnings(warned: pd.DataFrame, totals: dict[str, int]) -> pd.DataFrame:
    """Return each distinct warning once, with the fits that raised it; model ones first."""
    shared: dict[str, list[tuple[str, str]]] = {}
    for row in warned.itertuples(index=False):
        for warning in dict.fromkeys(_warning_list(row.warnings)):
            shared.setdefault(warning, []).append((text(row.indicator_id), text(row.model)))
    grouped = pd.DataFrame(
        [
            {
                "warning": w,
                "kind": _warning_kind(w),
                "fits": len(fits),
                "where": _where(fits, totals),
            }
            for w, fits in shared.items()
        ]
    )
    return grouped.assign(library=grouped["kind"] == "library notice").sort_values(
        ["library", "fits", "warning"], ascending=[True, False, True], kind="stable"
    )


def _convergence(model_fit: pd.DataFrame | None) -> Data | None:
    """Return the fits that did not reach status ok and the warnings recorded while fitting."""
    if model_fit is None:
        return None
    not_ok = (model_fit["status"].map(text) != "ok").to_numpy()
    warned = model_fit["warnings"].map(lambda v: bool(text(v).strip())).to_numpy()
    data: Data = {
        "total": len(model_fit),
        "not_ok": int(not_ok.sum()),
        "statuses": _statuses(model_fit, skip_ok=True),
        "failed": _fits_table(
            model_fit[not_ok],
            ["indicator_id", "model", "status", "converged", "message", "warnings"],
        ),
        "warned": int(warned.sum()),
    }
    if not warned.any():
        return data
    grouped = _grouped_warnings(
        model_fit[warned], model_fit["model"].map(text).value_counts().to_dict()
    )
    return {
        **data,
        "warned_count": plural(int(warned.sum()), "model"),
        "distinct": plural(len(grouped), "distinct warning"),
        "grouped": _table(
            grouped,
            ["warning", "kind", "fits", "where"],
            formats={"fits": whole},
            numeric=["fits"],
            classes={"warning": "wrap", "where": "wrap", "kind": "id"},
        ),
        "every": _fits_table(
            model_fit[warned], ["indicator_id", "model", "status", "message", "warnings"]
        ),
    }


def _mapping_table(mapping: dict, key: str, value: str) -> Data:
    rows = [
        {key: k, value: v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)}
        for k, v in sorted(mapping.items(), key=lambda item: str(item[0]))
    ]
    return _table(pd.DataFrame(rows, columns=[key, value]), classes={value: "mono wrap"})


def _provenance(provenance: dict) -> Data:
    """Return the commit, versions, configuration and input files of the run."""
    git = provenance.get("git") or {}
    dirty = git.get("dirty", "unknown")
    inputs = provenance.get("inputs") or {}
    rows = [
        {
            "group": group,
            "path": record.get("path", ""),
            "size": record.get("size", ""),
            "sha256": record.get("sha256", ""),
        }
        for group in sorted(inputs)
        for record in inputs[group]
    ]
    return {
        "commit": str(git.get("commit", "unknown")),
        "dirty": {True: "uncommitted changes", False: "clean"}.get(dirty, str(dirty)),
        "created": str(provenance.get("created", "unknown")),
        "platform": str(provenance.get("platform", "unknown")),
        "versions": _mapping_table(provenance.get("versions") or {}, "package", "version"),
        "config": _mapping_table(provenance.get("config") or {}, "key", "value"),
        "files": len(rows),
        "inputs": _table(
            pd.DataFrame(rows, columns=["group", "path", "size", "sha256"]),
            headers={"size": "bytes"},
            formats={"size": whole},
            numeric=["size"],
            classes={"path": "mono", "sha256": "mono"},
            empty="no input files recorded",
        ),
    }


# --- other estimators and checks of the design (issue 16) ------------------------------------

DESIGN_FIGURES = {  # file -> caption
    "estimators.png": "Every estimator's integration effects for each primary outcome: two-way "
    "fixed effects beside the difference-in-differences estimators robust to effects that "
    "differ between cohorts or grow over time (csdid, sunab, bjs, dcdh); a hollow point has no "
    "interval, the note beside it says why",
    "twfe_weights.png": "TWFE weights: sum of negative weights and the Goodman-Bacon weight "
    "on already-treated controls, per indicator",
    "honest_did.png": "HonestDiD breakdown values: the largest post-period violation of "
    "parallel trends, relative to the largest pre-period one (Mbar), under which the overall "
    "effect's robust interval still excludes zero",
    "synthetic_control.png": "Highland and Moray against their synthetic controls",
}


def _design(found: Tables, figures: Sequence[Path]) -> Data | None:
    """Return the checks of the design: their sentences, compact tables and figures."""
    checks = found.read("design_checks")
    if checks is None:
        return None
    pngs = {p.name: p for p in figures if p.is_file()}
    diagnostics = found.read("twfe_diagnostics")
    breakdown = found.read("honest_did_breakdown")
    synthetic = found.read("synthetic_control")
    agreement = found.read("estimator_agreement")
    return {
        "statements": [text(s) for s in checks["statement"]],
        "figures": [_figure(pngs[n], c) for n, c in DESIGN_FIGURES.items() if n in pngs],
        "agreement": None
        if agreement is None
        else _table(
            agreement,
            ["indicator_id", "term", "reference_estimate", "n_estimators", "agree", "differing"],
            headers={"reference_estimate": "plan estimator", "n_estimators": "compared"},
            formats={"reference_estimate": number, "term": term_words},
            numeric=["reference_estimate", "n_estimators"],
            empty="no primary outcome with estimates to compare",
        ),
        "weights": None
        if diagnostics is None
        else _table(
            diagnostics,
            [
                "indicator_id",
                "term",
                "negative_sum",
                "sigma_ratio",
                "bacon_forbidden_weight",
                "verdict",
            ],
            headers={
                "negative_sum": "negative weights",
                "sigma_ratio": "sigma-bar / |estimate|",
                "bacon_forbidden_weight": "Bacon: already-treated controls",
            },
            formats={
                "negative_sum": lambda v: number(v, 2),
                "sigma_ratio": lambda v: number(v, 2),
                "bacon_forbidden_weight": lambda v: number(v, 2),
                "term": term_words,
            },
            numeric=["negative_sum", "sigma_ratio", "bacon_forbidden_weight"],
            classes={"verdict": "wrap"},
        ),
        "honest": None
        if breakdown is None
        else _table(
            breakdown,
            ["indicator_id", "term", "estimate", "std_error", "event_window", "breakdown_text"],
            headers={"breakdown_text": "breakdown value (Mbar)"},
            formats={"estimate": number, "std_error": number, "term": term_words},
            numeric=["estimate", "std_error"],
            classes={"breakdown_text": "wrap"},
        ),
        "synthetic": None
        if synthetic is None
        else _table(
            synthetic[synthetic["status"] == "ok"],
            [
                "area_name",
                "indicator_id",
                "method",
                "n_pre",
                "n_post",
                "estimate",
                "pre_rmspe",
                "p_placebo",
                "n_placebos",
                "note",
            ],
            headers={"p_placebo": "placebo p", "n_placebos": "placebos", "pre_rmspe": "pre RMSPE"},
            formats={
                "estimate": number,
                "pre_rmspe": number,
                "p_placebo": lambda v: number(v, 3),
                "n_placebos": whole,
            },
            numeric=["n_pre", "n_post", "estimate", "pre_rmspe", "p_placebo", "n_placebos"],
            classes={"note": "wrap"},
            empty="no synthetic control could be fitted (see the statement above)",
        ),
    }


# --- the page -------------------------------------------------------------------------------


def render_report(
    *,
    tables: Sequence[str | Path],
    figures: Sequence[str | Path],
    registry: pd.DataFrame,
    classification: pd.DataFrame,
    areas: pd.DataFrame,
    provenance: dict,
    synthetic: bool,
) -> str:
    """Return the report page as a string (see :func:`write_report` for the arguments)."""
    found = Tables(tables)
    figures = [Path(f) for f in figures]
    design_figures = [f for f in figures if f.name in DESIGN_FIGURES]
    figures = [f for f in figures if f.name not in DESIGN_FIGURES]
    conclusion, inference = found.read("conclusion"), found.read("inference")
    model_fit, coefficients = found.read("model_fit"), found.read("coefficients")
    config = provenance.get("config") or {}
    alpha = _alpha(conclusion, config)
    names = _partnership_names(areas)
    heading = str(config.get("report_title") or TITLE)
    page = {
        "css": _style_sheet(),
        "synthetic": synthetic,
        "banner": SYNTHETIC_BANNER,
        "title": ("[SYNTHETIC] " if synthetic else "") + heading,
        "heading": heading,
        "stamp": _stamp(found, provenance),
        "conclusion": _conclusion(conclusion),
        "plan": _plan(provenance, found.read("estimates"), _headline_test(conclusion)),
        "estimates": _estimates(found.read("estimates"), alpha),
        "about": _about(model_fit, registry, config),
        "headline": _headline(found.read("headline")),
        "inference": _inference(
            inference,
            found.read("power"),
            found.read("size"),
            found.read("multiplicity"),
            label=_headline_test(conclusion),
            alpha=alpha,
        ),
        "sensitivity": _sensitivity(
            found.read("sensitivity"), found.read("sensitivity_summary"), names
        ),
        "summary": _summary(found.read("summary"), registry, _models_in(model_fit)),
        "design": _design(found, design_figures),
        "figures": _figures(figures, registry),
        "coefficients": _coefficients(coefficients),
        "data": _data(found.read("data_summary"), found.read("exclusion_counts"), config),
        "registry": _registry(registry),
        "classification": _classification(
            classification, names, found.read("exposure_counts"), config
        ),
        "models": _models(model_fit, coefficients),
        "known_effects": _known_effects(found),
        "convergence": _convergence(model_fit),
        "provenance": _provenance(provenance),
        "version": integration_models.__version__,
    }
    return _environment().get_template("report.html.j2").render(page)


def write_report(
    out_html: Path,
    *,
    tables: Sequence[str | Path],
    figures: Sequence[str | Path],
    registry: pd.DataFrame,
    classification: pd.DataFrame,
    areas: pd.DataFrame,
    provenance: dict,
    synthetic: bool,
) -> None:
    """Write the self-contained reviewer page ``report.html``.

    Parameters
    ----------
    out_html
        The page to write (replaced atomically).
    tables
        The result tables the workflow rule declares: ``conclusion.csv``, ``headline.csv``,
        ``inference.csv``, ``model_fit.csv``, ``coefficients.csv``, ``summary.csv``, the
        power, size, sensitivity and known-effects tables, and the data-summary tables
        (``data_summary.csv``, ``exclusion_counts.csv``, ``exposure_counts.csv``). The report
        opens no other table; a missing one is announced on the page, not silently skipped.
    figures
        The figure files the rule declares; the PNGs are embedded: ``trends.png``,
        ``forest.png``, then ``coefficients_<indicator_id>.png`` in registry order, then the
        others by name.
    registry
        The indicator registry (``indicators.csv``, e.g. from
        :func:`~integration_models.data.registry.load_registry`).
    classification
        The integration classification used (``hscp_code, category, from_date, to_date,
        from_year, to_year, confidence, evidence``).
    areas
        The council areas (for ``hscp_code`` -> ``hscp_name``).
    provenance
        The run's provenance (:func:`~integration_models.results.provenance.build_provenance`); its
        ``config`` names the dataset, classification and folders.
    synthetic
        Whether the data are the synthetic demo: puts a red banner at the top.
    """
    page = render_report(
        tables=tables,
        figures=figures,
        registry=registry,
        classification=classification,
        areas=areas,
        provenance=provenance,
        synthetic=synthetic,
    )
    write_text(out_html, page)
