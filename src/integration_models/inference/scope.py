"""Which indicators and integration terms the steps after the fits analyse.

The few-cluster inference, the null simulation, power, sensitivity and the headline all speak
of the ``twfe`` integration terms. They analyse exactly the terms that the ``twfe`` fit
estimated: an indicator whose fit was ``skipped`` (too little data under ``min_years`` /
``min_areas``), ``failed`` or ``not_converged``, or a term the fit could not estimate (no area
changes category within the window), is not tested, not counted and not adjusted for; it
keeps a row in every table saying why. So the headline's "X of N indicators" counts the same
N everywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SCOPE_MODEL = "twfe"
SCOPE_TERMS = ("integration_full", "integration_partial")
NOT_ESTIMATED = "not estimated: "


@dataclass(frozen=True)
class Scope:
    """The ``twfe`` integration terms that were estimated, and why the others were not.

    Attributes
    ----------
    indicators
        Every registered indicator, in registry order.
    excluded
        ``(indicator, term) -> reason`` for each term that is not analysed.
    """

    indicators: tuple[str, ...]
    excluded: Mapping[tuple[str, str], str]

    @property
    def analysed(self) -> list[str]:
        """Indicators with at least one estimated integration term, in registry order."""
        return [i for i in self.indicators if any(self.includes(i, t) for t in SCOPE_TERMS)]

    def includes(self, indicator: str, term: str) -> bool:
        """Whether the ``twfe`` fit estimated ``term`` for ``indicator``."""
        return indicator in self.indicators and (indicator, term) not in self.excluded

    def count(self, term: str) -> int:
        """Count the indicators whose ``twfe`` fit estimated ``term``."""
        return sum(self.includes(i, term) for i in self.indicators)

    def reason(self, indicator: str, term: str) -> str:
        """Why ``term`` of ``indicator`` is not analysed ("" if it is)."""
        return self.excluded.get((indicator, term), "")

    def describe(self, term: str) -> str:
        """Say the analysed count in words, e.g. ``"23 of 25 indicators (2 not estimated ...)"``."""
        n, total = self.count(term), len(self.indicators)
        rest = "" if n == total else f" ({total - n} not estimated by the twfe fit)"
        return f"{n} of {total} indicators{rest}"


def analysed(indicator_ids: Sequence[str], scope: Scope | None) -> list[str]:
    """Return the indicators of ``indicator_ids`` a step analyses (all, without a scope)."""
    if scope is None:
        return list(indicator_ids)
    keep = set(scope.analysed)
    return [i for i in indicator_ids if i in keep]


def scope_from_fits(fits: Iterable[Mapping], indicators: Sequence[str]) -> Scope:
    """Build the scope from the ``twfe`` fit payloads (``{"fit": ..., "coefficients": [...]}``).

    An indicator with no ``twfe`` payload is excluded with that reason.
    """
    payloads = {p["fit"]["indicator_id"]: p for p in fits if p["fit"]["model"] == SCOPE_MODEL}
    excluded: dict[tuple[str, str], str] = {}
    for indicator in indicators:
        payload = payloads.get(indicator)
        if payload is None:
            excluded.update({(indicator, t): "no twfe fit" for t in SCOPE_TERMS})
            continue
        fit = payload["fit"]
        if fit["status"] != "ok":
            why = f"twfe fit {fit['status']}" + (f" ({fit['message']})" if fit["message"] else "")
            excluded.update({(indicator, t): why for t in SCOPE_TERMS})
            continue
        rows = {row["term"]: row for row in payload["coefficients"]}
        for term in SCOPE_TERMS:
            row = rows.get(term, {})
            estimate, std_error = row.get("estimate"), row.get("std_error")
            if not (_finite(estimate) and _finite(std_error)):
                excluded[(indicator, term)] = (
                    f"not estimable in the twfe fit ({row.get('note') or 'no estimate'})"
                )
    return Scope(indicators=tuple(indicators), excluded=excluded)


def load_scope(fit_paths: Iterable[str | Path], indicators: Sequence[str]) -> Scope:
    """Read the ``twfe`` fit JSON files and build the scope (:func:`scope_from_fits`)."""
    payloads = [json.loads(Path(p).read_text(encoding="utf-8")) for p in fit_paths]
    return scope_from_fits(payloads, indicators)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def blank_out(
    table: pd.DataFrame, scope: Scope, blank: Sequence[str], note_column: str
) -> pd.DataFrame:
    """Blank the rows of terms out of scope: ``NaN`` in ``blank``, the reason in the note.

    The note becomes ``"not estimated: <reason>"``; other rows are unchanged.
    """
    out = table.copy()
    keys = zip(out["indicator_id"], out["term"], strict=True)
    reasons = [scope.excluded.get(key) for key in keys]
    mask = pd.Series([reason is not None for reason in reasons], index=out.index)
    if mask.any():
        out[note_column] = out[note_column].astype(object)
        out.loc[mask, list(blank)] = math.nan
        out.loc[mask, note_column] = [NOT_ESTIMATED + r for r in reasons if r is not None]
    return out


def complete_rows(
    table: pd.DataFrame,
    scope: Scope,
    blank: Sequence[str],
    note_column: str,
    defaults: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Give every registered indicator and integration term a row; blank those out of scope.

    Rows of a term out of scope are blanked (:func:`blank_out`); a pair with no row at all
    (the step could not build a design for it) gets one, with ``defaults`` in its other
    columns. A blanked pair keeps one row however many it had (e.g. one per test). Rows are
    ordered by registry, then term, keeping the table's order within a pair; existing rows
    keep their index labels (new ones are numbered after them), so positions recorded
    against the input stay valid.
    """
    out = blank_out(table, scope, blank, note_column)
    masked = pd.Series(
        [key in scope.excluded for key in zip(out["indicator_id"], out["term"], strict=True)],
        index=out.index,
    )
    # one row says why, however many rows (e.g. one per test) the pair had
    out = out[~(masked & out.duplicated(["indicator_id", "term"]))]
    keys = list(zip(out["indicator_id"], out["term"], strict=True))
    present = set(keys)
    missing = [
        {
            **(defaults or {}),
            "indicator_id": i,
            "term": t,
            **dict.fromkeys(blank, math.nan),
            note_column: NOT_ESTIMATED
            + (scope.reason(i, t) or "not identified in this step's design"),
        }
        for i in scope.indicators
        for t in SCOPE_TERMS
        if (i, t) not in present
    ]
    if missing:
        start = int(out.index.max()) + 1 if len(out) else 0
        added = pd.DataFrame(missing, index=range(start, start + len(missing)))
        out = pd.concat([out, added])
    order = {i: n for n, i in enumerate(scope.indicators)}
    terms = {t: n for n, t in enumerate(SCOPE_TERMS)}
    out = out.assign(_i=out["indicator_id"].map(order), _t=out["term"].map(terms))
    out = out.sort_values(["_i", "_t"], kind="stable").drop(columns=["_i", "_t"])
    # numbers stay numbers when every row is blank (an indicator analysed on its own)
    return out[list(table.columns)].astype(dict.fromkeys(blank, float))
