"""The model data of one indicator: outcome on its scale and the regressors, from the panel.

Column names here are fixed by the package, never taken from data, so nothing from an input
file reaches a formula or a model specification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from integration_models.data.exposure import TRANSITION
from integration_models.data.identifiers import DATA_ZONE_CODE

TERMS = (
    "time",
    "integration_full",
    "integration_partial",
    "deprivation",
    "covid",
    "log_density",
    "deprivation_trend",
)
# The covariates of every within-area model (``twfe``, ``glm``, ``csdid`` through its baseline,
# and the inference, size, power and sensitivity refits of ``twfe``): one definition, here.
# Only the pre-integration deprivation baseline times time, so that areas of different
# baseline deprivation may follow different linear trends. Not the yearly ``deprivation``: in
# the real data its only change within an area is the SIMD 2016 -> 2020 edition step at 2020
# (which coincides with COVID-19 and with Moray's switch, and SIMD 2020 is built partly from
# 2017-19 outcomes). Not ``log_density``: it varies within areas only by interpolation and
# census rebasing, which the area effects cannot absorb but which carry no signal (the
# sensitivity variant ``log_density`` adds it back).
WITHIN_AREA_CONTROLS = ("deprivation_trend",)
BASELINE_COLUMN = "deprivation_baseline"
SCALES = ("identity", "log")
GLM_LINKS = {"count": "log", "rate": "log", "percentage": "logit"}
TIME_CENTRE = 2016
TIME_UNIT = 10.0


@dataclass(frozen=True)
class ModelData:
    """The rows a model is fitted on, and what could not be estimated from them."""

    frame: pd.DataFrame
    scale: str
    not_estimable: dict[str, str]
    measure: str | None = None
    transition_rows: int = 0

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return len(self.frame)

    @property
    def n_areas(self) -> int:
        """Number of areas (council areas or data zones) with at least one observation."""
        return int(self.frame["area_code"].nunique())

    @property
    def cluster_column(self) -> str:
        """The level standard errors are clustered at: the area, or for data zones the partnership.

        Integration is assigned per partnership. At council level an area is (nearly) its
        partnership, so clustering by area is the study's choice; data zones are hundreds per
        partnership, and clustering by data zone would count each as independent evidence.
        """
        first = str(self.frame["area_code"].iloc[0])
        return "hscp_code" if DATA_ZONE_CODE.fullmatch(first) else "area_code"

    @property
    def n_years(self) -> int:
        """Number of distinct years."""
        return int(self.frame["year"].nunique())


class DesignError(ValueError):
    """The indicator's data cannot be modelled as configured (reported, not raised further)."""


class NotApplicableError(DesignError):
    """The model does not apply to this kind of indicator (reported as ``skipped``)."""


