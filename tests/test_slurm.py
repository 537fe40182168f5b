"""The workflow on a real SLURM scheduler through snakemake-executor-plugin-slurm (issue 7).

The cheap checks of ``profiles/slurm/config.yaml`` always run. The cluster tests are opt-in
(``IM_TEST_SLURM=1``, marker ``slurm``): they install Debian's ``slurmctld``, ``slurmd``,
``slurm-client`` and ``munge`` if missing (root only), start ``munged``, ``slurmctld`` and
``slurmd`` on localhost with a single-node configuration written here (no cgroups:
``proctrack/linuxproc``, ``task/none``; memory limits enforced by ``jobacct_gather/linux``),
run the demo workflow through ``snakemake --profile profiles/slurm`` and compare its tables
byte for byte with a local run of the same project copy. A job given too little memory, or too
little time, must be killed by SLURM and reported by Snakemake with its rule and log files, and
a rerun must resume from the finished jobs. Every daemon is stopped by process id at the end.
Where the sandbox refuses to install or run the daemons, the tests skip with the exact reason.

Two things differ from a production cluster, both because the throwaway cluster keeps its
configuration in a temporary folder (``SLURM_CONF``) instead of ``/etc/slurm``:

- accounting is disabled (no ``slurmdbd``), so ``sacct`` cannot answer and the runs pass
  ``--slurm-status-command squeue`` (valid because ``MinJobAge`` is 600 s);
- snakemake-executor-plugin-slurm-jobstep removes every ``SLURM_*`` variable, ``SLURM_CONF``
  included, before its inner ``srun`` (as reported upstream for ``sacctmgr``:
  snakemake/snakemake-executor-plugin-slurm#164), so an ``srun`` wrapper first on ``PATH``
  puts it back.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEMO_MODELS, REPO, copy_workflow

OPT_IN = "IM_TEST_SLURM"
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
DEBIAN_PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "srun", "scancel", "sinfo")
TEST_SETTINGS = ("--slurm-status-command", "squeue")
START_TIMEOUT = 60.0
RUN_TIMEOUT = 1800


@dataclass(frozen=True)
class Run:
    """A finished Snakemake run."""

    returncode: int
    output: str
    seconds: float


class ClusterUnavailableError(RuntimeError):
    """The local SLURM cluster could not be installed or started (the message says why)."""


def free_ports(count: int) -> list[int]:
    """Distinct TCP ports on localhost that are free now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def node_memory_mb(cap: int = 8000) -> int:
    """Memory the test node offers jobs: ``cap`` MB, or 80% of this machine's if less."""
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    return min(cap, int(physical * 0.8))


def missing_commands() -> list[str]:
    """SLURM and munge programs not on PATH (``/usr/sbin`` included)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [name for name in COMMANDS if shutil.which(name, path=path) is None]


def install_debian_packages(log: Path) -> None:
    """Install slurm and munge with apt-get; raise ClusterUnavailableError saying why it failed."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise ClusterUnavailableError(
            f"SLURM programs {missing_commands()} missing and apt-get is not usable here "
            "(needs Debian and root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *DEBIAN_PACKAGES]
    with log.open("w") as handle:
        for command in (install, ["apt-get", "update"], install):
            done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
            if done.returncode == 0 and command is install and not missing_commands():
                return
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    raise ClusterUnavailableError(f"apt-get install {' '.join(DEBIAN_PACKAGES)} failed: {tail}")


