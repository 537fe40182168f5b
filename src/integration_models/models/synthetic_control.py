"""Synthetic control and synthetic difference-in-differences of one treated area, by diff-diff.

The estimates are the library's (``diff_diff.SyntheticControl``, ``diff_diff.SyntheticDiD``,
pinned in pyproject.toml); this module chooses their settings, runs the placebo tests and
returns tidy rows.

Synthetic control. The predictors are the treated unit's pre-period outcomes (the library's
default, ``pre_period_outcomes="all"``) with equal, unstandardised importance
(``v_method="custom"``, ``custom_v`` all ones, ``standardize="none"``): the donor weights
then minimise the pre-period mean squared prediction error over the simplex, which is the
very objective the library's default nested search over V minimises, so the nested search
cannot fit the pre-period better (a test; measured on Moray's 25 demo designs: the same ATT
to 2e-7 and pre-RMSPE to 1e-13), while it costs a multistart optimisation per fit (measured:
0.13-0.3 s per fit and 6-8 s per placebo run on one demo indicator, against 8 ms and 2 ms).
The ATT is the average post-period gap (treated minus synthetic), the pre-RMSPE the root mean
squared pre-period gap, and the ratio the post/pre RMSPE ratio, as the library computes them.

Placebo-in-space p-value (Abadie, Diamond and Hainmueller 2010, section 2.4): each donor in
turn is treated as if it went live at the same date, its synthetic control is built from the
other donors, and ``p = (1 + #{placebo ratio >= treated ratio}) / (n + 1)`` over the ``n``
placebos that reached a valid fit, so its resolution is ``1 / (n + 1)``. Two conventions:

- ``p_placebo`` (the project's): the placebo's pool is the *other donors*, never the treated
  area, so a real effect in the treated area cannot leak into the placebos' post-periods;
- ``p_placebo_library``: the pool is every other unit, the treated area included (ADH 2010,
  p. 501, "shifting California to the donor pool"; ``SyntheticControlResults.in_space_placebo``):
  the ``n + 1`` statistics come from one construction, so the test is exact under the sharp
  null, but an effect in the treated area can inflate placebo ratios (conservative).

The library loops in Python over placebos, refitting each through its pandas machinery;
:func:`placebo_ratios` runs the same weight solve (``_inner_solve_W``, the exact simplex
least squares the library's fit calls) on one numpy matrix instead: equal to the library's
``in_space_placebo`` and to a loop of plain ``SyntheticControl.fit`` calls (tests), and much
faster (``benchmarks/bench_synthetic.py``).

Synthetic difference-in-differences: the library's defaults (regularised unit and time
weights) with its placebo variance (Arkhangelsky et al. 2021, algorithm 4: a control unit
drawn at random is treated as if treated, ``n_bootstrap`` draws), giving a standard error, a
normal interval and the placebo p-value (share of placebo estimates at least as large in
absolute value). With one treated area there are at most as many distinct placebo estimates
as donors.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.models.synthetic_design import FAILED, OK, Design, fit_status

METHODS = ("scm", "sdid")
# donors with at least this weight are listed in synthetic_weights.csv (the rest share the
# remainder; a weight below half a percent changes no synthetic value in the tables' digits)
MIN_WEIGHT_SHOWN = 0.005


@dataclass(frozen=True)
class ScmFit:
    """A synthetic control of one treated area and its placebo tests.

    Attributes
    ----------
    estimate, pre_rmspe, ratio
        The ATT (average post-period gap), pre-period RMSPE and post/pre RMSPE ratio.
    weights
        Donor -> weight (every donor, zeros included).
    paths
        Year -> (treated, synthetic) values.
    p_placebo, n_placebos
        The placebo p-value with the other donors as each placebo's pool, and how many
        placebos entered it.
    p_placebo_library, n_placebos_library
        The same with the treated area in each placebo's pool (the library's convention).
    fit_note
        What the reader of the numbers should know about the pre-period fit
        (:func:`fit_quality`), or empty.
    """

    estimate: float
    pre_rmspe: float
    ratio: float
    weights: dict[str, float]
    paths: pd.DataFrame
    p_placebo: float
    n_placebos: int
    p_placebo_library: float
    n_placebos_library: int
    fit_note: str = ""


def scm_estimator(n_pre: int):
    """Return the library's synthetic control with equal, unstandardised outcome predictors."""
    from diff_diff import SyntheticControl

    return SyntheticControl(v_method="custom", custom_v=np.ones(n_pre), standardize="none")


