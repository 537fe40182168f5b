"""Anderson (2008) summary indices, roles and constructs in the registry (issue 13.2).

The index is checked against a separate plain-numpy derivation written here row by row
(tolerance 1e-10: the two differ only in floating-point order), against a two-component case
whose weights are known in closed form (equal, whatever the correlation; tolerance 1e-12), and
by a simulation in which the estimated weights approach the population ones (tolerance 0.02
on weights summing to 1, with 20,000 draws: their sampling SD is about 0.005).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from integration_models.data.indices import (
    MIN_REFERENCE_ROWS,
    anderson_index,
    describe_weights,
    domain_index,
    index_components,
)
from integration_models.data.registry import load_registry, unmeasured_domains
from integration_models.errors import InputError
from integration_models.report.render import _registry as registry_data
from integration_models.report.render import render_section

EXACT = 1e-12
NUMERIC = 1e-10


def _reference_derivation(data, higher, reference, min_components):
    """Anderson's index computed independently: loops over rows, no shared helpers."""
    n, k = data.shape
    z = np.empty_like(data)
    for j in range(k):
        ref = [data[i, j] for i in range(n) if reference[i] and not np.isnan(data[i, j])]
        mean = sum(ref) / len(ref)
        sd = (sum((x - mean) ** 2 for x in ref) / (len(ref) - 1)) ** 0.5
        sign = 1.0 if higher[j] else -1.0
        z[:, j] = sign * (data[:, j] - mean) / sd
    complete = [i for i in range(n) if not np.isnan(z[i]).any()]
    centred = z[complete] - z[complete].mean(axis=0)
    covariance = centred.T @ centred / (len(complete) - 1)
    weights = np.linalg.inv(covariance).sum(axis=1)
    raw = np.full(n, np.nan)
    for i in range(n):
        have = ~np.isnan(z[i])
        if have.sum() >= min_components:
            raw[i] = (weights[have] * z[i, have]).sum() / weights[have].sum()
    ref = [raw[i] for i in range(n) if reference[i] and not np.isnan(raw[i])]
    mean = sum(ref) / len(ref)
    sd = (sum((x - mean) ** 2 for x in ref) / (len(ref) - 1)) ** 0.5
    return (raw - mean) / sd, weights / weights.sum()


def test_matches_an_independent_derivation_with_missing_components():
    rng = np.random.default_rng(13)
    n = 200
    latent = rng.normal(size=n)
    data = np.column_stack(
        [
            50 + 5 * (latent + rng.normal(size=n)),
            10 - 2 * (latent + 1.5 * rng.normal(size=n)),  # lower is better
            300 + 40 * (0.5 * latent + rng.normal(size=n)),
        ]
    )
    data[rng.random(data.shape) < 0.15] = np.nan
    higher = [True, False, True]
    reference = np.arange(n) < 80
    frame = pd.DataFrame(data, columns=["a", "b", "c"])
    result = anderson_index(frame, dict(zip(frame.columns, higher, strict=True)), reference, 2)
    expected, weights = _reference_derivation(data, higher, reference, 2)
    np.testing.assert_allclose(result.index.to_numpy(), expected, atol=NUMERIC, equal_nan=True)
    np.testing.assert_allclose(result.weights.to_numpy(), weights, atol=NUMERIC)
    # orientation: the lower-is-better component correlates positively once flipped
    assert (result.correlation.to_numpy() > 0).all()
    assert result.complete_rows == int((~np.isnan(data)).all(axis=1).sum())
    index = result.index[reference].dropna()
    assert abs(index.mean()) < NUMERIC and abs(index.std(ddof=1) - 1) < NUMERIC


