"""Summary indices per domain (Anderson 2008), so that a domain is tested once.

Many indicators of one domain tested one by one invite false positives and a selective
reading; a summary index of the domain's chosen outcomes is tested once instead. The index is
Anderson's (2008, "Multiple inference and gender differences in the effects of early
intervention", JASA 103(484), section 3.1):

1. each component is standardised by the mean and standard deviation of a *reference group*,
   here the area-years of the reference period (``year <= reference_last_year``, all 32
   areas): the years before most partnerships went live, so the scale does not depend on
   the integration classification or on any outcome contrast;
2. oriented so that higher is better (the sign flips where ``higher_is_better`` is False);
3. weighted by the row sums of the inverse covariance matrix of the standardised components,
   estimated on the area-years where every component is present: a component highly
   correlated with the others brings little new information and gets less weight;
4. averaged with those weights over the components present in an area-year (the weights of
   the available components are renormalised, Anderson's treatment of missing components);
5. restandardised to mean 0 and standard deviation 1 in the reference period, so that an
   effect on the index reads in reference-period standard deviations.

The reference period defaults to the years up to 2015 (:data:`REFERENCE_LAST_YEAR`): the
first seven partnerships went live on 1 April 2015 and the other 24 in 2016 or later, and a
value labelled 2015 covers a period ending in 2015 (mostly before or at the very start of the
first seven). Standardising by a common reference (all areas, the same years) is one affine
transformation for every area, so it sets the index's scale without touching comparisons
between areas.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

REFERENCE_LAST_YEAR = 2015
# the smallest number of reference observations (and of complete area-years) accepted, so a
# mean, a standard deviation and a covariance matrix are estimated from more than a handful
MIN_REFERENCE_ROWS = 10


@dataclass(frozen=True)
class AndersonIndex:
    """An Anderson (2008) summary index and how it was made.

    Attributes
    ----------
    index
        The index per row of the input (NaN where too few components are present), in
        reference-period standard deviations.
    weights
        Each component's weight (row sum of the inverse covariance matrix of the
        standardised, oriented components), normalised to sum to 1.
    reference_mean, reference_sd
        Each component's mean and standard deviation in the reference period (the
        standardisation).
    complete_rows
        How many rows had every component (the rows the covariance matrix comes from).
    correlation
        The correlation matrix of the standardised, oriented components on those rows.
    """

    index: pd.Series
    weights: pd.Series
    reference_mean: pd.Series
    reference_sd: pd.Series
    complete_rows: int
    correlation: pd.DataFrame


def anderson_index(
    components: pd.DataFrame,
    higher_is_better: Mapping[str, bool],
    reference: pd.Series | np.ndarray,
    min_components: int = 1,
) -> AndersonIndex:
    """Compute Anderson's inverse-covariance weighted summary index.

    Parameters
    ----------
    components
        One column per component, one row per unit (area-year); NaN where missing.
    higher_is_better
        Direction of each component; a component where lower is better enters with its sign
        flipped, so that a higher index is always better.
    reference
        Boolean per row: the reference group that sets every scale (means and standard
        deviations of the components, and of the index).
    min_components
        The fewest components an area-year must have for an index value (Anderson: 1); with
        fewer, the value is NaN.

    Returns
    -------
    AndersonIndex
        The index and its weights, standardisation and correlation matrix.

    Raises
    ------
    ValueError
        If there are fewer than two components, a component has fewer than
        :data:`MIN_REFERENCE_ROWS` reference observations or no spread there, fewer than
        :data:`MIN_REFERENCE_ROWS` rows have every component, the covariance matrix is
        singular, or a weight is not positive (a component so correlated with the others that
        it would enter against its own direction: choose components that measure distinct
        constructs).
    """
    names = list(components.columns)
    if len(names) < 2:
        raise ValueError(f"an index needs at least two components, got {names}")
    data = components.to_numpy(dtype=float)
    reference = np.asarray(reference, dtype=bool)
    signs = np.array([1.0 if higher_is_better[name] else -1.0 for name in names])
    means, sds = [], []
    for j, name in enumerate(names):
        column = data[reference, j]
        column = column[np.isfinite(column)]
        if len(column) < MIN_REFERENCE_ROWS:
            raise ValueError(
                f"component {name} has {len(column)} reference observations "
                f"(at least {MIN_REFERENCE_ROWS} needed)"
            )
        sd = column.std(ddof=1)
        if not sd > 0:
            raise ValueError(f"component {name} does not vary in the reference period")
        means.append(column.mean())
        sds.append(sd)
    z = (data - np.array(means)) / np.array(sds) * signs
    present = np.isfinite(z)
    complete = present.all(axis=1)
    if complete.sum() < MIN_REFERENCE_ROWS:
        raise ValueError(
            f"only {int(complete.sum())} rows have every component "
            f"(at least {MIN_REFERENCE_ROWS} needed for the covariance matrix)"
        )
    covariance = np.cov(z[complete], rowvar=False, ddof=1)
    if np.linalg.cond(covariance) > 1e10:
        raise ValueError(f"the components' covariance matrix is singular ({names})")
    raw_weights = np.linalg.solve(covariance, np.ones(len(names)))
    if not (raw_weights > 0).all():
        bad = [n for n, w in zip(names, raw_weights, strict=True) if not w > 0]
        raise ValueError(f"components {bad} get a non-positive weight; they repeat the others")
    filled = np.where(present, z, 0.0)
    weight_sum = present @ raw_weights
    raw_index = (filled @ raw_weights) / np.where(weight_sum > 0, weight_sum, np.nan)
    raw_index[present.sum(axis=1) < max(min_components, 1)] = np.nan
    in_reference = raw_index[reference & np.isfinite(raw_index)]
    if len(in_reference) < MIN_REFERENCE_ROWS:
        raise ValueError(f"only {len(in_reference)} index values in the reference period")
    index = (raw_index - in_reference.mean()) / in_reference.std(ddof=1)
    sd = np.sqrt(np.diag(covariance))
    return AndersonIndex(
        index=pd.Series(index, index=components.index, name="index"),
        weights=pd.Series(raw_weights / raw_weights.sum(), index=names, name="weight"),
        reference_mean=pd.Series(means, index=names, name="reference_mean"),
        reference_sd=pd.Series(sds, index=names, name="reference_sd"),
        complete_rows=int(complete.sum()),
        correlation=pd.DataFrame(covariance / np.outer(sd, sd), index=names, columns=names),
    )


def index_components(registry: pd.DataFrame, domain: str) -> list[str]:
    """Return the components of a domain's index: its ``primary`` indicators, in file order.

    The primary outcomes are chosen at most one per construct (the dataset's README says
    why), so the index does not count one construct twice.
    """
    chosen = registry[(registry["domain"] == domain) & (registry["role"] == "primary")]
    return list(chosen["indicator_id"])


def wide_values(values: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Put indicators' canonical value tables side by side: one row per area and year.

    Parameters
    ----------
    values
        Indicator id to a frame with ``area_code``, ``year`` and ``value`` (numbers, or text
        in the canonical form: a suppression marker or an empty cell becomes NaN).
    """
    columns = {}
    for indicator, frame in values.items():
        numbers = pd.to_numeric(frame["value"], errors="coerce").astype(float)
        keys = pd.MultiIndex.from_arrays(
            [frame["area_code"].astype(str), frame["year"].astype(int)], names=["area_code", "year"]
        )
        columns[indicator] = pd.Series(numbers.to_numpy(), index=keys)
    return pd.DataFrame(columns).sort_index()


