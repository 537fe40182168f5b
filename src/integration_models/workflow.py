"""Helpers for the Snakefile: checks on the configuration and the code each rule depends on.

Snakemake reruns a job when its shell command changes, not when the imported package does, so
each rule lists the package modules it runs as inputs (``package_sources``): editing one of
them reruns exactly the rules that use it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from integration_models.errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parent
COMMON = ("__init__.py", "__main__.py", "cli.py", "errors.py", "identifiers.py", "tables.py")
MODULES = {
    "ingest": ("ingest.py", "numbers.py", "reference.py", "registry.py"),
    "fit": (
        "fitting.py",
        "registry.py",
        "models/__init__.py",
        "models/base.py",
        "models/design.py",
        "models/mixed.py",
        "models/twfe.py",
        "models/glm.py",
        "did.py",
    ),
    "inference": (
        "inference.py",
        "power.py",
        "fitting.py",
        "summarise.py",
        "registry.py",
        "models/design.py",
    ),
    "tables": ("summarise.py", "did.py", "registry.py", "models/base.py", "models/design.py"),
    "figures": ("figures.py", "did.py", "registry.py"),
    "provenance": ("provenance.py",),
    "report": ("report.py", "provenance.py", "reference.py", "registry.py"),
}
OUTPUT_KEYS = ("processed_dir", "results_dir")


def package_sources(step: str) -> list[str]:
    """Return the package source files that the workflow step ``step`` runs."""
    return [str(PACKAGE_DIR / name) for name in (*COMMON, *MODULES[step])]


def check_config(config: dict) -> None:
    """Check what the JSON schema cannot: year order and output folders inside the project.

    Raises
    ------
    InputError
        Naming the offending key.
    """
    if config["first_year"] > config["last_year"]:
        raise InputError("config", "first_year is after last_year")
    for key in OUTPUT_KEYS:
        path = PurePosixPath(config[key])
        if path.is_absolute() or ".." in path.parts:
            raise InputError(
                "config",
                f"{key} '{config[key]}' must be a relative path inside the project "
                "(outputs are never written elsewhere)",
            )
