"""The two-way fixed effects design that the few-cluster tests share, built once per panel.

:class:`TwfeDesign` holds the rows of one design (sorted by area then year, so cluster sums are
contiguous slices) and an orthonormal basis of its dummy-and-covariate columns: by
Frisch-Waugh-Lovell, the coefficient of an integration dummy ``d`` in the regression on area
effects, year effects, the covariates ``W`` and the other dummies is ``w'y`` with
``w = M d / (d'M d)``, ``M`` the residual maker of the other columns. The basis (an SVD, so
unbalanced panels and collinear columns are handled) is the same for every outcome observed on
the same area-years and for every resampling draw. :func:`build_design`,
:func:`design_from_arrays` and :func:`design_from_model_data` build it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.models.design import (
    WITHIN_AREA_CONTROLS,
    DesignError,
    ModelData,
)

TERMS_OF_INTEREST = ("integration_full", "integration_partial")
CONTROLS = WITHIN_AREA_CONTROLS  # the covariates of ``twfe``, defined once in models.design
_RANK_TOL = 1e-10
_VARIES_TOL = 1e-10  # a column varies within an area when its range there exceeds this


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
        """Per term, the number of areas with at least one row coded with it ("ever treated").

        Not the evidence behind the term: an area coded in every one of its rows is absorbed
        by its area effect. See :attr:`identifying_areas`.
        """
        return (self.cluster_sum(self.treat) > 0).sum(axis=0)

    @property
    def identifying_areas(self) -> np.ndarray:
        """Per term, the number of partnerships whose exposure changes within their rows.

        Only an area whose 0/1 dummy varies over its years identifies the term (the area
        effects absorb the rest); integration is assigned per partnership, so areas of one
        partnership (Clackmannanshire and Stirling) count once. Partnerships come from the
        frame's ``hscp_code`` where it has one, else each area is its own
        (:mod:`~integration_models.inference.identification`).
        """
        starts = self.bounds[:-1]
        varies = (
            np.maximum.reduceat(self.treat, starts, axis=0)
            - np.minimum.reduceat(self.treat, starts, axis=0)
        ) > _VARIES_TOL
        if "hscp_code" in self.frame.columns:
            hscp = self.frame["hscp_code"].astype(str).to_numpy()[starts]
        else:
            hscp = self.cluster_labels.astype(str)
        return np.array([np.unique(hscp[varies[:, j]]).size for j in range(varies.shape[1])])

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
    weights: np.ndarray | None = None,
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
    weights
        Optional positive row weights for weighted least squares. The design is then that of
        the rows multiplied by ``sqrt(weights)`` (dummies and controls; the bases are built
        by one SVD, the closed form of the area effects holding only without weights), and
        outcomes given to the tests must be multiplied by ``sqrt(weights)`` too: ordinary
        least squares on the scaled rows is weighted least squares, and its cluster scores
        are the weighted ones.

    Returns
    -------
    TwfeDesign
        Ready for :func:`~.cluster.cr2_bell_mccaffrey` and the other tests of this package.

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
    treat_matrix = np.column_stack([treat[t] for t in kept_terms])
    if weights is None:
        rest = rest - (np.add.reduceat(rest, starts, axis=0) / counts[:, None])[codes]
        basis_w = np.column_stack([area_basis, _orthonormal_basis(rest)])
    else:
        if not (np.isfinite(weights).all() and (weights > 0).all()):
            raise DesignError("weights must be positive and finite in every row")
        root = np.sqrt(np.asarray(weights, dtype=float))[:, None]
        basis_w = _orthonormal_basis(root * np.column_stack([area_basis, rest]))
        treat_matrix = root * treat_matrix
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


def recluster(design: TwfeDesign, groups: np.ndarray) -> tuple[TwfeDesign, np.ndarray]:
    """Return the same design clustered by coarser groups (e.g. health boards) of whole areas.

    The area and year effects stay; only the clusters the standard errors and the bootstrap
    weights are drawn for change. Rows are reordered so that each group is a contiguous block
    (areas keep their order inside it), which :meth:`TwfeDesign.cluster_sum` needs; the
    projections are unchanged by a reordering of rows.

    Parameters
    ----------
    design
        A design clustered by area.
    groups
        The group of each row of ``design`` (its current row order).

    Returns
    -------
    tuple
        The reclustered design and the row order: outcomes aligned with ``design`` must be
        indexed with it (``y[order]``).

    Raises
    ------
    ValueError
        If an area's rows fall in more than one group.
    """
    groups = np.asarray(groups).astype(str)
    pairs = np.unique(np.column_stack([design.cluster.astype(str), groups]), axis=0)
    if len(pairs) != design.n_clusters:
        raise ValueError("every area must lie in exactly one group")
    labels, codes = np.unique(groups, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    reclustered = dataclasses.replace(
        design,
        frame=design.frame.iloc[order].reset_index(drop=True),
        treat=design.treat[order],
        cluster=codes,
        cluster_labels=labels,
        bounds=np.searchsorted(codes, np.arange(len(labels) + 1)),
        basis_w=design.basis_w[order],
        basis_full=design.basis_full[order],
    )
    return reclustered, order


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