def model_data(
    panel: pd.DataFrame, indicator_id: str, scale: str, measure: str | None = None
) -> ModelData:
    """Select one indicator from the panel and build the outcome and regressors.

    The outcome ``y`` is the value on the model scale (``identity``, or natural ``log`` for
    rates and counts). ``time10`` is decades since 2016 (rescaled so MixedLM converges);
    ``integration_full`` and ``integration_partial`` are 0/1 indicators of the area-year's
    category against ``none``; ``log_density`` is the log of persons per km2;
    ``deprivation_trend`` is the area's pre-integration deprivation (``deprivation_baseline``,
    its value in the configured baseline year, attached at ingest) times ``time10``. Rows of a
    ``transition`` period (one that straddles a change of category) are left out of the
    integration contrast, so out of the model rows; :attr:`ModelData.transition_rows` counts
    them.

    ``deprivation_trend`` is missing (NaN) and noted as not estimable when the panel has no
    ``deprivation_baseline`` column or an area of these rows has no baseline (the covariates
    lack the baseline year for it): it is never imputed, and the within-area models are then
    fitted without it, saying so.

    Raises
    ------
    DesignError
        If the indicator has no rows, its outcome is constant, or the log scale meets a value
        that is not positive.
    """
    if scale not in SCALES:
        raise DesignError(f"unknown outcome scale '{scale}' (use one of {', '.join(SCALES)})")
    rows = panel[panel["indicator_id"] == indicator_id]
    if rows.empty:
        raise DesignError(f"indicator '{indicator_id}' has no rows in the panel")
    transition = rows["integration"] == TRANSITION
    rows = rows[~transition]
    if rows.empty:
        raise DesignError(f"indicator '{indicator_id}' has only transition periods")
    value = rows["value"].to_numpy(dtype=float)
    if scale == "log":
        if (value <= 0).any():
            raise DesignError(
                f"log scale needs positive values: {(value <= 0).sum()} value(s) <= 0; set "
                "outcome_scale_overrides to identity for this indicator"
            )
        value = np.log(value)
    if np.ptp(value) == 0:
        raise DesignError(f"outcome is constant ({value[0]:g} in every row): nothing to model")
    frame = pd.DataFrame(
        {
            "area_code": rows["area_code"].to_numpy(),
            "hscp_code": rows["hscp_code"].to_numpy(),
            "year": rows["year"].to_numpy(),
            "period_key": rows.get("period_key", pd.Series("", index=rows.index)).to_numpy(),
            "y": value,
            "time10": (rows["year"].to_numpy() - TIME_CENTRE) / TIME_UNIT,
            "integration_full": (rows["integration"] == "full").to_numpy(dtype=float),
            "integration_partial": (rows["integration"] == "partial").to_numpy(dtype=float),
            "deprivation": rows["deprivation"].to_numpy(dtype=float),
            "covid": rows["covid"].to_numpy(dtype=float),
            "log_density": np.log(rows["population_density"].to_numpy(dtype=float)),
            "deprivation_trend": _deprivation_trend(rows),
            BASELINE_COLUMN: _baseline(rows),
            "value": rows["value"].to_numpy(dtype=float),
            "denominator": rows["denominator"].to_numpy(dtype=float),
            "population_0_17": rows["population_0_17"].to_numpy(dtype=float),
        }
    )
    not_estimable = {}
    for term, category in (("integration_full", "full"), ("integration_partial", "partial")):
        if frame[term].sum() == 0:
            not_estimable[term] = f"not estimable: no observations coded {category}"
    if frame["covid"].nunique() < 2:
        not_estimable["covid"] = "not estimable: COVID-19 share does not vary in these rows"
    if reason := _baseline_missing(rows):
        not_estimable["deprivation_trend"] = reason
    frame = frame.reset_index(drop=True)
    return ModelData(frame, scale, not_estimable, measure, int(transition.sum()))


def _baseline(rows: pd.DataFrame) -> np.ndarray:
    """Return the area's pre-integration deprivation of every row (NaN where unknown)."""
    if BASELINE_COLUMN not in rows.columns:
        return np.full(len(rows), np.nan)
    return rows[BASELINE_COLUMN].to_numpy(dtype=float)


def _deprivation_trend(rows: pd.DataFrame) -> np.ndarray:
    """Pre-integration deprivation baseline times decades since 2016 (NaN where unknown)."""
    return _baseline(rows) * (rows["year"].to_numpy() - TIME_CENTRE) / TIME_UNIT


def _baseline_missing(rows: pd.DataFrame) -> str:
    """Why ``deprivation_trend`` cannot be formed for these rows ("" if it can).

    Names the areas without a baseline, so the gap in ``covariates.csv`` can be found.
    """
    if BASELINE_COLUMN not in rows.columns:
        return (
            "not estimable: the panel has no deprivation_baseline column (build it with the "
            "ingest, which takes it from covariates.csv at deprivation_baseline_year)"
        )
    lacking = rows.loc[rows[BASELINE_COLUMN].isna(), "area_code"].astype(str).unique()
    if lacking.size == 0:
        return ""
    shown = ", ".join(sorted(lacking)[:5]) + (", ..." if lacking.size > 5 else "")
    return (
        f"not estimable: no deprivation in the baseline year (deprivation_baseline_year) for "
        f"{lacking.size} area(s) ({shown}); not imputed, so the within-area models omit it"
    )


def outcome_scale(measure: str, indicator_id: str, by_measure: dict, overrides: dict) -> str:
    """Return the configured outcome scale of an indicator: its override, else its measure's."""
    scale = overrides.get(indicator_id, by_measure[measure])
    if scale not in SCALES:
        raise ValueError(f"unknown outcome scale '{scale}' for {indicator_id}")
    return scale


def indicator_scale(
    registry: pd.DataFrame, indicator_id: str, by_measure: dict, overrides: dict
) -> str:
    """Return the outcome scale (:func:`outcome_scale`) of an indicator of ``registry``."""
    measure = registry.set_index("indicator_id").loc[indicator_id, "measure"]
    return outcome_scale(measure, indicator_id, by_measure, overrides)


def indicator_scales(registry: pd.DataFrame, by_measure: dict, overrides: dict) -> dict[str, str]:
    """Map each indicator of the registry to its outcome scale (:func:`outcome_scale`)."""
    return {
        indicator: outcome_scale(measure, indicator, by_measure, overrides)
        for indicator, measure in zip(registry["indicator_id"], registry["measure"], strict=True)
    }
