"""Read the pre-specified primary analysis (``analysis_plan.yaml``) and answer from it.

The plan fixes, before any result is seen, what the headline and the conclusion report: the
estimand and its terms, the primary outcomes, the estimator, the test and its level, the
multiplicity families, the equivalence bounds, the window, the anticipation and how many
partnerships must change status for a term to count as identified. Every step that decides
what to report reads it from here, so no step chooses a test or an outcome from the data.

The file is read with ``yaml.safe_load`` and checked against ``schema.yaml`` (JSON Schema,
beside this module); a problem stops the run naming the file, the line and the setting.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml

from integration_models.errors import InputError

if TYPE_CHECKING:  # only in annotations: reading the plan at start-up needs no pandas
    import pandas as pd

TESTS = ("crv1", "cr2", "wcr", "ri")
FAMILY_ADJUSTMENTS = {
    "romano_wolf": "Romano-Wolf step-down",
    "benjamini_hochberg": "Benjamini-Hochberg",
}


@dataclass(frozen=True)
class Bound:
    """An equivalence bound: ``size`` in standard deviations (``sd``) or the indicator's units."""

    size: float
    scale: str  # "sd" or "units"

    def in_units(self, sd: float) -> float:
        """Return the bound in the outcome's units, given its standard deviation ``sd``."""
        return self.size * sd if self.scale == "sd" else self.size

    def describe(self) -> str:
        """Return the bound in words, e.g. ``0.2 SD`` or ``1.5 units``."""
        return f"{self.size:g} SD" if self.scale == "sd" else f"{self.size:g} units"


@dataclass(frozen=True)
class AnalysisPlan:
    """The pre-specified primary analysis (see ``analysis_plan.yaml`` for each setting)."""

    path: str
    sha256: str
    registered: str
    estimand: str
    terms: tuple[str, ...]
    primary_roles: tuple[str, ...]
    estimator: str
    test: str
    alpha: float
    families: dict[str, str]
    equivalence_default: Bound
    equivalence_overrides: dict[str, Bound]
    first_year: int
    last_year: int | None  # None: the last year of the dataset
    anticipation: int
    min_partnerships: int
    amendments: tuple[dict[str, str], ...]

    def primary_outcomes(self, registry: pd.DataFrame) -> list[str]:
        """Return the registry's indicators whose ``role`` the plan calls primary, in order."""
        if "role" not in registry.columns:  # a registry without roles: every indicator primary
            return registry["indicator_id"].tolist()
        return registry.loc[registry["role"].isin(self.primary_roles), "indicator_id"].tolist()

    def family_of(self, indicator_id: str, registry: pd.DataFrame) -> str:
        """``primary`` or ``secondary``: the multiplicity family of an indicator."""
        return "primary" if indicator_id in self.primary_outcomes(registry) else "secondary"

    def families_of(self, registry: pd.DataFrame) -> dict[str, str]:
        """Return indicator -> ``primary`` or ``secondary`` for every registry indicator.

        The mapping the inference step adjusts within
        (:func:`integration_models.inference.table.combine_few_cluster`), so that the primary
        outcomes' adjustment counts only the outcomes the plan made primary.
        """
        primary = set(self.primary_outcomes(registry))
        return {
            indicator: "primary" if indicator in primary else "secondary"
            for indicator in registry["indicator_id"]
        }

    def bound(self, indicator_id: str) -> Bound:
        """Return the equivalence bound of an indicator (its override, else the default)."""
        return self.equivalence_overrides.get(indicator_id, self.equivalence_default)

    def summary(self) -> dict[str, Any]:
        """Return the plan as plain values (for provenance and the report)."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "registered": self.registered,
            "test": self.test,
            "alpha": self.alpha,
            "estimator": self.estimator,
            "terms": list(self.terms),
            "primary_roles": list(self.primary_roles),
            "families": dict(self.families),
            "amendments": [dict(a) for a in self.amendments],
        }


def load_plan(path: str | Path) -> AnalysisPlan:
    """Read and check ``analysis_plan.yaml``.

    Raises
    ------
    InputError
        Naming the file, the line and the setting: unreadable YAML, a setting the schema
        refuses (unknown, missing, wrong type or value), or a window that ends before it starts.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(path, f"cannot read the analysis plan: {err.strerror}") from None
    try:
        text = data.decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        content = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise InputError(path, "the analysis plan is not UTF-8 text") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(path, f"not valid YAML: {getattr(err, 'problem', err)}", line) from None
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(content), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        parts = list(error.absolute_path)
        if error.validator == "additionalProperties":  # point at the first unknown setting
            known = error.schema.get("properties", {})
            parts.append(next(key for key in error.instance if key not in known))
        where = "/".join(str(part) for part in parts)
        raise InputError(path, f"{where}: {error.message}", _line_of(node, parts))
    window = content["window"]
    last = None if window["last_year"] == "latest" else int(window["last_year"])
    if last is not None and last < window["first_year"]:
        raise InputError(
            path,
            f"window: last_year {last} is before first_year {window['first_year']}",
            _line_of(node, ["window", "last_year"]),
        )
    equivalence = content["equivalence"]
    return AnalysisPlan(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        registered=content["registered"],
        estimand=" ".join(content["estimand"].split()),
        terms=tuple(content["terms"]),
        primary_roles=tuple(content["primary_roles"]),
        estimator=content["estimator"],
        test=content["test"],
        alpha=float(content["alpha"]),
        families=dict(content["families"]),
        equivalence_default=_bound(equivalence["default"]),
        equivalence_overrides={k: _bound(v) for k, v in equivalence["overrides"].items()},
        first_year=int(window["first_year"]),
        last_year=last,
        anticipation=int(content["anticipation"]),
        min_partnerships=int(content["identification"]["min_partnerships"]),
        amendments=tuple(dict(a) for a in content["amendments"]),
    )


