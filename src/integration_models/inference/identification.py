"""Which partnerships identify an integration term: those whose exposure changes in the window.

With area and year fixed effects, an integration dummy is identified only by areas whose 0/1
exposure changes between the years an indicator observes (a switch on or a switch off). An
area integrated in every observed year, or never, is absorbed by its area effect and tells
the model nothing about the term, however it is coded. Counting the areas "ever coded
treated" therefore overstates the evidence: for an indicator observed from 2016, most areas
coded ``full`` were already integrated in its first year, and the term rests on the few that
switched later (methods.md section 4, "count the clusters that identify a term").

Integration is assigned per partnership, and Clackmannanshire and Stirling share one, so the
count is of partnerships (distinct ``hscp_code``) with at least one identifying area.
:func:`identification` returns the count, the partnerships, the window and which of the
partnerships' changes rest on a classification row whose ``confidence`` is ``assumed``;
:meth:`Identification.reason` gives the ``not identified: ...`` text every table uses when
fewer than the analysis plan's ``min_partnerships`` change status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_MIN_PARTNERSHIPS = 2  # the analysis plan's default (plan/schema.yaml)
ASSUMED = "assumed"
TERM_CATEGORY = {"integration_full": "full", "integration_partial": "partial"}
_TOL = 1e-10


@dataclass(frozen=True)
class Identification:
    """The partnerships that identify one term in one indicator's model rows.

    Attributes
    ----------
    term
        The 0/1 exposure column (``integration_full`` or ``integration_partial``).
    partnerships
        ``hscp_code`` of each partnership with an area whose exposure changes inside the
        window, sorted.
    names
        Their names, in the same order (the code where no name is known).
    first_year, last_year
        The indicator's observed window (None without rows).
    assumed
        The partnerships of ``partnerships`` whose change rests on a classification row with
        ``confidence == "assumed"`` (empty when no classification was given).
    """

    term: str
    partnerships: tuple[str, ...]
    names: tuple[str, ...]
    first_year: int | None
    last_year: int | None
    assumed: tuple[str, ...] = ()

    @property
    def n_identifying_areas(self) -> int:
        """Number of partnerships whose exposure to the term changes inside the window."""
        return len(self.partnerships)

    @property
    def rests_on_assumed(self) -> bool:
        """Whether any identifying change rests on an assumed classification row."""
        return bool(self.assumed)

    def identified(self, min_partnerships: int = DEFAULT_MIN_PARTNERSHIPS) -> bool:
        """Whether at least ``min_partnerships`` partnerships change status in the window."""
        return self.n_identifying_areas >= min_partnerships

    def window(self) -> str:
        """Return the observed years as ``first-last`` (``no years`` without rows)."""
        if self.first_year is None:
            return "no years"
        return f"{self.first_year}-{self.last_year}"

    def describe(self) -> str:
        """Return the partnerships in words, with those resting on an assumed date marked."""
        if not self.partnerships:
            return "none"
        marked = [
            f"{name} [assumed]" if code in self.assumed else name
            for code, name in zip(self.partnerships, self.names, strict=True)
        ]
        return ", ".join(marked)

    def reason(self, min_partnerships: int = DEFAULT_MIN_PARTNERSHIPS) -> str:
        """``not identified: <n> partnership(s) change status within <window> (<names>)``.

        Empty when the term is identified under ``min_partnerships``.
        """
        if self.identified(min_partnerships):
            return ""
        return not_identified(
            self.n_identifying_areas, self.window(), min_partnerships, self.describe()
        )


def not_identified(n: int, window: str, min_partnerships: int, names: str = "") -> str:
    """Return the one wording, in every table and step, of a term too few partnerships identify.

    ``not identified: <n> partnership(s) change status within <window> (<names>); at least
    <min_partnerships> needed``; the parenthesis only where the partnerships are named.
    """
    named = f" ({names})" if names else ""
    return (
        f"not identified: {n} partnership(s) change status within {window}{named}; "
        f"at least {min_partnerships} needed"
    )


def changing_areas(area: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Return the areas whose 0/1 ``exposure`` takes both values among their rows.

    Whether the change is a switch on or a switch off does not matter: either is a change
    within the area that its fixed effect does not absorb.

    Parameters
    ----------
    area, exposure
        Aligned row arrays (any order) of the modelled rows.

    Returns
    -------
    numpy.ndarray
        The distinct area codes with varying exposure, sorted.
    """
    area = np.asarray(area).astype(str)
    exposure = np.asarray(exposure, dtype=float)
    if area.size == 0:
        return np.array([], dtype=str)
    labels, codes = np.unique(area, return_inverse=True)
    high = np.full(len(labels), -np.inf)
    low = np.full(len(labels), np.inf)
    np.maximum.at(high, codes, exposure)
    np.minimum.at(low, codes, exposure)
    return labels[(high - low) > _TOL]


def change_spans(
    area: np.ndarray, year: np.ndarray, exposure: np.ndarray, which: str
) -> list[tuple[int, int]]:
    """Return each ``(last year before, first year after)`` a change of ``which``'s exposure.

    The years are the area's observed (modelled) years, so a transition period left out of
    the model rows widens the span to the observed years either side.
    """
    mask = np.asarray(area).astype(str) == which
    order = np.argsort(np.asarray(year)[mask], kind="stable")
    years = np.asarray(year)[mask][order].astype(int)
    values = np.asarray(exposure, dtype=float)[mask][order]
    steps = np.flatnonzero(np.abs(np.diff(values)) > _TOL)
    return [(int(years[i]), int(years[i + 1])) for i in steps]


