"""Provenance of a run: what went in (file hashes), with which settings, code and software.

``provenance.json`` lets a reader check that a report belongs to a given dataset and code
version: every input file with its SHA-256 hash and size, the configuration, the versions of
Python and of the libraries that compute the results, the git commit of the project (and
whether the work tree had uncommitted changes), the time of the run and the platform.

The hash of a dataset or reference file is the hash of the bytes the ingest parsed, carried
in ``panel.parquet`` (:func:`read_input_hashes`), not of the file as it is when provenance
is written: a file edited after it was read is listed in ``changed_during_run`` and the run
is marked ``stale`` (:func:`stale_warning`), instead of being vouched for.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import integration_models
from integration_models.data.inputs import read_input_hashes
from integration_models.io import write_json
from integration_models.results.stamp import config_hash, inputs_hash

UNKNOWN = "unknown"
PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "statsmodels",
    "linearmodels",
    "scipy",
    "matplotlib",
    "snakemake",
)
GIT_TIMEOUT = 10.0
CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Return the hexadecimal SHA-256 digest of the bytes of ``path``."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(
    path: Path,
    read_hashes: dict[str, str] | None = None,
    sha256_now: Callable[[Path], str] = file_sha256,
) -> dict:
    """Return ``{"path", "sha256", "size"}`` of one file; the path is kept as given (POSIX).

    ``sha256`` is the hash recorded when the file was read, if ``read_hashes`` has one (then
    ``sha256_now``, the hash of the file now, is added when it differs), else the hash now.
    ``size`` is the size now. ``sha256_now`` hashes the file as it is now.
    """
    path = Path(path)
    key = path.as_posix()
    now = sha256_now(path)
    record = {"path": key, "sha256": now, "size": path.stat().st_size}
    read = (read_hashes or {}).get(key)
    if read is not None and read != now:
        record.update(sha256=read, sha256_now=now)
    return record


def changed_files(
    read_hashes: dict[str, str], sha256_now: Callable[[Path], str] = file_sha256
) -> list[str]:
    """Return the files whose contents now differ from when they were read, sorted.

    A file now missing or not a regular file counts as changed (it is not opened then); so
    does a file read with two different contents during the run (two hashes).
    """
    return [
        key
        for key, read in sorted(read_hashes.items())
        if not Path(key).is_file() or sha256_now(Path(key)) != read
    ]


def stale_warning(provenance: dict) -> str | None:
    """Return a one-line warning naming the inputs that changed during the run, or None."""
    changed = provenance.get("changed_during_run") or []
    if not changed:
        return None
    return (
        f"warning: {', '.join(changed)} changed after the run read it: the outputs were "
        "computed from the earlier contents and are stale (provenance.json records the hashes "
        "as read); run snakemake again"
    )


def package_versions() -> dict[str, str]:
    """Return the versions of Python, this package and the libraries behind the results.

    A library that is not installed is reported as ``"not installed"`` rather than omitted.
    """
    versions = {
        "python": platform.python_version(),
        "integration_models": integration_models.__version__,
    }
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _git(repo: Path, *args: str, timeout: float) -> str | None:
    """Run one git command in ``repo``; return its stdout, or None on any failure."""
    executable = shutil.which("git")
    if executable is None:
        return None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        result = subprocess.run(
            [executable, "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout


def git_state(repo: Path, timeout: float = GIT_TIMEOUT) -> dict:
    """Return the commit of ``repo`` and whether its work tree has uncommitted changes.

    Parameters
    ----------
    repo
        A folder inside the project's git work tree.
    timeout
        Seconds allowed for each git command.

    Returns
    -------
    dict
        ``{"commit": <40-hex hash>, "dirty": bool}``; both ``"unknown"`` when git is not
        installed, ``repo`` does not exist or is not a git work tree, or git does not answer in
        time. Untracked files that are not ignored count as changes.
    """
    state = {"commit": UNKNOWN, "dirty": UNKNOWN}
    if not Path(repo).is_dir():
        return state
    commit = _git(repo, "rev-parse", "--verify", "HEAD", timeout=timeout)
    if commit is None or not commit.strip():
        return state
    state["commit"] = commit.strip()
    status = _git(repo, "status", "--porcelain", timeout=timeout)
    if status is not None:
        state["dirty"] = bool(status.strip())
    return state


def build_provenance(
    inputs: dict[str, list[Path]], config: dict, repo: Path, panel: Path | None = None
) -> dict:
    """Collect the provenance of a run.

    Parameters
    ----------
    inputs
        Input files by group, e.g. ``{"dataset": [...], "reference": [...], "panel": [...]}``.
        Paths are recorded as given (use paths relative to the project).
    config
        The run's configuration; recorded as given (made JSON-compatible: tuples become
        lists, anything else that JSON cannot hold becomes its string).
    repo
        The project folder, whose git commit is recorded.
    panel
        ``panel.parquet``, whose metadata holds the hashes of the input files as the ingest
        read them (:func:`read_input_hashes`); those hashes are recorded for those files.

    Returns
    -------
    dict
        JSON-serialisable: ``inputs`` (group -> list of ``{"path", "sha256", "size"}``, in the
        order given, see :func:`file_record`), ``changed_during_run`` (files read by the run
        that differ now, see :func:`changed_files`), ``stale`` (whether there are any),
        ``stamp`` (the ``config_hash`` and ``inputs_hash`` every result table carries, see
        :mod:`integration_models.results.stamp`),
        ``config``, ``versions``, ``git`` (``commit``, ``dirty``), ``created`` (UTC time,
        ISO 8601) and ``platform``.

    Raises
    ------
    FileNotFoundError
        If an input file does not exist.
    """
    read_hashes = read_input_hashes(panel) if panel is not None else {}
    sha256_now = functools.cache(file_sha256)  # a file both listed and read is hashed once
    changed = changed_files(read_hashes, sha256_now)
    return {
        "inputs": {
            group: [file_record(Path(path), read_hashes, sha256_now) for path in paths]
            for group, paths in inputs.items()
        },
        "changed_during_run": changed,
        "stale": bool(changed),
        "stamp": {"config_hash": config_hash(config), "inputs_hash": inputs_hash(read_hashes)},
        "config": json.loads(json.dumps(config, default=str)),
        "versions": package_versions(),
        "git": git_state(Path(repo)),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": f"{platform.platform()} ({sys.implementation.name})",
    }


def write_provenance(path: Path, provenance: dict) -> None:
    """Write ``provenance`` as JSON (sorted keys, indent 2, UTF-8), atomically.

    The JSON goes to a temporary file in the target folder first, which then replaces
    ``path`` (:func:`integration_models.io.write_json`).
    """
    write_json(path, provenance, indent=2, ensure_ascii=False)
