"""Vectorised few-cluster inference for the integration terms of the two-way fixed effects model.

Only 32 council areas (31 partnerships) and a handful of integrated ones identify the
integration terms, so the CRV1 t-test of :mod:`integration_models.models.twfe` can over-reject
(methods.md section 4). This module adds, for many outcomes and many resampling draws at once:

- :func:`crv1`: the CRV1 standard error of ``twfe`` (``G/(G-1) * (N-1)/(N-K)``, ``K`` counting
  the area and year effects; Student's t with ``G - 1`` df), reproduced exactly;
- :func:`cr2_bell_mccaffrey`: the CR2 (bias-reduced) standard error with Bell-McCaffrey
  (Satterthwaite) degrees of freedom, as R ``clubSandwich::coef_test(vcov = "CR2",
  test = "Satterthwaite")`` computes them on the dummy-variable design;
- :func:`wild_cluster_bootstrap`: the restricted (null imposed) wild cluster bootstrap-t with
  Webb six-point weights (WCR);
- :func:`randomization_inference`: a randomisation-t test that reassigns whole integration
  histories across partnerships;
- :func:`few_cluster_rows`: all four for a list of indicators as tidy rows, with the draws;
  :func:`combine_few_cluster` joins such rows and adjusts them across indicators
  (:func:`few_cluster_table`: both at once);
- :func:`adjust_pvalues` and :func:`romano_wolf`: multiplicity adjustments across indicators;
- :func:`resampling_p_value`: the one rule for a p-value from draws, ``(hits + 1) / (B + 1)``.

How it is fast. By Frisch-Waugh-Lovell, the coefficient of an integration dummy ``d`` in the
regression on area effects, year effects, the covariates ``W`` and the other dummies is
``w'y`` with ``w = M d / (d'M d)``, ``M`` the residual maker of the other columns. The design
(which rows, which covariates) is the same for every outcome observed on the same area-years
and for every draw, so one orthonormal basis of the dummy-and-covariate design (an SVD, so
unbalanced panels and collinear columns are handled) is computed once per design and reused:
outcomes are the columns of a matrix, bootstrap weights and permuted treatments are further
matrix dimensions, and cluster sums are contiguous slices because rows are sorted by area.

Randomisation inference goes one step further (:class:`_PermutationPieces`): a receiving
area's permuted dummies depend only on (area, donor partnership), so the per-area pieces of
the FWL fit and of the CRV1 scores are tabulated once per design for every distinct
(area, donor block) pair, and each permutation is assembled from them by gathers and a few
matrix products, never materialising the ``B x N`` permuted dummies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from integration_models.memory import CHUNK_ELEMENTS
from integration_models.models.base import COEFFICIENT_COLUMNS
from integration_models.models.design import (
    WITHIN_AREA_CONTROLS,
    DesignError,
    ModelData,
    model_data,
)
from integration_models.scope import Scope, analysed, complete_rows

TERMS_OF_INTEREST = ("integration_full", "integration_partial")
_NUMBER_COLUMNS = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")
CONTROLS = WITHIN_AREA_CONTROLS  # the covariates of ``twfe``, defined once in ``design``
# a transition period (straddling a change of category) has its own code, which no term's dummy
# takes: the observed fit leaves those rows out, and a row that falls in a donor's transition
# period under a permutation gets no integration dummy
CATEGORY_CODES = {"none": 0, "partial": 1, "full": 2, "transition": 3}
TERM_CATEGORY = {"integration_full": 2, "integration_partial": 1}
WEBB_WEIGHTS = np.array(
    [-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)], dtype=float
)
INFERENCE_LABELS = {
    "crv1": "CRV1 t(G-1)",
    "cr2": "CR2 Bell-McCaffrey",
    "wcr": "wild cluster bootstrap (WCR, Webb, B={reps})",
    "ri": "randomization inference (partnership labels, B={reps})",
}
TABLE_COLUMNS = [
    *COEFFICIENT_COLUMNS[: COEFFICIENT_COLUMNS.index("inference") + 1],
    "p_adjusted",
    "adjustment",
    "p_romano_wolf",
]
_RANK_TOL = 1e-10
_VARIES_TOL = 1e-10  # a column varies within an area when its range there exceeds this


# --------------------------------------------------------------------------------------------
# The design
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwfeDesign:
    """One TWFE design: rows sorted by area then year, and its reusable projections.

    Attributes
    ----------
    frame
        The model rows (``area_code``, ``year``, regressors), sorted by area and year. Outcome
        matrices passed to the functions of this module are aligned with these rows.
    terms
        The integration terms estimated (columns of ``treat``).
    controls
        The covariates kept (those varying within some area, as in ``twfe``).
    treat
        ``N x k`` integration dummies.
    cluster
        ``N`` integer cluster (area) codes ``0..G-1`` in row order.
    cluster_labels
        The ``G`` area codes.
    bounds
        ``G + 1`` row offsets: cluster ``g`` is rows ``bounds[g]:bounds[g + 1]``.
    basis_w
        Orthonormal basis of ``W`` = area dummies, year dummies and controls.
    basis_full
        Orthonormal basis of ``W`` plus the integration dummies.
    """

    frame: pd.DataFrame
    terms: tuple[str, ...]
    controls: tuple[str, ...]
    treat: np.ndarray
    cluster: np.ndarray
    cluster_labels: np.ndarray
    bounds: np.ndarray
    basis_w: np.ndarray
    basis_full: np.ndarray

    @property
    def n_obs(self) -> int:
        """Number of rows ``N``."""
        return len(self.frame)

    @property
    def n_clusters(self) -> int:
        """Number of clusters (areas) ``G``."""
        return len(self.cluster_labels)

    @property
    def n_params(self) -> int:
        """``K``: rank of the full design, fixed effects included (the CRV1 ``N - K``)."""
        return self.basis_full.shape[1]

    @property
    def crv1_factor(self) -> float:
        """The CRV1 small-sample factor ``G/(G-1) * (N-1)/(N-K)``."""
        g, n = self.n_clusters, self.n_obs
        return g / (g - 1) * (n - 1) / (n - self.n_params)

    def residualise_w(self, values: np.ndarray) -> np.ndarray:
        """Residuals of ``values`` (``N x ...``) on the fixed effects and controls."""
        flat = values.reshape(values.shape[0], -1)
        out = flat - self.basis_w @ (self.basis_w.T @ flat)
        return out.reshape(values.shape)

    def residualise_full(self, values: np.ndarray) -> np.ndarray:
        """Residuals of ``values`` (``N x ...``) on the full design."""
        flat = values.reshape(values.shape[0], -1)
        out = flat - self.basis_full @ (self.basis_full.T @ flat)
        return out.reshape(values.shape)

    @property
    def treated_areas(self) -> np.ndarray:
        """Per term, the number of areas with at least one row coded with it."""
        return (self.cluster_sum(self.treat) > 0).sum(axis=0)

    def cluster_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` (``N x ...``) within clusters, giving ``G x ...``."""
        return np.add.reduceat(values, self.bounds[:-1], axis=0)


