"""The reviewer's page: one self-contained HTML file that summarises a run.

``report.html`` is what a reviewer reads first. It is a single file with inline CSS and the
figures embedded as base64 data URIs, so it can be mailed or archived and opened offline; it
loads nothing from elsewhere and contains no script (a Content-Security-Policy in the page
forbids both). Every piece of text that comes from data, configuration or model output is
escaped with :func:`html.escape`. The page is built with small helper functions rather than a
template engine, and apart from what the provenance contains (the time of the run, the git
commit) it depends only on its inputs, so two runs on the same inputs give the same page.

The page leads with the answer: after the SYNTHETIC banner (demo data only) and the title,
the conclusion (``conclusion.csv``: the headline test's result for full and for partial
integration in plain words, the minimum detectable effects and what the data cannot say), a
table of contents, and the integration estimates under the headline test. Everything else
follows in collapsible sections, grouped: results in detail (every headline statement, the
few-cluster inference and power, sensitivity, the summary of significant terms, the figures,
the coefficients), data and design (the data, the registry, the classification, the models),
and checks (convergence, provenance).

The page displays what the tables upstream decided (the headline test, alpha, the family
sizes, which terms were estimable); it does not choose again.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

import integration_models
from integration_models import schemas
from integration_models.atomic import write_text
from integration_models.inference import minimum_p_value
from integration_models.registry import is_synthetic, unmeasured_domains
from integration_models.stamp import STAMP_COLUMNS, Stamp, foreign_tables
from integration_models.summarise import outcome_direction

SYNTHETIC_BANNER = "SYNTHETIC DEMO DATA \N{EM DASH} NOT REAL STATISTICS"
TITLE = "Integration of children's health and social care and outcomes in Scotland"
QUESTION = (
    "Is the structural integration of children's health and social care services into "
    "Scotland's Health and Social Care Partnerships associated with better outcomes for "
    "children, young people and families? This page re-analyses administrative indicators for "
    "the 32 council areas, in the spirit of CELCIS's 2023 Children's Services Reform Research "
    "(strand 3). Each partnership is classified, year by year, as having full, partial or no "
    "structural integration of children's services; each indicator is modelled separately, and "
    "the integration terms compare area-years coded full or partial with those coded none, "
    "adjusting for the covariates listed under Models. The estimates are associations in "
    "observational data, not causal effects, and they rest on a classification that is itself "
    "uncertain (see the evidence column)."
)
INTEGRATION_PREFIX = "integration_"
CATEGORIES = ("full", "partial", "none")
SUMMARY_BASE = ("indicator_id", "title", "domain", "measure", "scale")
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
REASON_WIDTH = 80
MANY_ROWS = 12
LIBRARY_WARNINGS = ("DeprecationWarning", "FutureWarning", "PendingDeprecationWarning")
URL = re.compile(r"https?://[^\s<>\"'`()\[\]{}|\\^]+")

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1d1d1f;background:#fff;margin:0;padding:0 1.5rem 3rem}
main{max-width:1180px;margin:0 auto}
h1{font-size:1.6rem;margin:1.2rem 0 .6rem}
h2{font-size:1.25rem;margin:2.2rem 0 .6rem;padding-bottom:.25rem;border-bottom:2px solid #d0d4dc}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
p{margin:.45rem 0;max-width:75em}
code,pre,.mono{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.86em}
pre{background:#f5f6f8;border:1px solid #e1e4ea;padding:.5rem .7rem;white-space:pre-wrap;
 word-break:break-word;margin:.4rem 0}
.banner{background:#c62828;color:#fff;font-weight:700;font-size:1.35rem;text-align:center;
 letter-spacing:.04em;padding:.8rem 1rem;margin:0 -1.5rem;border-bottom:4px solid #8e0000}
nav{font-size:.9em;margin:.4rem 0 1rem;color:#555}
nav a{color:#1f4e8c;margin-right:.9em;white-space:nowrap}
.headline{background:#f3f6fb;border-left:4px solid #1f4e8c;padding:.5rem 1rem;margin:.8rem 0}
.headline h3{margin:.2rem 0 .3rem}
.headline ul{margin:.3rem 0}
.headline li{margin:.3rem 0}
.glance{color:#333}
.notice{background:#fff4e5;border-left:4px solid #e08a00;padding:.4rem .8rem}
.ok{background:#edf7ed;border-left:4px solid #2e7d32;padding:.4rem .8rem}
.muted{color:#666}
.scroll{overflow:auto;max-height:85vh;margin:.4rem 0 .8rem}
table{border-collapse:collapse;font-size:.86em;margin:.2rem 0}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #d9dde3;padding:.22rem .45rem;vertical-align:top;text-align:left}
th{background:#eef1f5;font-weight:600}
thead th{position:sticky;top:0;z-index:1}
table.summary thead,table.answer thead{position:sticky;top:0;z-index:1}
table.summary thead th,table.answer thead th{position:static}
tbody tr:nth-child(even) td{background:#fafbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.wrap{min-width:18em;max-width:42em;overflow-wrap:anywhere}
td.mono{overflow-wrap:anywhere}
td.id{white-space:nowrap;overflow-wrap:normal}
table.summary{font-size:.8em}
table.summary th{text-align:center;vertical-align:bottom}
table.summary th.group{border-bottom:2px solid #9aa3b2}
table.summary .first{border-left:2px solid #9aa3b2}
tbody tr td.pos{background:#cfe3f3;font-weight:700;text-align:center;color:#0b3d6b}
tbody tr td.neg{background:#fbd9c4;font-weight:700;text-align:center;color:#7a2a00}
tbody tr td.ns{color:#777;text-align:center}
tbody tr td.na{text-align:center}
tbody tr td.cat-full{background:#d7ecd9}
tbody tr td.cat-partial{background:#fff0c7}
tbody tr td.cat-none{background:#eceff1}
.tables{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
.legend span{display:inline-block;padding:0 .45em;margin-right:.3em;border:1px solid #d9dde3;
 font-weight:700}
.legend .pos{background:#cfe3f3;color:#0b3d6b}.legend .neg{background:#fbd9c4;color:#7a2a00}
figure{margin:.6rem 0 1.2rem}
figure img{max-width:100%;height:auto;border:1px solid #e1e4ea;background:#fff}
figcaption{font-size:.88em;color:#444;margin-top:.25rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1.2rem}
.grid figure{margin:0}
details{margin:.5rem 0}
summary{cursor:pointer;color:#1f4e8c;font-weight:600}
footer{margin-top:2.5rem;font-size:.85em;color:#666}
#conclusion{background:#f3f6fb;border-left:4px solid #1f4e8c;padding:.3rem 1rem .5rem;
 margin:.6rem 0}
#conclusion h2{margin:.4rem 0 .3rem;border:0;padding:0}
#conclusion p{font-size:1.05em}
nav.toc{display:flex;flex-wrap:wrap;gap:.2rem 1.6rem}
nav.toc strong{color:#333;margin-right:.4em}
.group-title{font-size:1.4rem;font-weight:700;margin:2.6rem 0 0;color:#1f4e8c}
section>details>summary h2{display:inline-block;margin:1.4rem 0 .6rem;border:0}
section>details>summary{border-bottom:2px solid #d0d4dc;margin-bottom:.4rem}
a.here{font-size:.8em;margin-left:.5em;color:#8a93a3;text-decoration:none}
tbody tr td.better{background:#cfe3f3;font-weight:700;color:#0b3d6b}
tbody tr td.worse{background:#fbd9c4;font-weight:700;color:#7a2a00}
"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"


class _Html(str):
    """Text that is already safe HTML (built here from escaped parts); not escaped again."""


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: object) -> str:
    """Plain text of a cell: empty for missing values."""
    if _is_missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def _esc(value: object) -> str:
    return html.escape(_text(value), quote=True)


def _number(value: object, digits: int = 4) -> str:
    """Round a number to ``digits`` significant digits, without exponent where sensible."""
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value)
    if not math.isfinite(number):
        return str(number)
    if number == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(number)))
    if magnitude < -4 or magnitude >= 9:
        return f"{number:.{digits - 1}e}"
    decimals = max(0, digits - 1 - magnitude)
    return f"{number:.{decimals}f}"


def _count(value: object) -> str:
    """Format an integer count with thousands separators (empty if missing)."""
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        return f"{int(float(value)):,}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value)


def _year(value: object) -> str:
    """Format a year without separators or decimals (empty if missing)."""
    if _is_missing(value) or (isinstance(value, str) and not value.strip()):
        return ""
    try:
        return str(int(float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value)


def format_p_value(value: object, draws: int | None = None) -> str:
    """Format a p-value for display: 3 decimals, ``<0.001`` below 0.001, empty if missing.

    ``draws`` is ``B`` of a resampling test, whose smallest p-value is ``1/(B+1)``
    (:func:`integration_models.inference.resampling_p_value`): no draw as extreme as the
    observed statistic. That value is shown as ``≤ 1/(B+1)`` in decimals rounded up
    (``≤ 0.0001`` for B = 9999, ``≤ 0.01`` for B = 99), saying that the test cannot resolve a
    smaller p-value with ``B`` draws; never as ``<0.001`` or 0. The CSV keeps the number.
    """
    if _is_missing(value):
        return ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value)
    if math.isnan(number):
        return ""
    if draws is not None and number <= minimum_p_value(draws) * (1 + 1e-9):
        return f"≤ {_round_up(minimum_p_value(draws))}"
    return "<0.001" if number < 0.001 else f"{number:.3f}"


def _round_up(value: float, digits: int = 2) -> str:
    """``value`` (positive) rounded up to ``digits`` significant digits, in plain decimals."""
    exponent = math.floor(math.log10(value)) - digits + 1
    rounded = math.ceil(value / 10.0**exponent * (1 - 1e-12)) * 10.0**exponent
    return np.format_float_positional(round(rounded, -exponent), trim="-")


def _draws_in_label(label: str) -> int | None:
    """``B`` of a resampling test from its label (``... B=9999)``), None for other tests."""
    match = re.search(r"\bB=(\d+)\)$", label)
    return int(match.group(1)) if match else None


def _truncate(text: str, width: int = REASON_WIDTH) -> str:
    """Shorten ``text`` to at most ``width`` characters at a word boundary, marking the cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "\N{HORIZONTAL ELLIPSIS}"


