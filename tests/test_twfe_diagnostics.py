"""The TWFE diagnostics: dCDH weights against the library and a noise-free simulation, Bacon.

Tolerances: the weights, coefficient and sigma-bar against ``diff_diff.twowayfeweights``
1e-10 (both are least squares on the same design; the observed differences are ~1e-16);
the decomposition identity ``sum w * Delta = beta`` 1e-10 (exact algebra, no noise); our
coefficient against the project's ``fit_twfe`` (linearmodels PanelOLS) 1e-8; the Bacon
weights' sum and the library's own identity 1e-8.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from integration_models.diagnostics import bacon
from integration_models.diagnostics.job import indicator_diagnostics
from integration_models.diagnostics.twfe_weights import (
    NEGATIVE_WEIGHT_LIMIT,
    library_weights,
    twfe_weights,
    verdict,
)
from integration_models.models.base import FitSettings
from integration_models.models.design import ModelData
from integration_models.models.twfe import fit_twfe

YEARS = np.arange(2010, 2024)
# area -> (first full year, last full year or None, first partial year): staggered adoption,
# a switch-off (full then partial, like North Lanarkshire), an early adopter, never-treated
DESIGN = {
    "S12000005": (2012, None, None),
    "S12000006": (2016, None, None),
    "S12000008": (2016, None, None),
    "S12000010": (2017, None, None),
    "S12000011": (2020, None, None),
    "S12000013": (2016, 2018, 2019),
    "S12000014": (None, None, 2016),
    "S12000017": (None, None, 2017),
    "S12000018": (None, None, None),
    "S12000019": (None, None, None),
    "S12000020": (None, None, None),
    "S12000021": (None, None, None),
}


def design_frame(seed: int = 1, noise: float = 0.0, drop: int = 5) -> pd.DataFrame:
    """A panel on the model rows' columns, with heterogeneous effects growing over exposure.

    ``Delta_it`` (column ``delta``) is the full-integration effect of each full area-year:
    larger for later years of exposure and different by area. The partial effect is constant
    (0.7), the deprivation trend's coefficient 0.3. ``drop`` rows are removed at random
    (suppressed cells: an unbalanced panel).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i, (area, (full_on, full_off, partial_on)) in enumerate(DESIGN.items()):
        baseline = rng.normal(10, 2)
        for year in YEARS:
            full = (
                full_on is not None and year >= full_on and (full_off is None or year <= full_off)
            )
            partial = partial_on is not None and year >= partial_on and not full
            delta = (0.5 + 0.4 * (year - full_on) + 0.2 * i) if full else 0.0
            trend = baseline * (year - 2016) / 10
            y = i * 1.5 + 0.2 * (year - 2010) ** 1.2 + 0.3 * trend + delta + 0.7 * partial
            rows.append(
                {
                    "area_code": area,
                    "hscp_code": area.replace("S12", "S37"),
                    "year": int(year),
                    "y": y + noise * rng.normal(),
                    "integration_full": float(full),
                    "integration_partial": float(partial),
                    "deprivation_trend": trend,
                    "delta": delta,
                    "period_key": "financial",
                }
            )
    frame = pd.DataFrame(rows)
    if drop:
        frame = frame.drop(rng.choice(len(frame), size=drop, replace=False))
    return frame.reset_index(drop=True)


def test_plain_weights_equal_the_library():
    frame = design_frame(noise=0.5)
    for term in ("integration_full", "integration_partial"):
        ours = twfe_weights(frame["area_code"], frame["year"], frame[term], frame["y"])
        aligned, library = library_weights(frame, term)
        assert np.abs(aligned["weight"].to_numpy() - ours.weights).max() < 1e-10
        assert abs(library.beta_fe - ours.beta) < 1e-10
        assert abs(library.sigma_fe - ours.sigma_fe) < 1e-8
        assert abs(ours.treated_weights.sum() - 1) < 1e-10


def test_weights_decompose_the_coefficient_without_noise():
    """sum over treated of w * Delta equals the TWFE coefficient (project design, controls)."""
    frame = design_frame(noise=0.0)
    controls = frame[["integration_partial", "deprivation_trend"]].to_numpy()
    weights = twfe_weights(
        frame["area_code"], frame["year"], frame["integration_full"], frame["y"], controls
    )
    decomposed = float(weights.treated_weights @ frame["delta"].to_numpy()[weights.treated])
    assert decomposed == pytest.approx(weights.beta, abs=1e-10)
    # the effects are all positive and growing: some weights are negative, so the
    # coefficient is below the plain mean of the effects
    assert weights.n_negative > 0
    assert weights.negative_sum < 0
    assert weights.beta < frame.loc[frame["integration_full"] > 0, "delta"].mean()


def test_coefficient_equals_the_project_twfe():
    frame = design_frame(noise=0.3)
    data = ModelData(frame.drop(columns="delta"), "identity", {})
    fitted = fit_twfe(data, FitSettings())
    for term, other in (
        ("integration_full", "integration_partial"),
        ("integration_partial", "integration_full"),
    ):
        controls = frame[[other, "deprivation_trend"]].to_numpy()
        weights = twfe_weights(frame["area_code"], frame["year"], frame[term], frame["y"], controls)
        assert weights.beta == pytest.approx(fitted.rows[term]["estimate"], abs=1e-8)


