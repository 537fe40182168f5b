"""Sensitivity analyses of the headline twfe integration estimates (results/sensitivity.py).

Checked against integration_models.inference on the same panel (baseline), against linearmodels
PanelOLS and a dense dummy-variable CR2 on subsetted panels (variants), and against an ingest run
with a scenario classification (relabelling). The optional deprivation_alt covariate is read,
validated and reported as not available when absent.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from integration_models.data.ingest import IngestSettings, build_panel, read_covariates
from integration_models.data.reference import code_lookup, load_classification
from integration_models.data.registry import load_registry
from integration_models.errors import InputError
from integration_models.inference.cluster import cr2_bell_mccaffrey
from integration_models.inference.design import build_design, design_from_arrays
from integration_models.inference.multiplicity import adjust_pvalues
from integration_models.inference.table import few_cluster_table
from integration_models.models.design import model_data
from integration_models.plots.base import EMPTY_PANEL_ID
from integration_models.plots.sensitivity import plot_sensitivity
from integration_models.results import sensitivity as sens
from tests.conftest import CLASSIFICATION_DIR, DEMO, SHARED

SETTINGS = IngestSettings(2010, 2023)
SCENARIO_FILES = [
    CLASSIFICATION_DIR / "scenarios" / "confirmed_only.csv",
    CLASSIFICATION_DIR / "scenarios" / "time_invariant.csv",
]
NUMBERS = ["estimate", "std_error", "statistic", "df", "p_value", "conf_low", "conf_high"]
HIGHLAND = "S12000017"
CLACKS_STIRLING = {"S12000005", "S12000030"}


@pytest.fixture(scope="module")
def panel(areas, baseline) -> pd.DataFrame:
    """The demo panel, which carries deprivation_alt from covariates.csv."""
    panel = build_panel(DEMO, areas, baseline, SETTINGS)[0]
    covariates = read_covariates(DEMO / "covariates.csv", code_lookup(areas), SETTINGS)
    merged = panel.merge(covariates, on=["area_code", "year"], suffixes=("", "_cov"))
    np.testing.assert_array_equal(merged["deprivation_alt"], merged["deprivation_alt_cov"])
    return panel


@pytest.fixture(scope="module")
def base_panel(panel) -> pd.DataFrame:
    """The demo panel of a dataset without the optional deprivation_alt column."""
    return panel.drop(columns=["deprivation_alt", "deprivation_alt_baseline"])


@pytest.fixture(scope="module")
def scale_of() -> dict[str, str]:
    registry = load_registry(DEMO / "indicators.csv")
    return {
        i: "log" if m in ("rate", "count") else "identity"
        for i, m in zip(registry["indicator_id"], registry["measure"], strict=True)
    }


@pytest.fixture(scope="module")
def scenarios(areas) -> dict[str, pd.DataFrame]:
    return sens.load_scenarios(SCENARIO_FILES, areas)


@pytest.fixture(scope="module")
def table(panel, scale_of, scenarios) -> pd.DataFrame:
    return sens.sensitivity_table(panel, list(scale_of), scale_of, scenarios=scenarios)


def _rows(table: pd.DataFrame, variant: str) -> pd.DataFrame:
    return table.loc[table["variant"] == variant].set_index(["indicator_id", "term"])


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def test_baseline_equals_inference_cr2_and_crv1(table, panel, scale_of):
    reference = few_cluster_table(panel, list(scale_of), scale_of, reps=19, seed=1)
    cr2 = reference.loc[reference["inference"] == "CR2 Bell-McCaffrey"]
    cr2 = cr2.set_index(["indicator_id", "term"])
    crv = reference.loc[reference["inference"] == "CRV1 t(G-1)"].set_index(["indicator_id", "term"])
    ours = _rows(table, "baseline").loc[cr2.index]
    assert len(ours) == 50 and ours["estimate"].notna().all()
    for column in ["estimate", "std_error", "p_value", "conf_low", "conf_high"]:
        np.testing.assert_allclose(ours[column], cr2[column], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours["estimate"], crv.loc[cr2.index, "estimate"], rtol=1e-8)
    assert (ours["n_obs"] == cr2["n_obs"]).all() and (ours["n_areas"] == cr2["n_areas"]).all()
    # CR2 is not CRV1: the Bell-McCaffrey df are far below G - 1 = 31 with few treated areas
    assert (ours["df"] < 25).all()
    for term in sens.TERMS_OF_INTEREST:
        block = _rows(table, "baseline").xs(term, level="term")
        np.testing.assert_allclose(
            block["p_adjusted"], adjust_pvalues(block["p_value"].to_numpy()), rtol=1e-12
        )


def _dense_cr2(frame: pd.DataFrame, regressors: list[str], term: str) -> tuple[float, float]:
    """CR2 by the textbook formula on the full dummy-variable matrix (no shortcuts)."""
    frame = frame.sort_values(["area_code", "year"]).reset_index(drop=True)
    areas = pd.get_dummies(frame["area_code"], dtype=float).to_numpy()
    years = pd.get_dummies(frame["year"], dtype=float).to_numpy()[:, 1:]
    x = np.column_stack([frame[regressors].to_numpy(dtype=float), areas, years])
    y = frame["y"].to_numpy(dtype=float)
    bread = np.linalg.pinv(x.T @ x)
    beta = bread @ x.T @ y
    resid = y - x @ beta
    hat = x @ bread @ x.T
    meat = np.zeros_like(bread)
    for code in frame["area_code"].unique():
        rows = np.flatnonzero(frame["area_code"].to_numpy() == code)
        values, vectors = np.linalg.eigh(np.eye(len(rows)) - hat[np.ix_(rows, rows)])
        inv = np.where(values > 1e-10, 1 / np.sqrt(np.clip(values, 1e-10, None)), 0.0)
        adjust = (vectors * inv) @ vectors.T
        score = x[rows].T @ adjust @ resid[rows]
        meat += np.outer(score, score)
    j = regressors.index(term)
    return float(beta[j]), float(np.sqrt((bread @ meat @ bread)[j, j]))


def _subset(panel, *, areas=(), covid=False, baseline="deprivation_baseline"):
    out = panel.loc[~panel["area_code"].isin(areas) & ~((panel["covid"] >= 0.5) & covid)]
    return out.assign(deprivation_baseline=out[baseline])


TREND = ["deprivation_trend"]  # the headline twfe's control: pre-integration deprivation x time


@pytest.mark.parametrize(
    ("variant", "subset", "controls"),
    [
        ("drop_highland", {"areas": [HIGHLAND]}, TREND),
        ("no_covid", {"covid": True}, TREND),
        ("alt_deprivation", {"baseline": "deprivation_alt_baseline"}, TREND),
        ("drop_S37000005", {"areas": sorted(CLACKS_STIRLING)}, TREND),
        ("log_density", {}, [*TREND, "log_density"]),
        ("no_covariates", {}, []),
    ],
)
def test_variant_equals_panelols_and_dense_cr2(table, panel, scale_of, variant, subset, controls):
    from linearmodels.panel import PanelOLS

    rows = _rows(table, variant)
    sub = _subset(panel, **subset)
    for indicator in ["lac_rate", "attendance", "offence_referrals", "parenting_programmes"]:
        data = model_data(sub, indicator, scale_of[indicator])
        frame = data.frame
        regressors = ["integration_full", "integration_partial", *controls]
        indexed = frame.set_index(["area_code", "year"])
        fit = PanelOLS(
            indexed["y"], indexed[regressors], entity_effects=True, time_effects=True
        ).fit(cov_type="clustered", cluster_entity=True)
        for term in sens.TERMS_OF_INTEREST:
            row = rows.loc[(indicator, term)]
            np.testing.assert_allclose(row["estimate"], fit.params[term], rtol=1e-8, atol=1e-10)
            estimate, se = _dense_cr2(frame, regressors, term)
            np.testing.assert_allclose(row["estimate"], estimate, rtol=1e-8, atol=1e-10)
            if np.isfinite(row["std_error"]):
                np.testing.assert_allclose(row["std_error"], se, rtol=1e-7)
            # and the df of inference.design's own design on the same rows
            design = build_design(frame, controls=controls)
            y = frame.sort_values(["area_code", "year"], kind="stable")["y"].to_numpy()
            reference = cr2_bell_mccaffrey(design, y)
            if np.isfinite(row["df"]):
                j = design.terms.index(term)
                np.testing.assert_allclose(row["df"], reference.df[0, j], rtol=1e-8)
        assert rows.loc[(indicator, "integration_full"), "n_obs"] == len(frame)


def test_design_projections_equal_dense_dummy_design(panel):
    """The closed-form design against area and year dummies with one SVD (1e-9)."""
    frame = model_data(panel, "attendance", "identity").frame
    frame = frame.loc[frame["area_code"] != "S12000036"]  # unbalanced: one area fewer
    design = build_design(frame)
    rows = design.frame
    dummies = pd.get_dummies(rows[["area_code", "year"]].astype(str)).to_numpy(dtype=float)
    w = np.column_stack([dummies, rows[["deprivation_trend"]].to_numpy(dtype=float)])
    full = np.column_stack([w, design.treat])
    y = frame.sort_values(["area_code", "year"], kind="stable")["y"].to_numpy()

    def projection(matrix: np.ndarray) -> np.ndarray:
        u, s, _ = np.linalg.svd(matrix, full_matrices=False)
        u = u[:, s > 1e-10 * s[0]]
        return u @ (u.T @ y)

    assert design.terms == ("integration_full", "integration_partial")
    assert design.controls == ("deprivation_trend",)
    assert design.n_params == np.linalg.matrix_rank(full)
    np.testing.assert_allclose(design.basis_w @ (design.basis_w.T @ y), projection(w), atol=1e-9)
    np.testing.assert_allclose(
        design.basis_full @ (design.basis_full.T @ y), projection(full), atol=1e-9
    )
    codes = pd.factorize(rows["area_code"], sort=True)[0]
    np.testing.assert_array_equal(design.cluster, codes)
    np.testing.assert_array_equal(design.bounds, np.searchsorted(codes, np.arange(31 + 1)))


# --------------------------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------------------------


def test_leave_one_out_covers_every_partnership(table, panel, areas):
    variants = {v.variant: v for v in sens.build_variants(panel)}
    expected = {f"drop_{code}" for code in areas["hscp_code"]}
    assert len(expected) == 31
    assert {v for v in variants if v.startswith("drop_S")} == expected
    assert variants["drop_S37000005"].drop_areas == CLACKS_STIRLING
    loo = [v for v in variants.values() if v.kind == "leave_one_out"]
    assert all(len(v.drop_areas) == 1 for v in loo if v.variant != "drop_S37000005")
    dropped = set().union(*(v.drop_areas for v in loo))
    assert dropped == set(areas["area_code"])
    n_areas = table.loc[table["kind"] == "leave_one_out"].groupby("variant")["n_areas"].max()
    assert n_areas["drop_S37000005"] == 30
    assert (n_areas.drop("drop_S37000005") == 31).all()
    assert variants["drop_highland"].drop_areas == {HIGHLAND}
    highland = _rows(table, "drop_highland")
    baseline = _rows(table, "baseline")
    full = ("lac_rate", "integration_full")
    assert highland.loc[full, "n_treated_areas"] == baseline.loc[full, "n_treated_areas"] - 1


def test_no_covid_drops_the_covid_periods(table, panel):
    variant = next(v for v in sens.build_variants(panel) if v.variant == "no_covid")
    assert variant.drop_covid and not variant.drop_years
    rows = _rows(table, "no_covid")
    baseline = _rows(table, "baseline")
    modelled = panel.loc[panel["integration"] != "transition"]
    lost = modelled.loc[modelled["covid"] >= 0.5].groupby("indicator_id").size()
    # financial 2019-20 (9 of 366 days in the window) is kept; academic 2021-22 is not
    kept = sens._variant_arrays(sens.indicator_rows(panel, "placement_moves", "identity"), variant)
    assert 2020 in kept["year"] and 2021 not in kept["year"]
    assert (
        2022
        not in sens._variant_arrays(sens.indicator_rows(panel, "attendance", "identity"), variant)[
            "year"
        ]
    )
    for indicator, count in lost.items():
        key = (indicator, "integration_full")
        assert rows.loc[key, "n_obs"] == baseline.loc[key, "n_obs"] - count


def test_scenario_relabelling_matches_ingest(base_panel, areas, scale_of, scenarios):
    path = CLASSIFICATION_DIR / "scenarios" / "time_invariant.csv"
    ingested = build_panel(DEMO, areas, load_classification(path, areas), SETTINGS)[0]
    relabelled = sens.relabel_integration(
        base_panel, sens.scenario_integration(scenarios["time_invariant"], base_panel)
    )
    key = ["indicator_id", "area_code", "year"]
    pd.testing.assert_series_equal(
        relabelled.sort_values(key)["integration"].reset_index(drop=True),
        ingested.sort_values(key)["integration"].reset_index(drop=True),
        check_dtype=False,
    )
    assert (relabelled["integration"] != base_panel["integration"]).any()
    ids = ["lac_rate", "attendance", "placement_moves"]
    ours = sens.sensitivity_table(base_panel, ids, scale_of, scenarios=scenarios)
    direct = sens.sensitivity_table(ingested, ids, scale_of)
    a = _rows(ours, "classification_time_invariant")
    b = _rows(direct, "baseline").loc[a.index]
    for column in [*NUMBERS, "p_adjusted"]:
        np.testing.assert_allclose(a[column], b[column], rtol=1e-10, equal_nan=True)
    assert (a["note"] == b["note"]).all()


def test_scenario_input_checks(base_panel):
    with pytest.raises(ValueError, match="a scenario needs columns"):
        sens.scenario_integration(pd.DataFrame({"x": [1]}), base_panel)
    partial = base_panel[["area_code", "year"]].drop_duplicates().assign(integration="none")
    with pytest.raises(ValueError, match="no integration category for area"):
        sens.relabel_integration(base_panel, partial.iloc[5:])
    with pytest.raises(ValueError, match="unknown integration categories: joint"):
        sens.scenario_integration(partial.assign(integration="joint"), base_panel)


def test_missing_deprivation_alt_is_reported_not_dropped(base_panel, scale_of):
    assert "deprivation_alt" not in base_panel.columns
    ids = ["lac_rate", "attendance"]
    table = sens.sensitivity_table(base_panel, ids, scale_of)
    alt = table.loc[table["variant"] == "alt_deprivation"]
    assert len(alt) == 4
    assert alt["estimate"].isna().all() and (alt["conclusion"] == "n/a").all()
    assert alt["note"].str.startswith("not available in this dataset").all()
    assert alt["changed"].isna().all()
    summary = sens.conclusion_summary(table)
    text = sens.describe_sensitivity(summary)
    assert "Not run: alternative deprivation measure" in text
    assert "not available in this dataset" in text


def test_alternative_deprivation_changes_the_control(table):
    alt, base = _rows(table, "alt_deprivation"), _rows(table, "baseline")
    assert alt["estimate"].notna().all()
    assert not np.allclose(alt["estimate"], base["estimate"])
    assert (alt["n_obs"] == base["n_obs"]).all()


def test_one_identifying_partnership_gives_estimate_without_inference(panel, scale_of):
    # two partial partnerships left (East Lothian, North Lanarkshire after April 2019)
    two = panel.loc[~panel["hscp_code"].isin(["S37000018", "S37000028", "S37000032"])]
    partial_areas = two.loc[two["integration"] == "partial", "hscp_code"].unique()
    assert sorted(partial_areas) == ["S37000010", "S37000035"]
    table = sens.sensitivity_table(two, ["attendance", "lac_rate"], scale_of)
    rows = _rows(table, "drop_S37000010").xs("integration_partial", level="term")
    assert (rows["n_treated_areas"] == 1).all()
    assert (rows["n_identifying_areas"] == 1).all()
    assert rows["estimate"].notna().all()
    assert rows[["std_error", "p_value", "conf_low", "conf_high"]].isna().all().all()
    assert (rows["conclusion"] == "n/a").all()
    assert rows["note"].str.startswith("not identified: 1 partnership(s) change status").all()


def test_no_partial_area_gives_a_note(table):
    rows = _rows(table, "classification_confirmed_only").xs("integration_partial", level="term")
    assert rows["estimate"].isna().all()
    assert (rows["note"] == "not estimable: no observations coded partial in this sample").all()
    assert (rows["n_treated_areas"] == 0).all()


# --------------------------------------------------------------------------------------------
# Conclusions, summary, words
# --------------------------------------------------------------------------------------------


def test_conclusions_and_changes(table):
    assert list(table.columns) == sens.TABLE_COLUMNS
    tested = table.loc[table["conclusion"] != "n/a"]
    significant = tested["p_adjusted"] < 0.05
    assert (
        tested.loc[significant, "conclusion"]
        == np.where(tested.loc[significant, "estimate"] > 0, "+", "-")
    ).all()
    assert (tested.loc[~significant, "conclusion"] == "ns").all()
    base = _rows(table, "baseline")["conclusion"]
    rows = table.loc[table["changed"].notna()]
    expected = (
        rows["conclusion"].to_numpy()
        != base.loc[list(zip(rows["indicator_id"], rows["term"], strict=True))].to_numpy()
    )
    assert (rows["changed"].to_numpy(dtype=bool) == expected).all()
    assert not _rows(table, "baseline")["changed"].any()
    for variant in ["drop_highland", "classification_time_invariant"]:
        block = _rows(table, variant).xs("integration_full", level="term")
        np.testing.assert_allclose(block["p_adjusted"], adjust_pvalues(block["p_value"]))


def test_summary_counts(table):
    summary = sens.conclusion_summary(table)
    assert list(summary.columns) == sens.SUMMARY_COLUMNS
    assert len(summary) == 2 * table["variant"].nunique()
    for row in summary.itertuples(index=False):
        block = table.loc[(table["variant"] == row.variant) & (table["term"] == row.term)]
        assert row.n_significant == block["conclusion"].isin(["+", "-"]).sum()
        assert row.n_changed == block["changed"].fillna(False).astype(bool).sum()
        assert row.n_changed == (row.changes.count(" -> ") if row.changes else 0)


def _toy(changed: bool) -> pd.DataFrame:
    """A two-variant, two-indicator table with known conclusions."""
    rows = []
    for variant, kind in [("baseline", "baseline"), ("no_covid", "covid")]:
        for indicator, p in [("a", 0.001), ("b", 0.5)]:
            for term in sens.TERMS_OF_INTEREST:
                moved = changed and variant == "no_covid" and indicator == "a"
                rows.append(
                    {
                        "variant": variant,
                        "kind": kind,
                        "description": "COVID-19 years excluded" if kind == "covid" else "base",
                        "indicator_id": indicator,
                        "term": term,
                        "estimate": 1.0,
                        "p_value": 0.6 if moved else p,
                        "note": "",
                    }
                )
    table = pd.DataFrame(rows).reindex(columns=sens.TABLE_COLUMNS)
    return sens._add_conclusions(table, 0.05)


def test_describe_sensitivity_sentences():
    unchanged = sens.describe_sensitivity(sens.conclusion_summary(_toy(False)))
    assert "No conclusion changes under any of the 1 variants." in unchanged
    assert "full integration for 1 and partial integration for 1 of 2 indicators" in unchanged
    changed = sens.describe_sensitivity(sens.conclusion_summary(_toy(True)))
    assert (
        "Under COVID-19 years excluded, 2 conclusions change: full integration: a (+ -> ns); "
        "partial integration: a (+ -> ns)." in changed
    )
    assert "No conclusion changes under the other 0 variants." in changed


def test_describe_on_demo(table):
    text = sens.describe_sensitivity(sens.conclusion_summary(table))
    assert text.startswith("At baseline (twfe, CR2 Bell-McCaffrey")
    assert "Partial integration could not be tested for every indicator" in text


def test_deterministic(table, panel, scale_of, scenarios):
    again = sens.sensitivity_table(panel, list(scale_of), scale_of, scenarios=scenarios)
    pd.testing.assert_frame_equal(table, again, check_exact=True)


def test_figure_written_and_deterministic(table, tmp_path):
    registry = load_registry(DEMO / "indicators.csv")
    first = plot_sensitivity(table, registry, tmp_path / "a" / "sensitivity")
    second = plot_sensitivity(table, registry, tmp_path / "b" / "sensitivity")
    assert [p.suffix for p in first] == [".png", ".svg"]
    assert all(p.stat().st_size > 10_000 for p in first)
    assert first[1].read_bytes() == second[1].read_bytes()
    with pytest.raises(ValueError, match="missing from the registry: lac_rate"):
        plot_sensitivity(table, registry.iloc[1:], tmp_path / "c")


# --------------------------------------------------------------------------------------------
# The optional deprivation_alt covariate
# --------------------------------------------------------------------------------------------


def _covariates_with(dataset, edit) -> None:
    path = dataset / "covariates.csv"
    frame = edit(pd.read_csv(path, dtype=str, keep_default_na=False))
    frame.to_csv(path, index=False, lineterminator="\n")


def test_demo_writes_a_correlated_alternative():
    covariates = pd.read_csv(DEMO / "covariates.csv")
    assert covariates["deprivation_alt"].between(0, 100).all()
    correlation = covariates["deprivation"].corr(covariates["deprivation_alt"])
    assert 0.8 < correlation < 0.999
    assert "deprivation_alt" in (DEMO / "README.md").read_text()


def test_read_covariates_optional_column(dataset, areas):
    codes = code_lookup(areas)
    assert "deprivation_alt" in read_covariates(dataset / "covariates.csv", codes, SETTINGS)
    _covariates_with(dataset, lambda f: f.drop(columns="deprivation_alt"))
    assert "deprivation_alt" not in read_covariates(dataset / "covariates.csv", codes, SETTINGS)
    shutil.copy2(DEMO / "covariates.csv", dataset / "covariates.csv")
    _covariates_with(dataset, lambda f: f.assign(deprivation_alt=""))
    assert "deprivation_alt" not in read_covariates(dataset / "covariates.csv", codes, SETTINGS)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("140", r"covariates\.csv:6: deprivation_alt 140 out of range"),
        ("-1", r"covariates\.csv:6: deprivation_alt -1 out of range"),
        ("", r"covariates\.csv:6: deprivation_alt is missing"),
        ("abc", r"covariates\.csv:6: .*deprivation_alt"),
    ],
)
def test_read_covariates_rejects_bad_alternative(dataset, areas, cell, message):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, "deprivation_alt"] = cell
        return frame

    _covariates_with(dataset, edit)
    with pytest.raises(InputError, match=message):
        read_covariates(dataset / "covariates.csv", code_lookup(areas), SETTINGS)


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"real data not found at {SHARED}")
def test_real_build_writes_the_other_measure(areas):
    from integration_models.data.covariates import build_covariates
    from integration_models.data.scotland import BuildSettings, _add_alternative_deprivation

    settings = BuildSettings(first_year=2014, last_year=2018)
    covariates, flags = build_covariates(SHARED, areas, 2014, 2018, 2020, "children_simd")
    income, _ = build_covariates(SHARED, areas, 2014, 2018, 2020, "income")
    out, out_flags = _add_alternative_deprivation(SHARED, areas, settings, covariates, flags)
    np.testing.assert_allclose(out["deprivation_alt"], income["deprivation"])
    np.testing.assert_array_equal(out["deprivation"], covariates["deprivation"])
    assert set(out_flags.loc[out_flags["column"] == "deprivation_alt", "flag"]) == {
        "interpolated",
        "extrapolated: held at 2017",
    }


def test_null_simulation_justifies_the_one_treated_area_guard(panel):
    """iid null outcomes on the demo design: CR2-BM holds its size with 13 treated areas,
    and rejects far too often with one, which is why that case gets no inference."""
    rng = np.random.default_rng(20240601)
    rows = sens.indicator_rows(panel, "attendance", "identity")
    rates = {}
    # East Lothian the one partial area once Midlothian, South Lanarkshire, Fife and North
    # Lanarkshire are left out
    one_partial = frozenset({"S12000019", "S12000029", "S12000047", "S12000050"})
    for name, drop in [("baseline", frozenset()), ("one_partial", one_partial)]:
        arrays = sens._variant_arrays(rows, sens.Variant(name, "x", "x", drop_areas=drop))
        design = design_from_arrays(
            arrays["area"], arrays["year"], arrays["treat"], arrays["controls"]
        )
        result = cr2_bell_mccaffrey(design, rng.normal(size=(design.n_obs, 2000)))
        for j, term in enumerate(design.terms):
            treated = sens._treated_areas(arrays, term)
            rates[(name, term)] = (treated, float((result.p_value[:, j] < 0.05).mean()))
    assert rates[("baseline", "integration_full")][0] == 13
    assert 0.03 < rates[("baseline", "integration_full")][1] < 0.07  # 2,000 draws: SE 0.005
    assert rates[("one_partial", "integration_partial")][0] == 1
    assert rates[("one_partial", "integration_partial")][1] > 0.3


# --------------------------------------------------------------------------------------------
# Clustering, trends, weights, anticipation; the plan's test
# --------------------------------------------------------------------------------------------


def _dummy_ols(frame: pd.DataFrame, regressors: list[str], weights=None) -> pd.Series:
    """(W)LS of y on the regressors plus area and year dummies (statsmodels, pinv)."""
    import statsmodels.api as sm

    dummies = pd.get_dummies(frame[["area_code", "year"]].astype(str), drop_first=True)
    x = pd.concat([frame[regressors], dummies.astype(float)], axis=1).assign(const=1.0)
    if weights is None:
        return sm.OLS(frame["y"], x).fit().params
    return sm.WLS(frame["y"], x, weights=weights).fit().params


def test_health_board_variant_has_14_clusters_and_the_baseline_estimates(table, panel):
    boards = _rows(table, "cluster_health_board")
    base = _rows(table, "baseline")
    assert panel["health_board_code"].nunique() == 14
    assert (boards["n_clusters"] == 14).all()
    assert (base["n_clusters"] == base["n_areas"]).all() and (base["n_areas"] == 32).any()
    np.testing.assert_allclose(boards["estimate"], base["estimate"], rtol=1e-10)
    # fewer, larger clusters: other standard errors (the same rows and estimates)
    tested = boards["std_error"].notna() & base["std_error"].notna()
    assert not np.allclose(boards.loc[tested, "std_error"], base.loc[tested, "std_error"])


def test_area_trends_and_weights_equal_statsmodels(table, panel, scale_of):
    trends, weighted = _rows(table, "area_trends"), _rows(table, "population_weighted")
    for indicator in ["lac_rate", "attendance"]:
        frame = model_data(panel, indicator, scale_of[indicator]).frame
        terms = list(sens.TERMS_OF_INTEREST)
        own = {
            f"trend_{a}": frame["time10"] * (frame["area_code"] == a)
            for a in frame["area_code"].unique()
        }
        with_trends = frame.assign(**own)
        params = _dummy_ols(with_trends, [*terms, *own])
        wls = _dummy_ols(frame, [*terms, "deprivation_trend"], frame["population_0_17"])
        for term in terms:
            assert trends.loc[(indicator, term), "estimate"] == pytest.approx(params[term])
            assert weighted.loc[(indicator, term), "estimate"] == pytest.approx(wls[term])


def test_anticipation_moves_exposure_one_year_earlier(table, panel, scale_of):
    population = panel[["area_code", "year", "period_key", "integration"]]
    moved = sens.anticipated_integration(population).set_index(["area_code", "period_key", "year"])[
        "integration"
    ]
    own = population.drop_duplicates().set_index(["area_code", "period_key", "year"])
    own = own["integration"]
    later = own.rename(index=lambda y: y - 1 if isinstance(y, int | np.integer) else y, level=2)
    inner = moved.index.intersection(later.index)
    assert (moved.loc[inner] == later.loc[inner]).all()
    last = moved.index.get_level_values("year") == population["year"].max()
    assert (moved[last] == own.loc[moved.index[last]]).all()
    shifted = sens.relabel_integration(panel, sens.anticipated_integration(population))
    rows = _rows(table, "anticipation")
    for indicator in ["lac_rate", "attendance"]:
        frame = model_data(shifted, indicator, scale_of[indicator]).frame
        params = _dummy_ols(frame, [*sens.TERMS_OF_INTEREST, "deprivation_trend"])
        for term in sens.TERMS_OF_INTEREST:
            assert rows.loc[(indicator, term), "estimate"] == pytest.approx(params[term])


def test_conclusions_use_the_plans_test(panel, scale_of):
    """With the committed plan (wcr) every p-value is the wild bootstrap's, labelled so."""
    import dataclasses

    from integration_models.inference.cluster import crv1, webb_weights, wild_cluster_bootstrap
    from integration_models.inference.table import INFERENCE_LABELS
    from integration_models.plan.analysis_plan import load_plan
    from tests.conftest import REPO

    plan = load_plan(REPO / "analysis_plan.yaml")
    assert plan.test == "wcr"
    ids = ["attendance", "lac_rate"]
    table = sens.sensitivity_table(panel, ids, scale_of, plan=plan, seed=7, reps=199)
    label = INFERENCE_LABELS["wcr"].format(reps=199)
    summary = sens.conclusion_summary(table)
    refits = summary["kind"] != "csdid_cells"  # csdid's own bootstrap (test_csdid_variant_*)
    assert (summary.loc[refits, "test"] == label).all()
    assert table.loc[table["kind"] != "csdid_cells", "inference"].str.startswith(label).all()
    assert sens.describe_sensitivity(summary).startswith(f"At baseline (twfe, {label}")
    base = _rows(table, "baseline")
    crv1_base = dataclasses.replace(plan, test="crv1")
    crv1_table = sens.sensitivity_table(panel, ids, scale_of, plan=crv1_base)
    for indicator in ids:
        frame = model_data(panel, indicator, scale_of[indicator]).frame
        design = build_design(frame)
        y = frame.sort_values(["area_code", "year"], kind="stable")["y"].to_numpy()
        weights = webb_weights(design.n_clusters, 199, 7)
        wcr = wild_cluster_bootstrap(design, y, weights=weights)
        t = crv1(design, y)
        for j, term in enumerate(design.terms):
            assert base.loc[(indicator, term), "p_value"] == pytest.approx(wcr.p_value[0, j])
            assert base.loc[(indicator, term), "statistic"] == pytest.approx(wcr.statistic[0, j])
            row = _rows(crv1_table, "baseline").loc[(indicator, term)]
            assert row["p_value"] == pytest.approx(t.p_value[0, j])
            # the estimate, SE and interval stay CR2's, whatever the test
            assert row["std_error"] == pytest.approx(base.loc[(indicator, term), "std_error"])


