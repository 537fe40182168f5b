"""Worker processes kept for a whole Snakemake run, in which the workflow's local jobs run.

Why (measured on the demo, 2 cores): a workflow step started as a shell command pays for a
new interpreter and its imports (pandas, pandera, statsmodels, matplotlib: about 1-1.5 s)
before it does any work, and most steps then work for well under a second. A maintainer's
update of one indicator reruns about ten such steps, so the imports were most of its time.
A job run as a thread of the Snakemake process would pay nothing to start, but would hold
the GIL and queue behind the fits. So the rules' ``run:`` blocks hand their work to a pool
of worker processes started when the run starts (:func:`command_job`, :func:`run_in_worker`):
the imports are paid once per run (:func:`_workers`), each job runs on a core of its own, and
a worker runs one job at a time, so each job's warnings and output are its own.

A job in a worker runs the same command-line entry point as the shell (``python -m
integration_models <command>``), with the same arguments, and writes what that command
prints to its log, so its outputs are those of the shell command (the tests compare them
byte for byte). This module imports no command: which package code a step runs, and so
which code changes rerun it, stays what :func:`integration_models.workflow.package_sources`
finds from the command's own module.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

Result = TypeVar("Result")

# What nearly every job run in a worker imports, loaded once by the fork server.
PRELOADED = (
    "pandas",
    "pyarrow.parquet",
    "pandera.pandas",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "scipy.stats",
    "statsmodels.api",
    "linearmodels",
    "diff_diff",  # the sunab, bjs and dcdh fits (about 0.4 s to import)
)

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


class CommandError(Exception):
    """A command run in a worker failed; the message is its one-line error (as the shell's)."""


def start(workers: int) -> None:
    """Start the pool with ``workers`` processes now.

    Called when a run begins (the Snakefile's ``onstart``, with its number of cores), so that
    the fork server loads its libraries while the run's first jobs (ingest, fits) run; without
    it the pool starts at the first job that needs it.
    """
    pool = _workers(workers)
    for _ in range(workers):
        pool.submit(int)  # a job per worker makes the pool start each one


def _workers(workers: int | None = None) -> ProcessPoolExecutor:
    """Return the process pool of this Snakemake process, started on first use.

    At most ``workers`` processes (default: one per CPU), each started only when a job finds
    no idle one. Workers are forked from a fork server (``multiprocessing``'s
    ``forkserver``), a fresh single-threaded interpreter that first imports the parent's main
    module and :data:`PRELOADED`: each worker then starts in milliseconds with its libraries
    loaded, instead of importing them (and, spawned, Snakemake's command line, 0.7 s) anew.
    The Snakemake process itself is never forked: it runs threads, and a fork copies their
    locks in whatever state they are. A pool broken by a worker that died is replaced; a worker
    whose Snakemake process was killed exits by itself (:func:`_start_worker`). As with any
    spawned process, the fork server imports the parent's main module: the ``snakemake``
    command and ``python -m snakemake`` are safe to import; a script calling Snakemake's API
    needs the usual ``if __name__ == "__main__":`` guard.
    """
    global _pool
    with _pool_lock:
        if _pool is None or getattr(_pool, "_broken", False):
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["__main__", __name__, *PRELOADED])
            _pool = ProcessPoolExecutor(
                workers or os.cpu_count() or 1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(os.getpid(),),
            )
        return _pool


def _start_worker(parent: int) -> None:
    """In a new worker: finish the job under way on SIGTERM, and exit once ``parent`` is gone.

    ``parent`` is the Snakemake process. On SIGTERM (a terminal's or a scheduler's stop, sent
    to the whole process group) Snakemake lets its running jobs finish; a worker does the same
    instead of dying half-way through writing a file. Once the Snakemake process is gone
    (killed, not shut down) the worker exits by itself.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:
        while _alive(parent):
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user took the number
        return False
    return True


def run_in_worker(function: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """Call ``function(*args, **kwargs)`` in a worker process and return its result.

    ``function`` must be a module-level function and its arguments and result picklable;
    an exception it raises is raised here.
    """
    return _workers().submit(function, *args, **kwargs).result()


def command_job(command: str, log_path: str | Path, **options: Any) -> None:
    """Run ``python -m integration_models <command> <options>`` in a worker.

    Parameters
    ----------
    command
        The command's name (``tables``, ``power-figure``, ...).
    log_path
        The job's log: what the command prints (its summary lines, warnings and, for bad input,
        its one-line error), as the shell rule's ``2> {log}`` wrote it.
    **options
        The command's long options, given as in :func:`command_line`.

    Raises
    ------
    CommandError
        If the command stops: for bad input with its ``error: <file>:<line>: <problem>`` line,
        for anything else with the log's path (the traceback is there).
    """
    message = run_in_worker(_run_command, command_line(command, options), str(log_path))
    if message is not None:
        raise CommandError(message)


def command_line(command: str, options: dict[str, Any]) -> list[str]:
    """Return the arguments of ``command`` with ``options`` as long options.

    ``out_dir=x`` gives ``--out-dir x``; a list or tuple (Snakemake's named inputs are lists)
    gives one argument per item, an empty one the option alone. Nothing is quoted: no shell
    reads these.
    """
    argv = [command]
    for name, value in options.items():
        argv.append(f"--{name.replace('_', '-')}")
        argv.extend(map(str, value) if isinstance(value, list | tuple) else [str(value)])
    return argv


def _run_command(argv: list[str], log_path: str) -> str | None:
    """In a worker: run the command line, stderr to the log; return None or what went wrong."""
    main = importlib.import_module("integration_models.cli").main  # see the module docstring
    with (
        open(log_path, "w", encoding="utf-8") as log,
        contextlib.redirect_stderr(log),
    ):
        try:
            status = main(argv)
        except SystemExit as stop:  # argparse refusing the arguments
            status = stop.code if isinstance(stop.code, int) else 2
        except Exception:
            traceback.print_exc(file=log)
            return f"{argv[0]} failed unexpectedly; the traceback is in {log_path}"
    if status == 0:
        return None
    errors = [
        line
        for line in Path(log_path).read_text(encoding="utf-8").splitlines()
        if line.startswith("error: ")
    ]
    return errors[-1] if errors else f"{argv[0]} stopped with status {status}; see {log_path}"
