"""Size of the four few-cluster tests on one indicator's own design, under several nulls.

A per-indicator diagnostic (methods.md section 4: choose the test in advance, diagnose
afterwards): it shows where each test keeps its level on *this* indicator's rows, terms and
areas, and never picks the headline test. The simulation, exactly:

1. **Design.** The indicator's ``twfe`` design (:func:`~.design.design_from_model_data`): its
   area-years, its integration terms and covariates.
2. **Scale.** ``sigma^2`` is the leverage-corrected residual variance of the real fit: the
   sum of squares of the CR2-adjusted residuals (:func:`~.power.cr2_residuals`, which undo the
   shrinkage ``(I - H_gg)`` of least squares residuals) over ``N - G`` (each area's block of
   ``I - H`` loses the area's constant). Every test's statistic is invariant to the scale of
   the outcome, so ``sigma`` matters only for how the components of a DGP are combined; it
   is there so that the simulated outcomes are in the indicator's units.
3. **Null outcomes.** ``y* = e`` with the integration effects zero by construction: the fitted
   area effects, year effects and covariates of the real fit lie in the span every test
   projects out (each is invariant to adding them), so they are left out. The errors ``e``
   (``N x sims``, one column per simulated sample) follow one of :data:`DGPS`:

   - ``independent``: iid ``N(0, sigma^2)``;
   - ``ar1``: AR(1) within each area over calendar years, ``rho`` = :data:`AR1_RHO`,
     stationary variance ``sigma^2`` (a gap of ``d`` years has correlation ``rho^d``);
   - ``heteroskedastic``: SD proportional to ``1 / sqrt(population)`` of the area-year
     (``population`` of the panel), scaled so that the mean variance is ``sigma^2``: small
     areas are noisier, as rates over small denominators are;
   - ``health_board``: a shock shared by the areas of a health board in a year (variance
     :data:`BOARD_SHARE` ``* sigma^2``) plus idiosyncratic noise (the rest): errors
     correlated *across* areas, which clustering by area ignores.

4. **Tests.** On all simulated samples at once: CRV1 with t(G-1) and CR2 with Bell-McCaffrey
   df exactly as the inference table computes them (:mod:`~.cluster`). The two resampling
   tests use ``reps`` draws per simulated sample (default :data:`DEFAULT_REPS` = 199), not the
   warp-speed method of Giacomini, Politis and White (2013), which compares each sample's
   statistic with the pooled single draws of the other samples. Warp speed is valid when the
   resampling distribution of the statistic hardly depends on the sample (an asymptotically
   pivotal statistic); with few treated areas the restricted wild bootstrap's and the
   randomisation distribution's spread depend on the treated areas' own residuals, which is
   exactly why these tests over- or under-reject, and pooling the draws would average that
   away (tests/test_size.py measures the difference). The reduced-draw rate is that of the
   test with ``B`` draws, which for ``alpha (B + 1)`` an integer and the rule ``p <= alpha``
   (``p = (hits + 1) / (B + 1)``) keeps an exact test's level exactly, so it estimates the
   rate of the test with many draws; with ``p < alpha`` it would be biased down by
   ``1 / (B + 1)``.

   - WCR: Webb weights drawn independently for every simulated sample
     (:func:`wcr_rejections`, the same algebra as
     :func:`~.cluster.wild_cluster_bootstrap`, vectorised over samples);
   - RI: :func:`~.permutation.randomization_inference` with the samples split into chunks of
     :data:`RI_CHUNK`, each chunk with its own ``B`` permutations of partnership histories
     (the permutation pieces are tabulated per design and outcome matrix, so one permutation
     set per sample would cost a tabulation per sample; fresh sets per chunk keep the
     samples' decisions nearly independent, so the binomial MC SE holds).

5. **Rates.** Per test and term: the share of samples with a finite p-value and
   ``p <= alpha`` (CRV1 and CR2 have continuous p-values, where ``<`` and ``<=`` agree), its
   MC SE ``sqrt(rate (1 - rate) / n)``, and ``over_rejects`` when the rate exceeds
   ``alpha + 2 sqrt(alpha (1 - alpha) / n)``: above what an exact test's rate reaches by
   chance (two MC SEs of ``alpha``).

Seeds: ``SeedSequence([seed, <64-bit hash of the indicator id>])`` spawns one stream per DGP
of :data:`DGPS` (by position in the full list, so dropping a DGP leaves the others' rows
unchanged), each split into errors, bootstrap weights and permutations. So an indicator's
rows are deterministic and do not depend on which other indicators are analysed.

Cost (one core, demo designs of about 430 rows, 32 areas, two terms; 2,000 samples, 99 draws):
about 0.27 s per indicator and DGP, so 13-14 s of CPU for 25 indicators with the workflow's
two default DGPs (``size_dgps``) and about 1.1 s per indicator with all four; the bootstrap
and the permutation test take most of it and grow linearly with ``reps``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.inference.cluster import (
    WEBB_WEIGHTS,
    cr2_bell_mccaffrey,
    crv1,
)
from integration_models.inference.design import (
    TwfeDesign,
    _extend_basis,
    _influence,
    _varies_within,
    design_from_model_data,
)
from integration_models.inference.labels import INFERENCE_LABELS
from integration_models.inference.permutation import (
    PartnershipHistories,
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.power import cr2_residuals
from integration_models.inference.scope import SCOPE_TERMS, Scope
from integration_models.inference.table import period_key_of
from integration_models.memory import SIZE_RI_CHUNK, SIZE_WCR_CHUNK
from integration_models.models.design import DesignError, model_data

DGPS = ("independent", "ar1", "heteroskedastic", "health_board")
METHODS = ("crv1", "cr2", "wcr", "ri")
AR1_RHO = 0.5
BOARD_SHARE = 0.5  # share of the error variance that is the health board's shock of the year
DEFAULT_SIMS = 2000  # MC SE of a 5% rate: sqrt(0.05 * 0.95 / 2000) = 0.0049 < 0.005
DEFAULT_REPS = 199  # alpha (B + 1) = 10 at alpha 0.05: an exact test keeps its level exactly
RI_CHUNK = SIZE_RI_CHUNK  # simulated samples sharing one set of permutations
_WCR_CHUNK = SIZE_WCR_CHUNK  # simulated samples per block of bootstrap weights
# kept for the headline of this branch until it reads the analysis plan's test (issue 15):
# the test analysis_plan.yaml registers
SIZE_COLUMNS = [
    "indicator_id",
    "term",
    "dgp",
    "method",
    "test",
    "alpha",
    "n_sims",
    "reps",
    "rejections",
    "rejection_rate",
    "mc_se",
    "over_rejects",
    "n_obs",
    "n_areas",
    "n_switching_areas",
    "sigma",
    "note",
]


@dataclass(frozen=True)
class NullDesign:
    """One indicator's design and what the null DGPs need of its rows.

    Attributes
    ----------
    design
        The ``twfe`` design.
    sigma
        Leverage-corrected residual SD of the real fit (module docstring, step 2).
    year
        ``N`` calendar years of the rows.
    population
        ``N`` populations of the area-years (NaN where unknown).
    board
        ``N`` health board codes of the rows (empty strings where unknown).
    histories
        The partnership histories the permutation test reassigns.
    """

    design: TwfeDesign
    sigma: float
    year: np.ndarray
    population: np.ndarray
    board: np.ndarray
    histories: PartnershipHistories


def indicator_seed(seed: int, indicator_id: str) -> np.random.SeedSequence:
    """Return the seed sequence of one indicator: the run's seed and a hash of its id."""
    digest = hashlib.sha256(indicator_id.encode("utf-8")).digest()
    return np.random.SeedSequence([seed, int.from_bytes(digest[:8], "big")])