def test_a_conclusion_lost_to_a_variant_counts_as_a_change():
    """``+`` at baseline, not estimable under a variant: changed, and listed as ``+ -> n/a``."""
    rows = []
    for variant, kind, note in [
        ("baseline", "baseline", ""),
        ("drop_S37000001", "leave_one_out", "not estimable: no area changes to or from full"),
        ("alt_deprivation", "deprivation", sens.NOT_AVAILABLE),
    ]:
        lost = variant != "baseline"
        for indicator, p in [("a", 0.001), ("b", 0.5)]:
            rows.append(
                {
                    "variant": variant,
                    "kind": kind,
                    "description": variant,
                    "indicator_id": indicator,
                    "term": "integration_full",
                    "estimate": np.nan if lost else 1.0,
                    "p_value": np.nan if lost else p,
                    "inference": sens.INFERENCE,
                    "note": note,
                }
            )
    table = sens._add_conclusions(pd.DataFrame(rows).reindex(columns=sens.TABLE_COLUMNS), 0.05)
    loo = _rows(table, "drop_S37000001")
    assert loo["changed"].tolist() == [True, True]  # + -> n/a and ns -> n/a
    # a variant this dataset cannot run is not a change
    assert _rows(table, "alt_deprivation")["changed"].isna().all()
    summary = sens.conclusion_summary(table).set_index("variant")
    assert summary.loc["drop_S37000001", "n_changed"] == 2
    assert summary.loc["drop_S37000001", "changes"] == "a (+ -> n/a); b (ns -> n/a)"
    assert summary.loc["alt_deprivation", "n_changed"] == 0
    text = sens.describe_sensitivity(summary.reset_index())
    assert "conclusions change in 1: a, full integration (+ -> n/a)" in text


