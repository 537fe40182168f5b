"""Null rejection rates of the few-cluster tests, by simulation on the real design.

With about ten integrated partnerships out of 31, which test keeps its level is an empirical
question about *this* design (methods.md section 4): CRV1 over-rejects when few clusters are
treated, and more so when the treated areas are noisier than the rest; the restricted wild
cluster bootstrap (WCR) and randomisation inference (RI) usually do better, but neither is
exact with few heterogeneous treated areas (with three noisier ones, tests/test_size.py finds
RI over-rejecting too). This module measures it and picks the test the headline should use.

The simulation, exactly:

1. **Design.** The indicators are grouped by TWFE design (same area-years, terms and
   covariates: :func:`integration_models.inference.table.group_designs`) and the design shared by
   the most indicators is used (ties: more rows, then the earlier indicator). One design keeps
   the run to seconds; it is the one most headline estimates are computed on.
2. **Null outcomes.** For each indicator ``i`` sharing that design, the TWFE model is fitted:
   ``y_i = f_i + D b_i + e_i`` with ``f_i`` the fitted area effects, year effects and
   covariates, ``D`` the integration dummies and ``e_i`` the residuals. Simulation ``s`` uses
   indicator ``i = s mod n`` and sets the integration effects to zero:

       y*_s = f_i + v_{g,s} e_{i,g}

   with one Webb weight ``v_{g,s}`` (``+-sqrt(1/2), +-1, +-sqrt(3/2)``, mean 0, variance 1) per
   *area* and simulation multiplying the area's whole residual series. Why this resampling:
   it keeps each area's residual variance (in expectation) and its serial correlation (the
   series is only rescaled), so integrated areas that are noisier than the rest stay noisier,
   which is what makes CRV1 over-reject; areas are independent with mean-zero errors, so the
   null ``b = 0`` holds by construction. Webb rather than Rademacher signs because with few
   integrated areas the test statistics depend mostly on those areas' weights: two-point
   signs give only ``2^n`` distinct patterns and visibly lumpy rates, six points ``6^n``. The
   same weights drive the power simulation (:mod:`integration_models.inference.power`). Permuting
   residual series *between* areas would also keep serial correlation but would move the
   integrated areas' noise onto other areas (and does not work with unbalanced rows).
   Residuals of the full model are used, so a real integration effect does not leak into
   the simulated noise. With one indicator on the design the rates are conditional on its
   residual series; cycling over several indicators averages over their realisations.
3. **Tests.** The ``sims`` null outcomes are the columns of one outcome matrix, and each test
   of :mod:`integration_models.inference` runs on all of them at once: CRV1 with t(G-1),
   CR2 with Bell-McCaffrey df, WCR (Webb weights, ``reps`` draws) and RI (``reps``
   permutations of partnership histories). Every test uses the same simulated outcomes.
4. **Rates.** A simulation rejects at level ``alpha`` when ``p < alpha``, with the p-values
   the inference table reports (WCR and RI: ``(hits + 1) / (reps + 1)``,
   :func:`integration_models.inference.cluster.resampling_p_value`); the rate is the
   share of simulations with a finite p-value that reject; its Monte Carlo SE is
   ``sqrt(rate (1 - rate) / sims)``. A test is *honest* for a term when its rate is at most
   ``alpha + 1.96 sqrt(alpha (1 - alpha) / sims)``: not detectably above the nominal level.

The seed is split with ``numpy.random.SeedSequence`` into the residual weights, the bootstrap
weights and the permutations, so the table is deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from integration_models.inference.cluster import (
    InferenceResult,
    cr2_bell_mccaffrey,
    crv1,
    webb_weights,
    wild_cluster_bootstrap,
)
from integration_models.inference.design import TwfeDesign
from integration_models.inference.permutation import (
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.scope import SCOPE_TERMS, Scope, analysed
from integration_models.inference.table import (
    INFERENCE_LABELS,
    DesignGroup,
    group_designs,
    period_key_of,
)
from integration_models.models.design import DesignError

METHODS = ("crv1", "cr2", "wcr", "ri")
# tie-break of honest_method: the resampling tests methods.md recommends first
PREFERENCE = ("wcr", "ri", "cr2", "crv1")
FALLBACK_METHOD = "ri"
SIZE_COLUMNS = [
    "method",
    "label",
    "term",
    "sims",
    "reps",
    "rejections",
    "rate",
    "mc_se",
    "honest",
    "n_treated_areas",
    "design_indicators",
    "n_obs",
    "n_areas",
    "note",
]


def honest_bound(alpha: float, sims: int | np.ndarray) -> float | np.ndarray:
    """Largest rejection rate not detectably above ``alpha``: ``alpha + 1.96 * MC SE``."""
    return alpha + 1.96 * np.sqrt(alpha * (1 - alpha) / np.asarray(sims, dtype=float))


def choose_design(
    panel: pd.DataFrame, indicator_ids: Sequence[str], scale_of: Mapping[str, str]
) -> DesignGroup:
    """Pick the design shared by the most indicators (ties: more rows, then earlier one).

    Raises
    ------
    DesignError
        If no indicator can be modelled.
    """
    groups, failed = group_designs(panel, indicator_ids, scale_of)
    if not groups:
        reasons = "; ".join(f"{k}: {v}" for k, v in failed.items()) or (
            "no indicator has an estimated twfe integration term"
        )
        raise DesignError(f"no indicator has a TWFE design to simulate on ({reasons})")
    best = max(
        enumerate(groups),
        key=lambda item: (len(item[1].indicators), item[1].design.n_obs, -item[0]),
    )
    return best[1]


def null_outcomes(
    design: TwfeDesign, y: np.ndarray, sims: int, rng: np.random.Generator
) -> np.ndarray:
    """``N x sims`` outcomes with the integration effects set to zero (module docstring, 2).

    Parameters
    ----------
    design
        The TWFE design.
    y
        ``N x n`` observed outcomes sharing the design; simulation ``s`` uses column
        ``s mod n``.
    sims
        Number of simulated outcomes.
    rng
        Source of the per-area Webb weights.
    """
    y = np.asarray(y, dtype=float).reshape(design.n_obs, -1)
    resid = design.residualise_full(y)
    fitted_null = y - resid - design.treat @ crv1(design, y).estimate.T  # b set to 0
    source = np.arange(sims) % y.shape[1]
    weights = webb_weights(design.n_clusters, sims, rng)
    return fitted_null[:, source] + weights[design.cluster] * resid[:, source]


def _run_methods(
    panel: pd.DataFrame, design: TwfeDesign, y_null: np.ndarray, reps: int, seed: int
) -> dict[str, InferenceResult]:
    """All four tests on the simulated outcomes (columns of ``y_null``), at once per test."""
    wcr_seed, ri_seed = np.random.SeedSequence(seed).spawn(3)[1:]
    histories = partnership_histories(panel, period_key_of(design))
    return {
        "crv1": crv1(design, y_null),
        "cr2": cr2_bell_mccaffrey(design, y_null),
        "wcr": wild_cluster_bootstrap(
            design, y_null, weights=webb_weights(design.n_clusters, reps, wcr_seed)
        ),
        "ri": randomization_inference(
            design, y_null, histories, permutations=draw_permutations(histories, reps, ri_seed)
        ),
    }


def null_rejection_table(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    *,
    sims: int = 1000,
    reps: int = 999,
    seed: int = 20240601,
    alpha: float = 0.05,
    scope: Scope | None = None,
) -> pd.DataFrame:
    """Rejection rate of each few-cluster test under a simulated null on the real design.

    See the module docstring for the simulation. Runs in a few seconds for ``sims=1000`` and
    ``reps=999`` (all simulated outcomes go through each test as one matrix).

    Parameters
    ----------
    panel
        The long panel.
    indicator_ids
        Indicators whose designs are candidates; the design shared by the most is used.
    scale_of
        Indicator -> outcome scale (``identity`` or ``log``); missing means ``identity``.
    sims
        Number of simulated null outcomes.
    reps
        Draws of the bootstrap and of the permutation test in each simulation.
    seed
        Seed of the whole simulation.
    alpha
        Nominal level.
    scope
        The terms the ``twfe`` fits estimated (:mod:`integration_models.inference.scope`): only
        those indicators' designs are candidates.

    Returns
    -------
    pandas.DataFrame
        ``SIZE_COLUMNS``: one row per method (``crv1``, ``cr2``, ``wcr``, ``ri``) and term;
        a term the chosen design does not identify (or every term, when no indicator has a
        design) has rows with no rate and the reason in ``note``;
        ``label`` is the method's inference label, ``sims`` the simulations with a finite
        p-value, ``n_treated_areas`` the areas ever coded to the term, ``design_indicators``
        the indicators sharing the design (their residuals drive the simulation).

    Raises
    ------
    ValueError
        If ``sims`` or ``reps`` is below 1 or ``alpha`` is not in (0, 1).
    """
    if sims < 1 or reps < 1:
        raise ValueError(f"sims and reps must be at least 1 (got sims={sims}, reps={reps})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (got {alpha})")
    try:
        group = choose_design(panel, analysed(indicator_ids, scope), scale_of)
    except DesignError as err:
        return _unidentified_rows(SCOPE_TERMS, reps, f"not estimated: {err}")
    design = group.design
    dgp_seed = np.random.SeedSequence(seed).spawn(3)[0]
    y_null = null_outcomes(design, group.y, sims, np.random.default_rng(dgp_seed))
    results = _run_methods(panel, design, y_null, reps, seed)
    treated = design.treated_areas
    rows = []
    for method in METHODS:
        for j, term in enumerate(design.terms):
            p = results[method].p_value[:, j]
            valid = np.isfinite(p)
            n = int(valid.sum())
            rejections = int((p[valid] < alpha).sum())
            rate = rejections / n if n else np.nan
            rows.append(
                {
                    "method": method,
                    "label": INFERENCE_LABELS[method].format(reps=reps),
                    "term": term,
                    "sims": n,
                    "reps": reps if method in ("wcr", "ri") else 0,
                    "rejections": rejections,
                    "rate": rate,
                    "mc_se": np.sqrt(rate * (1 - rate) / n) if n else np.nan,
                    "honest": bool(n and rate <= honest_bound(alpha, n)),
                    "n_treated_areas": int(treated[j]),
                    "design_indicators": ";".join(group.indicators),
                    "n_obs": design.n_obs,
                    "n_areas": design.n_clusters,
                    "note": "",
                }
            )
    table = pd.DataFrame(rows, columns=SIZE_COLUMNS)
    missing = [term for term in SCOPE_TERMS if term not in design.terms]
    if not missing:
        return table
    note = "not estimated: the simulated design does not identify this term"
    return pd.concat([table, _unidentified_rows(missing, reps, note)], ignore_index=True)


def _unidentified_rows(terms: Sequence[str], reps: int, note: str) -> pd.DataFrame:
    """Rows of terms with no simulated rejection rate, saying why."""
    rows = [
        {
            "method": method,
            "label": INFERENCE_LABELS[method].format(reps=reps),
            "term": term,
            "sims": 0,
            "reps": reps if method in ("wcr", "ri") else 0,
            "rejections": 0,
            "rate": np.nan,
            "mc_se": np.nan,
            "honest": False,
            "n_treated_areas": 0,
            "design_indicators": "",
            "n_obs": 0,
            "n_areas": 0,
            "note": note,
        }
        for method in METHODS
        for term in terms
    ]
    return pd.DataFrame(rows, columns=SIZE_COLUMNS)


def honest_method(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """Pick the test whose p-values the headline should use, by a fixed rule.

    Rule: a method qualifies when it is honest (rate at most :func:`honest_bound`, recomputed
    here from ``rate`` and ``sims`` at this ``alpha``) for *every* simulated term in ``table``
    (rows with ``sims`` 0, terms the design does not identify, do not count); among the
    qualifying methods the one with the highest mean rejection rate over terms wins (the least
    conservative honest test, so the most powerful); ties go to the earlier method in
    ``PREFERENCE`` (``wcr``, ``ri``, ``cr2``, ``crv1``). If no method qualifies (or the table is
    empty), ``ri`` (``FALLBACK_METHOD``), whose level does not rest on large-cluster
    asymptotics.

    Parameters
    ----------
    table
        From :func:`null_rejection_table`.
    alpha
        The nominal level the table was simulated at.

    Returns
    -------
    str
        One of ``crv1``, ``cr2``, ``wcr``, ``ri``.
    """
    if table.empty:
        return FALLBACK_METHOD
    table = table[table["sims"] > 0]  # not terms the simulated design does not identify
    if table.empty:
        return FALLBACK_METHOD
    sims = table["sims"].to_numpy(dtype=float)
    rate = table["rate"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = np.isfinite(rate) & (sims > 0) & (rate <= honest_bound(alpha, sims))
    summary = (
        table.assign(_ok=ok)
        .groupby("method", sort=False)
        .agg(all_ok=("_ok", "all"), mean_rate=("rate", "mean"))
    )
    candidates = summary[summary["all_ok"]]
    if candidates.empty:
        return FALLBACK_METHOD
    rank = {m: i for i, m in enumerate(PREFERENCE)}
    return str(
        min(candidates.index, key=lambda m: (-candidates.loc[m, "mean_rate"], rank.get(m, 99)))
    )