def residual_sd(design: TwfeDesign, y: np.ndarray) -> float:
    """Return ``sqrt(sum(cr2 residuals^2) / (N - G))``, the leverage-corrected residual SD."""
    resid = cr2_residuals(design, y)
    dof = design.n_obs - design.n_clusters
    return float(np.sqrt((resid**2).sum() / dof)) if dof > 0 else float("nan")


def null_design(
    panel: pd.DataFrame, indicator_id: str, scale: str, population: pd.DataFrame | None = None
) -> NullDesign:
    """Build the indicator's design and its rows' years, populations and health boards.

    Parameters
    ----------
    panel
        The long panel (or the indicator's part of it), with ``population`` and
        ``health_board_code`` where known.
    indicator_id, scale
        The indicator and its outcome scale.
    population
        Every area and year with its partnership (:func:`integration_models.data.panel.
        area_exposure`): the histories the permutations reassign. Default: ``panel``.

    Raises
    ------
    DesignError
        If the indicator cannot be modelled or has fewer than 3 areas.
    """
    design, y = design_from_model_data(model_data(panel, indicator_id, scale))
    if design.n_clusters < 3:
        raise DesignError(f"only {design.n_clusters} area(s): a clustered test needs 3 or more")
    rows = panel.loc[panel["indicator_id"] == indicator_id]
    keys = ["area_code", "year"]
    extra = [c for c in ("population", "health_board_code") if c in rows]
    info = design.frame[keys].merge(
        rows[keys + extra].drop_duplicates(keys), on=keys, how="left", validate="m:1"
    )
    pop = info["population"] if "population" in info else pd.Series(np.nan, index=info.index)
    board = info["health_board_code"] if "health_board_code" in info else pd.Series("", info.index)
    source = panel if population is None else population
    return NullDesign(
        design=design,
        sigma=residual_sd(design, y),
        year=design.frame["year"].to_numpy(dtype=int),
        population=pd.to_numeric(pop, errors="coerce").to_numpy(dtype=float),
        board=board.fillna("").astype(str).to_numpy(),
        histories=partnership_histories(source, period_key_of(design)),
    )


