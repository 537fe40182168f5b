"""Time vectorised few-cluster inference against looping a library fit per draw.

Run from the project root: ``python benchmarks/bench_inference.py [reps]``. On the demo panel
(25 indicators, 32 areas, 2010-2023) it times

- the vectorised restricted wild cluster bootstrap (Webb, ``reps`` draws x 25 indicators x
  both integration terms) and the vectorised randomisation test (``reps`` permutations x 25
  indicators), as :func:`integration_models.inference.table.few_cluster_table` runs them (shared
  draws, one design per distinct set of area-years);
- the loop alternative: one statsmodels OLS with area and year dummies and area-clustered
  covariance per draw (and one linearmodels ``PanelOLS`` per draw), timed on a subsample of
  draws and extrapolated to ``reps x 25`` fits per method (x 2 for the bootstrap, whose null
  differs per term);

and prints the ratios. The whole ``few_cluster_table`` is timed as well, and the null
size diagnostic of :mod:`integration_models.inference.size` (every indicator on its own design,
2,000 null samples per DGP, 99 draws per sample for the resampling tests, the workflow's two
default DGPs).

Both sides do the same work per draw: the vectorised timings include building the designs,
drawing the weights or permutations and the observed fit; the loop side is charged only the
fit itself (its permuted dummies and bootstrap outcomes would cost extra).

On a small or shared machine run with ``OPENBLAS_NUM_THREADS=1`` (or OMP/MKL): at these matrix
sizes multi-threaded BLAS oversubscribes the cores and slows both sides several-fold.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from integration_models.data.ingest import IngestSettings, build_panel  # noqa: E402
from integration_models.data.reference import load_areas, load_classification  # noqa: E402
from integration_models.inference.cluster import crv1, webb_weights, wild_cluster_bootstrap  # noqa: E402
from integration_models.inference.design import design_from_model_data  # noqa: E402
from integration_models.inference.permutation import (  # noqa: E402
    draw_permutations,
    partnership_histories,
    randomization_inference,
)
from integration_models.inference.size import size_table  # noqa: E402
from integration_models.inference.table import few_cluster_table, group_designs  # noqa: E402
from integration_models.models.design import model_data  # noqa: E402


def demo_panel() -> pd.DataFrame:
    areas = load_areas(ROOT / "data/reference/areas.csv")
    classification = load_classification(ROOT / "data/reference/classification/baseline.csv", areas)
    settings = IngestSettings(2010, 2023, (2020, 2021))
    return build_panel(ROOT / "data/raw", areas, classification, settings)[0]


def grouped_designs(panel: pd.DataFrame, indicators: list[str]):
    # the grouping few_cluster_table uses: one design per distinct set of area-years
    groups, _ = group_designs(panel, indicators, {})
    return [(group.design, group.y) for group in groups]


def vectorised_seconds(panel, indicators, reps, seed=1) -> tuple[float, float, int]:
    start = time.perf_counter()
    groups = grouped_designs(panel, indicators)
    all_areas = np.sort(panel["area_code"].unique())
    weights = webb_weights(len(all_areas), reps, seed)
    for design, y in groups:
        subset = weights[np.searchsorted(all_areas, design.cluster_labels)]
        wild_cluster_bootstrap(design, y, weights=subset)
    wcr = time.perf_counter() - start
    start = time.perf_counter()
    groups = grouped_designs(panel, indicators)
    histories = partnership_histories(panel)
    perms = draw_permutations(histories, reps, seed)
    for design, y in groups:
        randomization_inference(design, y, histories, permutations=perms)
    ri = time.perf_counter() - start
    return wcr, ri, len(groups)


def statsmodels_fit_seconds(panel, indicator, draws: int) -> float:
    import statsmodels.api as sm

    design, y = design_from_model_data(model_data(panel, indicator, "identity"))
    frame = design.frame
    x = pd.concat(
        [
            frame[list(design.terms) + list(design.controls)],
            pd.get_dummies(frame["area_code"], drop_first=True, dtype=float),
            pd.get_dummies(frame["year"], drop_first=True, dtype=float),
        ],
        axis=1,
    )
    x.insert(0, "const", 1.0)
    x = x.to_numpy()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(draws):
        # the fairest loop: dummy design built once, one clustered OLS fit per draw
        y_star = y + rng.normal(size=y.size)
        sm.OLS(y_star, x).fit(cov_type="cluster", cov_kwds={"groups": design.cluster}).tvalues[:2]
    return (time.perf_counter() - start) / draws


def panelols_fit_seconds(panel, indicator, draws: int) -> float:
    from linearmodels.panel import PanelOLS

    design, y = design_from_model_data(model_data(panel, indicator, "identity"))
    frame = design.frame.set_index(["area_code", "year"])
    regressors = frame[list(design.terms) + list(design.controls)]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(draws):
        y_star = pd.Series(y + rng.normal(size=y.size), index=frame.index, name="y")
        PanelOLS(y_star, regressors, entity_effects=True, time_effects=True).fit(
            cov_type="clustered", cluster_entity=True, debiased=True, group_debias=True
        ).tstats.iloc[:2]
    return (time.perf_counter() - start) / draws


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
    panel = demo_panel()
    indicators = sorted(panel["indicator_id"].unique())
    n = len(indicators)
    crv1(*design_from_model_data(model_data(panel, indicators[0], "identity")))  # warm
    wcr, ri, n_designs = vectorised_seconds(panel, indicators, reps)
    sm_fit = statsmodels_fit_seconds(panel, indicators[0], 100)
    lm_fit = panelols_fit_seconds(panel, indicators[0], 20)
    loop_wcr_sm = sm_fit * reps * n * 2
    loop_ri_sm = sm_fit * reps * n
    start = time.perf_counter()
    few_cluster_table(panel, indicators, {}, reps=reps, seed=1)
    table = time.perf_counter() - start
    print(f"indicators {n}, distinct designs {n_designs}, draws {reps}")
    print(f"vectorised WCR (2 terms x {n} indicators x {reps}): {wcr:.2f} s")
    print(f"vectorised RI ({n} indicators x {reps} permutations): {ri:.2f} s")
    print(f"statsmodels OLS+dummies clustered, per fit: {sm_fit * 1e3:.2f} ms")
    print(f"linearmodels PanelOLS clustered, per fit: {lm_fit * 1e3:.2f} ms")
    for label, loop, fast in (
        ("WCR, statsmodels loop", loop_wcr_sm, wcr),
        ("RI, statsmodels loop", loop_ri_sm, ri),
        ("WCR, PanelOLS loop", lm_fit * reps * n * 2, wcr),
        ("RI, PanelOLS loop", lm_fit * reps * n, ri),
    ):
        print(f"{label} extrapolated: {loop:.0f} s, ratio {loop / fast:.0f}x")
    print(f"few_cluster_table, all four methods, {n} indicators: {table:.2f} s")
    start = time.perf_counter()
    size_table(panel, indicators, {}, sims=2000, reps=99, seed=1, dgps=("independent", "ar1"))
    print(f"size_table, 2 DGPs x sims 2000 x reps 99: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
