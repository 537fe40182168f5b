"""Read every input file through one door: what it is, where it leads, how big, and its hash.

A dataset file is checked before it is opened: only a regular file is read (a FIFO would
hang the run, ``/dev/zero`` would exhaust memory), a symbolic link whose target lies outside
the file's root folder (the dataset directory, or the folder of a reference file) is refused
without being followed, and a file larger than the configured limit stops the run. The bytes
are read once; their SHA-256 is recorded (:func:`reading`) and the parsers parse those bytes,
so a hash always describes exactly what was parsed. The hashes travel to ``panel.parquet``
in the Parquet key-value metadata (:func:`write_input_hashes`, :func:`read_input_hashes`),
where provenance finds them.

Only the standard library is imported at module level: the workflow reads the registry
through here when it starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from integration_models.errors import InputError

MB = 1 << 20
DEFAULT_MAX_MB = 512
# Parquet key-value metadata key of the {path: sha256} map of the files a job read
METADATA_KEY = b"integration_models.input_sha256"
KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}

_max_bytes: ContextVar[int] = ContextVar("max_bytes", default=DEFAULT_MAX_MB * MB)
_record: ContextVar[dict[str, str] | None] = ContextVar("record", default=None)


@dataclass(frozen=True)
class Input:
    """The bytes of an input file as read, and their SHA-256 (hexadecimal)."""

    data: bytes
    sha256: str


@contextmanager
def reading(max_mb: float = DEFAULT_MAX_MB) -> Iterator[dict[str, str]]:
    """Set the size limit of :func:`read_input` and record the hash of every file it reads.

    Parameters
    ----------
    max_mb
        The largest input file accepted, in MB (the configuration's ``max_input_mb``).

    Yields
    ------
    dict
        Filled while the block runs: path as given (POSIX) -> SHA-256 of the bytes read;
        a file read twice with different contents maps to both hashes (see
        :func:`merge_input_hashes`).
    """
    hashes: dict[str, str] = {}
    limit, record = _max_bytes.set(int(max_mb * MB)), _record.set(hashes)
    try:
        yield hashes
    finally:
        _max_bytes.reset(limit)
        _record.reset(record)


def read_input(path: str | Path, root: str | Path | None = None) -> Input:
    """Read one input file after checking what it is, where it leads and its size.

    Parameters
    ----------
    path
        The file, as given (it is named so in messages and in the recorded hashes).
    root
        The folder the file must resolve into (default: the folder it is in). The dataset's
        files use the dataset directory, so a link to another dataset file is allowed.

    Returns
    -------
    Input
        The bytes and their SHA-256; inside :func:`reading`, the hash is also recorded.

    Raises
    ------
    InputError
        Naming ``path`` if it does not exist or cannot be read, is a symbolic link that
        resolves outside ``root`` (never opened, nothing of it quoted), is not a regular file
        (checked before opening, and again on the open file), or exceeds the size limit (at
        most limit + 1 bytes are read, whatever the file claims).
    """
    path = Path(path)
    folder = Path(root) if root is not None else path.parent
    try:
        real = path.resolve()
    except RuntimeError:  # a loop of symbolic links
        raise InputError(path, "symbolic link loop (not followed)") from None
    if not real.is_relative_to(folder.resolve()):
        shown = str(folder) if str(folder).isprintable() else repr(str(folder))
        raise InputError(path, f"symbolic link leading outside {shown} (refused, not followed)")
    limit = _max_bytes.get()
    try:
        _check_kind(path, os.stat(real), limit)
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            _check_kind(path, os.fstat(handle.fileno()), limit)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as err:
        raise InputError(path, f"cannot read the file: {err.strerror}") from None
    if len(data) > limit:
        raise InputError(path, f"file is larger than the limit of {_mb(limit)} (max_input_mb)")
    found = Input(data, hashlib.sha256(data).hexdigest())
    record = _record.get()
    if record is not None:
        record.update(merge_input_hashes([record, {path.as_posix(): found.sha256}]))
    return found


def _check_kind(path: Path, info: os.stat_result, limit: int) -> None:
    """Refuse anything but a regular file, and a regular file over ``limit`` bytes."""
    if not stat.S_ISREG(info.st_mode):
        kind = KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise InputError(path, f"is {kind}, expected a CSV file (not read)")
    if info.st_size > limit:
        raise InputError(
            path, f"file is {_mb(info.st_size)}, over the limit of {_mb(limit)} (max_input_mb)"
        )


def _mb(size: int) -> str:
    """Return a size in MB, for messages."""
    return f"{size / MB:,.1f} MB"


def merge_input_hashes(maps: Iterable[dict[str, str]]) -> dict[str, str]:
    """Merge ``{path: sha256}`` maps of several reads; sorted by path.

    A path read with different contents (the file changed during the run) maps to all its
    distinct hashes, sorted and separated by spaces, so that it matches no single file's hash
    and provenance reports it as changed.
    """
    found: dict[str, set[str]] = {}
    for hashes in maps:
        for path, digest in hashes.items():
            found.setdefault(path, set()).update(digest.split())
    return {path: " ".join(sorted(found[path])) for path in sorted(found)}


def write_input_hashes(table, hashes: dict[str, str]):
    """Return the pyarrow ``table`` with ``hashes`` in its schema's key-value metadata."""
    metadata = {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(hashes).encode()}
    return table.replace_schema_metadata(metadata)


def read_input_hashes(parquet_path: str | Path) -> dict[str, str]:
    """Return the ``{path: sha256}`` of the input files read to make a Parquet file.

    Written by the ingest (``indicators/<id>.parquet``), ``classify`` (``integration.parquet``)
    and ``panel`` (``panel.parquet``, all of them merged by :func:`merge_input_hashes`); an
    empty map for a Parquet file without them. Only the file's footer is read.
    """
    import pyarrow.parquet as pq

    metadata = pq.read_schema(parquet_path).metadata or {}
    return json.loads(metadata.get(METADATA_KEY, b"{}"))
