"""Randomisation inference that reassigns whole integration histories across partnerships.

:func:`partnership_histories` reads each partnership's history, :func:`draw_permutations` and
:func:`permuted_treatments` reassign them, and :func:`randomization_inference` runs the
randomisation-t test. A receiving area's permuted dummies depend only on (area, donor
partnership), so the per-area pieces of the FWL fit and of the CRV1 scores
(:class:`_PermutationPieces`) are tabulated once per design for every distinct (area, donor
block) pair, and each permutation is assembled from them by gathers and a few matrix products,
never materialising the ``B x N`` permuted dummies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.inference.cluster import InferenceResult, _share_exceeding, crv1
from integration_models.inference.design import TwfeDesign, _as_matrix, _orthonormal_basis
from integration_models.memory import CHUNK_ELEMENTS

# a transition period (straddling a change of category) has its own code, which no term's dummy
# takes: the observed fit leaves those rows out, and a row that falls in a donor's transition
# period under a permutation gets no integration dummy
CATEGORY_CODES = {"none": 0, "partial": 1, "full": 2, "transition": 3}
TERM_CATEGORY = {"integration_full": 2, "integration_partial": 1}


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
       (randomisation-t, two-sided; :func:`~.cluster.resampling_p_value`); draws whose permuted
       dummies are collinear with the design - no treated row left, or a dummy absorbed by
       the area effects - are NaN and dropped from ``B`` (see :func:`_solve_small_gram`).

    Integration was not randomised and is spatially clustered, so read this as a
    placebo-assignment test (methods.md section 4). Pass the same ``permutations`` to every
    indicator for a joint null across indicators (:func:`~.multiplicity.romano_wolf`).

    Parameters
    ----------
    design
        From :func:`~.design.build_design`.
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
