"""The few-cluster table: every test for a list of indicators as tidy rows, adjusted across them.

:func:`few_cluster_rows` runs CRV1, CR2, the wild cluster bootstrap and randomisation inference
for a list of indicators (grouped by shared design, :func:`group_designs`) and returns the rows
with the draws; :func:`combine_few_cluster` joins such rows and adds the multiplicity
adjustments across indicators (:func:`few_cluster_table`: both at once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.inference.cluster import (
    InferenceResult,
    cr2_bell_mccaffrey,
    crv1,
    webb_weights,
    wild_cluster_bootstrap,
)
from integration_models.inference.design import (
    TERMS_OF_INTEREST,
    TwfeDesign,
    design_from_model_data,
)
from integration_models.inference.identification import (
    DEFAULT_MIN_PARTNERSHIPS,
    Identification,
    identification,
    partnership_names,
)
from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.inference.multiplicity import adjust_pvalues, romano_wolf
from integration_models.inference.permutation import (
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.scope import NOT_ESTIMATED, Scope, analysed, complete_rows
from integration_models.models.base import COEFFICIENT_COLUMNS
from integration_models.models.design import (
    DesignError,
    model_data,
)

_NUMBER_COLUMNS = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")
TABLE_COLUMNS = [
    *COEFFICIENT_COLUMNS[: COEFFICIENT_COLUMNS.index("inference") + 1],
    "family",
    "p_adjusted",
    "adjustment",
    "p_romano_wolf",
]


@dataclass(frozen=True)
class DesignGroup:
    """Indicators observed on the same area-years with the same terms and covariates.

    Such indicators share one :class:`~.design.TwfeDesign` (projections computed once); ``y`` holds
    their outcomes as columns, in the order of ``indicators``.
    """

    indicators: tuple[str, ...]
    design: TwfeDesign
    y: np.ndarray


def period_key_of(design: TwfeDesign) -> str | None:
    """Return the kind of period the design's rows cover (None without ``period_key``)."""
    if "period_key" not in design.frame.columns or design.frame.empty:
        return None
    return str(design.frame["period_key"].iloc[0])


def design_key(design: TwfeDesign) -> tuple:
    """Hashable identity of a design: its rows, kind of period, terms, dummies and controls.

    Area codes go in as fixed-width text: ``tobytes`` of an object array would give pointers.
    """
    return (
        period_key_of(design),
        design.treat.tobytes(),
        design.frame["area_code"].to_numpy(dtype=str).tobytes(),
        design.frame["year"].to_numpy().tobytes(),
        design.terms,
        design.controls,
        design.frame[list(design.controls)].to_numpy().tobytes(),
    )


def group_designs(
    panel: pd.DataFrame, indicator_ids: Sequence[str], scale_of: Mapping[str, str]
) -> tuple[list[DesignGroup], dict[str, str]]:
    """Build each indicator's TWFE design and group indicators that share one.

    Parameters
    ----------
    panel
        The long panel.
    indicator_ids
        Indicators, in the order groups and members are reported.
    scale_of
        Indicator -> outcome scale; missing means ``identity``.

    Returns
    -------
    tuple
        The groups (in order of their first indicator) and, for indicators that cannot be
        modelled, indicator -> reason (the ``DesignError`` message).
    """
    members: dict[tuple, list[tuple[str, TwfeDesign, np.ndarray]]] = {}
    failed: dict[str, str] = {}
    for indicator in indicator_ids:
        try:
            data = model_data(panel, indicator, scale_of.get(indicator, "identity"))
            design, y = design_from_model_data(data)
        except DesignError as err:
            failed[indicator] = str(err)
            continue
        members.setdefault(design_key(design), []).append((indicator, design, y))
    groups = [
        DesignGroup(
            indicators=tuple(m[0] for m in group),
            design=group[0][1],
            y=np.column_stack([m[2] for m in group]),
        )
        for group in members.values()
    ]
    return groups, failed


# the resampled t's of one indicator: (indicator, term, method) -> the B draws under the null
Draws = dict[tuple[str, str, str], np.ndarray]