def test_two_components_have_equal_weights_in_closed_form():
    """With standardised components of correlation r the inverse covariance's row sums are
    both 1/(1+r): equal weights; the mean (z1+z2)/2 has SD sqrt((1+r)/2), so the
    restandardised index is (z1+z2)/sqrt(2(1+r))."""
    rng = np.random.default_rng(2008)
    x1 = rng.normal(20, 3, 60)
    x2 = -0.6 * x1 + rng.normal(0, 4, 60)  # lower is better, so positively related once flipped
    frame = pd.DataFrame({"x1": x1, "x2": x2})
    result = anderson_index(frame, {"x1": True, "x2": False}, np.ones(60, bool))
    z1 = (x1 - x1.mean()) / x1.std(ddof=1)
    z2 = -(x2 - x2.mean()) / x2.std(ddof=1)
    r = np.corrcoef(z1, z2)[0, 1]
    np.testing.assert_allclose(result.weights.to_numpy(), [0.5, 0.5], atol=EXACT)
    np.testing.assert_allclose(
        result.index.to_numpy(), (z1 + z2) / np.sqrt(2 * (1 + r)), atol=EXACT
    )
    assert result.correlation.loc["x1", "x2"] == pytest.approx(r, abs=EXACT)


def test_missing_component_renormalises_the_weights():
    """An area-year with one component has raw index = that component's standardised value."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["p", "q"])
    full = anderson_index(frame, {"p": True, "q": True}, np.ones(40, bool))
    frame.loc[39, "q"] = np.nan
    partial = anderson_index(frame, {"p": True, "q": True}, np.ones(40, bool))
    z = (frame["p"] - frame["p"].mean()) / frame["p"].std(ddof=1)
    raw = (
        (frame[["p", "q"]] - frame[["p", "q"]].mean()) / frame[["p", "q"]].std(ddof=1)
    ) @ partial.weights.to_numpy()
    raw[39] = z[39]
    assert partial.index[39] == pytest.approx((raw[39] - raw.mean()) / raw.std(ddof=1), abs=NUMERIC)
    assert np.isfinite(full.index).all()
    needing_both = anderson_index(frame, {"p": True, "q": True}, np.ones(40, bool), 2)
    assert np.isnan(needing_both.index[39]) and np.isfinite(needing_both.index[:39]).all()


def test_simulated_weights_approach_the_population_weights():
    """Standardised components with covariance S get weights proportional to S^-1 1."""
    correlation = np.array([[1.0, 0.6, 0.2], [0.6, 1.0, 0.1], [0.2, 0.1, 1.0]])
    scale = np.array([1.0, 5.0, 0.3])
    draws = np.random.default_rng(7).multivariate_normal(
        [0, 0, 0], correlation * np.outer(scale, scale), size=20_000
    )
    frame = pd.DataFrame(draws, columns=["a", "b", "c"])
    result = anderson_index(frame, dict.fromkeys("abc", True), np.ones(len(frame), bool))
    target = np.linalg.solve(correlation, np.ones(3))
    np.testing.assert_allclose(result.weights.to_numpy(), target / target.sum(), atol=0.02)
    # the most distinct component weighs most; the two correlated ones share theirs
    assert result.weights.idxmax() == "c"


def test_refusals():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    everyone = np.ones(30, bool)
    with pytest.raises(ValueError, match="at least two components"):
        anderson_index(frame[["a"]], {"a": True}, everyone)
    with pytest.raises(ValueError, match="reference observations"):
        anderson_index(frame, {"a": True, "b": True}, np.arange(30) < MIN_REFERENCE_ROWS - 1)
    constant = frame.assign(b=1.0)
    with pytest.raises(ValueError, match="does not vary"):
        anderson_index(constant, {"a": True, "b": True}, everyone)
    # correlations 0.9, 0.7 and 0.4: the inverse's row sums are -2.7, 2.7 and 1.8, so the
    # first component would enter against its own direction
    correlation = np.array([[1, 0.9, 0.7], [0.9, 1, 0.4], [0.7, 0.4, 1]])
    trio = pd.DataFrame(
        np.random.default_rng(5).multivariate_normal(np.zeros(3), correlation, 2000),
        columns=["a", "b", "c"],
    )
    with pytest.raises(ValueError, match="non-positive weight"):
        anderson_index(trio, dict.fromkeys("abc", True), np.ones(2000, bool))


def _values(area_years, numbers):
    return pd.DataFrame(
        {
            "area_code": [a for a, _ in area_years],
            "year": [y for _, y in area_years],
            "value": numbers,
        }
    )


def test_domain_index_standardises_on_the_reference_years_only():
    rng = np.random.default_rng(11)
    keys = [(f"S12{a:06d}", y) for a in range(12) for y in range(2012, 2020)]
    first = rng.normal(60, 5, len(keys))
    second = rng.normal(10, 2, len(keys)) - 0.2 * first
    first_text = [repr(float(v)) for v in first]
    first_text[5] = "*"  # a suppression marker is a missing value
    values = {"first": _values(keys, first_text), "second": _values(keys, second)}
    table, result = domain_index(values, {"first": True, "second": False}, 2015)
    years = np.array([y for _, y in keys])
    reference = years <= 2015
    expected_mean = np.delete(first, 5)[np.delete(reference, 5)].mean()
    assert result.reference_mean["first"] == pytest.approx(expected_mean, abs=NUMERIC)
    assert result.reference_sd["second"] == pytest.approx(
        second[reference].std(ddof=1), abs=NUMERIC
    )
    assert list(table.columns) == ["area_code", "year", "value"]
    assert len(table) == len(keys)  # half of two components: one is enough
    in_reference = table[table["year"] <= 2015]["value"]
    assert abs(in_reference.mean()) < NUMERIC and abs(in_reference.std() - 1) < NUMERIC
    assert describe_weights(result).startswith("Anderson (2008) index of first 0.")


# --- registry: role and construct -----------------------------------------------------------

HEADER = "indicator_id,title,domain,measure,unit,higher_is_better,period,source"


def _registry(tmp_path, header, *rows):
    path = tmp_path / "indicators.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_role_and_construct_default_so_old_registries_load(tmp_path):
    path = _registry(
        tmp_path,
        HEADER,
        "a,A,children,percentage,%,true,calendar,src",
        "b,B,families,rate,per 1000,false,financial,src",
    )
    registry = load_registry(path)
    assert list(registry["role"]) == ["primary", "primary"]
    assert list(registry["construct"]) == ["a", "b"]
    assert unmeasured_domains(registry) == ["workforce"]
    assert index_components(registry, "children") == ["a"]


def test_role_and_construct_are_read_and_checked(tmp_path):
    header = HEADER + ",role,construct"
    path = _registry(
        tmp_path,
        header,
        "a,A,children,percentage,%,true,calendar,src,secondary,attainment",
        "b,B,children,percentage,%,true,calendar,src,,attainment",
        "c,C,workforce,mean,GBP,false,financial,src,context,",
    )
    registry = load_registry(path)
    assert list(registry["role"]) == ["secondary", "primary", "context"]
    assert list(registry["construct"]) == ["attainment", "attainment", "c"]
    # a context indicator is an input: its domain is still unmeasured
    assert unmeasured_domains(registry) == ["families", "workforce"]
    bad = _registry(tmp_path, header, "a,A,children,percentage,%,true,calendar,src,headline,x")
    with pytest.raises(InputError, match=r"indicators\.csv:2: role 'headline' is not one of"):
        load_registry(bad)
    control = _registry(
        tmp_path, header, "a,A,children,percentage,%,true,calendar,src,primary,x\x07y"
    )
    with pytest.raises(InputError, match=r":2: construct holds control character U\+0007"):
        load_registry(control)


def test_report_lists_role_construct_and_unmeasured_domains():
    registry = pd.DataFrame(
        {
            "indicator_id": ["a", "b"],
            "title": ["A <b>", "B"],
            "domain": ["children", "workforce"],
            "measure": ["mean", "mean"],
            "unit": ["SD", "GBP"],
            "higher_is_better": [True, False],
            "period": ["financial", "financial"],
            "role": ["primary", "context"],
            "construct": ["summary index", "cost of care"],
            "source": ["derived", "LGBF"],
        }
    )
    html = render_section("registry", registry_data(registry))
    assert "<th>role</th>" in html and "<th>construct</th>" in html
    assert "summary index" in html and "A &lt;b&gt;" in html
    assert (
        "families: not measured (no council-level families measure in the public sources)" in html
    )
    assert "workforce: not measured (no council-level workforce measure in the public sources)" in (
        html
    )
    synthetic = render_section("registry", registry_data(registry.assign(source="SYNTHETIC demo")))
    assert "in this synthetic dataset" in synthetic
