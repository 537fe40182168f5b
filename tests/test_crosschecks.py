"""Our models against committed results of independent implementations (no R needed).

The inputs and reference numbers are in ``tests/reference/`` with the commands that made them
(``tests/reference/README.md``): R ``lme4`` for ``mixed``, R ``clubSandwich`` for CR2
Bell-McCaffrey, ``wildboottest`` for the wild cluster bootstrap. The tests feed the committed
input files to our functions, not the demo panel, so a change of the demo data or of the
design does not change the comparison; the tolerances are those of the live tests
(``test_mixed_matches_lme4``, ``test_cr2_matches_clubsandwich``,
``test_wcr_matches_wildboottest``), which stay and run where R or wildboottest is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from integration_models.inference.cluster import cr2_bell_mccaffrey, wild_cluster_bootstrap
from integration_models.inference.design import TwfeDesign, build_design
from integration_models.models.base import FitSettings
from integration_models.models.design import TIME_UNIT, WITHIN_AREA_CONTROLS, ModelData
from integration_models.models.mixed import REGRESSORS, fit_mixed

REFERENCE = Path(__file__).resolve().parent / "reference"
TERMS = ("integration_full", "integration_partial")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / name, comment="#")


def _indicators(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["indicator_id"]))


def _twfe_design(indicator: str) -> tuple[TwfeDesign, np.ndarray]:
    """The committed twfe rows of one indicator as our design (controls as in the file)."""
    rows = _read("twfe_input.csv")
    rows = rows[rows["indicator_id"] == indicator].drop(columns="indicator_id")
    columns = list(rows.columns)
    controls = columns[columns.index("integration_partial") + 1 :]
    design = build_design(rows, terms=TERMS, controls=controls)
    assert design.terms == TERMS and design.controls == tuple(controls), indicator
    return design, design.frame["y"].to_numpy(dtype=float)


def _reference_rows(name: str, indicator: str) -> pd.DataFrame:
    reference = _read(name)
    rows = reference[reference["indicator_id"] == indicator]
    return rows.drop(columns="indicator_id").set_index("term")


def test_reference_inputs_are_the_current_designs():
    """The committed inputs carry the regressors of the current models (else regenerate)."""
    mixed = _read("mixed_input.csv")
    assert set(REGRESSORS.values()) <= set(mixed.columns)
    twfe = _read("twfe_input.csv")
    columns = list(twfe.columns)
    controls = tuple(columns[columns.index("integration_partial") + 1 :])
    assert controls == WITHIN_AREA_CONTROLS, (
        "tests/reference/twfe_input.csv has other controls than models.design."
        "WITHIN_AREA_CONTROLS: regenerate the references (tests/reference/README.md)"
    )
    for name, inputs in (
        ("lme4.csv", mixed),
        ("clubsandwich.csv", twfe),
        ("wildboottest.csv", twfe),
    ):
        assert _indicators(_read(name)) == _indicators(inputs), name


@pytest.mark.parametrize("indicator", _indicators(_read("mixed_input.csv")))
def test_mixed_matches_committed_lme4(indicator):
    """Estimates within 0.1% of their SE of lme4's, SEs within 0.1% (as the live test).

    Checked where lme4's fit is not singular (a variance component at its boundary, where
    any two optimisers may stop at different points of a flat criterion). The case
    ``breastfeeding:log`` (outcome on the log scale) is one where L-BFGS alone stopped
    0.13 REML log-likelihood units short of lme4's optimum (estimates 0.07 SE off).
    """
    rows = _read("mixed_input.csv")
    frame = rows[rows["indicator_id"] == indicator].drop(columns="indicator_id")
    frame = frame.reset_index(drop=True)
    # every term is estimable in these rows, so nothing is left out of the model
    assert frame["integration_full"].sum() > 0 and frame["integration_partial"].sum() > 0
    assert frame["covid"].nunique() > 1
    ours = fit_mixed(ModelData(frame, "identity", {}), FitSettings())
    assert ours.converged
    reference = _reference_rows("lme4.csv", indicator).rename(index={"time10": "time"})
    if reference["singular"].astype(str).str.upper().eq("TRUE").any():
        pytest.skip(f"{indicator}: lme4's fit is singular")
    reference = reference[["estimate", "std_error"]].astype(float)
    reference.loc["time"] /= TIME_UNIT  # we report time per year, lme4 per decade
    assert set(ours.rows) == set(REGRESSORS)
    for term, row in ours.rows.items():
        expected = reference.loc[term]
        assert abs(row["estimate"] - expected.estimate) <= 0.001 * row["std_error"], term
        assert row["std_error"] == pytest.approx(expected.std_error, rel=1e-3), term


@pytest.mark.parametrize("indicator", _indicators(_read("twfe_input.csv")))
def test_cr2_matches_committed_clubsandwich(indicator):
    """CR2 SE and Satterthwaite df to 1e-6 relative, p to 1e-5 (as the live test)."""
    design, y = _twfe_design(indicator)
    ours = cr2_bell_mccaffrey(design, y)
    expected = _reference_rows("clubsandwich.csv", indicator).loc[list(design.terms)]
    np.testing.assert_allclose(ours.estimate[0], expected.estimate, rtol=1e-8)
    np.testing.assert_allclose(ours.std_error[0], expected.std_error, rtol=1e-6)
    np.testing.assert_allclose(ours.df[0], expected.df, rtol=1e-6)
    np.testing.assert_allclose(ours.p_value[0], expected.p_value, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize("indicator", _indicators(_read("twfe_input.csv")))
def test_wcr_matches_committed_wildboottest(indicator):
    """t to wildboottest's normal-equations accuracy, p as in the live test.

    wildboottest solves the normal equations, so its t carries a relative error up to about
    ``cond(X)^2 * eps`` (the committed ``cond_x``; tolerance ten times that). With the same
    seed our p-value is wildboottest's to ``2 / B``; with another seed within four Monte Carlo
    SDs of a difference of two shares.
    """
    design, y = _twfe_design(indicator)
    expected = _reference_rows("wildboottest.csv", indicator).loc[list(design.terms)]
    reps = int(expected["reps"].iloc[0])
    seed = int(expected["seed"].iloc[0])
    same_seed = wild_cluster_bootstrap(design, y, reps=reps, seed=seed)
    other_seed = wild_cluster_bootstrap(design, y, reps=reps, seed=seed + 6)
    for j, term in enumerate(design.terms):
        t_ref, p_ref = expected.loc[term, "statistic"], expected.loc[term, "p_value"]
        normal_equations = 10 * expected.loc[term, "cond_x"] ** 2 * np.finfo(float).eps
        assert same_seed.statistic[0, j] == pytest.approx(t_ref, rel=normal_equations), term
        assert same_seed.p_value[0, j] == pytest.approx(p_ref, abs=2 / reps), term
        tol = 4 * np.sqrt(2 * max(p_ref * (1 - p_ref), 0.01) / reps)
        assert abs(other_seed.p_value[0, j] - p_ref) < tol, term
