"""The package's layout: subpackages that import nothing, modules that import no cycle, and the
import scan and code digests that make each workflow step depend on the code it runs."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from integration_models.errors import InputError
from integration_models.workflow import (
    PACKAGE_DIR,
    _imported_modules,
    _module_file,
    code_digest,
    package_sources,
    write_code_digest,
)

# subpackages whose __init__.py predates the layout and holds code (plots.LINEAR_MODELS, the
# commands' shared arguments, the specifications' loader); every other is a docstring only
INIT_WITH_CODE = {"commands", "plots", "data/specs"}


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Each package module -> the package modules it imports, at any depth in the file."""
    graph = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        targets = {_module_file(name) for name in _imported_modules(path)}
        graph[_dotted(path)] = {_dotted(t) for t in targets if t is not None and t != path}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of ``graph`` as a list of modules (first repeated last), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" when finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_imports_no_cycle():
    graph = import_graph()
    assert "integration_models.inference.table" in graph
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_new_subpackages_hold_only_a_docstring():
    for init in sorted(PACKAGE_DIR.rglob("__init__.py")):
        folder = init.parent.relative_to(PACKAGE_DIR).as_posix()
        if init.parent == PACKAGE_DIR or folder in INIT_WITH_CODE:
            continue
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), folder
        assert isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)


def test_one_adjust_pvalues_in_the_package():
    defined = [
        path.relative_to(PACKAGE_DIR).as_posix()
        for path in PACKAGE_DIR.rglob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "adjust_pvalues"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert defined == ["inference/multiplicity.py"]


def _imports_by_full_parse(path: Path) -> frozenset[str]:
    """The package imports of ``path`` from its whole syntax tree: the reference for the scan."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(name for name in found if name.startswith("integration_models"))


def test_the_import_scan_finds_what_a_full_parse_finds():
    paths = sorted(PACKAGE_DIR.rglob("*.py"))
    assert len(paths) > 100
    for path in paths:
        assert _imported_modules(path) == _imports_by_full_parse(path), path


def test_the_import_scan_reads_wrapped_and_indented_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""Doc."""\n'
        "if TYPE_CHECKING:\n"
        "    from integration_models.io import (\n"
        "        write_csv,  # a comment\n"
        "        write_parquet,\n"
        "    )\n"
        "def f():\n"
        "    import integration_models.data.panel as panel\n",
        encoding="utf-8",
    )
    assert _imported_modules(module) == {
        "integration_models.io",
        "integration_models.io.write_csv",
        "integration_models.io.write_parquet",
        "integration_models.data.panel",
    }


def test_an_import_quoted_in_prose_falls_back_to_a_full_parse(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""Say\nfrom integration_models.io import the writers, once.\n"""\n'
        "from integration_models.errors import InputError\n",
        encoding="utf-8",
    )
    assert _imported_modules(module) == {
        "integration_models.errors",
        "integration_models.errors.InputError",
    }


def test_the_code_digest_lists_every_source_of_a_step(tmp_path):
    lines = code_digest("fit").splitlines()
    named = [line.split("  ", 1)[1] for line in lines]
    expected = sorted(
        Path(path).resolve().relative_to(PACKAGE_DIR.parent).as_posix()
        for path in package_sources("fit")
    )
    assert named == expected and "integration_models/models/twfe.py" in named
    assert all(len(line.split("  ", 1)[0]) == 64 for line in lines)
    write_code_digest("report", str(tmp_path / "report.sha256"), str(tmp_path / "report.log"))
    text = (tmp_path / "report.sha256").read_text(encoding="utf-8")
    assert "integration_models/report/templates/report.css" in text
    count = len(package_sources("report"))
    assert (tmp_path / "report.log").read_text() == f"report: {count} package files digested\n"


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils' sha256sum")
def test_sha256sum_checks_the_code_digest(tmp_path):
    """An independent tool verifies every digest, run where the paths point (src/)."""
    digest = tmp_path / "fit.sha256"
    write_code_digest("fit", str(digest))
    check = subprocess.run(
        ["sha256sum", "--check", "--strict", str(digest)],
        cwd=PACKAGE_DIR.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(package_sources("fit"))


def test_the_code_digest_refuses_an_unknown_step():
    with pytest.raises(InputError, match="no step '../x'"):
        code_digest("../x")


def test_local_runs_drop_the_job_start_limit_and_cluster_runs_keep_it():
    from types import SimpleNamespace

    from integration_models.workflow import unlimit_local_job_starts

    local = SimpleNamespace(local_exec=True, scheduler=SimpleNamespace(job_rate_limiter="100/1s"))
    assert unlimit_local_job_starts(local) and local.scheduler.job_rate_limiter is None
    assert not unlimit_local_job_starts(local)  # already none
    cluster = SimpleNamespace(local_exec=False, scheduler=SimpleNamespace(job_rate_limiter="x"))
    assert not unlimit_local_job_starts(cluster) and cluster.scheduler.job_rate_limiter == "x"
    assert not unlimit_local_job_starts(SimpleNamespace(local_exec=True))  # no scheduler yet


def test_the_pinned_snakemake_has_the_limit_the_workflow_drops():
    """A Snakemake upgrade renaming these would silently keep the limit: fail here instead."""
    import inspect

    import snakemake.api  # noqa: F401  (imports the workflow and its scheduler in their order)
    from snakemake.scheduling.job_scheduler import JobScheduler
    from snakemake.workflow import Workflow

    assert "self.job_rate_limiter = (" in inspect.getsource(JobScheduler.__init__)
    assert "if self.job_rate_limiter is None:" in inspect.getsource(JobScheduler.job_selector)
    assert isinstance(inspect.getattr_static(Workflow, "local_exec"), property)