def library_scm(design: Design):
    """Return the plain library fit of ``design`` (``SyntheticControlResults``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the poor-fit warning: the pre-RMSPE is reported
        return scm_estimator(len(design.pre_years)).fit(
            design.long(),
            "y",
            "treated",
            "unit",
            "year",
            post_periods=list(design.post_years),
            treated_unit=design.area_code,
        )


def rmspe_ratio(pre_gaps: np.ndarray, post_gaps: np.ndarray, scale: float) -> float:
    """Return the post/pre RMSPE ratio as the library computes it.

    The pre-period MSPE is floored at ``1e-8 * max(scale, 1)**2`` (``scale``: the largest
    absolute pre-period value of the unit), so a perfect pre-fit gives a large finite ratio.
    """
    post = float(np.mean(post_gaps**2))
    pre = max(float(np.mean(pre_gaps**2)), 1e-8 * max(float(scale), 1.0) ** 2)
    return math.sqrt(post / pre)


def placebo_ratios(
    values: np.ndarray,
    units: list[str],
    treated: str,
    n_pre: int,
    include_treated: bool,
) -> np.ndarray:
    """Return each donor's post/pre RMSPE ratio when treated as if it went live.

    Parameters
    ----------
    values
        Years (pre-years first, then post-years) by ``units``.
    units
        The columns of ``values``, sorted (the library's order, so that ties in the weight
        solve fall on the same donor).
    treated
        The treated area: never a placebo; in each placebo's pool if ``include_treated``.
    n_pre
        How many of the first rows are pre-years.
    include_treated
        False: each placebo's pool is the other donors (``p_placebo``); True: every other
        unit (the library's ``in_space_placebo``).

    Returns
    -------
    numpy.ndarray
        One ratio per donor, in ``units`` order; NaN where the weight solve did not converge
        (left out of the p-value, as the library leaves such placebos out).
    """
    from diff_diff.synthetic_control import _inner_solve_W

    v = np.full(n_pre, 1.0 / n_pre)  # the library's trace-normalised custom V
    donors = [u for u in units if u != treated]
    ratios = np.full(len(donors), np.nan)
    for k, donor in enumerate(donors):
        j = units.index(donor)
        pool = [i for i, u in enumerate(units) if i != j and (include_treated or u != treated)]
        target = values[:, j]
        if len(pool) == 1:
            w, converged = np.array([1.0]), True
        else:
            w, converged = _inner_solve_W(target[:n_pre], values[:n_pre, pool], v)
        if not converged:
            continue
        gaps = target - values[:, pool] @ w
        scale = float(np.max(np.abs(target[:n_pre])))
        ratios[k] = rmspe_ratio(gaps[:n_pre], gaps[n_pre:], scale)
    return ratios


def placebo_p_value(treated_ratio: float, ratios: np.ndarray) -> tuple[float, int]:
    """Return ``(1 + #{ratio >= treated_ratio}) / (n + 1)`` and ``n``, the finite ratios.

    Ties count against the treated unit (conservative), as in the library. NaN and 0 if no
    placebo ratio is finite.
    """
    finite = ratios[np.isfinite(ratios)]
    if finite.size == 0:
        return math.nan, 0
    return (1 + int(np.sum(finite >= treated_ratio))) / (finite.size + 1), int(finite.size)


def fit_quality(pre_values: np.ndarray, pre_rmspe: float, n_donors: int) -> str:
    """Say when the pre-period fit makes the ratio and its p-value hard to read, else "".

    - an exact fit (pre-RMSPE below 1e-6 of the largest pre-period value): with as many
      donors as pre-years, or more, a convex combination can match the few pre-years exactly,
      and the ratio then divides by about zero;
    - a poor fit (pre-RMSPE above the standard deviation of the treated area's pre-period
      values, the library's warning): the treated area lies outside the donors' range, so
      the gaps measure the misfit as much as any effect.
    """
    scale = max(float(np.max(np.abs(pre_values))), 1.0)
    if pre_rmspe < 1e-6 * scale:
        return (
            f"exact pre-period fit ({len(pre_values)} pre-years, {n_donors} donors): the "
            "ratio divides by about zero"
        )
    if len(pre_values) > 1 and pre_rmspe > float(np.std(pre_values, ddof=1)):
        return "poor pre-period fit: pre-RMSPE above the SD of the treated area's pre-years"
    return ""


def fit_scm(design: Design) -> ScmFit:
    """Fit the synthetic control of ``design`` (library) and both placebo tests (batched)."""
    result = library_scm(design)
    units = sorted(design.wide.columns)
    years = design.pre_years + design.post_years
    matrix = design.wide.loc[years, units].to_numpy(dtype=float)
    n_pre = len(design.pre_years)
    tests = {}
    for include in (False, True):
        ratios = placebo_ratios(matrix, units, design.area_code, n_pre, include)
        tests[include] = placebo_p_value(result.rmspe_ratio, ratios)
    weights = dict.fromkeys(design.donors, 0.0) | dict(result.donor_weights)
    gaps = pd.Series(result.gap_path).reindex(years)
    treated = design.wide.loc[years, design.area_code]
    paths = pd.DataFrame(
        {"year": years, "treated": treated.to_numpy(), "synthetic": (treated - gaps).to_numpy()}
    )
    return ScmFit(
        estimate=float(result.att),
        pre_rmspe=float(result.pre_rmspe),
        ratio=float(result.rmspe_ratio),
        weights=weights,
        paths=paths,
        p_placebo=tests[False][0],
        n_placebos=tests[False][1],
        p_placebo_library=tests[True][0],
        n_placebos_library=tests[True][1],
        fit_note=fit_quality(treated.to_numpy()[:n_pre], float(result.pre_rmspe), len(units) - 1),
    )


def library_sdid(design: Design, reps: int, seed: int, alpha: float):
    """Return the plain library fit of ``design`` (``SyntheticDiDResults``), placebo variance."""
    from diff_diff import SyntheticDiD

    estimator = SyntheticDiD(variance_method="placebo", n_bootstrap=reps, seed=seed, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the poor-fit warning: the pre-fit is reported
        return estimator.fit(
            design.long(), "y", "ever_treated", "unit", "year", post_periods=design.post_years
        )


ROW_KEYS = (
    "estimate", "std_error", "conf_low", "conf_high", "pre_rmspe", "ratio", "p_placebo",
    "n_placebos", "p_placebo_library", "n_placebos_library",
)  # fmt: skip


def _row(design: Design, method: str, status: str, note: str, **values: float) -> dict:
    row = {
        "indicator_id": design.indicator_id,
        "area_code": design.area_code,
        "method": method,
        "n_pre": len(design.pre_years),
        "n_post": len(design.post_years),
        "first_pre_year": min(design.pre_years) if design.pre_years else None,
        "first_post_year": min(design.post_years) if design.post_years else None,
        "last_post_year": max(design.post_years) if design.post_years else None,
        "n_donors": len(design.donors) if not design.wide.empty else 0,
    }
    row |= dict.fromkeys(ROW_KEYS, math.nan) | values
    return row | {"status": status, "note": note}


def _weight_rows(design: Design, method: str, weights: dict[str, float]) -> list[dict]:
    shown = sorted(
        ((donor, w) for donor, w in weights.items() if w >= MIN_WEIGHT_SHOWN),
        key=lambda item: (-item[1], item[0]),
    )
    return [
        {
            "indicator_id": design.indicator_id,
            "area_code": design.area_code,
            "method": method,
            "rank": rank,
            "donor_code": donor,
            "weight": weight,
        }
        for rank, (donor, weight) in enumerate(shown, start=1)
    ]


def synthetic_rows(
    design: Design,
    min_pre: dict[str, int],
    *,
    reps: int,
    seed: int,
    alpha: float,
) -> tuple[list[dict], list[dict], pd.DataFrame]:
    """Return the estimate rows, the weight rows and the SCM paths of one design.

    One estimate row per method (``scm``, ``sdid``), fitted only where the design has data,
    donors and at least ``min_pre[method]`` pre-years; otherwise the row carries the status
    and the reason. Any error of the library or of the arithmetic (an overflow from an extreme
    value) is caught and reported as ``failed`` with its type and message, as a model fit's.
    """
    rows, weights, paths = [], [], pd.DataFrame()
    for method in METHODS:
        status, note = fit_status(design, int(min_pre[method]))
        if status != OK:
            rows.append(_row(design, method, status, note))
            continue
        try:
            if method == "scm":
                fit = fit_scm(design)
                values = {key: getattr(fit, key) for key in ROW_KEYS if hasattr(fit, key)}
                method_weights = fit.weights
                paths = fit.paths.assign(
                    indicator_id=design.indicator_id, area_code=design.area_code
                )
                note = "; ".join(part for part in (fit.fit_note, note) if part)
            else:
                result = library_sdid(design, reps, seed, alpha)
                low, high = result.conf_int
                draws = result.variance_effects
                values = {
                    "estimate": float(result.att),
                    "std_error": float(result.se),
                    "conf_low": float(low),
                    "conf_high": float(high),
                    "pre_rmspe": float(result.pre_treatment_fit),
                    "p_placebo": float(result.p_value),
                    "n_placebos": 0 if draws is None else len(draws),
                }
                method_weights = {str(k): float(w) for k, w in result.unit_weights.items()}
                sdid_note = (
                    f"placebo SE from {values['n_placebos']} draws of one pseudo-treated donor "
                    f"among {len(design.donors)}; pre_rmspe is the shape-only pre-fit (level "
                    "gap differenced out)"
                )
                note = "; ".join(part for part in (note, sdid_note) if part)
        except Exception as err:  # noqa: BLE001 - any library or numeric failure is reported
            reason = f"{type(err).__name__}: {err}"
            rows.append(_row(design, method, FAILED, f"{note}; {reason}".strip("; ")))
            continue
        rows.append(_row(design, method, OK, note, **values))
        weights += _weight_rows(design, method, method_weights)
    return rows, weights, paths
