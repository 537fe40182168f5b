"""The committed demo dataset is exactly what the generator makes from its seed."""

import filecmp

import pandas as pd

from integration_models.data.demo import SEED, SPECS, generate
from integration_models.data.registry import is_synthetic, load_registry
from tests.conftest import AREAS, BASELINE, DEMO


def test_demo_regenerates_byte_identical(tmp_path):
    generate(AREAS, BASELINE, tmp_path, SEED)
    built_elsewhere = DEMO / "scotland"  # the ignored real dataset may sit beside the demo
    committed = sorted(
        p.relative_to(DEMO)
        for p in DEMO.rglob("*")
        if p.is_file() and built_elsewhere not in p.parents
    )
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert committed == fresh
    _, mismatch, errors = filecmp.cmpfiles(
        DEMO, tmp_path, [str(p) for p in committed], shallow=False
    )
    assert mismatch == [] and errors == []


def test_demo_shape_and_marking():
    registry = load_registry(DEMO / "indicators.csv")
    assert len(registry) == 25
    assert set(registry["domain"]) == {"children", "families", "workforce"}
    assert set(registry["measure"]) == {"percentage", "rate", "count", "mean"}
    assert is_synthetic(registry)
    truth = pd.read_csv(DEMO / "demo_truth.csv")
    assert len(truth) == 25 * 6
    integration = truth[truth.term.str.startswith("integration_")]
    assert (integration.value != 0).sum() >= 4
    assert len(SPECS) == 25
