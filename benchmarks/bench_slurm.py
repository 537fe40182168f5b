"""Time the workflow locally and through SLURM on the same machine (issue 7).

Run from the project root as root: ``python benchmarks/bench_slurm.py [--repeats N]``. It
starts the same throwaway single-node SLURM cluster as ``tests/test_slurm.py`` (munged,
slurmctld, slurmd on localhost; Debian packages installed if missing), then runs the demo
workflow from scratch in fresh project copies, alternating a local run (``snakemake``, the
default profile) and a run through ``snakemake --profile profiles/slurm``, and stops every
daemon by process id. While the SLURM runs go, it samples every 0.2 s the resident memory of
all processes of each SLURM job (the batch Snakemake, the inner Snakemake started by ``srun``
and the rule's command, which is what ``jobacct_gather/linux`` counts against ``--mem``): the
peaks are the measured needs behind ``profiles/slurm/config.yaml``.

Output format (the run of 2026-11-26 on the 2-core sandbox; other helpers' jobs were light)::

    slurm-wlm 22.05.8 on localhost, snakemake-executor-plugin-slurm 2.8.0, 3 repeats, ...
    demo run from scratch (fits byte-identical): local 57.8 s, through SLURM 103.4 s (median),
    overhead 45.6 s; ...
    rule                     jobs  peak RSS MB  longest s
    figures_coefficients_1      3          570         16
    figures_event_study         3          632         17
    inference                   3          654         15
    sensitivity                 3          621         18
    ...

With ``--data-zones UNITS`` (e.g. 7000) both runs use instead a generated data-zone dataset
of that many areas (:mod:`integration_models.data.zones`, written into each project copy before the
clock starts) with ``models=[twfe]``: 25 ingest jobs, the classification, the panel and 25
``twfe`` fits, which for data zones are SLURM jobs rather than local rules. It checks that the
fits of the two runs are byte-identical. The run of 2026-11-26::

    7,000 data zones, models [twfe] run from scratch (fits byte-identical): local 43.4 s,
    through SLURM 253.7 s (median), overhead 210.3 s; all runs: local 42.4, 44.5; SLURM ...
    rule                     jobs  peak RSS MB  longest s
    fit                        50          635         11
    ingest                     50          610          9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from integration_models.data.zones import workflow_config, write_data_zone_dataset  # noqa: E402
from tests.conftest import copy_workflow  # noqa: E402
from tests.test_slurm import (  # noqa: E402
    TEST_SETTINGS,
    ClusterUnavailableError,
    LocalSlurm,
    run_snakemake,
)


class JobMemorySampler(threading.Thread):
    """Peak summed RSS (MB) of the processes of each SLURM job, sampled in the background."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peaks: dict[str, float] = defaultdict(float)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            totals: dict[str, float] = defaultdict(float)
            for process in psutil.process_iter():
                try:
                    job = process.environ().get("SLURM_JOB_ID")
                    if job:
                        totals[job] += process.memory_info().rss / 2**20
                except (psutil.Error, OSError):
                    continue
            for job, total in totals.items():
                self.peaks[job] = max(self.peaks[job], total)
            time.sleep(self.interval)


def job_table(slurm: LocalSlurm) -> dict[str, tuple[str, float]]:
    """SLURM job id -> (rule, elapsed seconds), from squeue (jobs stay listed for MinJobAge)."""
    out = subprocess.run(
        ["squeue", "-h", "--states=all", "-o", "%i|%k|%S|%e"],
        capture_output=True,
        text=True,
        env=slurm.env(),
        check=True,
    ).stdout
    table = {}
    for line in out.splitlines():
        job, comment, start, end = line.split("|")
        seconds = time.mktime(time.strptime(end, "%Y-%m-%dT%H:%M:%S")) - time.mktime(
            time.strptime(start, "%Y-%m-%dT%H:%M:%S")
        )
        table[job] = (comment.removeprefix("rule_").split("_wildcards_")[0], seconds)
    return table


def timed_run(
    slurm: LocalSlurm, through_slurm: bool, extra: list[str], zones: int | None
) -> tuple[float, dict[str, bytes]]:
    """Wall seconds of one run from scratch in a fresh project copy, and its fit files."""
    args = ["--profile", "profiles/slurm", *TEST_SETTINGS, *extra] if through_slurm else []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = copy_workflow(Path(tmp))
        if zones:
            write_data_zone_dataset(zones, workdir / "zones")
            args += ["--config", *workflow_config("zones")]
        run = run_snakemake(workdir, slurm.env(), *args)
        if run.returncode != 0:
            raise RuntimeError(run.output[-3000:])
        fits = {
            str(path.relative_to(workdir)): path.read_bytes()
            for path in sorted((workdir / "results" / "fits").rglob("*.json"))
        }
    return run.seconds, fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--init-seconds",
        type=int,
        help="override the profile's slurm-init-seconds-before-status-checks",
    )
    parser.add_argument("--data-zones", type=int, help="time a data-zone dataset of this size")
    options = parser.parse_args()
    repeats, zones = options.repeats, options.data_zones
    extra = []
    if options.init_seconds:
        extra = ["--slurm-init-seconds-before-status-checks", str(options.init_seconds)]
    with tempfile.TemporaryDirectory() as tmp:
        slurm = LocalSlurm(Path(tmp) / "slurm")
        try:
            slurm.start()
            sampler = JobMemorySampler()
            sampler.start()
            local, remote = [], []
            for _ in range(repeats):
                seconds, local_fits = timed_run(slurm, False, extra, zones)
                local.append(seconds)
                seconds, slurm_fits = timed_run(slurm, True, extra, zones)
                remote.append(seconds)
                if local_fits != slurm_fits or not local_fits:
                    raise RuntimeError("the fits of the local and the SLURM run differ")
            sampler.done.set()
            sampler.join()
            jobs = job_table(slurm)
            slurm_version = subprocess.run(
                ["sinfo", "-V"], capture_output=True, text=True, env=slurm.env(), check=True
            ).stdout.strip()
        except ClusterUnavailableError as err:
            sys.exit(f"cannot run a local SLURM cluster here: {err}")
        finally:
            slurm.stop()
    print(
        f"{slurm_version} on localhost, snakemake-executor-plugin-slurm "
        f"{version('snakemake-executor-plugin-slurm')}, {repeats} repeats, "
        f"status checks {' '.join(extra) or 'as in the profile'}"
    )
    local_s, remote_s = statistics.median(local), statistics.median(remote)
    what = f"{zones:,} data zones, models [twfe]" if zones else "demo"
    print(
        f"{what} run from scratch (fits byte-identical): local {local_s:.1f} s, through SLURM "
        f"{remote_s:.1f} s (median), overhead {remote_s - local_s:.1f} s; all runs: local "
        f"{', '.join(f'{s:.1f}' for s in local)}; SLURM {', '.join(f'{s:.1f}' for s in remote)}"
    )
    per_rule: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for job, (rule, seconds) in jobs.items():
        per_rule[rule].append((sampler.peaks.get(job, 0.0), seconds))
    print(f"{'rule':<24} {'jobs':>4} {'peak RSS MB':>12} {'longest s':>10}")
    for rule, values in sorted(per_rule.items()):
        peak = max(value[0] for value in values)
        longest = max(value[1] for value in values)
        print(f"{rule:<24} {len(values):>4} {peak:>12.0f} {longest:>10.0f}")


if __name__ == "__main__":
    main()