def slurm_conf(root: Path, host: str, ports: tuple[int, int], memory_mb: int) -> str:
    """A single-node slurm.conf: one partition, memory as a consumable, no cgroups."""
    return f"""\
ClusterName=imtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/socket
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory={memory_mb} State=UNKNOWN
PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class LocalSlurm:
    """munged, slurmctld and slurmd on localhost, configured and owned by one test session.

    Parameters
    ----------
    root
        Empty folder for the configuration, state, spool and log files.
    memory_mb
        Memory the node offers to jobs (SLURM refuses jobs asking for more).
    """

    root: Path
    memory_mb: int = field(default_factory=node_memory_mb)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        """The slurm.conf every client and daemon of this cluster reads."""
        return self.root / "slurm.conf"

    def env(self) -> dict[str, str]:
        """Environment for Snakemake and SLURM clients: this cluster's configuration first."""
        path = os.pathsep.join([str(self.root / "bin"), os.environ.get("PATH", ""), "/usr/sbin"])
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": path}

    def start(self) -> None:
        """Install if needed, write the configuration and start the three daemons.

        Raises
        ------
        ClusterUnavailableError
            With the reason (missing program, daemon exit with its log's last lines, timeout).
        """
        if os.geteuid() != 0:
            raise ClusterUnavailableError("slurmd must run as root to start jobs; this is not root")
        for name in ("munge", "state", "spool", "run", "log", "bin"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        if missing_commands():
            install_debian_packages(self.root / "log" / "apt.log")
        self._write_files()
        self._start("munged", ["munged", "--foreground", "--force", *self._munge_args()])
        self._wait(lambda: (self.root / "munge" / "socket").exists(), "munged socket")
        self._start("slurmctld", ["slurmctld", "-D", "-i"])
        self._wait(self._controller_up, "slurmctld answering `scontrol ping`")
        self._start("slurmd", ["slurmd", "-D", "-N", self.host])
        self._wait(self._node_idle, "slurmd registering its node as idle")

    @property
    def host(self) -> str:
        """Short host name: slurmctld only runs where its SlurmctldHost names this host."""
        return socket.gethostname().split(".")[0]

    def _munge_args(self) -> list[str]:
        munge = self.root / "munge"
        return [
            f"--socket={munge / 'socket'}",
            f"--key-file={munge / 'munge.key'}",
            f"--log-file={self.root / 'log' / 'munged.log'}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
        ]

    def _write_files(self) -> None:
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        (self.root / "munge").chmod(0o755)
        ports = tuple(free_ports(2))
        self.conf.write_text(slurm_conf(self.root, self.host, ports, self.memory_mb))
        srun = shutil.which("srun", path=os.environ.get("PATH", "") + ":/usr/bin")
        wrapper = self.root / "bin" / "srun"
        # the jobstep plugin drops SLURM_CONF before its inner srun (see the module docstring)
        wrapper.write_text(f'#!/bin/sh\nSLURM_CONF="{self.conf}" exec {srun} "$@"\n')
        wrapper.chmod(0o755)

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.root / "log" / f"{name}.out").open("w")
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True
        )

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    out = (self.root / "log" / f"{name}.out").read_text(errors="replace")
                    raise ClusterUnavailableError(
                        f"{name} exited with code {process.returncode} while waiting for "
                        f"{what}: {out.strip().splitlines()[-3:]}"
                    )
            if ready():
                return
            time.sleep(0.5)
        raise ClusterUnavailableError(f"timed out after {START_TIMEOUT:.0f} s waiting for {what}")

    def _client(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            command, capture_output=True, text=True, env=self.env(), timeout=30, check=False
        )

    def _controller_up(self) -> bool:
        return "is UP" in self._client("scontrol", "ping").stdout

    def _node_idle(self) -> bool:
        return self._client("sinfo", "-h", "-N", "-o", "%T").stdout.strip() == "idle"

    def active_jobs(self) -> list[str]:
        """Ids of jobs not yet finished (pending, running or completing)."""
        out = self._client("squeue", "-h", "-o", "%i", "--states=PD,R,CG,CF,S").stdout
        return out.split()

    def stop(self) -> None:
        """Cancel the jobs, then stop slurmd, slurmctld and munged by their process ids."""
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            jobs = self.active_jobs()
            if jobs:
                self._client("scancel", *jobs)
            deadline = time.monotonic() + 30
            while self.active_jobs() and time.monotonic() < deadline:
                time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running single-node SLURM cluster (skips with the reason where it cannot run)."""
    if os.environ.get(OPT_IN) != "1":
        pytest.skip(f"opt-in: set {OPT_IN}=1 to start munged, slurmctld and slurmd on localhost")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.skip("snakemake-executor-plugin-slurm not installed: pip install -e '.[slurm]'")
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
    except ClusterUnavailableError as err:
        slurm.stop()
        pytest.skip(f"cannot run a local SLURM cluster here: {err}")
    yield slurm
    slurm.stop()
    for name, process in slurm.processes.items():
        assert process.poll() is not None, f"{name} (pid {process.pid}) still running"


def run_snakemake(workdir: Path, env: dict[str, str], *args: str) -> Run:
    """Run Snakemake in ``workdir`` with ``env``; return its exit code, output and wall time.

    Where the project copy has its own package sources (``src/``), they go first on
    ``PYTHONPATH``, which ``sbatch --export=ALL`` hands on to the SLURM jobs.
    """
    if (workdir / "src").is_dir():
        env = {**env, "PYTHONPATH": str(workdir / "src")}
    start = time.perf_counter()
    done = subprocess.run(
        ["snakemake", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return Run(done.returncode, done.stdout + done.stderr, time.perf_counter() - start)


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table Snakemake prints before running: rule -> number of jobs."""
    lines = output.splitlines()
    start = lines.index("Job stats:") + 3
    counts = {}
    for line in lines[start:]:
        name, _, count = line.partition(" ")
        if name == "total" or not count.strip().isdigit():
            break
        counts[name] = int(count)
    return counts