def test_forbidden_comparison_gives_negative_weight():
    """Two cohorts and no never-treated: the early cohort's late years weigh negatively."""
    rows = [
        {"area_code": a, "year": t, "d": float(t >= g), "y": float(t)}
        for a, g in (("A", 2), ("B", 3))
        for t in (1, 2, 3)
    ]
    frame = pd.DataFrame(rows)
    weights = twfe_weights(frame["area_code"], frame["year"], frame["d"], frame["y"])
    negative = frame[weights.treated & (weights.weights < 0)]
    assert list(zip(negative["area_code"], negative["year"], strict=True)) == [("A", 3)]


def test_no_treated_rows_is_an_error():
    with pytest.raises(ValueError, match="no treated"):
        twfe_weights(np.array(["A", "B"]), np.array([1, 1]), np.zeros(2), np.ones(2))


def test_verdict_uses_the_named_limit():
    assert "not to be trusted" in verdict(NEGATIVE_WEIGHT_LIMIT - 0.01, 0.5)
    assert "usable" in verdict(NEGATIVE_WEIGHT_LIMIT + 0.01, 2.0)
    assert verdict(0.0, 3.0).startswith("no negative weights")
    assert verdict(-0.5, 1.0, "not identified: 1 partnership").startswith("not identified")


def test_bacon_on_the_absorbing_balanced_sub_panel():
    frame = design_frame(noise=0.5, drop=0)
    frame = frame.drop(frame.index[(frame["area_code"] == "S12000018") & (frame["year"] == 2013)])
    result = bacon.decompose(frame, "integration_full")
    assert result["applicable"]
    # the switch-off area and the area with a missing year are left out, and said so
    assert "S12000013" in result["note"] and "missing years: 1 area" in result["note"]
    total = sum(item["weight"] for item in result["by_type"])
    assert total == pytest.approx(1.0, abs=1e-8)
    combined = sum(
        item["weight"] * item["estimate"] for item in result["by_type"] if item["weight"] > 0
    )
    assert combined == pytest.approx(result["twfe_estimate"], abs=1e-8)
    # independent check: the decomposed coefficient is the plain TWFE on that sub-panel
    sample, _ = bacon.absorbing_balanced(frame, "integration_full")
    d = (sample["first_treat"] > 0) & (sample["year"] >= sample["first_treat"])
    ours = twfe_weights(sample["area_code"], sample["year"], d, sample["y"])
    assert result["twfe_estimate"] == pytest.approx(ours.beta, abs=1e-8)
    forbidden = {i["comparison"]: i["weight"] for i in result["by_type"]}[bacon.FORBIDDEN]
    assert forbidden > 0  # staggered cohorts: later-vs-earlier comparisons exist


def test_bacon_not_applicable_says_why():
    frame = design_frame(drop=0)
    frame = frame[frame["area_code"].isin(["S12000013", "S12000018", "S12000019"])]
    result = bacon.decompose(frame, "integration_full")
    assert not result["applicable"]
    assert result["reason"].startswith("not applicable") and "S12000013" in result["reason"]


def test_demo_indicator_rows(demo_panel):
    out = indicator_diagnostics(
        demo_panel, "child_poverty", "identity", exposure=demo_panel, names={}, primary=False
    )
    rows = {row["term"]: row for row in out["twfe_diagnostics"]}
    assert set(rows) == {"integration_full", "integration_partial"}
    full = rows["integration_full"]
    assert full["library_difference"] < 1e-10
    assert full["negative_sum"] <= 0 and math.isfinite(full["sigma_fe"])
    assert full["controls"] == "integration_partial, deprivation_trend"
    assert out["honest_did"] == [] and out["honest_did_breakdown"] == []


def test_tables_match_their_schemas(demo_panel, tmp_path):
    """The combined tables, stamped and written, pass their pandera schemas."""
    import json

    from integration_models.diagnostics.tables import TABLE_COLUMNS, combine
    from integration_models.results.schemas import TABLES, read_table
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    parts = []
    for indicator in ("child_poverty", "attendance"):
        rows = indicator_diagnostics(
            demo_panel, indicator, "identity", exposure=demo_panel, names={}, primary=True
        )
        path = tmp_path / f"{indicator}.json"
        clean = {
            name: [
                {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in r.items()
                }
                for r in table
            ]
            for name, table in rows.items()
        }
        path.write_text(json.dumps(clean), encoding="utf-8")
        parts.append(path)
    tables = combine(parts)
    stamp = Stamp("0" * 16, "1" * 16)
    for name, table in tables.items():
        assert name in TABLES and list(table.columns) == TABLE_COLUMNS[name]
        write_csv(stamp.apply(table), tmp_path / f"{name}.csv")  # checks the schema
        assert len(read_table(tmp_path / f"{name}.csv")) == len(table)
    assert len(tables["twfe_diagnostics"]) == 4
    assert set(tables["bacon"]["comparison"]) <= set(bacon.COMPARISON_TYPES)
    breakdown = tables["honest_did_breakdown"]
    assert breakdown["breakdown_text"].str.len().gt(0).all()
