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
  and the classification read them (:func:`integration_models.data.inputs.read_input_hashes` of
  ``panel.parquet``), as canonical JSON.

Both are shortened to 16 hexadecimal digits (64 bits) in tables and the report; provenance
keeps the per-file hashes.

Before the two hashes every table carries a third column, ``data``: ``SYNTHETIC demo data``
when the run's indicator registry declares the dataset synthetic
(:func:`integration_models.data.registry.is_synthetic`), else ``real``. A table copied out of the
project (into a slide, a spreadsheet, another repository) then still says on every row that
its numbers are not real statistics; the hashes alone cannot. The column follows from the
inputs (the registry is one of them), so it is not part of a stamp's identity: two stamps
are equal when their hashes are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the workflow's start-up needs config_hash only
    import pandas as pd

HASH_COLUMNS = ("config_hash", "inputs_hash")
DATA_COLUMN = "data"
# every column Stamp.apply adds, in order; readers drop these to get the table's own columns
STAMP_COLUMNS = (DATA_COLUMN, *HASH_COLUMNS)
SYNTHETIC_DATA = "SYNTHETIC demo data"
REAL_DATA = "real"
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
    """The configuration and inputs hashes of one run, and whether its data are synthetic.

    ``synthetic`` only labels the tables (column ``data``); it is left out of equality, the
    hashes already identifying the inputs.
    """

    config_hash: str
    inputs_hash: str
    synthetic: bool = field(default=False, compare=False)

    @classmethod
    def of_run(cls, config: str, panel: str | Path, registry: str | Path) -> Stamp:
        """Return the stamp of a run with configuration hash ``config`` that read ``panel``.

        Parameters
        ----------
        config
            The configuration hash (:func:`config_hash`, computed once by the workflow).
        panel
            ``panel.parquet``: its metadata holds the hashes of the inputs as read.
        registry
            The run's indicator registry: whether the dataset declares itself synthetic.
        """
        from integration_models.data.inputs import read_input_hashes
        from integration_models.data.registry import is_synthetic, load_registry

        hashes = inputs_hash(read_input_hashes(panel))
        return cls(config, hashes, is_synthetic(load_registry(registry)))

    @property
    def data(self) -> str:
        """The value of the ``data`` column: :data:`SYNTHETIC_DATA` or :data:`REAL_DATA`."""
        return SYNTHETIC_DATA if self.synthetic else REAL_DATA

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with the stamp as its three last columns (on every row).

        The columns are :data:`STAMP_COLUMNS`: ``data``, ``config_hash``, ``inputs_hash``.
        """
        frame = frame.drop(columns=[c for c in STAMP_COLUMNS if c in frame])
        return frame.assign(
            data=self.data, config_hash=self.config_hash, inputs_hash=self.inputs_hash
        )


def stamp_of_table(path: str | Path) -> Stamp | None:
    """Return the stamp a CSV table carries, or None if it has none or more than one."""
    try:
        import pandas as pd

        frame = pd.read_csv(path, usecols=list(HASH_COLUMNS), dtype=str, keep_default_na=False)
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
    import pandas as pd

    foreign = []
    for path in sorted(Path(p) for p in paths):
        stamp = stamp_of_table(path)
        empty = stamp is None and len(pd.read_csv(path, usecols=[0])) == 0
        if stamp != expected and not empty:
            foreign.append(path.name)
    return foreign