# Romano-Wolf needs the joint resampled statistics, which only these tests draw
JOINT_DRAW_TESTS = ("wcr", "ri")


def deviations(plan: AnalysisPlan, config: dict[str, Any]) -> list[str]:
    """Return every way the run departs from the registered plan, one sentence each.

    The report lists them beside the plan, so a reader sees at once whether the results are
    those the plan pre-specified: each dated amendment of the plan; a configured ``alpha``
    that is not the plan's (the headline uses the plan's, other tables the configured one);
    a configured window (``first_year``, ``last_year``) that is not the plan's, when the plan
    fixes its last year; and a Romano-Wolf family under a test without joint draws (the
    headline then falls back to Benjamini-Hochberg for that family).

    Parameters
    ----------
    plan
        The analysis plan (:func:`load_plan`).
    config
        The run's configuration (``alpha``, ``first_year``, ``last_year``; a missing key is
        not a deviation).

    Returns
    -------
    list of str
        The deviations, amendments first in the plan's order; empty when the run is the plan.
    """
    found = [
        f"amendment of {a.get('date', 'an undated day')}: {a.get('change', '')}"
        + (f" (reason: {a['reason']})" if a.get("reason") else "")
        for a in plan.amendments
    ]
    alpha = config.get("alpha")
    if alpha is not None and float(alpha) != plan.alpha:
        found.append(
            f"config alpha {float(alpha):g} differs from the plan's {plan.alpha:g}: the "
            "headline and the conclusion use the plan's, the other tables the configured one"
        )
    if plan.last_year is not None:
        for key, planned in (("first_year", plan.first_year), ("last_year", plan.last_year)):
            value = config.get(key)
            if value is not None and int(value) != planned:
                found.append(f"config {key} {int(value)} differs from the plan's {planned}")
    if plan.test not in JOINT_DRAW_TESTS:
        found.extend(
            f"the {family} family's Romano-Wolf adjustment needs joint draws, which the "
            f"test {plan.test} lacks: Benjamini-Hochberg is used instead"
            for family, method in plan.families.items()
            if method == "romano_wolf"
        )
    return found


def plan_record(plan: AnalysisPlan, config: dict[str, Any]) -> dict[str, Any]:
    """Return the plan as provenance.json records it: its summary, estimand and deviations."""
    return {**plan.summary(), "estimand": plan.estimand, "deviations": deviations(plan, config)}


def _schema() -> dict:
    """Return the plan's JSON Schema (``schema.yaml`` beside this module)."""
    text = resources.files(__package__).joinpath("schema.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _bound(setting: dict[str, float]) -> Bound:
    ((scale, size),) = setting.items()
    return Bound(float(size), scale)


def _line_of(node: yaml.Node | None, parts) -> int | None:
    """Return the 1-based line of the deepest node of ``parts`` in the composed YAML."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