# --------------------------------------------------------------------------------------------
# Null errors
# --------------------------------------------------------------------------------------------


def dgp_problem(null: NullDesign, dgp: str) -> str:
    """Return why ``dgp`` cannot be simulated on this design ('' when it can)."""
    if dgp not in DGPS:
        raise ValueError(f"unknown DGP '{dgp}' (use one of {', '.join(DGPS)})")
    if dgp == "heteroskedastic" and not (
        np.isfinite(null.population).all() and (null.population > 0).all()
    ):
        return "not simulated: a row has no positive population"
    if dgp == "health_board" and (null.board == "").any():
        return "not simulated: a row's area has no health board"
    if not np.isfinite(null.sigma) or null.sigma <= 0:
        return "not simulated: the fit leaves no residual variance"
    return ""


def _ar1(null: NullDesign, z: np.ndarray, rho: float) -> np.ndarray:
    """Turn iid standard normals into stationary AR(1) series within areas over years."""
    design = null.design
    out = z.copy()
    first = np.zeros(design.n_obs, dtype=bool)
    first[design.bounds[:-1]] = True
    for i in np.flatnonzero(~first):
        gap = null.year[i] - null.year[i - 1]
        phi = rho**gap
        out[i] = phi * out[i - 1] + np.sqrt(1 - phi**2) * z[i]
    return out