def profile_settings() -> dict:
    """The SLURM profile as a dictionary."""
    return yaml.safe_load(PROFILE.read_text())


def local_rules(level: str = "council area") -> set[str]:
    """Rules that run in the Snakemake process for an areas table of this level.

    The Snakefile's ``localrules:`` line, and for council areas the rules marked
    ``localrule: SMALL_JOBS`` (data preparation and the 175 model fits: under a second per job
    there, while every SLURM job costs 5-10 s of start-up in two Snakemake processes).
    """
    lines = [
        line
        for line in (REPO / "Snakefile").read_text().splitlines()
        if line.startswith("localrules:")
    ]
    assert len(lines) == 1, lines
    names = {name.strip() for name in lines[0].split(":", 1)[1].split(",")}
    if level == "council area":
        for rules in (REPO / "rules").glob("*.smk"):
            names |= set(
                re.findall(r"^rule (\w+):\n    localrule: SMALL_JOBS$", rules.read_text(), re.M)
            )
    return names


def cluster_rules(workdir: Path, level: str = "council area") -> set[str]:
    """Rules whose jobs the SLURM profile submits: all but the local ones and ``all``."""
    listed = subprocess.run(
        ["snakemake", "--list-rules"], cwd=workdir, capture_output=True, text=True, check=True
    ).stdout.split()
    assert local_rules(level) <= set(listed), (local_rules(level), listed)
    return set(listed) - local_rules(level) - {"all"}


# --- checks of the profile that need no cluster -------------------------------------------


def test_profile_has_measured_resources_for_every_cluster_rule(tmp_path):
    settings = profile_settings()
    assert settings["executor"] == "slurm"
    cluster = cluster_rules(copy_workflow(tmp_path))
    assert cluster <= set(settings["set-resources"]) <= cluster | local_rules()
    for rule, resources in [("default", settings["default-resources"])] + list(
        settings["set-resources"].items()
    ):
        assert isinstance(resources["mem_mb"], int) and resources["mem_mb"] >= 500, rule
        assert isinstance(resources["runtime"], int) and resources["runtime"] >= 1, rule
        assert resources.get("cpus_per_task", 1) >= 1, rule


def test_cheap_steps_are_local():
    assert {"ingest", "fit", "tables", "report"} <= local_rules()
    assert not {"inference", "sensitivity"} & local_rules()
    assert not {"ingest", "fit"} & local_rules("data zone")


