"""The stamp of a run: which configuration and which inputs made a table or the report.

Every result table carries two columns, ``config_hash`` and ``inputs_hash``, and the report
states both at the top, with ``provenance.json`` holding the full record behind them. So a
table left over from an earlier configuration, or from inputs that have since changed (a run
that stopped before rewriting it), cannot pass for current: its stamp differs from the
report's, and the report names every table whose stamp is not its own.

- ``config_hash``: SHA-256 of the analysis configuration as canonical JSON, without the keys
  that change no number and no row of any table: the report's title (changing it reruns the
  report alone), where outputs go (the same run written to two folders gives byte-identical
  tables) and the input size limit (which only stops a run).
- ``inputs_hash``: SHA-256 of the ``{path: sha256}`` map of the input files as the ingest
  and the classification read them (:func:`integration_models.inputs.read_input_hashes` of
  ``panel.parquet``), as canonical JSON.

Both are shortened to 16 hexadecimal digits (64 bits) in tables and the report; provenance
keeps the per-file hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

STAMP_COLUMNS = ("config_hash", "inputs_hash")
NOT_RESULT_KEYS = ("report_title", "processed_dir", "results_dir", "max_input_mb")
DIGITS = 16


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:DIGITS]


def config_hash(config: Mapping[str, object]) -> str:
    """Return the hash of the analysis configuration (all keys but :data:`NOT_RESULT_KEYS`)."""
    return _digest({k: v for k, v in config.items() if k not in NOT_RESULT_KEYS})


def inputs_hash(hashes: Mapping[str, str]) -> str:
    """Return the hash of a ``{path: sha256}`` map of the input files as read."""
    return _digest(dict(hashes))


@dataclass(frozen=True)
class Stamp:
    """The configuration and inputs hashes of one run."""

    config_hash: str
    inputs_hash: str

    @classmethod
    def of_run(cls, config: str, panel: str | Path) -> Stamp:
        """Return the stamp of a run with configuration hash ``config`` that read ``panel``."""
        from integration_models.inputs import read_input_hashes

        return cls(config, inputs_hash(read_input_hashes(panel)))

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with the stamp as its two last columns (on every row)."""
        return frame.assign(config_hash=self.config_hash, inputs_hash=self.inputs_hash)


def stamp_of_table(path: str | Path) -> Stamp | None:
    """Return the stamp a CSV table carries, or None if it has none or more than one."""
    try:
        frame = pd.read_csv(path, usecols=list(STAMP_COLUMNS), dtype=str, keep_default_na=False)
    except ValueError:  # no stamp columns: a table from before stamps, or not a result table
        return None
    pairs = set(zip(frame["config_hash"], frame["inputs_hash"], strict=True))
    if len(pairs) != 1:
        return None
    return Stamp(*pairs.pop())


def foreign_tables(paths: Iterable[str | Path], expected: Stamp) -> list[str]:
    """Return the names of the tables whose stamp is not ``expected`` (missing counts).

    A table with no rows carries no stamp and is not counted.
    """
    foreign = []
    for path in sorted(Path(p) for p in paths):
        stamp = stamp_of_table(path)
        empty = stamp is None and len(pd.read_csv(path, usecols=[0])) == 0
        if stamp != expected and not empty:
            foreign.append(path.name)
    return foreign