def test_figure_panel_without_estimates_says_why(table, tmp_path):
    """A term no variant estimates gets a sentence with the commonest reason, not empty axes."""
    registry = load_registry(DEMO / "indicators.csv")
    partial = table["term"] == "integration_partial"
    blanked = table.assign(
        estimate=table["estimate"].where(~partial),
        note=table["note"].where(~partial, "not estimable: no observations coded partial"),
    )
    paths = plot_sensitivity(blanked, registry, tmp_path / "sensitivity")
    svg = paths[1].read_text(encoding="utf-8")
    assert svg.count(f'id="{EMPTY_PANEL_ID}') == 1
    assert "commonest reason: not estimable: no" in svg.replace("\n", " ")


def test_adjustment_is_within_the_plans_families():
    """Benjamini-Hochberg counts only the family's own indicators (primary apart from secondary).

    Four p-values 0.01, 0.02, 0.03, 0.04: together BH multiplies the smallest by 4 (0.04); in
    two families of two ({a, c} primary, {b, d} secondary) a's adjusted p is 0.01 * 2 / 1 = 0.02
    capped below by c's 0.03 * 2 / 2 = 0.03, i.e. 0.02; b's 0.04, d's 0.04.
    """
    rows = [
        {
            "variant": "baseline",
            "kind": "baseline",
            "description": "baseline",
            "indicator_id": indicator,
            "term": "integration_full",
            "estimate": 1.0,
            "p_value": p,
            "inference": sens.INFERENCE,
            "note": "",
        }
        for indicator, p in [("a", 0.01), ("b", 0.02), ("c", 0.03), ("d", 0.04)]
    ]
    part = pd.DataFrame(rows).reindex(columns=[c for c in sens.TABLE_COLUMNS if c != "family"])
    families = {"a": "primary", "c": "primary", "b": "secondary", "d": "secondary"}
    table = sens.combine_sensitivity([part], 0.05, families).set_index("indicator_id")
    assert table["family"].to_dict() == families | {}
    np.testing.assert_allclose(
        table.loc[["a", "b", "c", "d"], "p_adjusted"], [0.02, 0.04, 0.03, 0.04]
    )
    together = sens.combine_sensitivity([part], 0.05).set_index("indicator_id")
    np.testing.assert_allclose(together.loc[["a", "b", "c", "d"], "p_adjusted"], [0.04] * 4)
    assert (together["family"] == "primary").all()


