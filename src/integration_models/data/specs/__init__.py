"""Indicator specifications kept as data: YAML files shipped with the package, read by code.

``demo_indicators.yaml`` says how each synthetic indicator of the demo is generated
(:mod:`integration_models.data.demo`); ``scotland_indicators.yaml`` says what each indicator of the
real dataset is and where its values come from (:mod:`integration_models.data.scotland`). Both are
read with :func:`load_entries`, which checks every entry against the dataclass it becomes:
no unknown or missing key, every value of the declared type and, where a field declares
``choices`` in its metadata, one of them. A bad entry stops the load with an
:class:`~integration_models.errors.InputError` naming the file, its line, the entry and the
problem.

The fields every indicator has (:class:`IndicatorEntry`) and the registry row they make
(:func:`registry_row`) are defined here once, for both datasets.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from integration_models.data.exposure import PERIODS, PeriodType
from integration_models.data.identifiers import is_indicator_id
from integration_models.data.registry import DOMAINS, MEASURES
from integration_models.errors import InputError

# every snapshot in both datasets is taken on 31 July (the looked-after children statistics)
SNAPSHOT_DAY = "07-31"
LOG_MEASURES = ("rate", "count")  # modelled on the log scale; the others on their own scale

Entry = TypeVar("Entry")


@dataclass(frozen=True)
class IndicatorEntry:
    """The fields of one indicator's registry row that both datasets declare in their specs."""

    indicator_id: str
    title: str
    domain: str = field(metadata={"choices": DOMAINS})
    measure: str = field(metadata={"choices": MEASURES})
    unit: str
    higher_is_better: bool
    period: str = field(metadata={"choices": PERIODS})

    def __post_init__(self) -> None:
        if not is_indicator_id(self.indicator_id):
            raise ValueError(f"indicator_id {self.indicator_id!r} is not a valid identifier")
        self.period_type()  # a snapshot of several years or a bad day raises ValueError

    @property
    def scale(self) -> str:
        """Return the indicator's model scale: ``log`` for rates and counts, else ``identity``."""
        return "log" if self.measure in LOG_MEASURES else "identity"

    def period_type(self) -> PeriodType:
        """Return what the indicator's values cover (snapshots on :data:`SNAPSHOT_DAY`)."""
        years = getattr(self, "period_years", 1)
        return PeriodType(self.period, years, SNAPSHOT_DAY if self.period == "snapshot" else "")


def registry_row(entry: IndicatorEntry, source: str) -> dict[str, Any]:
    """Return the registry columns (``indicators.csv``) one indicator entry fills.

    Parameters
    ----------
    entry
        The indicator's specification.
    source
        Its ``source`` column.

    Returns
    -------
    dict
        ``indicator_id`` to ``source`` in the registry's order, ``higher_is_better`` written
        ``true`` or ``false``.
    """
    kind = entry.period_type()
    return {
        "indicator_id": entry.indicator_id,
        "title": entry.title,
        "domain": entry.domain,
        "measure": entry.measure,
        "unit": entry.unit,
        "higher_is_better": str(entry.higher_is_better).lower(),
        "period": entry.period,
        "period_years": kind.years,
        "snapshot_day": kind.snapshot_day,
        "source": source,
    }


def read_spec_file(
    name: str, folder: Traversable | Path | None = None
) -> tuple[str, dict[str, Any], list[int]]:
    """Read one spec file: its shown path, its content and each entry's line.

    Parameters
    ----------
    name
        The file's name (e.g. ``demo_indicators.yaml``).
    folder
        Where it is; by default this package's own folder (package data).

    Returns
    -------
    tuple
        The path to name in messages, the YAML mapping (``yaml.safe_load``), and the 1-based
        line on which each item of its ``indicators`` list starts.

    Raises
    ------
    InputError
        If the file is not a mapping with an ``indicators`` list.
    """
    resource = (files(__name__) if folder is None else folder) / name
    path = str(resource)
    text = resource.read_text(encoding="utf-8")
    content = yaml.safe_load(text)
    if not isinstance(content, dict) or not isinstance(content.get("indicators"), list):
        raise InputError(path, "expected a mapping with an 'indicators' list")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    items = next(value for key, value in root.value if key.value == "indicators")
    return path, content, [item.start_mark.line + 1 for item in items.value]


