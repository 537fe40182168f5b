"""HonestDiD: our wrapping against the library's plain calls, the breakdown logic, the window.

Tolerances: bounds and intervals against ``HonestDiD.sensitivity_analysis`` on the same
event study 1e-12 (the same code path, so equal up to float noise); the breakdown value
against the library's own ``breakdown_value`` within the two bisection tolerances
(ours 1e-3, the library's 1e-2); the constructed case to our tolerance 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from integration_models.diagnostics.honest import (
    BREAKDOWN_TOL,
    GAP,
    MBAR_GRID,
    NO_PRE,
    breakdown,
    event_study,
    event_window,
    honest_bounds,
    honest_did,
    restrict,
    treated_counts,
)
from integration_models.models.csdid import did_sample


def test_breakdown_on_a_constructed_case():
    """Interval [1 - 2m, 3 + 2m] excludes zero exactly for m < 0.5."""
    value, note = breakdown(lambda m: (1 - 2 * m, 3 + 2 * m))
    assert value == pytest.approx(0.5, abs=BREAKDOWN_TOL)
    assert value <= 0.5  # a value known to exclude zero
    assert note == ""


def test_breakdown_negative_effect_and_edges():
    value, _ = breakdown(lambda m: (-3 - m, -0.3 + 0.2 * m))  # excludes for m < 1.5
    assert value == pytest.approx(1.5, abs=BREAKDOWN_TOL)
    value, note = breakdown(lambda m: (-1.0, 1.0))
    assert math.isnan(value) and "Mbar = 0" in note
    value, note = breakdown(lambda m: (1.0, 2.0 + m))
    assert value == max(MBAR_GRID) and "beyond the grid" in note
    value, _ = breakdown(lambda m: (-math.inf, math.inf))
    assert math.isnan(value)


def test_event_window_rules():
    counts = {-8: 1, -7: 3, -6: 3, -2: 2, -1: 4, 0: 1, 1: 4, 2: 4, 3: 1, 9: 5}
    # e = -3 missing stops the pre-period; e = 0 with one area is skipped; e = 3 stops it
    assert event_window(counts, 2) == [-2, -1, 1, 2]
    assert event_window({-1: 1, 0: 5}, 2) == []
    assert event_window({-2: 2, -1: 2, 0: 2, 1: 1, 2: 5}, 2) == [-2, -1, 0]


@pytest.fixture(scope="module")
def demo_event_study(demo_panel):
    sample, _ = did_sample(demo_panel, "child_poverty", "identity", "full")
    window = event_window(treated_counts(sample), 2)
    result, method = event_study(sample, 0.05)
    return restrict(result, window), window, method


def test_bounds_equal_the_library_plain_call(demo_event_study):
    from diff_diff import HonestDiD

    result, window, _ = demo_event_study
    rows, value, _, original = honest_bounds(result, MBAR_GRID, 0.05)
    plain = HonestDiD(method="relative_magnitude", alpha=0.05)
    library = plain.sensitivity_analysis(result, M_grid=list(MBAR_GRID))
    for row, bounds, interval in zip(rows, library.bounds, library.robust_cis, strict=True):
        assert row["lower"] == pytest.approx(bounds[0], abs=1e-12)
        assert row["upper"] == pytest.approx(bounds[1], abs=1e-12)
        assert row["conf_low"] == pytest.approx(interval[0], abs=1e-12)
        assert row["conf_high"] == pytest.approx(interval[1], abs=1e-12)
    assert original["estimate"] == pytest.approx(library.original_estimate, abs=1e-12)
    # the library's breakdown: the smallest M whose interval covers zero (None: never)
    library_value = plain.breakdown_value(result, tol=0.01)
    if math.isnan(value):
        assert library_value == 0.0
    else:
        assert value == pytest.approx(library_value, abs=0.01 + BREAKDOWN_TOL)
    # the window restricted the event study the library saw
    fit = plain.fit(result, M=0.0)
    assert sorted(fit.pre_periods_used + fit.post_periods_used) == [e for e in window if e != -1]


def test_not_identified_and_no_pre_periods(demo_panel):
    rows, summary = honest_did(
        demo_panel, "child_poverty", "identity", "partial", min_partnerships=99
    )
    assert rows == [] and summary["status"].startswith("not identified: ")
    assert "at least 99 needed" in summary["status"]
    # no area observed at e <= -2: keep only the years from the first cohort's base year on
    sample_years = demo_panel["year"] >= 2016
    rows, summary = honest_did(
        demo_panel[sample_years], "child_poverty", "identity", "full", exposure=demo_panel
    )
    assert rows == [] and summary["status"] == NO_PRE


def test_demo_bounds_grow_with_mbar(demo_panel):
    rows, summary = honest_did(demo_panel, "child_poverty", "identity", "full")
    assert summary["status"] == "ok" and summary["n_pre"] >= 1 and summary["n_post"] >= 1
    widths = np.array([row["conf_high"] - row["conf_low"] for row in rows])
    assert (np.diff(widths) >= -1e-12).all()
    assert summary["note"] == "" or summary["note"].startswith("interval covers")


def test_missing_event_time_zero_is_not_computable(demo_panel):
    """Partial areas of an academic-year indicator: e = 0 is a transition period."""
    rows, summary = honest_did(demo_panel, "attendance", "identity", "partial")
    assert rows == [] and summary["status"] == GAP
