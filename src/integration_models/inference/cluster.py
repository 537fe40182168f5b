"""Cluster-robust tests of the integration terms on one :class:`~.design.TwfeDesign`.

- :func:`crv1`: the CRV1 standard error of ``twfe`` (``G/(G-1) * (N-1)/(N-K)``, ``K`` counting
  the area and year effects; Student's t with ``G - 1`` df), reproduced exactly;
- :func:`cr2_bell_mccaffrey`: the CR2 (bias-reduced) standard error with Bell-McCaffrey
  (Satterthwaite) degrees of freedom, as R ``clubSandwich::coef_test(vcov = "CR2",
  test = "Satterthwaite")`` computes them on the dummy-variable design;
- :func:`wild_cluster_bootstrap`: the restricted (null imposed) wild cluster bootstrap-t with
  Webb six-point weights (WCR);
- :func:`resampling_p_value`: the one rule for a p-value from draws, ``(hits + 1) / (B + 1)``.

Outcomes are the columns of a matrix and bootstrap weights a further matrix dimension, so many
outcomes and draws are tested at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from integration_models.inference.design import (
    _RANK_TOL,
    TwfeDesign,
    _as_matrix,
    _extend_basis,
    _influence,
)

WEBB_WEIGHTS = np.array(
    [-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)], dtype=float
)


@dataclass(frozen=True)
class InferenceResult:
    """Estimates and inference for ``J`` outcomes and ``k`` terms (arrays ``J x k``).

    ``draws`` holds the resampled t-statistics (``B x J x k``) for the resampling methods, the
    joint matrix that :func:`~.multiplicity.romano_wolf` needs; ``None`` otherwise. ``df`` is the t
    degrees of freedom where the method uses a t reference (NaN otherwise).
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


def crv1(design: TwfeDesign, y: np.ndarray, *, alpha: float = 0.05) -> InferenceResult:
    """CRV1 cluster-robust inference, identical to :func:`integration_models.models.twfe`.

    ``V = c * sum_g (w_g' e_g)^2`` with the FWL weights ``w`` and full-model residuals ``e``,
    ``c = G/(G-1) * (N-1)/(N-K)`` with ``K`` counting the area and year effects (linearmodels
    ``debiased=True, group_debias=True``); t with ``G - 1`` df because the clusters, not the
    rows, limit the information.

    Parameters
    ----------
    design
        From :func:`~.design.build_design`.
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
        From :func:`~.design.build_design`.
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
        From :func:`~.design.build_design`.
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
