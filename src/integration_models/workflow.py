"""Helpers for the Snakefile: checks on the configuration and the code each rule depends on.

Snakemake reruns a job when its inputs, parameters or shell command change, not when the
imported package does. So each step's code is an input of its rule: the package modules the
step runs (``package_sources``), found by following the ``integration_models`` imports of the
step's entry module (at any depth, including imports inside functions). Editing one module
reruns exactly the rules whose code imports it, and a new import is picked up without a
hand-kept list.

The modules are the inputs of one small job per step, which writes their SHA-256 digests
(``write_code_digest``), and that digest file is the input of the step's jobs. One file per
job instead of about 30: Snakemake's scheduler checks the existence and size of every input of
every ready job in each round. With the modules listed on each of the 350 jobs, the Snakemake
process itself used 33 s of processor time in a whole demo run, and 23 s with one digest per
step.
"""

from __future__ import annotations

import ast
import hashlib
import re
from datetime import date
from functools import cache
from pathlib import Path, PurePosixPath

from integration_models.errors import InputError
from integration_models.io import write_text

PACKAGE = "integration_models"
PACKAGE_DIR = Path(__file__).resolve().parent
# How Snakemake reaches a step: `python -m integration_models <command>`, from a shell or in a
# worker process (workers.py).
LAUNCHER = ("__init__.py", "__main__.py", "cli.py", "commands/__init__.py")
# Steps whose rule runs the command in a worker process kept for the run (workers.py).
_IN_WORKER = "workers.py"
ENTRY = {
    "ingest": ("commands/ingest_indicator.py",),
    "classify": ("commands/classify.py", _IN_WORKER),
    "panel": ("commands/panel.py", _IN_WORKER),
    "data_summary": ("commands/data_summary.py", _IN_WORKER),
    "fit": ("models/fit_job.py",),
    "tables": ("commands/tables.py", _IN_WORKER),
    "headline": ("commands/headline.py", _IN_WORKER),
    "analyse": ("results/indicator_analysis.py",),
    "inference": ("commands/inference.py", _IN_WORKER),
    "size": ("commands/size.py", _IN_WORKER),
    "sensitivity": ("commands/sensitivity.py", _IN_WORKER),
    "trends_figure": ("commands/trends_figure.py", _IN_WORKER),
    "forest_figure": ("commands/forest_figure.py", _IN_WORKER),
    "estimators_figure": ("commands/estimators_figure.py", _IN_WORKER),
    "figures_indicator": ("plots/indicator.py",),
    "power_figure": ("commands/power_figure.py", _IN_WORKER),
    "report": ("commands/report.py", _IN_WORKER),
    "provenance": ("commands/provenance.py", _IN_WORKER),
    "diagnose": ("diagnostics/job.py",),
    "diagnostics": ("commands/diagnostics.py", _IN_WORKER),
    "synthetic_part": ("results/synthetic_control.py",),
    "synthetic_control": ("commands/synthetic_control.py", _IN_WORKER),
    "design_checks": ("commands/design_checks.py", _IN_WORKER),
}
# Files other than modules that a step reads from the package: the report's templates.
PACKAGE_DATA = {"report": ("report/templates",)}
OUTPUT_KEYS = ("processed_dir", "results_dir")