def test_no_execution_settings_in_config():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    execution = {"executor", "jobs", "cores", "resources", "default-resources", "set-resources"}
    assert not execution & set(config)
    assert not {key.replace("_", "-") for key in config} & execution


def test_dry_run_with_profile(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    run = run_snakemake(
        copy_workflow(tmp_path), dict(os.environ), "--profile", "profiles/slurm", "-n"
    )
    assert run.returncode == 0, run.output
    assert "Using profiles profiles/slurm and workflow specific profile" in run.output
    counts = job_counts(run.output)
    assert counts["fit"] == 25 * len(DEMO_MODELS)
    assert set(counts) == cluster_rules(tmp_path) | local_rules() | {"all"}


def test_job_counts_parser():
    text = (
        "Job stats:\njob      count\n-----  -------\ningest       1\nfit        100\ntotal  101\n"
    )
    assert job_counts(text) == {"ingest": 1, "fit": 100}


# --- the workflow through SLURM -------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory) -> tuple[Path, Run, Run]:
    """The demo workflow in one project copy: locally, then through SLURM into other folders."""
    workdir = copy_workflow(tmp_path_factory.mktemp("project"))
    local = run_snakemake(workdir, cluster.env())
    assert local.returncode == 0, local.output
    slurm = run_snakemake(
        workdir,
        cluster.env(),
        "--profile",
        "profiles/slurm",
        *TEST_SETTINGS,
        "--config",
        "results_dir=results_slurm",
        "processed_dir=processed_slurm",
    )
    assert slurm.returncode == 0, slurm.output
    print(f"demo run: local {local.seconds:.1f} s, through SLURM {slurm.seconds:.1f} s")
    return workdir, local, slurm


def submitted_rules(output: str) -> list[str]:
    """Rules of the jobs the SLURM executor submitted, from its log lines."""
    return [
        line.split("slurm_logs/rule_")[1].split("/")[0]
        for line in output.splitlines()
        if "has been submitted with SLURM jobid" in line
    ]


@pytest.mark.slurm
def test_every_cluster_rule_went_through_slurm(runs):
    workdir, local, slurm = runs
    assert sorted(submitted_rules(slurm.output)) == sorted(cluster_rules(workdir))
    assert "steps (100%) done" in slurm.output
    assert not submitted_rules(local.output)


@pytest.mark.slurm
def test_tables_identical_to_local_run(runs):
    workdir, _, _ = runs
    local, slurm = workdir / "results" / "tables", workdir / "results_slurm" / "tables"
    names = sorted(path.name for path in local.iterdir())
    assert len(names) >= 8 and names == sorted(path.name for path in slurm.iterdir())
    for name in names:
        assert (local / name).read_bytes() == (slurm / name).read_bytes(), name
    for name in ("panel.parquet", "exclusions.csv"):
        first = (workdir / "data" / "processed" / name).read_bytes()
        assert first == (workdir / "processed_slurm" / name).read_bytes(), name


def slurm_log_of(output: str, rule: str) -> Path:
    """The SLURM log file Snakemake names in its error report for ``rule``."""
    for line in output.splitlines():
        for word in line.split():
            if f"slurm_logs/rule_{rule}/" in word and line.strip().startswith("log:"):
                return Path(word.rstrip(","))
    raise AssertionError(f"no SLURM log of rule {rule} in the error report:\n{output}")


def override_profile(workdir: Path, rule: str, **resources: int) -> str:
    """A copy of the SLURM profile in ``workdir`` with other resources for one rule."""
    settings = profile_settings()
    settings["set-resources"][rule].update(resources)
    folder = workdir / "profiles" / "slurm_override"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(settings))
    return "profiles/slurm_override"


