"""The analysis plan: the committed file is valid, and a bad one stops with file, line, setting."""

from __future__ import annotations

import pandas as pd
import pytest

from integration_models.errors import InputError
from integration_models.plan.analysis_plan import Bound, load_plan
from tests.conftest import REPO

PLAN = REPO / "analysis_plan.yaml"


def test_committed_plan_is_valid():
    plan = load_plan(PLAN)
    assert plan.test in {"crv1", "cr2", "wcr", "ri"} and 0 < plan.alpha < 0.2
    assert plan.terms == ("integration_full", "integration_partial")
    assert len(plan.sha256) == 64 and plan.min_partnerships >= 1


def test_primary_outcomes_follow_the_roles():
    plan = load_plan(PLAN)
    registry = pd.DataFrame(
        {"indicator_id": ["a", "index_children", "c"], "role": ["secondary", "primary", "context"]}
    )
    assert plan.primary_outcomes(registry) == ["index_children"]
    assert plan.family_of("a", registry) == "secondary"
    assert plan.primary_outcomes(registry.drop(columns="role")) == ["a", "index_children", "c"]


def test_bounds_in_sd_or_units():
    assert Bound(0.2, "sd").in_units(5.0) == pytest.approx(1.0)
    assert Bound(1.5, "units").in_units(5.0) == 1.5


def _edited(tmp_path, old: str, new: str):
    text = PLAN.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "plan.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    last = new.splitlines()[-1]
    line = next(i for i, row in enumerate(path.read_text().splitlines(), 1) if last in row)
    return path, line


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("test: wcr", "test: wild", "test: 'wild' is not one of"),
        ("alpha: 0.05", "alpha: 0.5", "alpha: 0.5 is greater than the maximum of 0.2"),
        ("anticipation: 0", "anticipation: 0\nextra_setting: 1", "Additional properties"),
        ("default: {sd: 0.2}", "default: {sd: -1}", "equivalence/default/sd"),
        ("first_year: 2010, last_year: latest", "first_year: 2010, last_year: 2009", "window"),
    ],
)
def test_bad_plan_names_file_line_and_setting(tmp_path, old, new, problem):
    path, line = _edited(tmp_path, old, new)
    with pytest.raises(InputError) as raised:
        load_plan(path)
    assert str(raised.value).startswith(f"{path}:{line}: ") and problem in str(raised.value)


def test_plan_that_is_not_yaml(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("test: [wcr\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"plan.yaml:2: not valid YAML"):
        load_plan(path)