def load_entries(
    name: str,
    kind: type[Entry],
    prepare: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
    folder: Traversable | Path | None = None,
) -> tuple[Entry, ...]:
    """Load and check the ``indicators`` list of one spec file.

    Parameters
    ----------
    name
        The file's name in ``folder``.
    kind
        The frozen dataclass each entry becomes; its fields are the keys an entry may have
        (those without a default must be given), their annotations the types the values must
        have, and a field's ``choices`` metadata the values it may take.
    prepare
        Called with each entry (a mapping checked to be one) and the whole file's content, it
        returns the keyword arguments of ``kind`` (e.g. after filling defaults declared in the
        file); a ``KeyError`` or ``ValueError`` it raises is reported as the entry's problem.
    folder
        Where the file is; by default this package's own folder (package data).

    Returns
    -------
    tuple
        The entries, in the file's order.

    Raises
    ------
    InputError
        Naming the file, line and entry: an entry that is not a mapping, has an unknown or a
        missing key, a value of the wrong type or outside its choices, or an ``indicator_id``
        already used.
    """
    path, content, lines = read_spec_file(name, folder)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    hints = typing.get_type_hints(kind)
    entries, seen = [], set()
    for number, (raw, line) in enumerate(zip(content["indicators"], lines, strict=True), 1):
        label = f"entry {number}"
        if isinstance(raw, dict) and isinstance(raw.get("indicator_id"), str):
            label += f" ({raw['indicator_id']})"

        def fail(problem: str, label: str = label, line: int = line) -> typing.NoReturn:
            raise InputError(path, f"{label}: {problem}", line)

        if not isinstance(raw, dict):
            fail(f"expected a mapping of fields, got {type(raw).__name__}")
        try:
            values = prepare(raw, content) if prepare else dict(raw)
        except (KeyError, ValueError) as err:
            fail(str(err.args[0]) if err.args else repr(err))
        unknown = sorted(set(values) - set(fields))
        if unknown:
            fail(f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(fields)}")
        missing = [
            n
            for n, f in fields.items()
            if n not in values
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            fail(f"missing key(s) {', '.join(map(repr, missing))}")
        for key, value in values.items():
            problem = _type_problem(value, hints[key])
            choices = fields[key].metadata.get("choices")
            if problem is None and choices is not None and value not in choices:
                problem = f"must be one of {', '.join(choices)}"
            if problem is not None:
                fail(f"{key}: {value!r} {problem}")
        if values["indicator_id"] in seen:
            fail(f"indicator_id {values['indicator_id']!r} is used by an earlier entry")
        seen.add(values["indicator_id"])
        try:
            entries.append(kind(**{k: _coerce(v, hints[k]) for k, v in values.items()}))
        except ValueError as err:
            fail(str(err))
    return tuple(entries)


def _allowed(hint: Any) -> tuple[type, ...]:
    """Return the Python types a field's annotation admits (``float | None`` gives both)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return tuple(t for arg in typing.get_args(hint) for t in _allowed(arg))
    return (type(None),) if hint is None else (hint,)


def _type_problem(value: Any, hint: Any) -> str | None:
    """Return why ``value`` does not fit the annotation ``hint``, or None when it does."""
    allowed = _allowed(hint)
    if isinstance(value, bool):  # a bool is an int to Python, never a number here
        fits = bool in allowed
    elif isinstance(value, int):
        fits = int in allowed or float in allowed
    else:
        fits = isinstance(value, tuple(t for t in allowed if t is not bool))
    if fits:
        return None
    names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
    return f"is not of type {names}"


def _coerce(value: Any, hint: Any) -> Any:
    """Return a YAML integer given for a float field as that float (``350`` as ``350.0``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        allowed = _allowed(hint)
        if float in allowed and int not in allowed:
            return float(value)
    return value