def test_csdid_variant_is_csdid_with_pooled_cells(panel, scale_of):
    """The csdid_pooled_cells rows are csdid's overall effects with cells pooled, the note
    pointing to the main (within) csdid; every other variant stays a twfe refit."""
    from integration_models.models.csdid import callaway_santanna
    from integration_models.models.fit_job import MIN_TREATED_FOR_SE

    assert sens.MIN_TREATED_FOR_SE == MIN_TREATED_FOR_SE
    ids = ["attendance", "lac_rate"]
    table = sens.sensitivity_table(panel, ids, scale_of, seed=3)
    rows = _rows(table, "csdid_pooled_cells")
    assert set(table.loc[table["variant"] == "csdid_pooled_cells", "kind"]) == {"csdid_cells"}
    for indicator in ids:
        for term, category in sens.TERM_CATEGORY.items():
            kwargs = {"seed": 3, "alpha": 0.05, "min_partnerships": sens.MIN_TREATED_AREAS}
            pooled = callaway_santanna(
                panel, indicator, scale_of[indicator], category, cells="pooled", **kwargs
            )
            within = callaway_santanna(panel, indicator, scale_of[indicator], category, **kwargs)
            row = rows.loc[(indicator, term)]
            assert row["estimate"] == pytest.approx(pooled["overall"]["estimate"], abs=1e-12)
            assert row["note"].startswith(sens.COMPARE_WITHIN)
            assert "cells pooled" in row["note"]
            assert row["inference"].startswith("multiplier bootstrap")
            if category == "full":  # 13 treated areas: a standard error and a conclusion
                assert row["std_error"] == pytest.approx(pooled["overall"]["std_error"])
                assert row["conclusion"] in {"+", "-", "ns"}
                assert row["estimate"] != pytest.approx(within["overall"]["estimate"])