def _linkify(text: str) -> _Html:
    """Escape ``text``, turning http(s) URLs into escaped links (nothing else is a link)."""
    parts: list[str] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        end = match.start() + len(url)
        parts.append(html.escape(text[position : match.start()]))
        escaped = html.escape(url, quote=True)
        parts.append(f'<a href="{escaped}" rel="noopener noreferrer nofollow">{escaped}</a>')
        position = end
    parts.append(html.escape(text[position:]))
    return _Html("".join(parts))


def _cell(value: object) -> str:
    return value if isinstance(value, _Html) else _esc(value)


def _table(
    frame: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    headers: dict[str, str] | None = None,
    formats: dict[str, Callable[[object], str]] | None = None,
    numeric: Iterable[str] = (),
    classes: dict[str, str] | None = None,
    cell_class: Callable[[str, object], str] | None = None,
    caption: str | None = None,
    empty: str = "none",
) -> str:
    """Render ``frame`` as an escaped HTML table inside a horizontally scrolling box.

    Parameters
    ----------
    frame
        The rows to show, in order.
    columns
        Which columns, in order (default: all).
    headers
        Header text per column (default: the column name); an ``_Html`` header is kept as is.
    formats
        Formatter per column, from the raw value to text (escaped) or ``_Html`` (kept).
    numeric
        Columns to right-align.
    classes
        A CSS class per column for every cell of it.
    cell_class
        A function of (column, raw value) giving a CSS class for one cell, or ``""``.
    caption
        Table caption (escaped).
    empty
        Text shown instead of a table without rows.
    """
    columns = list(frame.columns if columns is None else columns)
    if frame.empty:
        return f'<p class="muted">{html.escape(empty)}</p>'
    headers = headers or {}
    formats = formats or {}
    classes = dict(classes or {})
    for column in numeric:
        classes[column] = (classes.get(column, "") + " num").strip()
    out = ['<div class="scroll"><table>']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    head = []
    for column in columns:
        css = ' class="num"' if column in numeric else ""
        head.append(f"<th{css}>{_cell(headers.get(column, column))}</th>")
    out.append("<thead><tr>" + "".join(head) + "</tr></thead><tbody>")
    for values in frame[columns].itertuples(index=False, name=None):
        cells = []
        for column, value in zip(columns, values, strict=True):
            text = formats[column](value) if column in formats else _text(value)
            css = " ".join(
                c
                for c in (classes.get(column, ""), cell_class(column, value) if cell_class else "")
                if c
            )
            attribute = f' class="{html.escape(css)}"' if css else ""
            cells.append(f"<td{attribute}>{_cell(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _details(summary: str, body: str, *, is_open: bool = False) -> str:
    state = " open" if is_open else ""
    return f"<details{state}><summary>{html.escape(summary)}</summary>{body}</details>"


def _section(anchor: str, title: str, body: Iterable[str]) -> str:
    """Return a collapsible section (open), its heading linking to itself."""
    return (
        f'<section id="{anchor}"><details open><summary><h2>{html.escape(title)}</h2>'
        f'<a class="here" href="#{anchor}" title="link to this section">#</a></summary>'
        + "\n".join(body)
        + "</details></section>"
    )


def _notice(text: str) -> str:
    return f'<p class="notice">{html.escape(text)}</p>'


def _absent(name: str, tail: str = ".") -> str:
    """Return the notice of a section whose table is missing or does not match its schema."""
    return _notice(f"tables/{name} was not found or does not match its schema{tail}")


def _read_csv(path: Path, *, strings: bool = False) -> pd.DataFrame | None:
    """Read a result table without its stamp columns, or None if it is absent or malformed.

    A table with a schema in :data:`integration_models.schemas.TABLES` is checked against it
    first: one that does not match (left by another version of the package, edited by
    hand) is treated as absent, so its section says so instead of the page failing, and
    :func:`_schema_part` names it and its faults at the top. The stamp is checked once, at
    the top of the page (:func:`_stamp_part`).
    """
    if not path.is_file():
        return None
    frame = schemas.read_table(path)
    if _schema_problems(path, frame):
        return None
    if strings:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.drop(columns=[c for c in STAMP_COLUMNS if c in frame])


def _schema_problems(path: Path, frame: pd.DataFrame | None = None) -> list[str]:
    """Return what is wrong with the table at ``path`` under its schema ([] if nothing)."""
    schema = schemas.TABLES.get(path.stem)
    if schema is None:
        return []
    if frame is None:
        try:
            frame = schemas.read_table(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            return [f"cannot be read as CSV: {error}"]
    return schemas.problems(frame, schema)


def _schema_part(tables: Iterable[Path]) -> str:
    """Return an alert naming every table that does not match its schema, or ""."""
    items = []
    for path in tables:
        found = _schema_problems(path)
        if found:
            items.append(f"<li><code>{_esc(path.name)}</code>: {_esc('; '.join(found))}</li>")
    if not items:
        return ""
    return (
        '<div class="notice" role="alert"><strong>Tables not as declared:</strong> '
        f"{_esc(_plural(len(items), 'table'))} in the tables folder "
        "do not match their schema in <code>integration_models.schemas</code> (written by "
        "another version of the package, or edited) and are left out of this page. Rerun "
        f"the workflow.<ul>{''.join(items)}</ul></div>"
    )


def _stamp_part(tables_dir: Path, provenance: dict) -> tuple[str, str]:
    """Say which run wrote this page, and name any table (or input) that is not of it.

    Every table carries the configuration and inputs hashes of the run that wrote it; a
    table of an earlier configuration or of changed inputs (left by a run that stopped before
    rewriting it) is named here, as is an input file that changed while the run read it.
    Returns (alerts, statement): the alerts ("" if none) go above the conclusion, since they
    say it may not be current; the statement of the stamp goes under About this page.
    """
    stamp = provenance.get("stamp") or {}
    expected = Stamp(str(stamp.get("config_hash", "")), str(stamp.get("inputs_hash", "")))
    tables = sorted(tables_dir.glob("*.csv"))
    foreign = foreign_tables(tables, expected)
    git = provenance.get("git") or {}
    text = (
        f"Run stamp: configuration <code>{_esc(expected.config_hash)}</code>, inputs "
        f"<code>{_esc(expected.inputs_hash)}</code>; written "
        f"{_esc(provenance.get('created', 'unknown'))} from commit "
        f"<code>{_esc(str(git.get('commit', 'unknown'))[:12])}</code>. "
    )
    malformed = _schema_part(tables)
    alerts = [malformed] if malformed else []
    if foreign:
        alerts.append(
            f'<p class="notice" role="alert"><strong>Stale results:</strong> '
            f"{_esc(_plural(len(foreign), 'table'))} of {len(tables)} in the tables folder "
            f"carry another run's stamp (an earlier configuration or other inputs) and do "
            f"not belong to this report: {_esc(', '.join(foreign))}. Rerun the workflow.</p>"
        )
        statement = f'<p class="glance">{text}</p>'
    else:
        statement = (
            f'<p class="glance">{text}All {len(tables)} tables in the tables folder carry '
            "this stamp (columns <code>config_hash</code>, <code>inputs_hash</code>); "
            "<code>provenance.json</code> holds the configuration and the hash of every input "
            "file behind it.</p>"
        )
    changed = provenance.get("changed_during_run") or []
    if changed:
        names = ", ".join(str(c.get("path", c)) if isinstance(c, dict) else str(c) for c in changed)
        alerts.insert(
            0,
            f'<p class="notice" role="alert"><strong>Stale inputs:</strong> '
            f"{_esc(names)} changed while the run was reading its inputs; these results were "
            "computed from the earlier content. Rerun the workflow.</p>",
        )
    return "\n".join(alerts), statement


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural or word + 's')}"


def _is_integration(term: object) -> bool:
    return isinstance(term, str) and term.startswith(INTEGRATION_PREFIX)


