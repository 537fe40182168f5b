"""Atomic writes: every output file appears complete or not at all.

The one place the package writes files: text (:func:`write_text`), JSON (:func:`write_json`)
and Parquet (:func:`write_parquet`) here, and every other writer (the result tables' CSV in
:func:`integration_models.results.summarise.write_csv`, figures, the report) through
:func:`atomic_path`.

Each writer goes through :func:`atomic_path`: the content is written to a temporary file in the
destination's folder, with a unique name (``.<name>.<random>.tmp``, so two writers of the same
output never share it), which then replaces the destination in one ``os.replace``. A reader
never sees a half-written file, and a failed write (disk full, a serialiser error, Ctrl-C)
leaves no temporary file behind and the previous destination untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the workflow's start-up imports this module
    import pandas as pd

# mkstemp creates files readable by the owner only; outputs are ordinary files
FILE_MODE = 0o644


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` when the block ends without error.

    Parameters
    ----------
    path
        The destination. Missing folders are created.

    Yields
    ------
    pathlib.Path
        An empty temporary file in the destination's folder. Write it by name (serialisers
        that infer a format from the suffix must be told the format: the suffix is ``.tmp``).

    Notes
    -----
    On any exception in the block, including ``KeyboardInterrupt``, the temporary file is
    removed and the exception re-raised; ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8 with LF line ends, atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")


def write_json(
    path: str | Path, payload: object, *, indent: int = 1, ensure_ascii: bool = True
) -> None:
    """Write ``payload`` as JSON with sorted keys and a final newline, atomically."""
    text = json.dumps(payload, indent=indent, sort_keys=True, ensure_ascii=ensure_ascii)
    write_text(path, text + "\n")


def write_parquet(
    frame: pd.DataFrame, path: str | Path, input_hashes: dict[str, str] | None = None
) -> None:
    """Write ``frame`` to ``path`` as Parquet without the index, atomically.

    ``input_hashes`` (``{path: sha256}`` of the input files the frame was made from) go into
    the file's key-value metadata, where :func:`integration_models.data.inputs.read_input_hashes`
    finds them.
    """
    with atomic_path(path) as temporary:
        if input_hashes is None:
            frame.to_parquet(temporary, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        from integration_models.data.inputs import write_input_hashes

        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(write_input_hashes(table, input_hashes), temporary)


__all__ = ["atomic_path", "write_json", "write_parquet", "write_text"]
