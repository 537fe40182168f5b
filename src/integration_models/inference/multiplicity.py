"""Multiplicity adjustments across indicators: :func:`adjust_pvalues` and :func:`romano_wolf`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from integration_models.inference.cluster import resampling_p_value


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
    ``(hits + 1) / (B + 1)`` (:func:`~.cluster.resampling_p_value`), ``hits`` the draws with
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