def _models_in(model_fit: pd.DataFrame | None) -> list[str]:
    if model_fit is None or "model" not in model_fit:
        return []
    return [str(m) for m in dict.fromkeys(model_fit["model"].dropna())]


def _status_counts(model_fit: pd.DataFrame) -> dict[str, int]:
    counts = model_fit["status"].fillna("missing").astype(str).value_counts()
    order = ["ok", "not_converged", "failed", "skipped"]
    keys = [k for k in order if k in counts] + sorted(k for k in counts.index if k not in order)
    return {key: int(counts[key]) for key in keys}


def _has_warning(value: object) -> bool:
    return bool(_text(value).strip())


# --- sections -------------------------------------------------------------------------------


GROUPS = (  # the table of contents: (group, [(anchor, link text)])
    ("The answer", [("conclusion", "Conclusion"), ("estimates", "Estimates")]),
    (
        "Results in detail",
        [
            ("about", "About this page"),
            ("headline", "Every headline statement"),
            ("inference", "Inference and power"),
            ("sensitivity", "Sensitivity"),
            ("summary", "Summary"),
            ("figures", "Figures"),
            ("coefficients", "Coefficients"),
        ],
    ),
    (
        "Data and design",
        [
            ("data", "Data"),
            ("registry", "Indicators"),
            ("classification", "Classification"),
            ("models", "Models"),
        ],
    ),
    ("Checks", [("convergence", "Convergence"), ("provenance", "Provenance")]),
)


def _toc() -> str:
    """Return the table of contents: every section, grouped, as in-page links."""
    groups = [
        f"<span><strong>{html.escape(group)}:</strong> "
        + " ".join(f'<a href="#{anchor}">{html.escape(text)}</a>' for anchor, text in links)
        + "</span>"
        for group, links in GROUPS
    ]
    return '<nav class="toc" aria-label="contents">' + "".join(groups) + "</nav>"


def _group_title(name: str) -> str:
    return f'<p class="group-title">{html.escape(name)}</p>'


def _conclusion_section(conclusion: pd.DataFrame | None) -> str:
    """Render the answer first: the sentences of ``conclusion.csv``, escaped, nothing added.

    The sentences (one per integration term, then what the data cannot say) are written
    upstream (:func:`integration_models.summarise.conclusion_table`), so the page shows the
    test, alpha and counts that the tables used.
    """
    head = '<section id="conclusion"><h2>Conclusion</h2>'
    if conclusion is None or conclusion.empty or "statement" not in conclusion:
        return head + _absent("conclusion.csv", ": no conclusion.") + "</section>"
    sentences = [_text(v) for v in conclusion["statement"] if _text(v)]
    if "limits" in conclusion:
        sentences += [v for v in dict.fromkeys(conclusion["limits"].map(_text)) if v]
    return head + "".join(f"<p>{_esc(v)}</p>" for v in sentences) + "</section>"


def _alpha(conclusion: pd.DataFrame | None, config: dict) -> float | None:
    """Return the test level the tables used: ``conclusion.csv``'s, else the configuration's."""
    if conclusion is not None and "alpha" in conclusion and len(conclusion):
        return float(conclusion["alpha"].iloc[0])
    value = config.get("alpha")
    return None if value is None else float(value)


def _level(alpha: float | None) -> str:
    return "the configured level" if alpha is None else f"{alpha * 100:g}%"


def _headline_test(conclusion: pd.DataFrame | None) -> str:
    """Return the label of the headline test as ``conclusion.csv`` names it ("" if none)."""
    if conclusion is None or "test" not in conclusion or not len(conclusion):
        return ""
    return _text(conclusion["test"].iloc[0])


def _estimate_cells(row: object, alpha: float | None, better_if_higher: object, draws) -> list:
    """Return the cells (text, CSS class) of one indicator and term of the estimates table."""
    decimals = _decimals(row.std_error)  # type: ignore[attr-defined]
    estimate = _fixed(row.estimate, decimals)  # type: ignore[attr-defined]
    error = _fixed(row.std_error, decimals)  # type: ignore[attr-defined]
    low, high = row.conf_low, row.conf_high  # type: ignore[attr-defined]
    interval = (
        f"{_fixed(low, decimals)} to {_fixed(high, decimals)}"
        if not (_is_missing(low) or _is_missing(high))
        else ""
    )
    p_value = pd.to_numeric(pd.Series([row.p_value]), errors="coerce").iloc[0]  # type: ignore[attr-defined]
    outcome = ""
    if alpha is not None and np.isfinite(p_value) and p_value < alpha:
        outcome = outcome_direction(row.estimate, better_if_higher) or "unknown direction"  # type: ignore[attr-defined]
    return [
        (f"{estimate} ({error})" if estimate else "", "num"),
        (interval, "num"),
        (format_p_value(p_value, draws), "num"),
        (outcome or "\N{EN DASH}", outcome if outcome in ("better", "worse") else "muted"),
    ]


def _estimates_section(
    inference: pd.DataFrame | None,
    conclusion: pd.DataFrame | None,
    registry: pd.DataFrame,
    alpha: float | None,
) -> str:
    """Render the integration estimates under the headline test, one row per indicator.

    The rows are those of ``inference.csv`` whose test is the one ``conclusion.csv`` names;
    "better" or "worse" marks an estimate significant at the tables' ``alpha``, from its sign
    and the registry's ``higher_is_better`` (as the conclusion counts them).
    """
    title = "Integration estimates under the headline test"
    label = _headline_test(conclusion)
    if inference is None or not label:
        missing = "inference.csv" if inference is None else "conclusion.csv"
        return _section("estimates", title, [_absent(missing)])
    rows = inference[inference["inference"] == label]
    terms = [str(t) for t in conclusion["term"]]  # type: ignore[index]
    titles = registry.set_index("indicator_id")["title"].to_dict()
    better = registry.set_index("indicator_id")["higher_is_better"].to_dict()
    order = [i for i in registry["indicator_id"] if i in set(inference["indicator_id"])]
    order += [i for i in dict.fromkeys(inference["indicator_id"]) if i not in set(order)]
    has_interval = rows[["conf_low", "conf_high"]].notna().all(axis=1).any()
    interval = "interval" if alpha is None else f"{(1 - alpha) * 100:g}% interval"
    columns = ["estimate (SE)", *([interval] if has_interval else []), "p", "outcome"]
    draws = _draws_in_label(label)
    head_top = ['<th rowspan="2">indicator</th>', '<th rowspan="2">better if</th>']
    head_top += [
        f'<th colspan="{len(columns)}" class="group">{_esc(_term_words(t))}</th>' for t in terms
    ]
    head_sub = [f'<th class="num">{c}</th>' for _ in terms for c in columns]
    out = [
        '<div class="scroll"><table class="answer"><thead><tr>',
        "".join(head_top),
        "</tr><tr>",
        "".join(head_sub),
        "</tr></thead><tbody>",
    ]
    for indicator in order:
        cells = [
            f"<td>{_esc(titles.get(indicator, indicator))}</td>",
            f"<td>{_esc(_direction(better.get(indicator, '')).removesuffix(' is better'))}</td>",
        ]
        for term in terms:
            picked = rows[(rows["indicator_id"] == indicator) & (rows["term"] == term)]
            if picked.empty:
                cells.append(f'<td colspan="{len(columns)}" class="muted">not estimated</td>')
                continue
            parts = _estimate_cells(
                next(picked.itertuples(index=False)), alpha, better.get(indicator), draws
            )
            if not has_interval:
                parts.pop(1)
            cells += [f'<td class="{css}">{_esc(text)}</td>' for text, css in parts]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    words = (
        f"<p>Each indicator's two-way fixed effects estimate of full and of partial integration "
        f"(each compared with none) under the headline test, <strong>{_esc(label)}</strong>, "
        "with its standard error; on the log scale an estimate is a difference in log units "
        "(about a proportional difference). <em>outcome</em>: better or worse where "
        f"p &lt; {_esc(_level(alpha))}, from the sign of the estimate and whether higher is "
        "better for the indicator."
        + (
            ""
            if has_interval
            else " This test gives a p-value, not an interval; the CRV1 and CR2 intervals are "
            "in <code>tables/inference.csv</code>."
        )
        + "</p>"
    )
    return _section("estimates", title, [words, "".join(out)])


def _term_words(term: str) -> str:
    return {
        "integration_full": "full integration",
        "integration_partial": "partial integration",
    }.get(term, term)


def _about_section(
    model_fit: pd.DataFrame | None,
    registry: pd.DataFrame,
    config: dict,
    synthetic: bool,
    stamp: str,
) -> str:
    """Render the question, the data's status, the run's stamp and the run at a glance."""
    out = [f"<p>{html.escape(QUESTION)}</p>"]
    if synthetic:
        out.append(
            '<p class="notice"><strong>These results come from the embedded synthetic demo '
            "dataset</strong> (generated with known effects to exercise the pipeline). They say "
            "nothing about Scotland.</p>"
        )
    out.append(stamp)
    glance = [_plural(len(registry), "indicator")]
    models = _models_in(model_fit)
    if model_fit is not None and models:
        glance.append(f"{_plural(len(models), 'model')} ({', '.join(models)})")
        statuses = ", ".join(
            f"{n} {s.replace('_', ' ')}" for s, n in _status_counts(model_fit).items()
        )
        glance.append(f"{_plural(len(model_fit), 'fit')}: {statuses}")
    for key, label in (("raw_dir", "dataset"), ("classification", "classification")):
        if config.get(key):
            glance.append(f"{label} {config[key]}")
    out.append(f'<p class="glance">{html.escape("; ".join(glance))}.</p>')
    return _section("about", "About this page", out)


