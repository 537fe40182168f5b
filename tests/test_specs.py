"""The indicator specifications are data files, checked entry by entry when they are read."""

from __future__ import annotations

import re
from importlib.resources import files

import numpy as np
import pytest

from integration_models.data import demo, scotland
from integration_models.data.specs import load_entries, registry_row
from integration_models.errors import InputError

SPEC_FOLDER = files("integration_models.data.specs")


def test_packaged_specs_load_in_order():
    assert [s.indicator_id for s in demo.SPECS][:3] == [
        "lac_rate",
        "cp_registration_rate",
        "cp_reregistration",
    ]
    assert len(demo.SPECS) == len(scotland.INDICATORS) == 25
    lac = demo.SPECS[0]
    # a rate's level is its natural value; the model's intercept is its log
    assert lac.base == np.log(9.0) and lac.full == -0.1 and lac.area_sd == 0.15
    percent = next(s for s in demo.SPECS if s.indicator_id == "cp_reregistration")
    assert (percent.base, percent.area_sd, percent.slope_sd, percent.decimals) == (6.0, 1.5, 1.0, 1)
    balance = next(s for s in scotland.INDICATORS if s.indicator_id == "balance_of_care")
    assert balance.source == "Improvement Service, LGBF January 2022 release, CHN9"
    assert balance.origin == "lgbf" and balance.role == "secondary"
    birthweight = next(s for s in scotland.INDICATORS if s.indicator_id == "healthy_birthweight")
    assert birthweight.period_years == 3
    assert birthweight.source.startswith("Improvement Service, CPOP September 2023 release, ")


def test_registry_row_of_a_snapshot_and_a_rolling_average():
    lac = demo.SPECS[0]
    row = registry_row(lac, "S")
    assert (row["snapshot_day"], row["period_years"], row["higher_is_better"]) == (
        "07-31",
        1,
        "false",
    )
    birthweight = next(s for s in scotland.INDICATORS if s.indicator_id == "healthy_birthweight")
    row = registry_row(birthweight, birthweight.source)
    assert (row["snapshot_day"], row["period_years"]) == ("", 3)
    assert list(row) == [
        "indicator_id",
        "title",
        "domain",
        "measure",
        "unit",
        "higher_is_better",
        "period",
        "period_years",
        "snapshot_day",
        "source",
    ]


def _edited(tmp_path, name, old, new):
    text = (SPEC_FOLDER / name).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def _load_demo(folder):
    return load_entries(demo.SPEC_FILE, demo.Spec, demo._prepare, folder)


def _load_scotland(folder):
    return load_entries(scotland.SPEC_FILE, scotland.RealIndicator, scotland._prepare, folder)


def _line_of(folder, name, text):
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_unchanged_copy_loads_the_same(tmp_path):
    folder = _edited(tmp_path, demo.SPEC_FILE, "lac_rate", "lac_rate")
    assert _load_demo(folder) == demo.SPECS
    folder = _edited(tmp_path, scotland.SPEC_FILE, "balance_of_care", "balance_of_care")
    assert _load_scotland(folder) == scotland.INDICATORS


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("    level: 9.0\n", "    level: 9.0\n    levle: 3\n", "unknown key(s) 'levle'"),
        ("    time: 0.015\n", "", "missing key(s) 'time'"),
        (
            "    deprivation: 0.02\n",
            "    deprivation: high\n",
            "deprivation: 'high' is not of type float",
        ),
        (
            "    domain: children\n",
            "    domain: child\n",
            "domain: 'child' must be one of children, families, workforce",
        ),
        (
            "    higher_is_better: false\n",
            "    higher_is_better: 0\n",
            "higher_is_better: 0 is not of type bool",
        ),
        ("    level: 9.0\n", "    level: -9.0\n", "level: -9.0 must be a positive number"),
        ("    period: snapshot\n", "    period: weekly\n", "period: 'weekly' must be one of"),
    ],
)
def test_bad_demo_entry_names_file_line_and_entry(tmp_path, old, new, problem):
    folder = _edited(tmp_path, demo.SPEC_FILE, old, new)
    with pytest.raises(InputError) as caught:
        _load_demo(folder)
    line = _line_of(folder, demo.SPEC_FILE, "indicator_id: lac_rate")
    assert caught.value.path == str(folder / demo.SPEC_FILE)
    assert caught.value.line == line
    assert caught.value.problem.startswith("entry 1 (lac_rate): ")
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "    origin: lgbf\n",
            "    origin: lgbff\n",
            "origin: 'lgbff' must be one of lgbf, lac, cpop",
        ),
        (
            "role: secondary\n    construct: placement type",
            "role: main\n    construct: placement type",
            "role: 'main' must be one of primary, secondary, context",
        ),
        (
            "source: '{lgbf}, {series}'",
            "source: '{lgbf2}, {series}'",
            "names 'lgbf2', which is neither {series} nor a release (lgbf, cpop)",
        ),
        (
            "- indicator_id: balance_of_care",
            "- indicator_id: looked_after_rate",
            "indicator_id 'looked_after_rate' is used by an earlier entry",
        ),
        (
            "- indicator_id: balance_of_care",
            "- indicator_id: Balance",
            "indicator_id 'Balance' is not a valid identifier",
        ),
        (
            "    period: snapshot\n    origin: lgbf",
            "    period: snapshot\n    period_years: 3\n    origin: lgbf",
            "a snapshot is one day",
        ),
    ],
)
def test_bad_scotland_entry_names_file_line_and_entry(tmp_path, old, new, problem):
    folder = _edited(tmp_path, scotland.SPEC_FILE, old, new)
    with pytest.raises(InputError) as caught:
        _load_scotland(folder)
    assert re.match(
        r"entry 2 \((balance_of_care|looked_after_rate|Balance)\): ", caught.value.problem
    )
    starts = [
        n
        for n, line in enumerate((folder / scotland.SPEC_FILE).read_text().splitlines(), 1)
        if line.startswith("  - indicator_id: ")
    ]
    assert caught.value.line == starts[1]
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{folder / scotland.SPEC_FILE}:{caught.value.line}: ")


def test_spec_file_without_indicator_list(tmp_path):
    (tmp_path / demo.SPEC_FILE).write_text("defaults: {}\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected a mapping with an 'indicators' list"):
        _load_demo(tmp_path)


def test_entry_that_is_not_a_mapping(tmp_path):
    folder = _edited(tmp_path, demo.SPEC_FILE, "indicators:\n", "indicators:\n  - just a string\n")
    with pytest.raises(InputError, match=r"entry 1: expected a mapping of fields, got str"):
        _load_demo(folder)