def domain_index(
    values: Mapping[str, pd.DataFrame],
    higher_is_better: Mapping[str, bool],
    reference_last_year: int = REFERENCE_LAST_YEAR,
    min_components: int | None = None,
) -> tuple[pd.DataFrame, AndersonIndex]:
    """Build one domain's index from its components' value tables.

    Parameters
    ----------
    values
        Component id to its canonical value table (``area_code``, ``year``, ``value``).
    higher_is_better
        Direction of each component.
    reference_last_year
        The last year of the reference period (see the module's description).
    min_components
        The fewest components an area-year needs; default: half of them, rounded up, so that
        an index value is never one component alone standing for the domain when the
        components' series start in different years.

    Returns
    -------
    tuple
        The index as a canonical value table (``area_code``, ``year``, ``value``; only the
        area-years with enough components), and the :class:`AndersonIndex` behind it.
    """
    wide = wide_values(values)
    if min_components is None:
        min_components = math.ceil(len(wide.columns) / 2)
    reference = wide.index.get_level_values("year") <= reference_last_year
    result = anderson_index(wide, higher_is_better, reference, min_components)
    table = result.index.dropna().rename("value").reset_index()
    return table, result


def describe_weights(result: AndersonIndex) -> str:
    """One line naming each component and its weight, for the registry's notes."""
    parts = [f"{name} {weight:.3f}" for name, weight in result.weights.items()]
    return "Anderson (2008) index of " + ", ".join(parts)