def _headline_section(headline: pd.DataFrame | None) -> str:
    """Render every headline statement of ``headline.csv``, the integration terms in bold."""
    out = []
    if headline is None:
        out.append(_absent("headline.csv", ": no headline statements."))
    elif headline.empty or "statement" not in headline:
        out.append('<p class="muted">No headline statements.</p>')
    else:
        families = headline["family"] if "family" in headline else [""] * len(headline)
        items = []
        for statement, family in zip(headline["statement"], families, strict=True):
            if _text(statement):
                text = _esc(statement)
                key = _text(family) == "integration"
                items.append(f"<li><strong>{text}</strong></li>" if key else f"<li>{text}</li>")
        out.append(f'<div class="headline"><ul>{"".join(items)}</ul></div>')
        if "family" in headline:
            out.append(
                '<p class="muted">In bold: the integration terms, which answer the question; '
                "the others are the covariates of the models.</p>"
            )
    return _section("headline", "Every headline statement", out)


def _reason_group(reason: object) -> str:
    text = _text(reason)
    if text.startswith("exact duplicate of"):
        return "exact duplicate of an earlier row"
    return _truncate(text) if text else "(no reason given)"


def _data_section(
    panel: pd.DataFrame, exclusions: pd.DataFrame, registry: pd.DataFrame, config: dict
) -> str:
    n_panel, n_excluded = len(panel), len(exclusions)
    out = [
        f"<p><strong>{n_panel + n_excluded:,}</strong> rows read from the values files: "
        f"<strong>{n_panel:,}</strong> in the panel and <strong>{n_excluded:,}</strong> "
        "excluded. Every row read is in exactly one of the two.</p>"
    ]
    ids = [str(i) for i in registry["indicator_id"]] if "indicator_id" in registry else []
    if "indicator_id" in panel:
        ids += sorted(set(panel["indicator_id"].astype(str)) - set(ids))
    titles = dict(zip(registry.get("indicator_id", []), registry.get("title", []), strict=True))
    rows = []
    for indicator in ids:
        part = panel[panel["indicator_id"] == indicator] if "indicator_id" in panel else panel[:0]
        excluded = (
            int((exclusions["indicator_id"].astype(str) == indicator).sum())
            if "indicator_id" in exclusions
            else 0
        )
        rows.append(
            {
                "indicator_id": indicator,
                "title": titles.get(indicator, ""),
                "rows": len(part),
                "excluded": excluded,
                "areas": part["area_code"].nunique() if len(part) else 0,
                "first_year": part["year"].min() if len(part) else None,
                "last_year": part["year"].max() if len(part) else None,
            }
        )
    out.append("<h3>Per indicator</h3>")
    out.append(
        _table(
            pd.DataFrame(rows),
            ["indicator_id", "title", "rows", "excluded", "areas", "first_year", "last_year"],
            headers={
                "rows": "rows in panel",
                "excluded": "rows excluded",
                "first_year": "first year",
                "last_year": "last year",
            },
            formats={
                "rows": _count,
                "excluded": _count,
                "areas": _count,
                "first_year": _year,
                "last_year": _year,
            },
            numeric=["rows", "excluded", "areas", "first_year", "last_year"],
            classes={"indicator_id": "mono id"},
        )
    )
    out.append("<h3>Exclusions</h3>")
    if exclusions.empty:
        out.append('<p class="muted">No row was excluded.</p>')
    else:
        by_reason = (
            exclusions.get("reason", pd.Series([""] * n_excluded))
            .map(_reason_group)
            .value_counts()
            .rename_axis("reason")
            .reset_index(name="rows")
            .sort_values(["rows", "reason"], ascending=[False, True], kind="stable")
        )
        by_file = (
            exclusions.get("file", pd.Series([""] * n_excluded))
            .map(_text)
            .value_counts()
            .rename_axis("file")
            .reset_index(name="rows")
            .sort_values(["rows", "file"], ascending=[False, True], kind="stable")
        )
        reason_table = _table(
            by_reason, caption="By reason", formats={"rows": _count}, numeric=["rows"]
        )
        file_table = _table(
            by_file,
            caption="By file",
            formats={"rows": _count},
            numeric=["rows"],
            classes={"file": "mono"},
        )
        if len(by_file) > MANY_ROWS:
            file_table = _details(f"By file ({len(by_file)} files)", file_table)
        out.append(f'<div class="tables"><div>{reason_table}</div><div>{file_table}</div></div>')
    processed = config.get("processed_dir")
    where = f"<code>{_esc(processed)}</code>" if processed else "the processed-data folder"
    out.append(
        "<p>The full list, with file, line, area, year, raw value and reason of every excluded "
        f"row, is in <code>exclusions.csv</code> in {where}. Reasons quoting a file and line "
        "(duplicates) are grouped here.</p>"
    )
    return _section("data", "Data", out)


def _direction(value: object) -> str:
    text = _text(value).strip().lower()
    if text in ("true", "yes", "1"):
        return "higher is better"
    if text in ("false", "no", "0"):
        return "lower is better"
    return text


def _registry_section(registry: pd.DataFrame) -> str:
    frame = registry.copy()
    frame["direction"] = (
        frame["higher_is_better"].map(_direction) if "higher_is_better" in frame else ""
    )
    columns = [
        "indicator_id",
        "title",
        "domain",
        "measure",
        "unit",
        "period",
        "direction",
        "role",
        "construct",
        "source",
    ]
    for column in columns:
        if column not in frame:
            frame[column] = ""
    body = [
        f"<p>{_plural(len(frame), 'indicator')}; <code>year</code> is always the calendar year "
        "in which the indicator's period ends.</p>",
        _table(frame, columns, classes={"indicator_id": "mono id", "source": "wrap"}),
    ]
    if {"domain", "role"} <= set(frame.columns):
        # a domain without any outcome indicator is stated, so no null is read into it
        where = (
            "this synthetic dataset"
            if "source" in frame and is_synthetic(frame)
            else ("the public sources")
        )
        body += [
            f"<p>{html.escape(domain)}: not measured (no council-level {html.escape(domain)} "
            f"measure in {where}).</p>"
            for domain in unmeasured_domains(frame)
        ]
    return _section("registry", "Indicator registry", body)


def _category_class(column: str, value: object) -> str:
    return f"cat-{value}" if column == "category" and value in CATEGORIES else ""


