"""Load the workflow configuration outside Snakemake, with the same schema and defaults.

Every problem is reported as ``<file>:<line>: <problem>``: the file and line where the
offending key was set (the last file that set it wins, as with ``snakemake --configfile``).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import jsonschema
import yaml

from integration_models.data.identifiers import shown
from integration_models.errors import InputError
from integration_models.workflow import check_config

ROOT_CONFIG = Path("config.yaml")
SCHEMA = Path("schemas/config.schema.yaml")


def _read_yaml(path: Path) -> tuple[dict, dict[str, int]]:
    """Return the mapping in ``path`` and the line of each top-level key (safe loader only)."""
    if not path.is_file():
        raise InputError(path, "config file not found")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = None if mark is None else mark.line + 1
        problem = " ".join(str(getattr(err, "problem", None) or err).split())
        raise InputError(path, f"not valid YAML: {problem}", line) from None
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of keys to values")
    lines = {}
    if isinstance(node, yaml.MappingNode):
        lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return data, lines


def merge(base: dict, update: dict) -> dict:
    """Return ``base`` updated by ``update``, merging nested mappings as Snakemake does.

    ``snakemake --configfile`` updates nested dictionaries key by key (``outcome_scale:
    {rate: identity}`` changes one measure, not all four), so the package must too.
    """
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _schema_error(
    error: jsonschema.ValidationError, schema: dict, origin: dict[str, tuple[Path, int]]
) -> InputError:
    """Turn the first schema violation into an InputError at the file and line of its key."""
    if error.validator == "additionalProperties" and not error.path:
        known = list(schema["properties"])
        unknown = sorted(set(error.instance) - set(known))[0]
        close = difflib.get_close_matches(unknown, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(known)})"
        path, line = origin[unknown]
        return InputError(path, f"unknown key {shown(unknown)}{hint}", line)
    key = str(error.path[0]) if error.path else None
    where = ".".join(str(part) for part in error.path)
    path, line = origin.get(key, (ROOT_CONFIG, None))
    return InputError(path, f"key '{where}': {error.message}", line)


COMMAND_LINE = Path("--config")  # the "file" of a setting given as ``--config KEY=VALUE``


def parse_config_items(items: list[str] | tuple[str, ...]) -> dict:
    """Return ``KEY=VALUE`` items (as ``snakemake --config`` takes them) as a mapping.

    Each value is read as YAML with ``safe_load`` (``2015`` is a number, ``[twfe]`` a list,
    ``../data`` a string).

    Raises
    ------
    InputError
        If an item has no ``=`` or no key, or its value is not valid YAML.
    """
    parsed: dict = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise InputError(COMMAND_LINE, f"expected KEY=VALUE, got {shown(item)}")
        try:
            parsed[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            raise InputError(COMMAND_LINE, f"{key.strip()}: value is not valid YAML") from None
    return parsed


def setting_origin(
    key: str, overrides: list[Path] | tuple[Path, ...] = (), items: dict | None = None
) -> tuple[Path, int | None]:
    """Where ``key`` was set: the last of ``config.yaml``, ``overrides`` and ``items`` to set it.

    Returns ``(file, line)``; ``(Path("--config"), None)`` for a command-line item, and
    ``(config.yaml, None)`` when no file sets the key (its schema default applies).
    """
    if items and key in items:
        return COMMAND_LINE, None
    for path in reversed((ROOT_CONFIG, *map(Path, overrides))):
        data, lines = _read_yaml(path)
        if key in data:
            return path, lines.get(key)
    return ROOT_CONFIG, None


def load_config(overrides: list[Path] | tuple[Path, ...] = (), items: dict | None = None) -> dict:
    """Return ``config.yaml`` overlaid with ``overrides``, validated like Snakemake does.

    YAML is read with ``safe_load`` only. ``items`` (from ``--config KEY=VALUE``, see
    :func:`parse_config_items`) override the files last, as with ``snakemake --config``. An
    unknown or ill-typed key raises an InputError naming the file and line that set it (with
    the nearest known key for a typo), and the checks of
    :func:`integration_models.workflow.check_config` apply.
    """
    config: dict = {}
    origin: dict[str, tuple[Path, int | None]] = {}
    for path in (ROOT_CONFIG, *map(Path, overrides)):
        data, lines = _read_yaml(path)
        config = merge(config, data)
        origin.update({key: (path, lines.get(key)) for key in data})
    if items:
        config = merge(config, items)
        origin.update({key: (COMMAND_LINE, None) for key in items})
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.path))
    if errors:
        raise _schema_error(errors[0], schema, origin)
    for key, spec in schema["properties"].items():
        config.setdefault(key, spec.get("default"))
    try:
        check_config(config)
    except InputError as err:
        # check_config's problems start with the key they concern: point at where it was set
        key = err.problem.split(" ", 1)[0]
        if key not in origin:
            raise
        raise InputError(origin[key][0], err.problem, origin[key][1]) from None
    return config