def few_cluster_table(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    *,
    reps: int = 9999,
    seed: int = 20240601,
    alpha: float = 0.05,
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
    min_partnerships: int = DEFAULT_MIN_PARTNERSHIPS,
    families: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Few-cluster inference for the TWFE integration terms of several indicators.

    The rows of :func:`few_cluster_rows` with the adjustments of :func:`combine_few_cluster`;
    the workflow computes the rows one indicator at a time and combines them, which gives
    this same table (tested) when both are given the same ``families``.

    Parameters
    ----------
    panel, indicator_ids, scale_of, reps, seed, alpha, scope, population, min_partnerships
        As :func:`few_cluster_rows`.
    families
        As :func:`combine_few_cluster`.

    Returns
    -------
    pandas.DataFrame
        Columns ``TABLE_COLUMNS``: one row per indicator, integration term and method.
    """
    rows, draws = few_cluster_rows(
        panel, indicator_ids, scale_of, reps=reps, seed=seed, alpha=alpha, scope=scope,
        population=population, min_partnerships=min_partnerships,
    )  # fmt: skip
    return combine_few_cluster([(rows, draws)], indicator_ids, reps, families)


def few_cluster_rows(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    *,
    reps: int = 9999,
    seed: int = 20240601,
    alpha: float = 0.05,
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
    min_partnerships: int = DEFAULT_MIN_PARTNERSHIPS,
) -> tuple[pd.DataFrame, Draws]:
    """All four tests of the TWFE integration terms, before any adjustment across indicators.

    Indicators observed on the same area-years share one design (projections computed once);
    the bootstrap weights (per area of ``population``) and the permutations (per partnership)
    are drawn from ``seed`` alone, the same for every indicator, so the draws are joint across
    indicators however they are split into calls, and the rows are deterministic for a seed.

    Parameters
    ----------
    panel
        The long panel (:func:`integration_models.data.ingest.build_panel`), or one indicator's
        part of it.
    indicator_ids
        Indicators to analyse; one that cannot be modelled gets rows saying why.
    scale_of
        Indicator -> outcome scale (``identity`` or ``log``); missing means ``identity``.
    reps
        Draws for the bootstrap and the permutation test.
    seed
        Seed for both (split with ``numpy.random.SeedSequence``).
    alpha
        Level of the intervals (CRV1 and CR2 only).
    scope
        The terms the ``twfe`` fits estimated (:mod:`integration_models.inference.scope`): only
        these are tested; every other term of ``indicator_ids`` gets one row saying why. None
        analyses every term the design identifies.
    population
        Every area, year and kind of period with its partnership and exposure
        (:func:`integration_models.data.panel.area_exposure`): the areas the bootstrap weights are
        drawn for and the histories the permutations reassign. Default: ``panel`` (then an
        indicator's draws depend on which areas the other indicators cover).
    min_partnerships
        The analysis plan's ``identification.min_partnerships``. Every row carries
        ``n_identifying_areas``, the partnerships whose exposure to the term changes within
        the indicator's years (:mod:`~integration_models.inference.identification`); a term
        with fewer is not tested: it gets one row, without numbers or draws, whose
        ``inference`` says ``not estimated: not identified: ...`` (the prefix every later
        step reads as "no test"), however many tests the other terms have.

    Returns
    -------
    tuple
        The rows (``TABLE_COLUMNS`` up to ``inference``) and each resampled row's draws.
    """
    population = panel if population is None else population
    wcr_seed, ri_seed = np.random.SeedSequence(seed).spawn(2)
    all_areas = np.sort(population["area_code"].unique())
    weights_all = webb_weights(len(all_areas), reps, np.random.default_rng(wcr_seed))
    labels = {k: v.format(reps=reps) for k, v in INFERENCE_LABELS.items()}
    groups, failed = group_designs(panel, analysed(indicator_ids, scope), scale_of)
    names = partnership_names(population)
    rows: list[dict] = []
    draws: Draws = {}
    for group in groups:
        design = group.design
        weights = weights_all[np.searchsorted(all_areas, design.cluster_labels)]
        # one history per kind of period; every kind draws the same permutations (same seed,
        # same partnerships), so the draws stay joint across indicators for Romano-Wolf
        histories = partnership_histories(population, period_key_of(design))
        permutations = draw_permutations(histories, reps, np.random.default_rng(ri_seed))
        results = {
            "crv1": crv1(design, group.y, alpha=alpha),
            "cr2": cr2_bell_mccaffrey(design, group.y, alpha=alpha),
            "wcr": wild_cluster_bootstrap(design, group.y, weights=weights),
            "ri": randomization_inference(design, group.y, histories, permutations=permutations),
        }
        idents = {t: identification(design.frame, t, names=names) for t in design.terms}
        for o, indicator in enumerate(group.indicators):
            for j, term in enumerate(design.terms):
                ident = idents[term]
                if not ident.identified(min_partnerships):
                    beta = float(results["crv1"].estimate[o, j])
                    row = _unidentified_row(indicator, term, design, ident, beta, min_partnerships)
                    rows.append(row)
                    continue
                for method, res in results.items():
                    if res.draws is not None:  # keep one column per row, not B x J x k
                        draws[(indicator, term, method)] = res.draws[:, o, j].copy()
                    row = _table_row(indicator, term, design, res, o, j, labels[method])
                    rows.append({**row, "n_identifying_areas": ident.n_identifying_areas})
    rows.extend(_failed_rows(failed))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS[: TABLE_COLUMNS.index("inference") + 1])
    if scope is not None:
        defaults = {"model": "twfe", "n_obs": 0, "n_areas": 0, "n_identifying_areas": 0}
        table = complete_rows(table, scope, _NUMBER_COLUMNS, "inference", defaults)
        kept = set(zip(table["indicator_id"], table["term"], table["inference"], strict=True))
        draws = {k: v for k, v in draws.items() if (k[0], k[1], labels[k[2]]) in kept}
    table = table.astype(
        {
            **dict.fromkeys(_NUMBER_COLUMNS, float),
            "n_obs": int,
            "n_areas": int,
            "n_identifying_areas": int,
        }
    )
    return table.reset_index(drop=True), draws


def combine_few_cluster(
    parts: Sequence[tuple[pd.DataFrame, Draws]],
    indicator_ids: Sequence[str],
    reps: int,
    families: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Join the rows of several :func:`few_cluster_rows` calls and adjust across indicators.

    Two multiplicity adjustments across indicators are added, each within one family = one
    term, one method and one family of outcomes (``family``: the analysis plan's primary or
    secondary outcomes, :meth:`integration_models.plan.analysis_plan.AnalysisPlan.families_of`).
    The integration terms are kept apart, as the change-over-time family is in the coefficient
    table, and the primary outcomes apart from the secondary ones, so that the plan's
    adjustment of the primary outcomes is not diluted by outcomes it did not pre-specify:

    - ``p_adjusted``: Benjamini-Hochberg (:func:`~.multiplicity.adjust_pvalues`); ``adjustment``
      names the family and its size; NaN p-values stay NaN and do not count;
    - ``p_romano_wolf``: the Romano-Wolf step-down (:func:`~.multiplicity.romano_wolf`) for the
      ``wcr`` and ``ri`` rows, from the joint draws: every indicator's bootstrap uses the same
      weight per area and draw, and its permutation test the same permutation per draw, so the
      ``B x m`` matrix of resampled t's is a joint null of the ``m`` indicators even where their
      designs differ. A draw that is not finite for one indicator (collinear permuted dummies)
      counts as not exceeding in the joint maximum; the unadjusted p drops it instead, so the
      adjusted value is floored at the row's ``p_value``. NaN for ``crv1`` and ``cr2`` rows.

    Parameters
    ----------
    parts
        Rows and draws, e.g. one indicator's each (same ``reps`` and seed in all).
    indicator_ids
        The order of the rows.
    reps
        The draws each part was computed with (names the methods).
    families
        Indicator -> its family of outcomes (``primary`` or ``secondary``). None: every
        indicator in one family, ``primary``, adjusted over all indicators (as before the
        analysis plan; the ``adjustment`` text then names no family). An indicator missing
        from a given mapping is ``secondary``.

    Returns
    -------
    pandas.DataFrame
        Columns ``TABLE_COLUMNS``: one row per indicator, integration term and method.
    """
    labels = {k: v.format(reps=reps) for k, v in INFERENCE_LABELS.items()}
    table = pd.concat([rows for rows, _ in parts], ignore_index=True)
    table["family"] = (
        "primary"
        if families is None
        else table["indicator_id"].map(dict(families)).fillna("secondary")
    )
    method_of = {label: method for method, label in labels.items()}
    draws = {key: value for _, part in parts for key, value in part.items()}
    joint: dict[tuple[str, str, str], list[tuple[int, np.ndarray]]] = {}
    for i, (indicator, term, label, family) in enumerate(
        zip(table["indicator_id"], table["term"], table["inference"], table["family"], strict=True)
    ):
        key = (indicator, term, method_of.get(label, ""))
        if key in draws:
            joint.setdefault((key[2], term, family), []).append((i, draws[key]))
    table = _add_multiplicity(table, joint, named=families is not None)
    order = {ind: i for i, ind in enumerate(indicator_ids)}
    method_order = {v: i for i, v in enumerate(labels.values())}
    table = table.assign(
        _i=table["indicator_id"].map(order),
        _m=table["inference"].map(method_order).fillna(len(method_order)),
    )
    return (
        table.sort_values(["_i", "term", "_m"], kind="stable")
        .drop(columns=["_i", "_m"])
        .reset_index(drop=True)[TABLE_COLUMNS]
    )


def _table_row(
    indicator: str, term: str, design: TwfeDesign, res: InferenceResult, o: int, j: int, label: str
) -> dict[str, object]:
    """One tidy row of :func:`few_cluster_table`."""
    return {
        "indicator_id": indicator,
        "model": "twfe",
        "term": term,
        **{name: float(getattr(res, name)[o, j]) for name in _NUMBER_COLUMNS},
        "n_obs": design.n_obs,
        "n_areas": design.n_clusters,
        "inference": label,
    }


def _unidentified_row(
    indicator: str,
    term: str,
    design: TwfeDesign,
    ident: Identification,
    estimate: float,
    min_partnerships: int,
) -> dict[str, object]:
    """Return the one row of a term identified by fewer than ``min_partnerships`` partnerships.

    The estimate is kept (the same under every test), but no standard error, test or
    interval: with one identifying cluster no cluster-robust test is valid (methods.md
    section 4).
    """
    return {
        "indicator_id": indicator,
        "model": "twfe",
        "term": term,
        **dict.fromkeys(_NUMBER_COLUMNS, np.nan),
        "estimate": estimate,
        "n_obs": design.n_obs,
        "n_areas": design.n_clusters,
        "n_identifying_areas": ident.n_identifying_areas,
        "inference": NOT_ESTIMATED + ident.reason(min_partnerships),
    }


def _failed_rows(failed: Mapping[str, str]) -> list[dict[str, object]]:
    """Rows saying why an indicator was not estimated (both integration terms)."""
    return [
        {
            "indicator_id": indicator,
            "model": "twfe",
            "term": term,
            **dict.fromkeys(_NUMBER_COLUMNS, np.nan),
            "n_obs": 0,
            "n_areas": 0,
            "n_identifying_areas": 0,
            "inference": f"not estimated: {reason}",
        }
        for indicator, reason in failed.items()
        for term in TERMS_OF_INTEREST
    ]


def _add_multiplicity(
    table: pd.DataFrame,
    joint: Mapping[tuple[str, str, str], list[tuple[int, np.ndarray]]],
    *,
    named: bool = True,
) -> pd.DataFrame:
    """Add ``p_adjusted``/``adjustment`` (BH) and ``p_romano_wolf`` (see combine_few_cluster).

    Each adjustment is within one method, term and ``family`` (``joint`` is keyed so too);
    ``named`` says whether ``adjustment`` names the family.
    """
    out = table.assign(p_adjusted=np.nan, adjustment="", p_romano_wolf=np.nan)
    estimated = ~out["inference"].str.startswith("not estimated")
    groups = out[estimated].groupby(["inference", "term", "family"], sort=True)
    for (label, term, name), family in groups:
        finite = family.index[np.isfinite(family["p_value"].to_numpy())]
        if finite.empty:
            continue
        out.loc[finite, "p_adjusted"] = adjust_pvalues(out.loc[finite, "p_value"].to_numpy())
        within = f", {name} outcomes" if named else ""
        out.loc[finite, "adjustment"] = (
            f"Benjamini-Hochberg over {len(finite)} indicators ({label}, {term}{within})"
        )
    for columns in joint.values():
        index = np.array([i for i, _ in columns])
        t_obs = out.loc[index, "statistic"].to_numpy()
        keep = np.isfinite(t_obs)
        if not keep.any():
            continue
        index = index[keep]
        draws = np.column_stack([d for (_, d), k in zip(columns, keep, strict=True) if k])
        adjusted = romano_wolf(t_obs[keep], draws)
        out.loc[index, "p_romano_wolf"] = np.maximum(adjusted, out.loc[index, "p_value"])
    return out
