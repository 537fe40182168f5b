"""Every output writer is atomic: a failed write leaves no temporary file and the old output.

Each test makes the serialiser write some bytes and then fail as a full disk would, and checks
that the error propagates, that the folder holds exactly the files it held before (no
``*.tmp``), and that the previous version of the output is unchanged.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

FRAME = pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]})
OLD = b"the previous output\n"


def _disk_full(target: object) -> None:
    """Write a few bytes to ``target`` (a path), then fail as a full disk does."""
    Path(str(target)).write_bytes(b"partial")
    raise OSError(errno.ENOSPC, "No space left on device")


def _patch_serialisers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every serialiser the writers use fail midway."""
    import matplotlib.figure

    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, *a, **k: _disk_full(path))
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda self, path, *a, **k: _disk_full(path))
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: _disk_full(self))
    monkeypatch.setattr(shutil, "copy2", lambda source, target, *a, **k: _disk_full(target))
    monkeypatch.setattr(
        matplotlib.figure.Figure, "savefig", lambda self, path, *a, **k: _disk_full(path)
    )


def _write_csv(folder: Path) -> Path:
    from integration_models.results.summarise import write_csv

    write_csv(FRAME, folder / "table.csv")
    return folder / "table.csv"


def _write_parquet(folder: Path) -> Path:
    from integration_models.io import write_parquet

    write_parquet(FRAME, folder / "table.parquet")
    return folder / "table.parquet"


def _write_fit_json(folder: Path) -> Path:
    from integration_models.io import write_json

    write_json(folder / "fit.json", {"fit": {"status": "ok"}})
    return folder / "fit.json"


def _write_panel(folder: Path) -> Path:
    from integration_models.data.ingest import write_panel
    from tests.conftest import tiny_panel

    write_panel(tiny_panel(), FRAME, folder / "panel.parquet", folder / "exclusions.csv")
    return folder / "panel.parquet"


def _write_exclusions(folder: Path) -> Path:
    """The panel's second file: the panel is written, then the exclusions fail."""
    import integration_models.data.ingest as ingest
    from tests.conftest import tiny_panel

    ingest.write_panel(tiny_panel(), FRAME, folder / "panel.parquet", folder / "exclusions.csv")
    return folder / "exclusions.csv"


def _write_report(folder: Path) -> Path:
    import integration_models.report.render as report

    report.write_report(
        folder / "report.html",
        tables=[],
        figures=[],
        registry=FRAME,
        classification=FRAME,
        areas=FRAME,
        provenance={},
        synthetic=True,
    )
    return folder / "report.html"


def _write_provenance(folder: Path) -> Path:
    from integration_models.results.provenance import write_provenance

    write_provenance(folder / "provenance.json", {"inputs": {}})
    return folder / "provenance.json"


def _save_figure(folder: Path) -> Path:
    from integration_models.plots.base import new_figure, save_figure

    save_figure(new_figure((2, 2)), folder / "figure")
    return folder / "figure.png"


def _sync_scotland(folder: Path) -> Path:
    from integration_models.data.scotland import _sync

    staging = folder.parent / "staging"
    staging.mkdir()
    (staging / "values.csv").write_bytes(b"the new output\n")
    _sync(staging, folder)
    return folder / "values.csv"


WRITERS: dict[str, Callable[[Path], Path]] = {
    "results.summarise.write_csv": _write_csv,
    "io.write_parquet": _write_parquet,
    "io.write_json": _write_fit_json,
    "data.ingest.write_panel (parquet)": _write_panel,
    "report.render.write_report": _write_report,
    "results.provenance.write_provenance": _write_provenance,
    "plots.base.save_figure": _save_figure,
    "data.scotland._sync (copy)": _sync_scotland,
}


@pytest.mark.parametrize("writer", list(WRITERS), ids=list(WRITERS))
def test_failed_write_leaves_old_output_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    import integration_models.report.render as report

    folder = tmp_path / "out"
    folder.mkdir()
    for name in ("table.csv", "table.parquet", "fit.json", "panel.parquet", "exclusions.csv"):
        (folder / name).write_bytes(OLD)
    for name in ("report.html", "provenance.json", "figure.png", "figure.svg", "values.csv"):
        (folder / name).write_bytes(OLD)
    before = sorted(p.name for p in folder.iterdir())
    monkeypatch.setattr(report, "render_report", lambda **kwargs: "<!DOCTYPE html>")
    _patch_serialisers(monkeypatch)
    with pytest.raises(OSError) as raised:
        WRITERS[writer](folder)
    assert raised.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == before
    assert all((folder / name).read_bytes() == OLD for name in before)


def test_failed_second_file_of_the_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The panel is written; the exclusions CSV fails and leaves nothing but the old file."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "exclusions.csv").write_bytes(OLD)
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, *a, **k: _disk_full(path))
    with pytest.raises(OSError):
        _write_exclusions(folder)
    monkeypatch.undo()
    assert sorted(p.name for p in folder.iterdir()) == ["exclusions.csv", "panel.parquet"]
    assert (folder / "exclusions.csv").read_bytes() == OLD


def test_interrupt_removes_the_temporary_file(tmp_path: Path) -> None:
    """Ctrl-C (a BaseException, not an Exception) mid-write also cleans up."""
    from integration_models.io import atomic_path

    target = tmp_path / "out.csv"
    target.write_bytes(OLD)
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as temporary:
        temporary.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert target.read_bytes() == OLD


def test_successful_write_replaces_and_temporaries_are_unique(tmp_path: Path) -> None:
    """Two writers of one output get different temporary files; the last to finish wins."""
    from integration_models.io import atomic_path

    target = tmp_path / "out.txt"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        assert first.parent == second.parent == tmp_path
        first.write_text("first")
        second.write_text("second")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert target.stat().st_mode & 0o777 == 0o644