def _exposure_counts(integration: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Count council areas by year and category in each kind of period, as classified.

    ``integration`` is ``integration.parquet`` (one row per area, year and ``period_key``,
    written by the ``classify`` rule); the page counts its rows and codes nothing itself.
    Returns one row per year with a ``full / partial / none`` cell per kind of period.
    """
    keys = [str(k) for k in sorted(integration["period_key"].unique())]
    counts = integration.pivot_table(
        index=["year", "period_key"], columns="integration", aggfunc="size", fill_value=0
    )
    rows = []
    for year in sorted(integration["year"].unique()):
        row: dict[str, object] = {"year": int(year)}
        for key in keys:
            got = counts.loc[(year, key)] if (year, key) in counts.index else None
            row[key] = " / ".join(
                str(int(got.get(c, 0))) if got is not None else "0" for c in CATEGORIES
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=["year", *keys]), keys


def _classification_section(
    classification: pd.DataFrame,
    areas: pd.DataFrame,
    integration: pd.DataFrame | None,
    config: dict,
) -> str:
    names = (
        areas.drop_duplicates("hscp_code").set_index("hscp_code")["hscp_name"].to_dict()
        if {"hscp_code", "hscp_name"} <= set(areas.columns)
        else {}
    )
    frame = classification.copy()
    for column in ("from_date", "to_date", "confidence"):  # absent in years-only files
        if column not in frame:
            frame[column] = ""
    frame["hscp_name"] = frame["hscp_code"].map(lambda c: names.get(c, ""))
    frame = frame.sort_values(["hscp_code", "from_year"], kind="stable")
    source = config.get("classification")
    out = [
        "<p>Rule: <strong>full</strong> = children's community health and children's social "
        "work both delegated to the partnership; <strong>partial</strong> = one of them; "
        "<strong>none</strong> = neither. Each period runs from its go-live date to its "
        "last day (empty: open); <em>from</em> and <em>to</em> are the years it codes. Years "
        "before a partnership's first period count as none. <em>confidence</em>: confirmed "
        "(a source states it), inferred (follows from a source) or assumed (no source found)."
        + (f" Classification file: <code>{_esc(source)}</code>." if source else "")
        + "</p>",
        _table(
            frame,
            [
                "hscp_code",
                "hscp_name",
                "category",
                "from_date",
                "to_date",
                "from_year",
                "to_year",
                "confidence",
                "evidence",
            ],
            headers={
                "hscp_code": "partnership",
                "hscp_name": "name",
                "from_date": "go-live",
                "to_date": "last day",
                "from_year": "from",
                "to_year": "to",
            },
            formats={
                "from_year": _year,
                "to_year": _year,
                "evidence": lambda v: _linkify(_text(v)),
            },
            numeric=["from_year", "to_year"],
            classes={"hscp_code": "mono id", "evidence": "wrap"},
            cell_class=_category_class,
        ),
    ]
    if integration is None or integration.empty:
        out.append(
            '<p class="muted">The exposure of each area and year (integration.parquet) was not '
            "given: the dated periods above are the classification.</p>"
        )
        return _section("classification", "Integration classification", out)
    table, keys = _exposure_counts(integration)
    n_areas = int(integration["area_code"].nunique())
    out.append(
        f"<h3>Council areas by category and year ({n_areas} areas)</h3>"
        "<p>Full / partial / none, as the models see them (<code>integration.parquet</code>, "
        "written by the <code>classify</code> rule): for each kind of indicator period, the "
        "category that covers it.</p>"
    )
    out.append(
        _table(
            table,
            ["year", *keys],
            headers={k: f"{k}: full / partial / none" for k in keys},
            numeric=["year", *keys],
            empty="no years",
        )
    )
    return _section("classification", "Integration classification", out)


def _models_section(model_fit: pd.DataFrame | None, coefficients: pd.DataFrame | None) -> str:
    if model_fit is None:
        return _section("models", "Models", [_absent("model_fit.csv")])
    out = [
        "<p>Each model is fitted to each indicator separately. <code>integration_full</code> and "
        "<code>integration_partial</code> are 0/1 indicators of the area-year's category, each "
        "compared with <code>none</code>. On the <code>log</code> outcome scale a coefficient "
        "is a difference in log units (about a proportional difference); on "
        "<code>identity</code> it is in the indicator's own unit.</p>"
    ]
    for model in _models_in(model_fit):
        rows = model_fit[model_fit["model"] == model]
        out.append(f"<h3>{_esc(model)}</h3>")
        formulas = [_text(f) for f in dict.fromkeys(rows.get("formula", pd.Series()).dropna())]
        formulas = [f for f in formulas if f]
        if formulas:
            label = "Formula" if len(formulas) == 1 else f"Formulas ({len(formulas)})"
            out.append(f"<p>{label}:</p>")
            out.extend(f"<pre>{_esc(f)}</pre>" for f in formulas)
        else:
            out.append('<p class="muted">No formula recorded.</p>')
        inference = []
        if coefficients is not None and "inference" in coefficients:
            chosen = coefficients[coefficients["model"] == model]["inference"].dropna()
            inference = [i for i in dict.fromkeys(chosen.map(_text)) if i]
        if inference:
            items = "".join(f"<li>{_esc(i)}</li>" for i in inference)
            out.append(f"<p>Standard errors and inference:</p><ul>{items}</ul>")
        else:
            out.append('<p class="muted">No standard-error convention recorded.</p>')
        facts = [_plural(len(rows), "indicator")]
        if "scale" in rows:
            scales = rows["scale"].map(_text).value_counts().sort_index()
            facts.append(
                "outcome scale " + ", ".join(f"{s or '(none)'}: {n}" for s, n in scales.items())
            )
        if "optimiser" in rows:
            optimisers = sorted({o for o in rows["optimiser"].map(_text) if o})
            if optimisers:
                facts.append("optimiser " + ", ".join(optimisers))
        statuses = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in _status_counts(rows).items())
        facts.append(f"status {statuses}")
        out.append(f"<p>{html.escape('; '.join(facts))}.</p>")
    return _section("models", "Models", out)


def _summary_class(value: object) -> str:
    text = _text(value).strip()
    return {"+": "pos", "-": "neg", "\N{MINUS SIGN}": "neg", "ns": "ns", "": "na"}.get(text, "")


def _breakable(name: str) -> str:
    """Escape an identifier, allowing line breaks after its underscores."""
    return html.escape(name).replace("_", "_<wbr>")


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
) -> str:
    header_top = [f'<th rowspan="2">{_esc(c)}</th>' for c in base]
    header_terms = []
    starts = set()
    for model, columns in groups:
        header_top.append(f'<th colspan="{len(columns)}" class="group">{_esc(model)}</th>')
        starts.add(columns[0])
        for column in columns:
            css = ' class="first"' if column == columns[0] else ""
            header_terms.append(f"<th{css}>{_breakable(column[len(model) + 1 :])}</th>")
    out = [
        '<div class="scroll"><table class="summary"><thead><tr>',
        "".join(header_top),
        "</tr><tr>",
        "".join(header_terms),
        "</tr></thead><tbody>",
    ]
    for _, row in frame.iterrows():
        cells = []
        for column in base:
            css = ' class="mono id"' if column == "indicator_id" else ""
            cells.append(f"<td{css}>{_esc(row[column])}</td>")
        for _, columns in groups:
            for column in columns:
                css = " ".join(
                    c
                    for c in (_summary_class(row[column]), "first" if column in starts else "")
                    if c
                )
                attribute = f' class="{css}"' if css else ""
                cells.append(f"<td{attribute}>{_esc(row[column])}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _summary_section(
    summary: pd.DataFrame | None, registry: pd.DataFrame, models: list[str]
) -> str:
    title = "Summary of significant terms"
    if summary is None:
        return _section("summary", title, [_absent("summary.csv")])
    frame = summary.copy()
    if "indicator_id" in frame and {"indicator_id", "higher_is_better"} <= set(registry.columns):
        better = dict(zip(registry["indicator_id"], registry["higher_is_better"], strict=True))
        frame["better if"] = frame["indicator_id"].map(
            lambda i: _direction(better.get(i, "")).replace(" is better", "")
        )
    candidates = [c for c in frame.columns if c not in SUMMARY_BASE]
    main = _summary_groups(candidates, models, integration=True)
    other = _summary_groups(candidates, models, integration=False)
    grouped = {c for _, columns in main + other for c in columns}
    base = [c for c in frame.columns if c not in grouped]
    body = [
        '<p class="legend">One row per indicator and one column per model and term: '
        '<span class="pos">+</span>significantly positive, '
        '<span class="neg">-</span>significantly negative, '
        "<b>ns</b> not significant, empty: not estimated (see Convergence). Whether + is good "
        "depends on the indicator's direction (<em>better if</em> higher or lower).</p>"
    ]
    if frame.empty:
        body.append('<p class="muted">No indicator in the summary.</p>')
        return _section("summary", title, body)
    body.append("<h3>Integration terms (each against none)</h3>")
    body.append(_summary_table(frame, base, main))
    if other:
        short = [c for c in ("indicator_id", "title", "better if") if c in frame]
        body.append("<h3>Other terms</h3>")
        body.append(_summary_table(frame, short, other))
    return _section("summary", title, body)


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'


def _figure(path: Path, caption: str) -> str:
    return (
        f"<figure>{_image(path, caption)}<figcaption>{html.escape(caption)} "
        f"(<code>{html.escape(path.name)}</code>)</figcaption></figure>"
    )


def _figures_section(figures_dir: Path, registry: pd.DataFrame) -> str:
    if not figures_dir.is_dir():
        return _section("figures", "Figures", [_notice("The figures folder was not found.")])
    pngs = {path.name: path for path in sorted(figures_dir.glob("*.png")) if path.is_file()}
    if not pngs:
        return _section("figures", "Figures", ['<p class="muted">No figures.</p>'])
    out = []
    captions = {
        "trends.png": "Trends: mean value of each indicator by year, areas grouped by their "
        "integration history",
        "forest.png": "Forest plot: the integration effects of every indicator and model, "
        "standardised by the SD of each outcome, with confidence intervals",
    }
    for name, caption in captions.items():
        if name in pngs:
            out.append(_figure(pngs.pop(name), caption))
    titles = dict(zip(registry.get("indicator_id", []), registry.get("title", []), strict=True))
    order = [f"coefficients_{i}.png" for i in titles]
    per_indicator = [n for n in order if n in pngs]
    per_indicator += sorted(n for n in pngs if n.startswith("coefficients_") and n not in order)
    if per_indicator:
        grid = []
        for name in per_indicator:
            indicator = name[len("coefficients_") : -len(".png")]
            title = _text(titles.get(indicator, ""))
            label = f"{title} ({indicator})" if title else indicator
            grid.append(_figure(pngs.pop(name), f"{label}: estimates of all terms by model"))
        out.append(
            _details(
                f"Per indicator: estimates of all terms by model ({len(per_indicator)} figures)",
                '<div class="grid">' + "".join(grid) + "</div>",
            )
        )
    if pngs:
        out.append("<h3>Other figures</h3>")
        out.extend(_figure(path, path.stem.replace("_", " ")) for path in pngs.values())
    return _section("figures", "Figures", out)


def _warning_list(value: object) -> list[str]:
    return [part.strip() for part in _text(value).split(" | ") if part.strip()]


def _warning_kind(text: str) -> str:
    if text.startswith(LIBRARY_WARNINGS):
        return "library notice"
    return "model or numerical"


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


def _warnings_cell(value: object) -> _Html:
    return _Html("<br>".join(html.escape(p) for p in _warning_list(value)))


def _status_class(column: str, value: object) -> str:
    return "neg" if column == "status" and _text(value) not in ("ok", "") else ""


def _convergence_section(model_fit: pd.DataFrame | None) -> str:
    title = "Convergence and warnings"
    if model_fit is None:
        return _section("convergence", title, [_absent("model_fit.csv")])
    frame = model_fit.copy()
    for column in ("indicator_id", "model", "status", "converged", "message", "warnings"):
        if column not in frame:
            frame[column] = ""
    total = len(frame)
    status = frame["status"].map(_text)
    warned = frame["warnings"].map(_has_warning)
    not_ok = int((status != "ok").sum())
    out = []
    if total and not_ok == 0:
        out.append(f'<p class="ok">Status ok: all {total} models converged.</p>')
    elif total:
        counts = _status_counts(frame)
        detail = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items() if s != "ok")
        out.append(
            f'<p class="notice">{not_ok} of {total} models did not reach status ok '
            f"({html.escape(detail)}):</p>"
        )
        out.append(
            _table(
                frame[(status != "ok").to_numpy()],
                ["indicator_id", "model", "status", "converged", "message", "warnings"],
                formats={"warnings": _warnings_cell},
                classes={"indicator_id": "mono id", "message": "wrap", "warnings": "wrap"},
                cell_class=_status_class,
            )
        )
    else:
        out.append('<p class="muted">No model was fitted.</p>')
    n_warned = int(warned.sum())
    if not n_warned:
        if total:
            out.append("<p>No model recorded a warning.</p>")
        return _section("convergence", title, out)
    totals = frame["model"].map(_text).value_counts().to_dict()
    shared: dict[str, list[tuple[str, str]]] = {}
    for row in frame[warned.to_numpy()].itertuples(index=False):
        for text in dict.fromkeys(_warning_list(row.warnings)):
            shared.setdefault(text, []).append((_text(row.indicator_id), _text(row.model)))
    grouped = pd.DataFrame(
        [
            {
                "warning": text,
                "kind": _warning_kind(text),
                "fits": len(fits),
                "where": _where(fits, totals),
            }
            for text, fits in shared.items()
        ]
    )
    grouped["library"] = grouped["kind"] == "library notice"
    grouped = grouped.sort_values(
        ["library", "fits", "warning"], ascending=[True, False, True], kind="stable"
    )
    out.append(
        f"<p>{_plural(n_warned, 'model')} recorded warnings while fitting; "
        f"{_plural(len(grouped), 'distinct warning')}, each shown once with the fits that "
        "raised it. Library notices (deprecation and future warnings) concern the software, "
        "not the fit.</p>"
    )
    out.append(
        _table(
            grouped,
            ["warning", "kind", "fits", "where"],
            formats={"fits": _count},
            numeric=["fits"],
            classes={"warning": "wrap", "where": "wrap", "kind": "id"},
        )
    )
    every = _table(
        frame[warned.to_numpy()],
        ["indicator_id", "model", "status", "message", "warnings"],
        formats={"warnings": _warnings_cell},
        classes={"indicator_id": "mono id", "message": "wrap", "warnings": "wrap"},
        cell_class=_status_class,
    )
    out.append(_details(f"Every fit with warnings ({n_warned})", every))
    return _section("convergence", title, out)


def _decimals(std_error: object) -> int | None:
    """Decimals that show a standard error to 3 significant digits (None if it is unusable)."""
    try:
        value = float(std_error)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return min(8, max(0, 2 - math.floor(math.log10(value))))


def _fixed(value: object, decimals: int | None) -> str:
    """Format ``value`` with ``decimals`` decimals, or to 4 significant digits if None."""
    if decimals is None or _is_missing(value):
        return _number(value)
    try:
        text = f"{float(value):.{decimals}f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _size_part(size: pd.DataFrame, label: str, alpha: float | None) -> str:
    """Render the simulated rejection rates under no effect and the test the headline uses.

    ``label`` and ``alpha`` are the headline test and level of ``conclusion.csv``: the page
    names the test the tables chose, it does not choose again.
    """
    level = _level(alpha)
    design = _text(size["design_indicators"].iloc[0]) if "design_indicators" in size else ""
    chosen = (
        f"The headline uses <strong>{_esc(label)}</strong>, chosen by the rule in the README "
        "(among the tests honest for every term, the least conservative; randomization "
        "inference if none is)."
        if label
        else "The headline test is named in <code>tables/conclusion.csv</code>, which was "
        "not found."
    )
    words = (
        f"<p>How often each test rejects at {level} when there is no effect, simulated on "
        f"this dataset's own design ({_esc(design)}: who is integrated when, the areas and "
        "years observed) with its residuals resampled by whole area. A rate above the upper "
        f"Monte Carlo bound of {level} marks a test that is not honest here. {chosen}</p>"
    )
    columns = ["label", "term", "n_treated_areas", "sims", "reps", "rate", "mc_se", "honest"]
    return words + _table(
        size,
        [column for column in columns if column in size],
        headers={"label": "test", "rate": "rejection rate", "mc_se": "Monte Carlo SE"},
        formats={"rate": _number, "mc_se": _number},
        numeric=["rate", "mc_se", "sims", "reps", "n_treated_areas"],
    )


def _inference_section(
    inference: pd.DataFrame | None,
    power: pd.DataFrame | None,
    size: pd.DataFrame | None = None,
    *,
    label: str = "",
    alpha: float | None = None,
) -> str:
    """Render the twfe integration terms under each few-cluster method, and the MDEs."""
    title = "Few-cluster inference and power (twfe)"
    if inference is None:
        return _section("inference", title, [_absent("inference.csv")])
    wide = inference.pivot_table(
        index=["indicator_id", "term"], columns="inference", values="p_value", aggfunc="first"
    ).reset_index()
    methods = [m for m in dict.fromkeys(inference["inference"]) if m in wide.columns]
    body = [
        "<p>p-values of the two-way fixed effects integration terms under four kinds of "
        "inference. With few treated areas, cluster-robust t-tests over-reject; CR2 with "
        "Bell-McCaffrey degrees of freedom, the restricted wild cluster bootstrap and "
        "randomization inference over partnerships (a placebo-assignment test: integration "
        "was not randomised) are the more honest ones. An indicator that could not be "
        "modelled says why. A resampling p-value is (hits + 1)/(B + 1), the observed "
        "statistic counting as one of the B + 1 draws; &le; 1/(B + 1) (&le; 0.0001 for "
        "B = 9999) means that no draw was as extreme as the observed statistic, the smallest "
        "p-value B draws can give.</p>",
        _table(
            wide,
            ["indicator_id", "term", *methods],
            formats={m: partial(format_p_value, draws=_draws_in_label(m)) for m in methods},
            numeric=methods,
        ),
    ]
    if size is not None:
        body.insert(0, _size_part(size, label, alpha))
    body.append(_multiplicity_part(inference, alpha))
    if power is not None:
        body.append(_power_part(power, alpha))
    return _section("inference", title, body)


def _multiplicity_part(inference: pd.DataFrame, alpha: float | None) -> str:
    """Render how many indicators each test finds before and after multiplicity adjustment.

    ``alpha`` is the tables' level (``conclusion.csv``, else the configuration); the family
    of each test is the indicators it tested (the ``tested`` column), not a fixed count.
    """
    if alpha is None:
        return _notice("No test level was found (conclusion.csv or the configuration).")
    below = f"p < {alpha:g}"
    rows = []
    for (label, term), group in inference.groupby(["inference", "term"], sort=False):
        p = pd.to_numeric(group["p_value"], errors="coerce")
        row = {"test": label, "term": term, "tested": int(p.notna().sum())}
        row[below] = int((p < alpha).sum())
        for column, name in (("p_adjusted", "after BH"), ("p_romano_wolf", "after Romano-Wolf")):
            values = pd.to_numeric(group.get(column), errors="coerce")
            row[name] = (
                int((values < alpha).sum()) if values is not None and values.notna().any() else ""
            )
        rows.append(row)
    frame = pd.DataFrame(rows)
    numbers = ["tested", below, "after BH", "after Romano-Wolf"]
    families = sorted({int(n) for n in frame["tested"] if n}) if len(frame) else []
    family = (
        f"the {families[0]} indicators each test was applied to"
        if len(families) == 1
        else "the indicators each test was applied to (tested)"
    )
    return (
        f"<p>Indicators with an integration association at {_level(alpha)}, per test, before "
        f"and after adjusting for testing {family}: Benjamini-Hochberg (false discovery rate) "
        "and Romano-Wolf (family-wise, from the joint bootstrap or permutation draws).</p>"
        + _table(frame, list(frame.columns), numeric=numbers)
    )


PARTNERSHIP_CODE = re.compile(r"S37\d{6}")


def _partnership_names(areas: pd.DataFrame) -> dict[str, str]:
    """Return partnership code -> name from the council areas table (empty if it lacks them)."""
    if not {"hscp_code", "hscp_name"} <= set(areas.columns):
        return {}
    return areas.drop_duplicates("hscp_code").set_index("hscp_code")["hscp_name"].to_dict()


def _named(text: object, names: dict[str, str]) -> str:
    """Replace partnership codes in ``text`` by names: ``drop_S37000022`` -> ``drop Highland``."""
    value = _text(text)
    value = re.sub(r"drop_(S37\d{6})", lambda m: f"drop {names.get(m.group(1), m.group(1))}", value)
    return PARTNERSHIP_CODE.sub(lambda m: names.get(m.group(0), m.group(0)), value)


def _sensitivity_section(
    table: pd.DataFrame | None,
    summary: pd.DataFrame | None,
    names: dict[str, str] | None = None,
) -> str:
    """Render whether any conclusion changes under the sensitivity variants, in words first.

    Partnership codes in the variant names and descriptions (``drop_S37000022``) are shown as
    the partnership's name (``names``, from the council areas table).
    """
    from integration_models.sensitivity import describe_sensitivity

    title = "Sensitivity of the integration estimates"
    if table is None or summary is None:
        return _section("sensitivity", title, [_absent("sensitivity.csv")])
    if names:
        summary = summary.copy()
        for column in ("variant", "description"):
            if column in summary:
                summary[column] = summary[column].map(partial(_named, names=names))
    body = [
        f"<p><strong>{_esc(_named(describe_sensitivity(summary), names or {}))}</strong></p>",
        "<p>The twfe integration terms rerun under every scenario classification, without the "
        "COVID-19 years, leaving out each partnership in turn, without Highland, with the "
        "alternative deprivation measure, with log population density added and without "
        "covariates (CR2 Bell-McCaffrey inference, Benjamini-Hochberg "
        "across indicators within each variant). The figure <code>sensitivity.png</code> "
        "shows every estimate; <code>tables/sensitivity.csv</code> has every row.</p>",
        _table(
            summary,
            [
                c
                for c in (
                    "variant",
                    "term",
                    "n_tested",
                    "n_significant",
                    "n_changed",
                    "changes",
                    "note",
                )
                if c in summary
            ],
            numeric=["n_tested", "n_significant", "n_changed"],
        ),
        _covariates_part(table),
    ]
    return _section("sensitivity", title, body)


COVARIATE_VARIANTS = {  # sensitivity variant -> column header of the with/without table
    "baseline": "main (deprivation baseline x time)",
    "no_covariates": "without covariates",
    "log_density": "log density added",
}


def _covariates_part(table: pd.DataFrame) -> str:
    """Render the main twfe integration estimates next to those without covariates.

    The within-area models control only for the pre-integration deprivation baseline times
    time; a reviewer should see at once how much that, or adding log density, moves each
    estimate (CR2 Bell-McCaffrey standard errors in brackets, from ``sensitivity.csv``).
    """
    rows = table.loc[table["variant"].isin(list(COVARIATE_VARIANTS))]
    if rows.empty or not {"estimate", "std_error", "indicator_id", "term"} <= set(rows.columns):
        return ""
    wide: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows.itertuples(index=False):
        estimate, se = float(row.estimate), float(row.std_error)
        cell = f"{_number(estimate)} ({_number(se)})" if np.isfinite(estimate) else "n/a"
        key = (str(row.indicator_id), str(row.term))
        wide.setdefault(key, {"indicator_id": key[0], "term": key[1]})[row.variant] = cell
    columns = ["indicator_id", "term", *(v for v in COVARIATE_VARIANTS if v in set(rows.variant))]
    frame = pd.DataFrame(list(wide.values())).reindex(columns=columns).fillna("")
    return (
        "<h3>Main estimates with and without covariates</h3>"
        "<p>twfe integration estimates (standard error), CR2 Bell-McCaffrey: as fitted (the "
        "pre-integration deprivation baseline times time), without any covariate, and with log "
        "population density added. The yearly deprivation series and log density are not "
        "within-area controls (README, The models).</p>"
        + _table(frame, columns, headers=COVARIATE_VARIANTS)
    )


def _power_part(power: pd.DataFrame, alpha: float | None = None) -> str:
    """Render the minimum detectable effects, their units, and where the test misleads."""
    numbers = ["mde", "mde_sd", "mde_units", "mde_pct_pre_mean", "size", "mde_size_adjusted_sd"]
    numbers = [column for column in numbers if column in power]
    over = power[pd.to_numeric(power.get("size"), errors="coerce") > 0.1] if "size" in power else []
    words = (
        "<p>Minimum detectable effect (MDE) of each integration term at 80% power and a "
        f"{_level(alpha)} two-sided CRV1 t(G-1) test, simulated on this dataset's own design "
        "(who is integrated when, the areas and years observed) with its residual variation "
        "resampled by area. An effect smaller than this could easily be missed, so 'no "
        "association' means 'no effect this large'. <code>mde_units</code> is in the "
        "indicator's own units (for log-scale outcomes, a percentage change); "
        "<code>mde_pct_pre_mean</code> relates it to the mean before integration began; "
        "<code>size</code> is the simulated rejection rate of the "
        "test under no effect.</p>"
    )
    if len(over):
        words += (
            f"<p>For {_plural(len(over), 'term')} the CRV1 test rejects more than 10% of the "
            "time when there is no effect (typically the partial category, with very few "
            "treated areas): there the size-adjusted MDE, whose critical value holds the "
            f"rejection rate at {_level(alpha)}, is the honest figure.</p>"
        )
    columns = ["indicator_id", "term", "scale", "n_treated_areas", *numbers, "units_note", "note"]
    return words + _table(
        power,
        [column for column in columns if column in power],
        headers={
            "mde": "MDE (model scale)",
            "mde_sd": "MDE (SDs)",
            "mde_units": "MDE (units)",
            "mde_pct_pre_mean": "MDE (% of pre-period mean)",
            "size": f"size at {_level(alpha)}",
            "mde_size_adjusted_sd": "size-adjusted MDE (SDs)",
        },
        formats=dict.fromkeys(numbers, _number),
        numeric=numbers,
    )


def _coefficients_section(coefficients: pd.DataFrame | None) -> str:
    title = "Integration coefficients"
    if coefficients is None:
        return _section("coefficients", title, [_absent("coefficients.csv")])
    frame = (
        coefficients[coefficients["term"].map(_is_integration)]
        if "term" in coefficients
        else coefficients[:0]
    ).copy()
    columns = [c for c in COEFFICIENT_DISPLAY if c in frame]
    per_model = []
    if "inference" in frame and "model" in frame:
        per_model = [
            len({_text(v) for v in group if _text(v)}) <= 1
            for _, group in frame.groupby("model", sort=True)["inference"]
        ]
    dropped = []
    if per_model and all(per_model):
        columns.remove("inference")
        dropped.append(
            "the standard-error convention, which is the same for all rows of a "
            "model, is given under Models"
        )
    empty = [c for c in ("note", "p_adjusted") if c in columns and not frame[c].map(_text).any()]
    columns = [c for c in columns if c not in empty]
    errors = frame["std_error"] if "std_error" in frame else [None] * len(frame)
    decimals = [_decimals(v) for v in errors]
    for column in ("estimate", "std_error", "conf_low", "conf_high"):
        if column in frame:
            frame[column] = [_fixed(v, d) for v, d in zip(frame[column], decimals, strict=True)]
    formats: dict[str, Callable[[object], str]] = {
        "statistic": lambda v: _fixed(v, 2),
        "p_value": format_p_value,
        "p_adjusted": format_p_value,
        "n_obs": _count,
        "n_areas": _count,
    }
    numeric = ["estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    numeric += ["p_adjusted", "n_obs", "n_areas"]
    body = [
        "<p>The integration terms of every indicator and model (all terms are in "
        "<code>tables/coefficients.csv</code>). Estimates and confidence limits are rounded to "
        "the precision of their standard error (shown to 3 significant digits), statistics to "
        "2 decimals; empty cells are terms that were not estimated (see Convergence)."
        + (" Not repeated here: " + "; ".join(dropped) + "." if dropped else "")
        + "</p>",
        _table(
            frame,
            columns,
            formats=formats,
            numeric=[c for c in numeric if c in columns],
            classes={"indicator_id": "mono id", "term": "id", "note": "wrap"},
        ),
    ]
    return _section("coefficients", title, body)


def _mapping_table(mapping: dict, key: str, value: str) -> str:
    rows = [
        {key: k, value: v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)}
        for k, v in sorted(mapping.items(), key=lambda item: str(item[0]))
    ]
    return _table(pd.DataFrame(rows, columns=[key, value]), classes={value: "mono wrap"})


def _provenance_section(provenance: dict) -> str:
    git = provenance.get("git") or {}
    dirty = git.get("dirty", "unknown")
    dirty_text = {True: "uncommitted changes", False: "clean"}.get(dirty, str(dirty))
    out = [
        "<p>Git commit <code>"
        + _esc(git.get("commit", "unknown"))
        + f"</code> (work tree: {_esc(dirty_text)}); run created "
        + _esc(provenance.get("created", "unknown"))
        + "; platform "
        + _esc(provenance.get("platform", "unknown"))
        + ". All of this is in <code>provenance.json</code>.</p>",
    ]
    versions = provenance.get("versions") or {}
    out.append(_details("Versions", _mapping_table(versions, "package", "version"), is_open=True))
    config = provenance.get("config") or {}
    out.append(_details("Configuration", _mapping_table(config, "key", "value"), is_open=True))
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
    table = _table(
        pd.DataFrame(rows, columns=["group", "path", "size", "sha256"]),
        headers={"size": "bytes"},
        formats={"size": _count},
        numeric=["size"],
        classes={"path": "mono", "sha256": "mono"},
        empty="no input files recorded",
    )
    out.append(_details(f"Input files and SHA-256 hashes ({len(rows)} files)", table))
    return _section("provenance", "Provenance", out)


def render_report(
    *,
    tables_dir: Path,
    figures_dir: Path,
    panel: pd.DataFrame,
    exclusions: pd.DataFrame,
    registry: pd.DataFrame,
    classification: pd.DataFrame,
    areas: pd.DataFrame,
    provenance: dict,
    synthetic: bool,
    integration: pd.DataFrame | None = None,
) -> str:
    """Return the report page as a string (see :func:`write_report` for the arguments)."""
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    headline = _read_csv(tables_dir / "headline.csv", strings=True)
    conclusion = _read_csv(tables_dir / "conclusion.csv")
    inference = _read_csv(tables_dir / "inference.csv")
    model_fit = _read_csv(tables_dir / "model_fit.csv")
    coefficients = _read_csv(tables_dir / "coefficients.csv")
    summary = _read_csv(tables_dir / "summary.csv", strings=True)
    config = provenance.get("config") or {}
    alpha = _alpha(conclusion, config)
    alerts, stamp = _stamp_part(tables_dir, provenance)
    title = ("[SYNTHETIC] " if synthetic else "") + str(config.get("report_title") or TITLE)
    body = []
    if synthetic:
        body.append(f'<div class="banner" role="alert">{html.escape(SYNTHETIC_BANNER)}</div>')
    body += [
        f"<h1>{html.escape(str(config.get('report_title') or TITLE))}</h1>",
        alerts,
        _conclusion_section(conclusion),
        _toc(),
        _estimates_section(inference, conclusion, registry, alpha),
        _group_title("Results in detail"),
        _about_section(model_fit, registry, config, synthetic, stamp),
        _headline_section(headline),
        _inference_section(
            inference,
            _read_csv(tables_dir / "power.csv"),
            _read_csv(tables_dir / "size.csv"),
            label=_headline_test(conclusion),
            alpha=alpha,
        ),
        _sensitivity_section(
            _read_csv(tables_dir / "sensitivity.csv"),
            _read_csv(tables_dir / "sensitivity_summary.csv"),
            _partnership_names(areas),
        ),
        _summary_section(summary, registry, _models_in(model_fit)),
        _figures_section(figures_dir, registry),
        _coefficients_section(coefficients),
        _group_title("Data and design"),
        _data_section(panel, exclusions, registry, config),
        _registry_section(registry),
        _classification_section(classification, areas, integration, config),
        _models_section(model_fit, coefficients),
        _group_title("Checks"),
        _known_effects_section(tables_dir),
        _convergence_section(model_fit),
        _provenance_section(provenance),
        f"<footer>Written by integration_models {html.escape(integration_models.__version__)}"
        ". Tables: <code>tables/</code>; figures: <code>figures/</code>; provenance: "
        "<code>provenance.json</code> in the results folder.</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + (body[0] + "\n" if synthetic else "")
        + "<main>\n"
        + "\n".join(body[1:] if synthetic else body)
        + "\n</main>\n</body>\n</html>\n"
    )


def write_report(
    out_html: Path,
    *,
    tables_dir: Path,
    figures_dir: Path,
    panel: pd.DataFrame,
    exclusions: pd.DataFrame,
    registry: pd.DataFrame,
    classification: pd.DataFrame,
    areas: pd.DataFrame,
    provenance: dict,
    synthetic: bool,
    integration: pd.DataFrame | None = None,
) -> None:
    """Write the self-contained reviewer page ``report.html``.

    Parameters
    ----------
    out_html
        The page to write (replaced atomically).
    tables_dir
        Folder with ``conclusion.csv``, ``headline.csv``, ``inference.csv``,
        ``model_fit.csv``, ``coefficients.csv`` and ``summary.csv`` (and the inference,
        power and sensitivity tables); a missing table is announced on the page, not
        silently skipped.
    figures_dir
        Folder whose PNG files are embedded: ``trends.png``, ``forest.png``, then
        ``coefficients_<indicator_id>.png`` in registry order, then any others.
    panel
        The panel (``panel.parquet``).
    exclusions
        The excluded rows (``exclusions.csv``).
    registry
        The indicator registry (``indicators.csv``, e.g. from
        :func:`~integration_models.registry.load_registry`).
    classification
        The integration classification used (``hscp_code, category, from_date, to_date,
        from_year, to_year, confidence,
        evidence``).
    areas
        The council areas (for ``hscp_code`` -> ``hscp_name``).
    provenance
        The run's provenance (:func:`~integration_models.provenance.build_provenance`); its
        ``config`` names the dataset, classification and folders.
    synthetic
        Whether the data are the synthetic demo: puts a red banner at the top.
    integration
        The exposure of each area, year and kind of period (``integration.parquet`` of the
        ``classify`` rule), counted by year and category; None shows the dated periods only.
    """
    page = render_report(
        tables_dir=tables_dir,
        figures_dir=figures_dir,
        panel=panel,
        exclusions=exclusions,
        registry=registry,
        classification=classification,
        areas=areas,
        provenance=provenance,
        synthetic=synthetic,
        integration=integration,
    )
    write_text(out_html, page)


def _known_effects_section(tables_dir: Path) -> str:
    """Set the estimates against the dataset's known effects, if it has any (the demo does).

    Reads ``known_effects_summary.csv`` and ``known_effects.csv``
    (:mod:`integration_models.known_effects`): a synthetic dataset simulated from known
    coefficients shows whether the models recover them (interval coverage, sign, false
    positives), per model and term; the per-estimate rows are collapsed below. A dataset
    without a truth file has the tables with no rows, and the section says so.
    """
    title = "Known effects (synthetic data)"
    summary = _read_csv(tables_dir / "known_effects_summary.csv")
    rows = _read_csv(tables_dir / "known_effects.csv", strings=True)
    if summary is None or rows is None:
        return _section("known-effects", title, [_absent("known_effects.csv")])
    if summary.empty:
        return _section(
            "known-effects",
            title,
            ['<p class="muted">No known effects (real data): the dataset has no truth file.</p>'],
        )
    summary = summary.assign(
        coverage=[
            f"{_count(c)} of {_count(n)} ({_number(p, 3)}%)" if n else "-"
            for c, n, p in zip(
                summary["covered"], summary["with_interval"], summary["coverage_pct"], strict=True
            )
        ],
        sign=[
            f"{_count(c)} of {_count(n)}" if n else "-"
            for c, n in zip(summary["sign_right"], summary["nonzero_truth"], strict=True)
        ],
        false_pos=[
            f"{_count(c)} of {_count(n)}" if n else "-"
            for c, n in zip(summary["false_positives"], summary["zero_truth"], strict=True)
        ],
    )
    body = [
        "<p>The dataset was simulated from known coefficients (<code>demo_truth.csv</code>), so "
        "every estimate on the truth's scale can be checked against it: whether its 95% "
        "interval covers the true value (about 95% of intervals should), whether it has the "
        "true sign where the effect is not zero, and whether a term with no effect is "
        "significant at the model's own test (a false positive; about 5% expected). "
        "<code>glm</code>'s logit terms are on another scale and are left out. Tables: "
        "<code>tables/known_effects_summary.csv</code>, <code>tables/known_effects.csv</code>."
        "</p>",
        _table(
            summary,
            ["model", "term", "estimates", "coverage", "sign", "false_pos"],
            headers={
                "estimates": "estimates",
                "coverage": "interval covers truth",
                "sign": "right sign (truth not 0)",
                "false_pos": "false positives (truth 0)",
            },
            numeric=["estimates", "coverage", "sign", "false_pos"],
            classes={"term": "id"},
        ),
        _details(
            f"Every estimate against its truth ({len(rows)})",
            _table(
                rows,
                formats={
                    "p_value": format_p_value,
                    **dict.fromkeys(
                        ("truth", "estimate", "conf_low", "conf_high"), lambda v: _number(v, 3)
                    ),
                },
                numeric=["truth", "estimate", "conf_low", "conf_high", "p_value"],
                classes={"indicator_id": "mono id", "term": "id"},
            ),
        ),
    ]
    return _section("known-effects", title, body)