@cache
def _module_file(dotted: str) -> Path | None:
    """Return the source file of a package module (``a.b`` -> ``a/b.py`` or ``a/b/__init__.py``)."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


# An import statement of the package, at any indentation, whole (parenthesised names included).
_PACKAGE_IMPORT = re.compile(
    rf"^[ \t]*(?:from[ \t]+{PACKAGE}[\w.]*[ \t]+import[ \t]+(?:\([^)]*\)|[^\n]*)"
    rf"|import[ \t]+{PACKAGE}[^\n]*)",
    re.MULTILINE,
)


@cache
def _imported_modules(path: Path) -> frozenset[str]:
    """Dotted names of the package modules that ``path`` imports, anywhere in the file.

    Parsed once per file and Snakemake run (most modules are in several rules' closures), and
    only the package's import statements are parsed, not the whole file: parsing every module
    was a third of a rerun with nothing to do. A file whose matched text is not Python (an
    import quoted in a docstring, say) is parsed whole instead.
    """
    text = path.read_text(encoding="utf-8")
    try:
        trees = [ast.parse(match.group(0).strip()) for match in _PACKAGE_IMPORT.finditer(text)]
    except SyntaxError:
        trees = [ast.parse(text, filename=str(path))]
    found: set[str] = set()
    for node in (node for tree in trees for node in ast.walk(tree)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from package import module` imports a module, not only an attribute
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(name for name in found if name.split(".")[0] == PACKAGE)


@cache
def _dependencies(path: Path) -> frozenset[Path]:
    """Source files that importing ``path`` runs directly: its imports and their parents."""
    found = set()
    for dotted in _imported_modules(path):
        parts = dotted.split(".")
        for depth in range(1, len(parts) + 1):
            module = _module_file(".".join(parts[:depth]))
            if module is not None:
                found.add(module)
    return frozenset(found)


@cache
def import_closure(entry: str) -> tuple[Path, ...]:
    """Every package source file that importing ``entry`` (relative path) can execute.

    Parent packages' ``__init__.py`` files count too, since Python runs them on import: those
    of ``entry`` itself (``models/__init__.py`` for ``models/fit_job.py``) and of every import.
    """
    seen: set[Path] = set()
    stack = [PACKAGE_DIR / entry]
    stack += [folder / "__init__.py" for folder in stack[0].parents[: len(Path(entry).parts) - 1]]
    while stack:
        path = stack.pop()
        if path not in seen:
            seen.add(path)
            stack.extend(_dependencies(path) - seen)
    return tuple(sorted(seen))


def package_sources(step: str) -> list[str]:
    """Return the package source files that the workflow step ``step`` runs or reads.

    Paths are relative to the working directory when the package lies inside it (a copy of
    the project run with ``PYTHONPATH=src``), so that Snakemake's records stay valid when the
    whole project folder is moved; otherwise absolute (an installed package).
    """
    files = {PACKAGE_DIR / name for name in LAUNCHER}
    for entry in ENTRY[step]:
        files.update(import_closure(entry))
    for folder in PACKAGE_DATA.get(step, ()):
        files.update(path for path in (PACKAGE_DIR / folder).iterdir() if path.is_file())
    cwd = Path.cwd().resolve()
    return [
        str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
        for path in sorted(files)
    ]


def code_digest(step: str) -> str:
    """Return the digests of the package sources ``step`` runs, as ``sha256sum`` lines.

    Paths are relative to the folder holding the package (``integration_models/cli.py``), so
    the text is the same wherever the project lies; ``sha256sum -c`` run in that folder checks
    it.
    """
    if step not in ENTRY:
        raise InputError("workflow", f"no step '{step}' (steps: {', '.join(ENTRY)})")
    files = sorted({Path(path).resolve() for path in package_sources(step)})
    lines = (
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  "
        f"{path.relative_to(PACKAGE_DIR.parent).as_posix()}\n"
        for path in files
    )
    return "".join(lines)


def write_code_digest(step: str, path: str, log_path: str | None = None) -> None:
    """Write :func:`code_digest` of ``step`` to ``path``, and how many files to ``log_path``."""
    digest = code_digest(step)
    write_text(path, digest)
    if log_path is not None:
        write_text(log_path, f"{step}: {len(digest.splitlines())} package files digested\n")


def unlimit_local_job_starts(workflow: object) -> bool:
    """Drop Snakemake's limit on job starts per second in a local run; return whether dropped.

    Called when the run starts (the Snakefile's ``onstart``, after Snakemake has built its
    scheduler). Snakemake's command line always sets a limit (100 starts per second), and
    with one every scheduling round arms a one-second timer whose firing runs another round,
    so the rounds grow with each finished job: 11,344 rounds for the demo run's 390 jobs,
    each checking every ready job's inputs, 8 s of a 78 s run. The limit guards a cluster's
    scheduler, so a cluster run (``profiles/slurm``) keeps it. Without it, Snakemake's
    scheduler works as when run from its Python API with no limit.
    """
    scheduler = getattr(workflow, "scheduler", None)
    if getattr(workflow, "local_exec", False) and getattr(scheduler, "job_rate_limiter", None):
        scheduler.job_rate_limiter = None  # type: ignore[union-attr]
        return True
    return False


DATA_ZONE_MODELS = ("twfe",)


def covid_window(config: dict) -> tuple[date, date]:
    """Return the configured COVID-19 window (``covid_window``) as dates, checked.

    Raises
    ------
    InputError
        If a day is not a real date or the window ends before it starts.
    """
    window = config["covid_window"]
    try:
        start, end = (date.fromisoformat(window[key]) for key in ("start", "end"))
    except (TypeError, ValueError) as err:
        raise InputError("config", f"covid_window: {err}") from None
    if end < start:
        raise InputError("config", f"covid_window ends ({end}) before it starts ({start})")
    return start, end


def check_config(config: dict) -> None:
    """Check what the JSON schema cannot: year order and where outputs may be written.

    Raises
    ------
    InputError
        Naming the offending key.
    """
    if config["first_year"] > config["last_year"]:
        raise InputError("config", "first_year is after last_year")
    covid_window(config)
    for key in OUTPUT_KEYS:
        path = PurePosixPath(config[key])
        if path.is_absolute() or ".." in path.parts:
            raise InputError(
                "config",
                f"{key} '{config[key]}' must be a relative path inside the project "
                "(outputs are never written elsewhere)",
            )
    check_output_folders(config)


def input_folders(config: dict) -> dict[str, Path]:
    """Return the folders the workflow reads and never writes: dataset and reference tables.

    Returns
    -------
    dict
        What each folder is (``raw_dir``, ``the folder of areas``, ...) -> its real path
        (symbolic links followed).
    """
    folders = {"raw_dir": Path(config["raw_dir"])}
    files = [("areas", config["areas"]), ("classification", config["classification"])]
    files += [(f"scenario '{path}'", path) for path in config["scenarios"]]
    folders.update({f"the folder of {name}": Path(path).parent for name, path in files})
    return {name: folder.resolve() for name, folder in folders.items()}


def _overlap(folder: Path, other: Path) -> str | None:
    """How ``folder`` overlaps ``other`` (``inside``, ...), or None if neither holds the other."""
    if folder == other:
        return "the same folder as"
    if folder.is_relative_to(other):
        return "inside"
    if other.is_relative_to(folder):
        return "a folder containing"
    return None


def check_output_folders(config: dict) -> None:
    """Refuse output folders whose real path leaves the project or overlaps an input folder.

    The textual check of :func:`check_config` misses a symbolic link (``results_dir: out``
    with ``out`` pointing elsewhere) and a folder among the inputs (``processed_dir:
    data/raw/values``, whose logs the next run would read as values files). So the real path
    of each output folder (symbolic links followed as far as the path exists) must lie inside
    the project (the working directory) and must neither equal, lie inside nor contain the
    dataset directory or the folder of a reference table (areas, classification, scenarios).

    Raises
    ------
    InputError
        Naming the key and the real path of the folder.
    """
    project = Path.cwd().resolve()
    inputs = input_folders(config)
    for key in OUTPUT_KEYS:
        real = Path(config[key]).resolve()
        if not real.is_relative_to(project):
            raise InputError(
                "config",
                f"{key} '{config[key]}' resolves to {real}, outside the project {project} "
                "(outputs are never written elsewhere)",
            )
        for name, folder in inputs.items():
            overlap = _overlap(real, folder)
            if overlap == "inside" and folder == project:
                continue  # a reference table at the top of the project: only "." is refused
            if overlap:
                raise InputError(
                    "config",
                    f"{key} '{config[key]}' resolves to {real}, {overlap} {folder} ({name}): "
                    "outputs are never written among the inputs",
                )


def area_level(config: dict) -> str:
    """Return the level of the configured areas table and check the models suit it.

    Data-zone panels (about 7,000 areas in 31 partnerships) run the data preparation and the
    ``twfe`` fits, clustered by partnership. The other models treat every area as an
    independent cluster or random effect (``glm`` also builds one dummy column per area), and
    the few-cluster inference, sensitivity analyses, figures and report are written for the
    council areas, so a data-zone run is refused unless ``models`` is ``[twfe]``.

    Returns
    -------
    str
        A key of :data:`integration_models.data.reference.AREA_LEVELS`.

    Raises
    ------
    InputError
        If the areas table is not valid, or it holds data zones and ``models`` is not ``[twfe]``.
    """
    from integration_models.data.reference import level_of, load_areas

    level = level_of(load_areas(config["areas"]))
    if level == "data zone" and list(config["models"]) != list(DATA_ZONE_MODELS):
        raise InputError(
            "config",
            f"models {config['models']}: the areas table {config['areas']} holds data zones, "
            "which support models [twfe] only (clustered by partnership); run with "
            "--config 'models=[twfe]'",
        )
    return level