def _orthonormal_basis(matrix: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the column space of ``matrix`` (SVD, so rank deficiency is safe)."""
    u, s, _ = np.linalg.svd(matrix, full_matrices=False)
    keep = s > _RANK_TOL * max(1.0, s[0] if s.size else 0.0)
    return u[:, keep]


def _extend_basis(basis: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Orthonormal basis of ``[basis, extra]`` given orthonormal ``basis`` (cheap: ``N x m``)."""
    if extra.shape[1] == 0:
        return basis
    resid = extra - basis @ (basis.T @ extra)
    scale = np.sqrt((extra**2).sum(axis=0)).max(initial=1.0)
    q, r = np.linalg.qr(resid)
    keep = np.abs(np.diag(r)) > 1e-9 * scale
    return np.column_stack([basis, q[:, keep]])


def _varies_within(values: np.ndarray, starts: np.ndarray) -> bool:
    """Whether ``values`` (rows sorted by cluster, clusters starting at ``starts``) vary."""
    spread = np.maximum.reduceat(values, starts) - np.minimum.reduceat(values, starts)
    return bool((spread > _VARIES_TOL).any())


def build_design(
    frame: pd.DataFrame,
    terms: Sequence[str] = TERMS_OF_INTEREST,
    controls: Sequence[str] = CONTROLS,
) -> TwfeDesign:
    """Build the TWFE design of ``twfe`` from model rows.

    Parameters
    ----------
    frame
        Rows with ``area_code``, ``year`` and the ``terms`` and ``controls`` columns (e.g.
        :attr:`ModelData.frame`). Any row order; the design sorts by area and year.
    terms
        Integration dummies to estimate. Terms that never take the value 1 are dropped, as
        ``twfe`` drops them (not estimable).
    controls
        Covariates; those constant within every area are absorbed by the area effects and
        dropped, as in ``twfe``.

    Returns
    -------
    TwfeDesign
        The design with the orthonormal bases computed once (:func:`design_from_arrays`);
        its ``frame`` is ``frame`` sorted, with all its columns.
    """
    frame = frame.sort_values(["area_code", "year"], kind="stable").reset_index(drop=True)
    design = design_from_arrays(
        frame["area_code"].astype(str).to_numpy(),
        frame["year"].to_numpy(dtype="int64"),
        {t: frame[t].to_numpy(dtype=float) for t in terms},
        {c: frame[c].to_numpy(dtype=float) for c in controls},
    )
    return dataclasses.replace(design, frame=frame)


def design_from_arrays(
    area: np.ndarray,
    year: np.ndarray,
    treat: Mapping[str, np.ndarray],
    controls: Mapping[str, np.ndarray],
) -> TwfeDesign:
    """Build the TWFE design from numpy arrays of rows sorted by area then year.

    A term is kept if it takes the value 1 and varies within some area, a control if it
    varies within some area (as ``twfe`` decides). The area effects are projected out in
    closed form (block indicators scaled to unit length, and within-area demeaning of the
    year dummies and controls), which leaves one small SVD instead of one of the full dummy
    matrix and no pandas grouping: the sensitivity table builds about 900 designs.

    Parameters
    ----------
    area, year
        Area codes and years of the rows, sorted by area then year.
    treat
        Integration dummies by term, aligned with the rows.
    controls
        Covariates by name, aligned with the rows.

    Returns
    -------
    TwfeDesign
        Ready for :func:`cr2_bell_mccaffrey` and the other tests of this module.

    Raises
    ------
    DesignError
        If no integration term varies within areas, or a term is collinear with the fixed
        effects and covariates.
    """
    labels, codes = np.unique(area, return_inverse=True)
    if np.any(np.diff(codes) < 0):
        raise ValueError("rows must be sorted by area")
    n, g = len(codes), len(labels)
    bounds = np.searchsorted(codes, np.arange(g + 1))
    starts = bounds[:-1]
    kept_terms = tuple(t for t, v in treat.items() if v.sum() > 0 and _varies_within(v, starts))
    if not kept_terms:
        raise DesignError("no integration term varies within areas in these rows")
    kept_controls = tuple(c for c, v in controls.items() if _varies_within(v, starts))
    counts = np.diff(bounds).astype(float)
    area_basis = np.zeros((n, g))
    area_basis[np.arange(n), codes] = 1.0 / np.sqrt(counts[codes])
    years, year_codes = np.unique(year, return_inverse=True)
    year_dummies = np.zeros((n, len(years)))
    year_dummies[np.arange(n), year_codes] = 1.0
    rest = np.column_stack([year_dummies[:, 1:], *(controls[c] for c in kept_controls)])
    rest = rest - (np.add.reduceat(rest, starts, axis=0) / counts[:, None])[codes]
    basis_w = np.column_stack([area_basis, _orthonormal_basis(rest)])
    treat_matrix = np.column_stack([treat[t] for t in kept_terms])
    resid = treat_matrix - basis_w @ (basis_w.T @ treat_matrix)
    q, r = np.linalg.qr(resid)
    scale = np.sqrt((treat_matrix**2).sum(axis=0)).max(initial=1.0)
    if (np.abs(np.diag(r)) <= 1e-9 * scale).any():
        raise DesignError("an integration term is collinear with the fixed effects and covariates")
    frame = pd.DataFrame(
        {
            "area_code": area,
            "year": year,
            **{t: treat[t] for t in kept_terms},
            **{c: controls[c] for c in kept_controls},
        }
    )
    return TwfeDesign(
        frame=frame,
        terms=kept_terms,
        controls=kept_controls,
        treat=treat_matrix,
        cluster=codes,
        cluster_labels=labels,
        bounds=bounds,
        basis_w=basis_w,
        basis_full=np.column_stack([basis_w, q]),
    )


def design_from_model_data(data: ModelData) -> tuple[TwfeDesign, np.ndarray]:
    """Design and outcome vector (aligned with the design's sorted rows) from ``model_data``.

    The controls are ``twfe``'s: :data:`CONTROLS` except any the design could not form
    (``data.not_estimable``, e.g. a missing deprivation baseline), which ``twfe`` leaves out too.
    """
    controls = [c for c in CONTROLS if c not in data.not_estimable]
    design = build_design(data.frame, controls=controls)
    order = data.frame.sort_values(["area_code", "year"], kind="stable").index.to_numpy()
    return design, data.frame["y"].to_numpy(dtype=float)[order]


def _as_matrix(y: np.ndarray, design: TwfeDesign) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[0] != design.n_obs:
        raise ValueError(f"outcome has {y.shape[0]} rows, the design {design.n_obs}")
    return y


def _influence(design: TwfeDesign) -> np.ndarray:
    """``N x k`` FWL weights: column ``j`` gives coefficient ``j`` as ``w_j' y``."""
    tilde = design.residualise_w(design.treat)
    return tilde @ np.linalg.inv(tilde.T @ tilde)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InferenceResult:
    """Estimates and inference for ``J`` outcomes and ``k`` terms (arrays ``J x k``).

    ``draws`` holds the resampled t-statistics (``B x J x k``) for the resampling methods, the
    joint matrix that :func:`romano_wolf` needs; ``None`` otherwise. ``df`` is the t degrees of
    freedom where the method uses a t reference (NaN otherwise).
    """

    terms: tuple[str, ...]
    estimate: np.ndarray
    std_error: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    conf_low: np.ndarray
    conf_high: np.ndarray
    df: np.ndarray
    draws: np.ndarray | None = None


def _t_result(terms, estimate, se, df, alpha) -> InferenceResult:
    df = np.broadcast_to(np.asarray(df, dtype=float), estimate.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = np.where(se > 0, estimate / se, np.nan)
    crit = stats.t.ppf(1 - alpha / 2, df)
    return InferenceResult(
        terms=terms,
        estimate=estimate,
        std_error=se,
        statistic=statistic,
        p_value=2 * stats.t.sf(np.abs(statistic), df),
        conf_low=estimate - crit * se,
        conf_high=estimate + crit * se,
        df=np.array(df),
    )


# --------------------------------------------------------------------------------------------
# CRV1 and CR2
# --------------------------------------------------------------------------------------------


def crv1(design: TwfeDesign, y: np.ndarray, *, alpha: float = 0.05) -> InferenceResult:
    """CRV1 cluster-robust inference, identical to :func:`integration_models.models.twfe`.

    ``V = c * sum_g (w_g' e_g)^2`` with the FWL weights ``w`` and full-model residuals ``e``,
    ``c = G/(G-1) * (N-1)/(N-K)`` with ``K`` counting the area and year effects (linearmodels
    ``debiased=True, group_debias=True``); t with ``G - 1`` df because the clusters, not the
    rows, limit the information.

    Parameters
    ----------
    design
        From :func:`build_design`.
    y
        ``N`` or ``N x J`` outcomes aligned with ``design.frame``.
    alpha
        Level of the two-sided intervals.

    Returns
    -------
    InferenceResult
        Arrays ``J x k``.
    """
    y = _as_matrix(y, design)
    w = _influence(design)
    estimate = (w.T @ y).T
    resid = design.residualise_full(y)
    scores = design.cluster_sum(w[:, :, None] * resid[:, None, :])  # G x k x J
    se = np.sqrt(design.crv1_factor * (scores**2).sum(axis=0)).T
    return _t_result(design.terms, estimate, se, design.n_clusters - 1, alpha)


def _inverse_sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric (Moore-Penrose) inverse square root of a positive semi-definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    tol = _RANK_TOL * max(1.0, values.max(initial=0.0))
    inv = np.where(values > tol, 1.0 / np.sqrt(np.clip(values, tol, None)), 0.0)
    return (vectors * inv) @ vectors.T


def cr2_bell_mccaffrey(
    design: TwfeDesign, y: np.ndarray, *, alpha: float = 0.05
) -> InferenceResult:
    """CR2 standard errors with Bell-McCaffrey (Satterthwaite) degrees of freedom.

    On the full dummy-variable design ``X`` (area and year dummies, covariates, integration
    dummies) with hat matrix ``H``, each cluster's residuals are adjusted by
    ``A_g = (I - H_gg)^(-1/2)`` (Moore-Penrose: with area effects ``I - H_gg`` is singular
    along the cluster's constant, where residuals and weights are zero anyway), so
    ``V = sum_g (w_g' A_g e_g)^2`` is unbiased under homoskedastic independent errors; no
    further small-sample factor. The df of term ``j`` are ``(tr G'G)^2 / ||G'G||_F^2`` with
    ``G = [(I - H)_{.,g} A_g w_g]_g`` (Bell and McCaffrey 2002; Pustejovsky and Tipton 2018
    with working model ``I``), which is what ``clubSandwich::coef_test(lm, vcov = "CR2",
    test = "Satterthwaite")`` reports. The df depend only on the design, so every outcome
    shares them.

    Parameters
    ----------
    design
        From :func:`build_design`.
    y
        ``N`` or ``N x J`` outcomes aligned with ``design.frame``.
    alpha
        Level of the two-sided intervals (t with the Bell-McCaffrey df).

    Returns
    -------
    InferenceResult
        Arrays ``J x k``; ``df`` per term.
    """
    y = _as_matrix(y, design)
    w = _influence(design)
    estimate = (w.T @ y).T
    resid = design.residualise_full(y)
    q = design.basis_full
    k = len(design.terms)
    g_count = design.n_clusters
    scores = np.empty((g_count, k, y.shape[1]))
    u = np.zeros((design.n_obs, g_count, k))
    for g in range(g_count):
        rows = slice(design.bounds[g], design.bounds[g + 1])
        qg = q[rows]
        adjust = _inverse_sqrt_psd(np.eye(qg.shape[0]) - qg @ qg.T)
        aw = adjust @ w[rows]  # n_g x k  (A_g symmetric)
        scores[g] = aw.T @ resid[rows]
        u[rows, g, :] = aw
    se = np.sqrt((scores**2).sum(axis=0)).T
    df = np.empty(k)
    for j in range(k):
        uj = u[:, :, j]
        proj = q.T @ uj
        gram = uj.T @ uj - proj.T @ proj
        df[j] = np.trace(gram) ** 2 / (gram**2).sum()
    return _t_result(design.terms, estimate, se, np.broadcast_to(df, estimate.shape), alpha)


# --------------------------------------------------------------------------------------------
# Wild cluster bootstrap
# --------------------------------------------------------------------------------------------


def webb_weights(
    n_clusters: int, reps: int, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """``n_clusters x reps`` Webb six-point weights (+-sqrt(1/2), +-1, +-sqrt(3/2)).

    Webb's weights have mean 0 and variance 1 like Rademacher's but six rather than two support
    points, so with few clusters far more distinct bootstrap samples exist.
    """
    rng = np.random.default_rng(seed)
    return WEBB_WEIGHTS[rng.integers(0, 6, size=(n_clusters, reps))]


def wild_cluster_bootstrap(
    design: TwfeDesign,
    y: np.ndarray,
    *,
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    weights: np.ndarray | None = None,
) -> InferenceResult:
    """Restricted wild cluster bootstrap-t (WCR) with Webb weights, all draws at once.

    For each term ``j`` the null ``b_j = 0`` is imposed: the restricted model (without
    dummy ``j``) gives fitted values ``f`` and residuals ``r``; bootstrap outcomes are
    ``y* = f + v_g r`` with one weight ``v_g`` per area and draw, and ``t*`` is the CRV1 t of
    ``b_j`` refitted on ``y*``. Everything is linear in ``v``: with ``E`` the ``N x G`` matrix
    of ``r`` split by cluster, ``b* = (w_j'E) v`` and the CRV1 scores are ``S M E v``, so each
    outcome and term needs one ``G x G`` matrix and one product with the ``G x B`` weights.
    The p-value is ``(hits + 1) / (B + 1)`` with ``hits`` the draws with ``|t*| >= |t|``
    (symmetric, as ``wildboottest``; see :func:`resampling_p_value`).
    No interval is computed (NaN), as in ``wildboottest``.

    Parameters
    ----------
    design
        From :func:`build_design`.
    y
        ``N`` or ``N x J`` outcomes aligned with ``design.frame``.
    reps
        Number of bootstrap draws ``B`` (ignored when ``weights`` is given).
    seed
        Seed or ``numpy.random.Generator`` for the weights.
    weights
        Optional ``G x B`` weights aligned with ``design.cluster_labels``; pass the same weights
        (indexed by area) to every indicator for a joint bootstrap across indicators.

    Returns
    -------
    InferenceResult
        The CRV1 estimate, SE and t; the bootstrap p-value; ``draws`` = ``B x J x k`` t*.
    """
    y = _as_matrix(y, design)
    if weights is None:
        weights = webb_weights(design.n_clusters, reps, seed)
    if weights.shape[0] != design.n_clusters:
        raise ValueError("weights must have one row per cluster of the design")
    base = crv1(design, y)
    factor = design.crv1_factor
    n_outcomes, k = y.shape[1], len(design.terms)
    draws = np.empty((weights.shape[1], n_outcomes, k))
    for j in range(k):
        beta_maps, score_maps, _ = restricted_bootstrap_maps(design, y, j)
        for o in range(n_outcomes):
            beta = beta_maps[o] @ weights
            se = np.sqrt(factor * ((score_maps[o] @ weights) ** 2).sum(axis=0))
            with np.errstate(divide="ignore", invalid="ignore"):
                draws[:, o, j] = beta / se
    with np.errstate(invalid="ignore"):
        p = _share_exceeding(draws, base.statistic)
    nan = np.full_like(base.estimate, np.nan)
    return InferenceResult(
        terms=design.terms,
        estimate=base.estimate,
        std_error=base.std_error,
        statistic=base.statistic,
        p_value=p,
        conf_low=nan,
        conf_high=nan,
        df=nan.copy(),
        draws=draws,
    )


def restricted_bootstrap_maps(
    design: TwfeDesign, y: np.ndarray, j: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear maps from cluster weights to bootstrap estimates and CRV1 scores of term ``j``.

    With the null ``b_j = 0`` imposed, restricted residuals ``r`` (``N x J``) and
    ``y* = f + v_g r``, the refitted coefficient is ``beta_map @ v`` and the CRV1 cluster
    scores are ``score_map @ v`` (before the factor ``c``), for any ``G x B`` weights ``v``.

    Returns
    -------
    tuple of numpy.ndarray
        ``beta_map`` (``J x G``), ``score_map`` (``J x G x G``) and the restricted residuals
        (``N x J``).
    """
    y = _as_matrix(y, design)
    w = _influence(design)[:, j]
    others = np.delete(design.treat, j, axis=1)
    basis_r = _extend_basis(design.basis_w, others)
    resid_r = y - basis_r @ (basis_r.T @ y)  # N x J
    onehot = np.zeros((design.n_obs, design.n_clusters))
    onehot[np.arange(design.n_obs), design.cluster] = 1.0
    beta_map = np.empty((y.shape[1], design.n_clusters))
    score_map = np.empty((y.shape[1], design.n_clusters, design.n_clusters))
    for o in range(y.shape[1]):
        e = onehot * resid_r[:, o : o + 1]  # N x G: residuals split by cluster
        beta_map[o] = w @ e
        score_map[o] = design.cluster_sum(w[:, None] * design.residualise_full(e))
    return beta_map, score_map, resid_r


def _share_exceeding(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """p-value from the finite draws with ``|t*| >= |t|`` (a relative tolerance keeps ties).

    Draws that are not finite are dropped: ``B`` is the number of finite draws per statistic.
    """
    valid = np.isfinite(draws)
    bound = np.abs(observed)[None] * (1 - 1e-12)
    hits = (np.abs(np.where(valid, draws, 0.0)) >= bound) & valid
    return resampling_p_value(hits.sum(axis=0), valid.sum(axis=0))


def resampling_p_value(hits: np.ndarray, draws: np.ndarray | int) -> np.ndarray:
    """Monte Carlo p-value ``(hits + 1) / (B + 1)``; NaN where there is no valid draw.

    The observed statistic is one draw of the null distribution too, so it counts in both the
    numerator and the denominator (Davison and Hinkley 1997, Phipson and Smyth 2010). With
    exchangeable draws this keeps ``P(p <= alpha) <= alpha`` for any ``B``; the share
    ``hits / B`` does not, and it can be 0, which no finite number of draws supports. The
    smallest attainable value is ``1 / (B + 1)`` (:func:`minimum_p_value`).

    Parameters
    ----------
    hits
        Number of draws at least as extreme as the observed statistic.
    draws
        Number of valid draws ``B`` (same shape as ``hits``, or one number).

    Returns
    -------
    numpy.ndarray
        The p-values, as floats.
    """
    hits = np.asarray(hits, dtype=float)
    draws = np.broadcast_to(np.asarray(draws, dtype=float), hits.shape)
    return np.where(draws > 0, (hits + 1) / (draws + 1), np.nan)


def minimum_p_value(draws: int) -> float:
    """Return ``1 / (draws + 1)``, the smallest p-value of :func:`resampling_p_value`."""
    return 1 / (draws + 1)


# --------------------------------------------------------------------------------------------
# Randomisation inference over partnership histories
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnershipHistories:
    """Each partnership's integration history, the unit that randomisation inference permutes.

    Attributes
    ----------
    partnerships
        ``P`` partnership (HSCP) codes, sorted.
    start_year
        ``P`` ``hscp_start_year`` values.
    years
        The panel's years, ascending and consecutive.
    category
        ``P x len(years)`` category codes (0 none, 1 partial, 2 full).
    area_partnership
        Area code -> index into ``partnerships``.
    """

    partnerships: np.ndarray
    start_year: np.ndarray
    years: np.ndarray
    category: np.ndarray
    area_partnership: dict[str, int]


def partnership_histories(
    panel: pd.DataFrame, period_key: str | None = None
) -> PartnershipHistories:
    """Collect each partnership's category-by-year history from the panel.

    An area-year's exposure is the same for every indicator whose values cover the same kind
    of period (``period_key``: a financial year 2015-16 may be a transition period when the
    calendar year 2016 is not), so the distinct (area, year, integration) rows of the panel's
    rows of that kind are used; ``period_key`` may be None when the panel has one kind only.
    Areas sharing a partnership (Clackmannanshire and Stirling, S37000005) must have identical
    histories and move together.
    Years missing for a partnership are filled from the nearest earlier year (else later).

    Raises
    ------
    ValueError
        If two areas of one partnership disagree, a partnership has several start years, or
        the panel has several kinds of period and ``period_key`` is None.
    """
    if "period_key" in panel.columns:
        if period_key is None:
            kinds = sorted(panel["period_key"].unique())
            if len(kinds) > 1:
                raise ValueError(f"the panel has several kinds of period {kinds}: name one")
        else:
            panel = panel[panel["period_key"] == period_key]
    cells = panel[["area_code", "hscp_code", "hscp_start_year", "year", "integration"]]
    cells = cells.drop_duplicates(["area_code", "year"])
    years = np.arange(int(cells["year"].min()), int(cells["year"].max()) + 1)
    by_partnership = cells.groupby("hscp_code", sort=True)["hscp_start_year"]
    n_starts = by_partnership.nunique()
    if (n_starts != 1).any():
        code = n_starts.index[n_starts != 1][0]
        starts = sorted(cells.loc[cells["hscp_code"] == code, "hscp_start_year"].unique())
        raise ValueError(f"partnership {code} has several start years: {starts}")
    partnerships = n_starts.index.to_numpy()
    start = by_partnership.first().to_numpy(dtype=int)
    codes = cells["integration"].map(CATEGORY_CODES)
    if codes.isna().any():
        raise ValueError(
            f"unknown integration category: {cells['integration'][codes.isna()].iloc[0]}"
        )
    area_codes, area = np.unique(cells["area_code"].to_numpy(dtype=str), return_inverse=True)
    grid = np.full((len(area_codes), len(years)), -1)
    grid[area, cells["year"].to_numpy(dtype=int) - years[0]] = codes.to_numpy(dtype=int)
    filled = _fill_years(grid)
    index = {code: i for i, code in enumerate(partnerships)}
    area_part = np.empty(len(area_codes), dtype=int)
    area_part[area] = cells["hscp_code"].map(index).to_numpy(dtype=int)
    _, lead = np.unique(area_part, return_index=True)  # first area of each partnership
    differs = (filled != filled[lead[area_part]]).any(axis=1)
    if differs.any():
        code = partnerships[area_part[differs].min()]
        raise ValueError(f"areas of partnership {code} have different integration histories")
    area_partnership = {str(a): int(p) for a, p in zip(area_codes, area_part, strict=True)}
    return PartnershipHistories(partnerships, start, years, filled[lead], area_partnership)


def _fill_years(grid: np.ndarray) -> np.ndarray:
    """Fill ``-1`` cells of each row from the nearest earlier valid cell, else the first one."""
    valid = grid >= 0
    position = np.where(valid, np.arange(grid.shape[1]), -1)
    last = np.maximum.accumulate(position, axis=1)
    last = np.where(last < 0, valid.argmax(axis=1)[:, None], last)
    return grid[np.arange(grid.shape[0])[:, None], last]


def draw_permutations(
    histories: PartnershipHistories, reps: int, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """``reps x P`` uniform random permutations: row ``b``, column ``r`` is the donor of ``r``."""
    rng = np.random.default_rng(seed)
    base = np.tile(np.arange(len(histories.partnerships)), (reps, 1))
    return rng.permuted(base, axis=1)


def permuted_treatments(
    design: TwfeDesign, histories: PartnershipHistories, permutations: np.ndarray
) -> np.ndarray:
    """Integration dummies under each permutation: ``B x N x k`` (k = ``design.terms``).

    Receiving partnership ``r`` takes donor ``d``'s history in event time: the category in
    calendar year ``t`` is the donor's category in year ``t - start_r + start_d`` (clamped to
    the panel's years, i.e. the donor's first or last observed category is carried outward).
    """
    receiver = _area_receivers(design, histories)
    dummies = _donor_dummies(design, histories, receiver)  # N x P x k
    rows = np.arange(design.n_obs)[None, :]
    return dummies[rows, permutations[:, receiver[design.cluster]], :]


@dataclass(frozen=True)
class _PermutationPieces:
    """Per-area pieces of the permuted TWFE fit of one design, for any permutation.

    A receiving area's permuted dummy block depends only on (area, donor partnership), so every
    quantity the CRV1 t needs is a sum over areas of pieces tabulated once per distinct
    (area, block) pair ("pair"). Write ``Q_Z`` for an orthonormal basis of the year effects and
    controls after removing area means (so the residual maker of the fixed effects and controls
    is area-demeaning minus ``Q_Z Q_Z'``), ``D_g`` an area's dummy block and ``Dd_g`` the block
    demeaned within the area. A draw's dummies ``D`` residualise to
    ``D~ = Dd - Q_Z S`` with ``S = sum_g Q_Z,g' D_g`` (FWL), so the gram matrix is
    ``sum_g Dd_g' Dd_g - S'S``, the score-side products are ``D~'y~ = sum_g D_g' y~_g`` (``y~``
    is already residualised) and the per-area CRV1 pieces are
    ``D~_g' y~_g = D_g' y~_g - S' F_g`` and
    ``D~_g' D~_g = Dd_g' Dd_g - C_g' S - S' C_g + S' R_g S`` with ``C_g = Q_Z,g' D_g``,
    ``F_g = Q_Z,g' y~_g`` and ``R_g = Q_Z,g' Q_Z,g``.

    Attributes
    ----------
    pair
        ``G x P``: index of the (area, donor) block in the tables; blocks that are all zero
        (a never-integrated donor, say) point to the last row, which is zero.
    receiver
        ``G``: each area's partnership (the receiver of a donor history).
    c_tab, e_tab, a_tab
        ``K + 1`` rows of ``C`` (``m x k``), ``Dd'Dd`` (``k x k``) and ``D'y~`` (``k x J``).
    f_area, r_area
        ``G x m x J`` and ``G x m x m``: ``F_g`` and ``R_g``.
    """

    pair: np.ndarray
    receiver: np.ndarray
    c_tab: np.ndarray
    e_tab: np.ndarray
    a_tab: np.ndarray
    f_area: np.ndarray
    r_area: np.ndarray


def _area_demean(design: TwfeDesign, values: np.ndarray) -> np.ndarray:
    """Subtract each area's mean from ``values`` (``N x ...``)."""
    counts = np.diff(design.bounds).reshape(-1, *([1] * (values.ndim - 1)))
    return values - (design.cluster_sum(values) / counts)[design.cluster]


def _area_receivers(design: TwfeDesign, histories: PartnershipHistories) -> np.ndarray:
    """Partnership index (into ``histories.partnerships``) of each area of the design."""
    missing = [a for a in design.cluster_labels if str(a) not in histories.area_partnership]
    if missing:
        raise ValueError(f"areas of the design have no partnership in the histories: {missing}")
    return np.array([histories.area_partnership[str(a)] for a in design.cluster_labels])


def _donor_dummies(
    design: TwfeDesign, histories: PartnershipHistories, receiver: np.ndarray
) -> np.ndarray:
    """``N x P x k``: each row's dummies if its partnership received donor ``d``'s history."""
    year = design.frame["year"].to_numpy(dtype=int)
    start = histories.start_year
    shifted = (year - start[receiver[design.cluster]])[:, None] + start[None, :]
    col = np.clip(shifted - histories.years[0], 0, len(histories.years) - 1)
    cat = histories.category[np.arange(len(start))[None, :], col]  # N x P
    codes = np.array([TERM_CATEGORY[t] for t in design.terms])
    return (cat[:, :, None] == codes).astype(float)


def _unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an integer matrix: index of each one's first row, and each row's id.

    Ids follow the lexicographic order of the rows (deterministic); a lexsort on the columns is
    much faster than ``np.unique(axis=0)``, which sorts opaque byte strings.
    """
    order = np.lexsort(keys.T[::-1])
    ordered = keys[order]
    starts = np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    ids = np.cumsum(starts) - 1
    inverse = np.empty(len(keys), dtype=np.intp)
    inverse[order] = ids
    first = np.full(int(ids[-1]) + 1, len(keys), dtype=np.intp)
    np.minimum.at(first, ids, order)
    return first, inverse


def _permutation_pieces(
    design: TwfeDesign, histories: PartnershipHistories, y_tilde: np.ndarray
) -> _PermutationPieces:
    """Tabulate the per-(area, donor block) pieces of :class:`_PermutationPieces`."""
    receiver = _area_receivers(design, histories)
    dummies = _donor_dummies(design, histories, receiver)  # N x P x k
    n, n_donors, k = dummies.shape
    n_areas = design.n_clusters
    basis_z = _orthonormal_basis(_area_demean(design, design.basis_w))
    m = basis_z.shape[1]
    # per (area, donor): C = Q_Z,g' D_g and Dd_g' Dd_g, by sums within areas
    c_all = design.cluster_sum(basis_z[:, :, None] * dummies.reshape(n, 1, -1))
    c_all = c_all.reshape(n_areas, m, n_donors, k).transpose(0, 2, 1, 3)  # G x P x m x k
    demeaned = _area_demean(design, dummies)
    e_all = design.cluster_sum(demeaned[:, :, :, None] * demeaned[:, :, None, :])
    # distinct non-zero blocks: one key row per (area, donor), the block padded to the
    # longest area; equal keys (donors with the same re-anchored history) share a table row
    position = np.arange(n) - design.bounds[design.cluster]
    padded = np.zeros((n_areas, position.max() + 1, n_donors, k), dtype=np.int8)
    padded[design.cluster, position] = dummies
    keys = padded.transpose(0, 2, 1, 3).reshape(n_areas * n_donors, -1)
    keys = np.column_stack([np.repeat(np.arange(n_areas), n_donors), keys])
    first, inverse = _unique_rows(keys)
    nonzero = keys[first, 1:].any(axis=1)
    n_pairs = int(nonzero.sum())
    row_of = np.full(len(first), n_pairs)
    row_of[nonzero] = np.arange(n_pairs)
    pair = row_of[inverse].reshape(n_areas, n_donors)
    pair_area, pair_donor = np.divmod(first[nonzero], n_donors)
    # D'y~ per pair: the pair's block on its area's rows (zero elsewhere) times y~
    blocks = dummies[:, pair_donor, :] * (design.cluster[:, None] == pair_area)[:, :, None]
    a_tab = (blocks.reshape(n, -1).T @ y_tilde).reshape(n_pairs, k, -1)

    def with_zero_row(table: np.ndarray) -> np.ndarray:
        return np.concatenate([table, np.zeros((1, *table.shape[1:]))])

    return _PermutationPieces(
        pair=pair,
        receiver=receiver,
        c_tab=with_zero_row(c_all[pair_area, pair_donor]),
        e_tab=with_zero_row(e_all[pair_area, pair_donor]),
        a_tab=with_zero_row(a_tab),
        f_area=design.cluster_sum(basis_z[:, :, None] * y_tilde[:, None, :]),
        r_area=design.cluster_sum(basis_z[:, :, None] * basis_z[:, None, :]),
    )


def _solve_small_gram(gram: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses of ``b`` symmetric PSD ``k x k`` matrices and which are well conditioned.

    A draw is kept when the smallest eigenvalue exceeds ``1e-10`` times both the largest and
    ``scale`` (the draw's ``sum_g Dd_g' Dd_g`` trace: the dummies' within-area variation, so a
    dummy absorbed by the year effects and controls is caught despite rounding in
    ``Dd'Dd - S'S``) and ``1e-12``. Closed forms for ``k <= 2`` (``np.linalg`` on stacks of
    tiny matrices is slow); ``k > 2`` falls back to ``eigvalsh`` and ``inv``.
    """
    k = gram.shape[1]
    if k == 1:
        low = high = gram[:, 0, 0]
    elif k == 2:
        a, c, d = gram[:, 0, 0], gram[:, 0, 1], gram[:, 1, 1]
        half = 0.5 * (a + d)
        high = half + np.sqrt(np.maximum(half**2 - (a * d - c * c), 0.0))
        det = a * d - c * c
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.where(high > 0, det / high, 0.0)
    else:
        values = np.linalg.eigvalsh(gram)
        low, high = values[:, 0], values[:, -1]
    ok = (low > 1e-10 * high) & (low > 1e-10 * scale) & (low > 1e-12)
    safe = np.where(ok[:, None, None], gram, np.eye(k))
    if k == 1:
        inv = 1.0 / safe
    elif k == 2:
        a, c, d = safe[:, 0, 0], safe[:, 0, 1], safe[:, 1, 1]
        det = (a * d - c * c)[:, None, None]
        inv = np.stack([np.stack([d, -c], -1), np.stack([-c, a], -1)], -2) / det
    else:
        inv = np.linalg.inv(safe)
    return inv, ok


def _chunk_size(design: TwfeDesign, pieces: _PermutationPieces) -> int:
    """Draws per chunk so that the largest temporaries stay near ``CHUNK_ELEMENTS`` floats."""
    rows, m, k = pieces.c_tab.shape
    n_out = pieces.a_tab.shape[2]
    per_draw = max(design.n_clusters * k * max(k, n_out), rows * k * k, m * m * k * k)
    return max(1, CHUNK_ELEMENTS // per_draw)


def _drawn_rows(
    design: TwfeDesign, pieces: _PermutationPieces, permutations: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Table row of each area under each permutation (``b x G``) and the draws' sums.

    Returns ``idx``, ``S`` (``b x m x k``), ``sum_g Dd_g'Dd_g`` (``b x k x k``) and
    ``D'y~`` (``b x k x J``); the sums are one product of a ``b x (K + 1)`` indicator matrix
    (each area selects one row) with the stacked tables.
    """
    n_rows, m, k = pieces.c_tab.shape
    b = permutations.shape[0]
    area_offset = np.arange(design.n_clusters) * pieces.pair.shape[1]
    idx = pieces.pair.ravel().take(permutations[:, pieces.receiver] + area_offset)
    onehot = np.zeros((b, n_rows))
    onehot[np.arange(b)[:, None], idx] = 1.0
    tables = (pieces.c_tab, pieces.e_tab, pieces.a_tab)
    sums = onehot @ np.concatenate([t.reshape(n_rows, -1) for t in tables], axis=1)
    s = sums[:, : m * k].reshape(b, m, k)
    e_sum = sums[:, m * k : m * k + k * k].reshape(b, k, k)
    return idx, s, e_sum, sums[:, m * k + k * k :].reshape(b, k, -1)


def _area_grams(
    pieces: _PermutationPieces, idx: np.ndarray, s: np.ndarray
) -> dict[tuple[int, int], np.ndarray]:
    """``H_g = D~_g'D~_g = Dd_g'Dd_g - S'C_g - C_g'S + S'R_g S`` per component (``b x G``).

    ``S'C_p`` is one product for every table row, then gathered at the rows drawn; ``S'R_g S``
    is one product of the areas' ``R_g`` with the outer products of ``S``'s columns (laid out
    ``m*m x b``, draws innermost, which NumPy multiplies fastest).
    """
    n_rows, m, k = pieces.c_tab.shape
    b, n_areas = idx.shape
    s_cols = np.ascontiguousarray(s.transpose(2, 1, 0))  # k x m x b
    sc_all = (
        s.transpose(0, 2, 1).reshape(b * k, m) @ pieces.c_tab.transpose(1, 0, 2).reshape(m, -1)
    ).ravel()
    row_offset = (np.arange(b)[:, None] * (k * n_rows) + idx) * k  # where row idx starts

    def sc(i: int, j: int) -> np.ndarray:  # (S'C_g)_ij
        return sc_all.take(row_offset + (i * n_rows * k + j))

    r_flat = pieces.r_area.reshape(n_areas, m * m)
    h = {}
    for i in range(k):
        for j in range(i, k):
            srs = r_flat @ (s_cols[i][:, None, :] * s_cols[j][None, :, :]).reshape(m * m, b)
            h[i, j] = h[j, i] = pieces.e_tab[:, i, j][idx] - sc(i, j) - sc(j, i) + srs.T
    return h


def _permuted_t(
    design: TwfeDesign, pieces: _PermutationPieces, permutations: np.ndarray
) -> np.ndarray:
    """CRV1 t of every term and outcome under each permutation: ``b x J x k``.

    Assembles each draw from :class:`_PermutationPieces` by gathers and a few matrix products
    (no loop over areas or draws); draws whose dummies are collinear with the design are NaN.
    The ``k x k`` and ``k x J`` algebra is spelt out per component on contiguous ``b x G``
    (``b x G x J``) arrays: ``k <= 2`` here, and NumPy's ``matmul`` or ``einsum`` on stacks of
    tiny matrices is several times slower than these elementwise passes.
    """
    n_areas, (_, m, k) = design.n_clusters, pieces.c_tab.shape
    n_out = pieces.a_tab.shape[2]
    idx, s, e_sum, a_sum = _drawn_rows(design, pieces, permutations)
    b = len(idx)
    gram = e_sum - np.einsum("bai,baj->bij", s, s)
    inv, ok = _solve_small_gram(gram, np.trace(e_sum, axis1=1, axis2=2))
    beta = [sum(inv[:, i, j, None] * a_sum[:, j] for j in range(k)) for i in range(k)]  # b x J
    h = _area_grams(pieces, idx, s)
    sf = s.transpose(0, 2, 1).reshape(b * k, m) @ pieces.f_area.transpose(1, 0, 2).reshape(m, -1)
    sf = sf.reshape(b, k, n_areas, n_out)  # S'F_g
    # u_g = D~_g'e_g = D_g'y~_g - S'F_g - H_g beta   (b x G x J per term)
    u = []
    for i in range(k):
        ui = pieces.a_tab[:, i, :][idx] - sf[:, i]
        for j in range(k):
            ui -= h[i, j][:, :, None] * beta[j][:, None, :]
        u.append(ui)
    t = np.empty((b, n_out, k))
    for i in range(k):
        score = sum(inv[:, i, j, None, None] * u[j] for j in range(k))  # b x G x J
        se = np.sqrt(design.crv1_factor * (score**2).sum(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            t[:, :, i] = beta[i] / se
    t[~ok] = np.nan
    return t


def randomization_inference(
    design: TwfeDesign,
    y: np.ndarray,
    histories: PartnershipHistories,
    *,
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    permutations: np.ndarray | None = None,
) -> InferenceResult:
    """Randomisation-t inference by reassigning integration histories across partnerships.

    The design, exactly:

    1. The unit is the partnership (HSCP), not the area: Clackmannanshire and Stirling share
       S37000005 and always receive the same history. Each partnership ``p`` has a history
       ``h_p(t)`` (none/partial/full by year, :func:`partnership_histories`) and its own
       ``hscp_start_year`` ``s_p``; the history is read in event time ``e = t - s_p``.
    2. A draw is a uniform random permutation ``pi`` of the ``P`` partnerships. Partnership
       ``r`` receives donor ``d = pi(r)``'s history re-anchored at its own start year:
       category in year ``t`` = ``h_d(t - s_r + s_d)``, years beyond the panel taking the
       donor's first/last category. So the multiset of histories (how many partnerships go
       full, partial, or back) is kept, and every partnership keeps its start year.
    3. The integration dummies are rebuilt from the permuted categories, the TWFE model is
       refitted (same rows, area and year effects, covariates) and the CRV1 t of each term
       recomputed - for all draws and outcomes at once, exactly (to rounding) as refitting
       each draw would, but assembled from per-(area, donor) pieces
       (:class:`_PermutationPieces`).
    4. ``p = (hits + 1) / (B + 1)`` with ``hits`` the draws with ``|t_perm| >= |t_obs|``
       (randomisation-t, two-sided; :func:`resampling_p_value`); draws whose permuted
       dummies are collinear with the design - no treated row left, or a dummy absorbed by
       the area effects - are NaN and dropped from ``B`` (see :func:`_solve_small_gram`).

    Integration was not randomised and is spatially clustered, so read this as a
    placebo-assignment test (methods.md section 4). Pass the same ``permutations`` to every
    indicator for a joint null across indicators (:func:`romano_wolf`).

    Parameters
    ----------
    design
        From :func:`build_design`.
    y
        ``N`` or ``N x J`` outcomes aligned with ``design.frame``.
    histories
        From :func:`partnership_histories` on the whole panel.
    reps, seed
        Number of draws and their seed (ignored when ``permutations`` is given).
    permutations
        Optional ``B x P`` donor indices (:func:`draw_permutations`).

    Returns
    -------
    InferenceResult
        CRV1 estimate, SE and t; the randomisation p-value; ``draws`` = ``B x J x k`` t_perm.
    """
    y = _as_matrix(y, design)
    if permutations is None:
        permutations = draw_permutations(histories, reps, seed)
    base = crv1(design, y)
    pieces = _permutation_pieces(design, histories, design.residualise_w(y))
    draws = np.empty((permutations.shape[0], y.shape[1], len(design.terms)))
    step = _chunk_size(design, pieces)
    for start in range(0, permutations.shape[0], step):
        chunk = permutations[start : start + step]
        draws[start : start + len(chunk)] = _permuted_t(design, pieces, chunk)
    nan = np.full_like(base.estimate, np.nan)
    return InferenceResult(
        terms=design.terms,
        estimate=base.estimate,
        std_error=base.std_error,
        statistic=base.statistic,
        p_value=_share_exceeding(draws, base.statistic),
        conf_low=nan,
        conf_high=nan,
        df=nan.copy(),
        draws=draws,
    )


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignGroup:
    """Indicators observed on the same area-years with the same terms and covariates.

    Such indicators share one :class:`TwfeDesign` (projections computed once); ``y`` holds their
    outcomes as columns, in the order of ``indicators``.
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
) -> pd.DataFrame:
    """Few-cluster inference for the TWFE integration terms of several indicators.

    The rows of :func:`few_cluster_rows` with the adjustments of :func:`combine_few_cluster`;
    the workflow computes the rows one indicator at a time and combines them, which gives
    this same table (tested).

    Parameters
    ----------
    panel, indicator_ids, scale_of, reps, seed, alpha, scope, population
        As :func:`few_cluster_rows`.

    Returns
    -------
    pandas.DataFrame
        Columns ``TABLE_COLUMNS``: one row per indicator, integration term and method.
    """
    rows, draws = few_cluster_rows(
        panel, indicator_ids, scale_of, reps=reps, seed=seed, alpha=alpha, scope=scope,
        population=population,
    )  # fmt: skip
    return combine_few_cluster([(rows, draws)], indicator_ids, reps)


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
) -> tuple[pd.DataFrame, Draws]:
    """All four tests of the TWFE integration terms, before any adjustment across indicators.

    Indicators observed on the same area-years share one design (projections computed once);
    the bootstrap weights (per area of ``population``) and the permutations (per partnership)
    are drawn from ``seed`` alone, the same for every indicator, so the draws are joint across
    indicators however they are split into calls, and the rows are deterministic for a seed.

    Parameters
    ----------
    panel
        The long panel (:func:`integration_models.ingest.build_panel`), or one indicator's
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
        The terms the ``twfe`` fits estimated (:mod:`integration_models.scope`): only these
        are tested; every other term of ``indicator_ids`` gets one row saying why. None
        analyses every term the design identifies.
    population
        Every area, year and kind of period with its partnership and exposure
        (:func:`integration_models.panel.area_exposure`): the areas the bootstrap weights are
        drawn for and the histories the permutations reassign. Default: ``panel`` (then an
        indicator's draws depend on which areas the other indicators cover).

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
        for o, indicator in enumerate(group.indicators):
            for j, term in enumerate(design.terms):
                for method, res in results.items():
                    if res.draws is not None:  # keep one column per row, not B x J x k
                        draws[(indicator, term, method)] = res.draws[:, o, j].copy()
                    rows.append(_table_row(indicator, term, design, res, o, j, labels[method]))
    rows.extend(_failed_rows(failed))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS[: TABLE_COLUMNS.index("inference") + 1])
    if scope is not None:
        defaults = {"model": "twfe", "n_obs": 0, "n_areas": 0}
        table = complete_rows(table, scope, _NUMBER_COLUMNS, "inference", defaults)
        kept = set(zip(table["indicator_id"], table["term"], table["inference"], strict=True))
        draws = {k: v for k, v in draws.items() if (k[0], k[1], labels[k[2]]) in kept}
    table = table.astype({**dict.fromkeys(_NUMBER_COLUMNS, float), "n_obs": int, "n_areas": int})
    return table.reset_index(drop=True), draws


def combine_few_cluster(
    parts: Sequence[tuple[pd.DataFrame, Draws]], indicator_ids: Sequence[str], reps: int
) -> pd.DataFrame:
    """Join the rows of several :func:`few_cluster_rows` calls and adjust across indicators.

    Two multiplicity adjustments across indicators are added, each within one family = one
    term and one method (the integration terms are kept apart, as the change-over-time family
    is in the coefficient table):

    - ``p_adjusted``: Benjamini-Hochberg (:func:`adjust_pvalues`); ``adjustment`` names the
      family and its size; NaN p-values stay NaN and do not count;
    - ``p_romano_wolf``: the Romano-Wolf step-down (:func:`romano_wolf`) for the ``wcr`` and
      ``ri`` rows, from the joint draws: every indicator's bootstrap uses the same weight per
      area and draw, and its permutation test the same permutation per draw, so the ``B x m``
      matrix of resampled t's is a joint null of the ``m`` indicators even where their designs
      differ. A draw that is not finite for one indicator (collinear permuted dummies) counts
      as not exceeding in the joint maximum; the unadjusted p drops it instead, so the
      adjusted value is floored at the row's ``p_value``. NaN for ``crv1`` and ``cr2`` rows.

    Parameters
    ----------
    parts
        Rows and draws, e.g. one indicator's each (same ``reps`` and seed in all).
    indicator_ids
        The order of the rows.
    reps
        The draws each part was computed with (names the methods).

    Returns
    -------
    pandas.DataFrame
        Columns ``TABLE_COLUMNS``: one row per indicator, integration term and method.
    """
    labels = {k: v.format(reps=reps) for k, v in INFERENCE_LABELS.items()}
    table = pd.concat([rows for rows, _ in parts], ignore_index=True)
    method_of = {label: method for method, label in labels.items()}
    draws = {key: value for _, part in parts for key, value in part.items()}
    joint: dict[tuple[str, str], list[tuple[int, np.ndarray]]] = {}
    for i, (indicator, term, label) in enumerate(
        zip(table["indicator_id"], table["term"], table["inference"], strict=True)
    ):
        key = (indicator, term, method_of.get(label, ""))
        if key in draws:
            joint.setdefault((key[2], term), []).append((i, draws[key]))
    table = _add_multiplicity(table, joint)
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
            "inference": f"not estimated: {reason}",
        }
        for indicator, reason in failed.items()
        for term in TERMS_OF_INTEREST
    ]


def _add_multiplicity(
    table: pd.DataFrame, joint: Mapping[tuple[str, str], list[tuple[int, np.ndarray]]]
) -> pd.DataFrame:
    """Add ``p_adjusted``/``adjustment`` (BH) and ``p_romano_wolf`` (see few_cluster_table)."""
    out = table.assign(p_adjusted=np.nan, adjustment="", p_romano_wolf=np.nan)
    estimated = ~out["inference"].str.startswith("not estimated")
    for (label, term), family in out[estimated].groupby(["inference", "term"], sort=True):
        finite = family.index[np.isfinite(family["p_value"].to_numpy())]
        if finite.empty:
            continue
        out.loc[finite, "p_adjusted"] = adjust_pvalues(out.loc[finite, "p_value"].to_numpy())
        out.loc[finite, "adjustment"] = (
            f"Benjamini-Hochberg over {len(finite)} indicators ({label}, {term})"
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


# --------------------------------------------------------------------------------------------
# Multiple testing
# --------------------------------------------------------------------------------------------


def adjust_pvalues(p: Sequence[float] | np.ndarray, method: str = "fdr_bh") -> np.ndarray:
    """Adjust p-values across a family with statsmodels ``multipletests``.

    ``fdr_bh`` (Benjamini-Hochberg) is the headline; ``fdr_by``, ``holm`` and ``bonferroni``
    are passed through. NaN p-values stay NaN and do not count towards the family size.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def romano_wolf(t_obs: np.ndarray, t_draws: np.ndarray) -> np.ndarray:
    """Romano-Wolf step-down adjusted p-values (two-sided max-|t|).

    Sort the hypotheses by ``|t_obs|`` descending; the ``s``-th has raw adjusted value
    ``(hits + 1) / (B + 1)`` (:func:`resampling_p_value`), ``hits`` the draws with
    ``max_{m in R_s} |t*_m| >= |t_obs_s|`` where ``R_s`` is the set of hypotheses not yet
    stepped past (the ``s``-th and all less significant); then enforce monotonicity with a
    running maximum. The draws must be a joint null distribution of all
    statistics (restricted bootstrap or permutation, same draws for every hypothesis), which
    is how the dependence between indicators is accounted for.

    Parameters
    ----------
    t_obs
        ``m`` observed statistics.
    t_draws
        ``B x m`` resampled statistics under the null. Non-finite draws count as 0 (so all
        ``B`` draws count in ``B + 1``).

    Returns
    -------
    numpy.ndarray
        ``m`` adjusted p-values, each at least the unadjusted ``(hits_m + 1) / (B + 1)``.
    """
    t_obs = np.abs(np.asarray(t_obs, dtype=float))
    draws = np.abs(np.nan_to_num(np.asarray(t_draws, dtype=float), nan=0.0))
    m = t_obs.size
    order = np.argsort(-t_obs, kind="stable")
    # running max from the least significant upwards: column s = max over order[s:]
    sorted_draws = draws[:, order]
    suffix_max = np.maximum.accumulate(sorted_draws[:, ::-1], axis=1)[:, ::-1]
    hits = (suffix_max >= t_obs[order][None, :] * (1 - 1e-12)).sum(axis=0)
    raw = resampling_p_value(hits, draws.shape[0])
    adjusted_sorted = np.maximum.accumulate(raw)
    out = np.empty(m)
    out[order] = adjusted_sorted
    return out
