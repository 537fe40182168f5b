"""The reviewer notebook: committed without outputs, and runs its checks against a workflow run.

The notebook reads the run from the folders named by ``INTEGRATION_MODELS_ROOT``,
``INTEGRATION_MODELS_RESULTS`` and ``INTEGRATION_MODELS_PROCESSED``. This test passes the same
variables on to the kernel: set them (e.g. in a fixture that runs the workflow into a temporary
copy of the project) to check that run; unset, the repository's own ``results/`` and
``data/processed/`` are used, and the test is skipped if no run has produced results there.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "review.ipynb"
TIMEOUT = 300


def run_folders() -> tuple[Path, Path, Path]:
    """The project, results and processed folders, as the notebook resolves them."""
    root = Path(os.environ.get("INTEGRATION_MODELS_ROOT") or REPO).resolve()

    def folder(variable: str, default: Path) -> Path:
        value = os.environ.get(variable)
        return (root / value).resolve() if value else default

    results = folder("INTEGRATION_MODELS_RESULTS", root / "results")
    processed = folder("INTEGRATION_MODELS_PROCESSED", root / "data" / "processed")
    return root, results, processed


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], "clear the notebook's outputs before committing"
            assert cell.execution_count is None


def test_review_notebook_runs(finished, monkeypatch, tmp_path):
    """Execute the notebook against the shared workflow run of the demo dataset."""
    for variable in ("INTEGRATION_MODELS_RESULTS", "INTEGRATION_MODELS_PROCESSED"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("INTEGRATION_MODELS_ROOT", str(finished))
    root, results, processed = run_folders()
    coefficients = results / "tables" / "coefficients.csv"
    if not coefficients.is_file():
        pytest.skip(
            f"no workflow results at {coefficients}: run `snakemake --cores 2` first or set "
            "INTEGRATION_MODELS_RESULTS / INTEGRATION_MODELS_PROCESSED / INTEGRATION_MODELS_ROOT"
        )
    monkeypatch.setenv("INTEGRATION_MODELS_ROOT", str(root))
    monkeypatch.setenv("INTEGRATION_MODELS_RESULTS", str(results))
    monkeypatch.setenv("INTEGRATION_MODELS_PROCESSED", str(processed))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(root)}},
    )
    client.execute()
    text = "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "rows read" in text
    # the redrawn forest is the run's figure, byte for byte, drawn from the same models
    assert "models drawn: csdid, mixed, twfe" in text
    assert f"redrawn forest identical to {results / 'figures' / 'forest.png'}: True" in text
    assert ": False" not in text
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images, "the forest figure was not displayed"