@pytest.mark.slurm
def test_job_out_of_memory_reported_and_rerun_resumes(cluster, tmp_path):
    workdir = copy_workflow(tmp_path)
    profile = override_profile(workdir, "inference", mem_mb=60)
    failed = run_snakemake(workdir, cluster.env(), "--profile", profile, *TEST_SETTINGS, "-k")
    assert failed.returncode != 0, failed.output
    assert "Error in rule inference:" in failed.output, failed.output
    assert "SLURM status is: 'FAILED'" in failed.output, failed.output
    assert "results/logs/inference.log" in failed.output
    assert "exceeded memory limit" in slurm_log_of(failed.output, "inference").read_text()
    assert "Error in rule" not in failed.output.replace("Error in rule inference:", "")
    fits = sorted((workdir / "results" / "fits").rglob("*.json"))
    assert len(fits) == 25 * len(DEMO_MODELS)
    finished = [*fits, *(workdir / "data" / "processed").rglob("*.parquet")]
    stamps = {path: path.stat().st_mtime_ns for path in finished}

    rerun = run_snakemake(workdir, cluster.env(), "--profile", "profiles/slurm", *TEST_SETTINGS)
    assert rerun.returncode == 0, rerun.output
    rerun_jobs = job_counts(rerun.output)
    assert rerun_jobs["inference"] == 1 and "report" in rerun_jobs
    assert not {"ingest", "classify", "panel", "fit", "sensitivity"} & set(rerun_jobs)
    assert {path: path.stat().st_mtime_ns for path in finished} == stamps
    assert (workdir / "results" / "report.html").exists()


@pytest.mark.slurm
def test_job_over_time_limit_reported(cluster, tmp_path):
    """A million resampling draws took 177 s and 2.8 GB here; the one-minute limit stops them."""
    workdir = copy_workflow(tmp_path)
    profile = override_profile(workdir, "inference", runtime=1, mem_mb=6000)
    failed = run_snakemake(
        workdir,
        cluster.env(),
        "--profile",
        profile,
        *TEST_SETTINGS,
        "--config",
        "inference_reps=1000000",
        "--",
        "results/tables/inference.csv",
    )
    assert failed.returncode != 0, failed.output
    assert "Error in rule inference:" in failed.output, failed.output
    assert "SLURM status is: 'TIMEOUT'" in failed.output, failed.output
    assert "DUE TO TIME LIMIT" in slurm_log_of(failed.output, "inference").read_text()
    assert not (workdir / "results" / "tables" / "inference.csv").exists()


@pytest.mark.slurm
def test_data_zone_preparation_and_fits_are_slurm_jobs(cluster, tmp_path):
    """Data zones: every ingest and fit is a SLURM job, and the fits equal a local run's."""
    from integration_models.data.zones import workflow_config, write_data_zone_dataset

    workdir = copy_workflow(tmp_path)
    write_data_zone_dataset(62, workdir / "zones")
    zones = workflow_config("zones")
    local = run_snakemake(workdir, cluster.env(), "--config", *zones)
    assert local.returncode == 0, local.output
    slurm = run_snakemake(
        workdir,
        cluster.env(),
        "--profile",
        "profiles/slurm",
        *TEST_SETTINGS,
        "--config",
        *zones,
        "results_dir=results_slurm",
        "processed_dir=processed_slurm",
    )
    assert slurm.returncode == 0, slurm.output
    assert sorted(submitted_rules(slurm.output)) == ["fit"] * 25 + ["ingest"] * 25
    assert cluster_rules(workdir, "data zone") >= {"fit", "ingest"}
    fits = sorted((workdir / "results" / "fits" / "twfe").glob("*.json"))
    assert len(fits) == 25
    for path in fits:
        other = workdir / "results_slurm" / "fits" / "twfe" / path.name
        assert path.read_bytes() == other.read_bytes(), path.name
    for name in ("panel.parquet", "exclusions.csv"):
        first = (workdir / "data" / "processed" / name).read_bytes()
        assert first == (workdir / "processed_slurm" / name).read_bytes(), name