def null_errors(null: NullDesign, dgp: str, sims: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``N x sims`` errors of one DGP (module docstring, step 3), with variance ``sigma^2``.

    Raises
    ------
    ValueError
        If the DGP is unknown or cannot be simulated here (:func:`dgp_problem`).
    """
    problem = dgp_problem(null, dgp)
    if problem:
        raise ValueError(problem)
    n = null.design.n_obs
    z = rng.standard_normal((n, sims))
    if dgp == "independent":
        unit = z
    elif dgp == "ar1":
        unit = _ar1(null, z, AR1_RHO)
    elif dgp == "heteroskedastic":
        inverse = 1.0 / null.population
        unit = np.sqrt(inverse / inverse.mean())[:, None] * z
    else:  # health_board
        cells, cell = np.unique(
            np.char.add(null.board.astype(str), null.year.astype(str)), return_inverse=True
        )
        shock = rng.standard_normal((len(cells), sims))
        unit = np.sqrt(BOARD_SHARE) * shock[cell] + np.sqrt(1 - BOARD_SHARE) * z
    return null.sigma * unit


# --------------------------------------------------------------------------------------------
# The resampling tests, vectorised over simulated samples
# --------------------------------------------------------------------------------------------


def wcr_rejections(
    design: TwfeDesign,
    y: np.ndarray,
    reps: int,
    alpha: float,
    rng: np.random.Generator,
    t_obs: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Restricted wild cluster bootstrap (Webb) of every column of ``y``, own weights each.

    For term ``j`` with restricted residuals ``r`` (null ``b_j = 0`` imposed, as
    :func:`~.cluster.restricted_bootstrap_maps`), FWL weights ``w`` and ``Q`` the orthonormal
    basis of the full design, a draw ``v`` (``G`` weights) gives ``b* = a'v`` with
    ``a_g = w_g' r_g``, and CRV1 cluster scores ``C v`` with
    ``C = diag(a) - P R'``, ``P_h = Q_h' w_h`` and ``R_g = Q_g' r_g`` (the full-model
    residuals of ``v_g r_g`` are ``v_g r_g - Q Q' (v_g r_g)``). So each simulated sample needs
    one ``G x G`` matrix and one product with its own ``G x B`` weights.

    ``t_obs`` is the CRV1 t of ``y`` (``J x k``) when already computed.

    Returns
    -------
    tuple of numpy.ndarray
        ``J x k`` rejections (``p <= alpha``, ``p = (hits + 1) / (B + 1)``) and ``J x k``
        whether the p-value is finite (some finite draw and a finite observed t).
    """
    n_out, k, g = y.shape[1], len(design.terms), design.n_clusters
    t_obs = crv1(design, y).statistic if t_obs is None else t_obs
    influence = _influence(design)
    q = design.basis_full
    reject = np.zeros((n_out, k), dtype=bool)
    valid = np.zeros((n_out, k), dtype=bool)
    weights = rng.integers(0, 6, size=(n_out, g, reps), dtype=np.int8)
    for j in range(k):
        w = influence[:, j]
        basis_r = _extend_basis(design.basis_w, np.delete(design.treat, j, axis=1))
        resid = y - basis_r @ (basis_r.T @ y)  # N x J
        a = design.cluster_sum(w[:, None] * resid)  # G x J
        p = design.cluster_sum(w[:, None] * q)  # G x K
        starts, ends = design.bounds[:-1], design.bounds[1:]
        r = np.stack([q[lo:hi].T @ resid[lo:hi] for lo, hi in zip(starts, ends, strict=True)])
        # C = diag(a) - P R' per sample (J x G x G), one BLAS product for all samples
        c_maps = -(p @ r.transpose(1, 0, 2).reshape(p.shape[1], -1)).reshape(g, g, n_out)
        c_maps = np.ascontiguousarray(c_maps.transpose(2, 0, 1))
        c_maps[:, np.arange(g), np.arange(g)] += a.T
        for lo in range(0, n_out, _WCR_CHUNK):
            hi = min(lo + _WCR_CHUNK, n_out)
            v = WEBB_WEIGHTS[weights[lo:hi]]  # c x G x B
            beta = (a[:, lo:hi].T[:, None, :] @ v)[:, 0, :]
            scores = c_maps[lo:hi] @ v  # c x G x B
            se = np.sqrt(design.crv1_factor * (scores**2).sum(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                draws = beta / se
            finite = np.isfinite(draws)
            bound = np.abs(t_obs[lo:hi, j])[:, None] * (1 - 1e-12)
            hits = ((np.abs(np.where(finite, draws, 0.0)) >= bound) & finite).sum(axis=1)
            count = finite.sum(axis=1)
            ok = (count > 0) & np.isfinite(t_obs[lo:hi, j])
            with np.errstate(divide="ignore", invalid="ignore"):
                reject[lo:hi, j] = ok & ((hits + 1) / (count + 1) <= alpha)
            valid[lo:hi, j] = ok
    return reject, valid


def ri_rejections(
    null: NullDesign, y: np.ndarray, reps: int, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Randomisation-t test of every column of ``y``; fresh permutations per :data:`RI_CHUNK`.

    Returns
    -------
    tuple of numpy.ndarray
        ``J x k`` rejections (``p <= alpha``) and ``J x k`` whether the p-value is finite.
    """
    n_out = y.shape[1]
    p = np.empty((n_out, len(null.design.terms)))
    for lo in range(0, n_out, RI_CHUNK):
        chunk = y[:, lo : lo + RI_CHUNK]
        perms = draw_permutations(null.histories, reps, rng)
        p[lo : lo + chunk.shape[1]] = randomization_inference(
            null.design, chunk, null.histories, permutations=perms
        ).p_value
    valid = np.isfinite(p)
    return valid & (np.where(valid, p, 1.0) <= alpha), valid


def _t_rejections(p: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    valid = np.isfinite(p)
    return valid & (np.where(valid, p, 1.0) <= alpha), valid


def simulate_rejections(
    null: NullDesign,
    dgp: str,
    *,
    sims: int,
    reps: int,
    alpha: float,
    seed: np.random.SeedSequence,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Run the four tests on ``sims`` null samples of one DGP.

    Returns
    -------
    dict
        Method -> (``sims x k`` rejections, ``sims x k`` finite p-values).
    """
    error_seed, wcr_seed, ri_seed = seed.spawn(3)
    y = null_errors(null, dgp, sims, np.random.default_rng(error_seed))
    design = null.design
    base = crv1(design, y)
    wcr_rng = np.random.default_rng(wcr_seed)
    return {
        "crv1": _t_rejections(base.p_value, alpha),
        "cr2": _t_rejections(cr2_bell_mccaffrey(design, y).p_value, alpha),
        "wcr": wcr_rejections(design, y, reps, alpha, wcr_rng, base.statistic),
        "ri": ri_rejections(null, y, reps, alpha, np.random.default_rng(ri_seed)),
    }


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def over_rejects(rate: float, alpha: float, n: int) -> bool:
    """Whether ``rate`` exceeds ``alpha + 2 sqrt(alpha (1 - alpha) / n)``."""
    return bool(n > 0 and rate > alpha + 2 * np.sqrt(alpha * (1 - alpha) / n))


def _row(
    indicator: str, term: str, dgp: str, method: str, reps: int, alpha: float
) -> dict[str, object]:
    """Return a row with no simulation yet: the cell's identity and empty numbers."""
    row: dict[str, object] = dict.fromkeys(SIZE_COLUMNS, np.nan)
    row.update(
        indicator_id=indicator,
        term=term,
        dgp=dgp,
        method=method,
        test=INFERENCE_LABELS[method].format(reps=reps),
        alpha=alpha,
        n_sims=0,
        reps=reps if method in ("wcr", "ri") else 0,
        rejections=0,
        over_rejects=False,
        n_obs=0,
        n_areas=0,
        n_switching_areas=0,
        note="",
    )
    return row


def _switching_areas(design: TwfeDesign, j: int) -> int:
    """Areas whose dummy ``j`` changes within the window (the clusters identifying the term)."""
    bounds = design.bounds
    return sum(
        _varies_within(design.treat[lo:hi, j], np.array([0]))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    )


def indicator_size_rows(
    panel: pd.DataFrame,
    indicator_id: str,
    scale: str,
    *,
    sims: int = DEFAULT_SIMS,
    reps: int = DEFAULT_REPS,
    seed: int = 20240601,
    alpha: float = 0.05,
    dgps: Sequence[str] = DGPS,
    scope: Scope | None = None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Rejection rates of the four tests on one indicator's design under each null DGP.

    See the module docstring for the simulation.

    Parameters
    ----------
    panel
        The long panel, or the indicator's part of it.
    indicator_id, scale
        The indicator and its outcome scale (``identity`` or ``log``).
    sims
        Simulated null samples per DGP.
    reps
        Bootstrap draws and permutations per simulated sample.
    seed
        The run's seed (combined with the indicator id: :func:`indicator_seed`).
    alpha
        Nominal level.
    dgps
        The DGPs to simulate, a subset of :data:`DGPS` (rows in the order of :data:`DGPS`).
    scope
        The terms the ``twfe`` fits estimated: other terms get rows without rates.
    population
        Every area and year with its partnership (for the permutation histories).

    Returns
    -------
    pandas.DataFrame
        ``SIZE_COLUMNS``: one row per term of ``SCOPE_TERMS``, DGP and method; a cell that
        could not be simulated has no rate and says why in ``note``. ``rate`` repeats
        ``rejection_rate`` for the headline of this branch (transitional).

    Raises
    ------
    ValueError
        If ``sims`` or ``reps`` is below 1, ``alpha`` not in (0, 1) or a DGP unknown.
    """
    if sims < 1 or reps < 1:
        raise ValueError(f"sims and reps must be at least 1 (got sims={sims}, reps={reps})")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (got {alpha})")
    unknown = [d for d in dgps if d not in DGPS]
    if unknown:
        raise ValueError(f"unknown DGP(s) {unknown} (use {', '.join(DGPS)})")
    chosen = [d for d in DGPS if d in dgps]
    streams = dict(zip(DGPS, indicator_seed(seed, indicator_id).spawn(len(DGPS)), strict=True))
    try:
        null = null_design(panel, indicator_id, scale, population)
    except DesignError as err:
        null, why = None, f"not estimated: {err}"
    cells = {
        (term, dgp, method): _row(indicator_id, term, dgp, method, reps, alpha)
        for term in SCOPE_TERMS
        for dgp in chosen
        for method in METHODS
    }
    if null is None:
        for row in cells.values():
            row["note"] = why
        return _frame(cells)
    _describe(cells, null, indicator_id, scope)
    for dgp in chosen:
        open_cells = [row for (_, d, _), row in cells.items() if d == dgp and not row["note"]]
        problem = dgp_problem(null, dgp)
        for row in open_cells if problem else ():
            row["note"] = problem
        if problem or not open_cells:
            continue
        results = simulate_rejections(
            null, dgp, sims=sims, reps=reps, alpha=alpha, seed=streams[dgp]
        )
        for j, term in enumerate(null.design.terms):
            for method, (reject, valid) in results.items():
                row = cells[term, dgp, method]
                if not row["note"]:
                    _fill(row, reject[:, j], valid[:, j], alpha)
    return _frame(cells)


def _describe(
    cells: dict[tuple[str, str, str], dict], null: NullDesign, indicator: str, scope: Scope | None
) -> None:
    """Write the design's sizes into every cell, and why a term is not simulated (in place)."""
    design = null.design
    switching = {t: _switching_areas(design, j) for j, t in enumerate(design.terms)}
    for (term, _, _), row in cells.items():
        if term not in design.terms:
            row["note"] = "not estimated: the design does not identify this term"
            continue
        row.update(
            n_obs=design.n_obs,
            n_areas=design.n_clusters,
            n_switching_areas=switching[term],
            sigma=null.sigma,
        )
        if scope is not None and not scope.includes(indicator, term):
            row["note"] = "not estimated: the twfe fit did not estimate this term"


def _fill(row: dict, reject: np.ndarray, valid: np.ndarray, alpha: float) -> None:
    """Write one cell's count, rate, MC SE and flag into ``row`` (in place)."""
    n = int(valid.sum())
    hits = int(reject.sum())
    rate = hits / n if n else np.nan
    row.update(
        n_sims=n,
        rejections=hits,
        rejection_rate=rate,
        mc_se=np.sqrt(rate * (1 - rate) / n) if n else np.nan,
        over_rejects=over_rejects(rate, alpha, n),
    )
    if not n:
        row["note"] = "not estimated: no simulated sample gave a p-value"


def _frame(cells: dict[tuple[str, str, str], dict]) -> pd.DataFrame:
    """Return the cells as the table (in their order: term, DGP, method)."""
    return _typed(pd.DataFrame(list(cells.values()), columns=SIZE_COLUMNS))


_INTEGER = ("n_sims", "reps", "rejections", "n_obs", "n_areas", "n_switching_areas")
_FLOAT = ("alpha", "rejection_rate", "mc_se", "sigma")


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    """Fix the column types (so per-indicator parts concatenate to the same table)."""
    types = {**dict.fromkeys(_INTEGER, int), **dict.fromkeys(_FLOAT, float), "over_rejects": bool}
    return table.astype(types).reset_index(drop=True)


def size_table(
    panel: pd.DataFrame,
    indicator_ids: Sequence[str],
    scale_of: Mapping[str, str],
    **settings: object,
) -> pd.DataFrame:
    """:func:`indicator_size_rows` of every indicator, one after the other (registry order)."""
    parts = [
        indicator_size_rows(panel, i, scale_of.get(i, "identity"), **settings)
        for i in indicator_ids
    ]
    return combine_size(parts)


def combine_size(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-indicator parts into the size table (columns :data:`SIZE_COLUMNS`)."""
    if not parts:
        return _typed(pd.DataFrame(columns=SIZE_COLUMNS))
    return _typed(pd.concat([p[SIZE_COLUMNS] for p in parts], ignore_index=True))
