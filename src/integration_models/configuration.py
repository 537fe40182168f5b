"""Load the workflow configuration outside Snakemake, with the same schema and defaults."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from integration_models.errors import InputError
from integration_models.workflow import check_config

ROOT_CONFIG = Path("config.yaml")
SCHEMA = Path("schemas/config.schema.yaml")


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise InputError(path, "config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise InputError(path, f"not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of keys to values")
    return data


def load_config(overrides: list[Path] | tuple[Path, ...] = ()) -> dict:
    """Return ``config.yaml`` overlaid with ``overrides``, validated like Snakemake does.

    YAML is read with ``safe_load`` only; an unknown or ill-typed key raises an InputError
    naming it, and the checks of :func:`integration_models.workflow.check_config` apply.
    """
    config = _read_yaml(ROOT_CONFIG)
    for path in overrides:
        config.update(_read_yaml(Path(path)))
    schema = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.path) or "config"
        raise InputError(where, error.message)
    for key, spec in schema["properties"].items():
        config.setdefault(key, spec.get("default"))
    check_config(config)
    return config