def _rests_on_assumed(
    classification: pd.DataFrame, hscp: str, term: str, spans: list[tuple[int, int]]
) -> bool:
    """Whether a change of ``term`` in ``spans`` rests on an assumed classification row.

    A change observed between years ``y0`` and ``y1`` falls on a boundary day between the
    end of ``y0``'s period and the end of ``y1``'s, so it is made by a row of the term's
    category (``full`` for ``integration_full``) that starts (``from_date``, a switch on) or
    ends (``to_date``, a switch off) in a calendar year from ``y0`` to ``y1``. The row on the
    other side does not matter to this term: North Lanarkshire leaving ``full`` rests on its
    ``full`` row, not on the assumption that what followed was ``partial``.
    """
    rows = classification[classification["hscp_code"].astype(str) == hscp]
    category = TERM_CATEGORY.get(term)
    if category is not None:
        rows = rows[rows["category"].astype(str) == category]
    if rows.empty:
        return False
    starts = pd.to_numeric(rows["from_date"].astype(str).str[:4], errors="coerce")
    ends = pd.to_numeric(rows["to_date"].fillna("").astype(str).str[:4], errors="coerce")
    assumed = rows["confidence"].astype(str).str.strip().str.lower() == ASSUMED
    for y0, y1 in spans:
        bounding = starts.between(y0, y1) | ends.between(y0, y1)
        if (bounding & assumed).any():
            return True
    return False


def identification(
    frame: pd.DataFrame,
    term: str,
    classification: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
) -> Identification:
    """Count the partnerships that identify ``term`` in one indicator's model rows.

    Parameters
    ----------
    frame
        The modelled rows of one indicator (e.g. :attr:`ModelData.frame`): ``area_code``,
        ``year``, ``term`` (0/1) and ``hscp_code`` (without it every area is its own
        partnership). Transition periods must already be left out, as the models do.
    term
        The exposure column, e.g. ``integration_full``.
    classification
        The dated classification (:func:`integration_models.data.reference.load_classification`
        or the raw ``baseline.csv``: ``hscp_code, category, from_date, to_date, confidence``),
        to flag changes resting on an assumed row; None flags nothing.
    names
        ``hscp_code`` -> partnership name, for the message; codes are shown where missing.

    Returns
    -------
    Identification
        The identifying partnerships, the window and the assumed flags.
    """
    years = frame["year"].to_numpy() if len(frame) else np.array([], dtype=int)
    first = int(years.min()) if years.size else None
    last = int(years.max()) if years.size else None
    if term not in frame.columns or frame.empty:
        return Identification(term, (), (), first, last)
    area = frame["area_code"].astype(str).to_numpy()
    exposure = frame[term].to_numpy(dtype=float)
    hscp_column = "hscp_code" if "hscp_code" in frame.columns else "area_code"
    hscp_of = dict(zip(area, frame[hscp_column].astype(str), strict=True))
    areas = changing_areas(area, exposure)
    partnerships = tuple(sorted({hscp_of[a] for a in areas}))
    assumed: list[str] = []
    if classification is not None:
        for hscp in partnerships:
            spans = [
                span
                for a in areas
                if hscp_of[a] == hscp
                for span in change_spans(area, years, exposure, a)
            ]
            if _rests_on_assumed(classification, hscp, term, spans):
                assumed.append(hscp)
    names = names or {}
    return Identification(
        term=term,
        partnerships=partnerships,
        names=tuple(str(names.get(code, code)) for code in partnerships),
        first_year=first,
        last_year=last,
        assumed=tuple(assumed),
    )


def partnership_names(areas: pd.DataFrame) -> dict[str, str]:
    """Map ``hscp_code`` to the partnership's name, for the ``not identified`` messages.

    From ``hscp_name`` (the areas table); else the partnership's area names joined by
    ``and`` (``area_name`` of the panel or of
    :func:`~integration_models.data.panel.area_exposure`: "Clackmannanshire and Stirling");
    empty when the table has neither.
    """
    if "hscp_name" in areas.columns:
        pairs = areas[["hscp_code", "hscp_name"]].drop_duplicates("hscp_code")
        codes, labels = pairs["hscp_code"].astype(str), pairs["hscp_name"].astype(str)
        return dict(zip(codes, labels, strict=True))
    if "area_name" not in areas.columns or "hscp_code" not in areas.columns:
        return {}
    pairs = areas[["hscp_code", "area_name"]].drop_duplicates().sort_values("area_name")
    grouped = pairs.groupby(pairs["hscp_code"].astype(str))["area_name"]
    return {code: " and ".join(map(str, group)) for code, group in grouped}


def count_identifying(
    area: np.ndarray, exposure: np.ndarray, hscp_of: Mapping[str, str] | None = None
) -> int:
    """Count partnerships with an area whose exposure varies (arrays, no pandas).

    For the resampling and sensitivity loops, which hold rows as arrays; ``hscp_of`` maps
    area to partnership (without it each area counts as its own).
    """
    areas = changing_areas(area, exposure)
    if hscp_of is None:
        return int(areas.size)
    return len({hscp_of.get(a, a) for a in areas})
