"""The files of a dataset's ``values/`` folder, listed without opening them.

Apart from :mod:`integration_models.data.ingest` (which reads them with pandas) so that the
workflow's start-up, which lists every indicator's files to declare them as inputs, does not
import pandas: it is paid on every run, a run with nothing to do included.
"""

from __future__ import annotations

import os
from pathlib import Path


def indicator_files(values_dir: Path, indicator: str) -> list[Path]:
    """Return one indicator's values files: ``values/<id>.csv`` and every ``values/<id>/*.csv``.

    Only names are listed, nothing is opened: a FIFO, device or link among them is an input
    like any other file, which :func:`integration_models.data.inputs.read_input` then refuses.
    """
    single = values_dir / f"{indicator}.csv"
    listed = [single] if os.path.lexists(single) else []
    return listed + sorted((values_dir / indicator).glob("*.csv"))


def unread_files(values_dir: Path, read: set[Path]) -> list[Path]:
    """Return the entries below ``values_dir`` that are not folders and not in ``read``.

    Special files (a FIFO, a socket) count, so that they are named rather than left out;
    hidden files (``.name``) are ignored. Nothing is opened.
    """
    if not values_dir.is_dir():
        return []
    files = sorted(
        p for p in values_dir.rglob("*") if not p.is_dir() and not p.name.startswith(".")
    )
    return [path for path in files if path not in read]
