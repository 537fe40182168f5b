"""Shared helpers: validated registry, path functions, wildcard constraints, targets."""

import json
import os
import shlex
import sys
import threading
from pathlib import Path

# One BLAS thread in the fits that run inside this process: reproducible and not slower on
# these small designs (several threads per fit only contend with the other jobs).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from snakemake.exceptions import WorkflowError

from integration_models.errors import InputError
from integration_models.data.identifiers import registry_ids
from integration_models.data.files import indicator_files, unread_files
from integration_models.data.inputs import reading
from integration_models.memory import check_memory
from integration_models.plan.analysis_plan import load_plan
from integration_models.plots import EVENT_STUDY_MODELS, LINEAR_MODELS
from integration_models.results.provenance import stale_warning
from integration_models.results.stamp import config_hash
from integration_models import workers
from integration_models.workers import command_job
from integration_models.workflow import (
    ENTRY,
    area_level,
    check_config,
    package_sources,
    unlimit_local_job_starts,
    write_code_digest,
)

try:
    check_config(config)
    with reading(config["max_input_mb"]):  # the checks of every input file, at start-up too
        AREA_LEVEL = area_level(config)
        INDICATORS = registry_ids(Path(config["raw_dir"]) / "indicators.csv")
        PLAN = load_plan(config["analysis_plan"])  # a bad plan stops the run at start-up
    if AREA_LEVEL == "council area":  # data-zone runs do not resample (rules/data_zones.smk)
        check_memory(config, len(INDICATORS))
except InputError as err:
    raise WorkflowError(f"error: {err}") from None

# Council areas: every ingest, fit and analysis takes about a second, so they are local rules,
# run in the worker processes of this run (local_job); as cluster jobs each would pay 5-10 s of
# start-up. Data zones: each reads about 100,000 rows and needs about 600 MB, so they are
# cluster jobs (profiles/slurm).
SMALL_JOBS = AREA_LEVEL == "council area"


MODELS = list(config["models"])
# carried by every result table (integration_models.results.stamp); keys that change no result
# left out
CONFIG_HASH = config_hash(config)


def package_command(*commands):
    """Shell command running ``python -m integration_models <command>`` for each, in turn.

    The interpreter is the one running Snakemake (whose packages this parse imported), not
    whichever ``python`` comes first on PATH; quoted for the shell, braces doubled for
    Snakemake's formatting. It is part of each rule's command, so a run under another
    interpreter reruns the jobs. SLURM jobs run Snakemake under the same path (the executor
    starts it with this interpreter, on a shared file system).
    """
    python = shlex.quote(sys.executable).replace("{", "{{").replace("}", "}}")
    return " && ".join(f"{python} -m integration_models {command}" for command in commands)


def options(*groups):
    """The named items of a rule's input, output and params, as a command's options.

    ``code`` (the digest of the package sources, an input only so that code edits rerun the
    rule) is left out; each other name must be the command's option of that name
    (``model_fit`` for ``--model-fit``).
    """
    return {name: value for group in groups for name, value in group.items() if name != "code"}


def local_job(function, *args, **kwargs):
    """Run a job's package function: in a worker process of this run, or here in a cluster job.

    Council-area jobs are local and small: in a worker (integration_models.workers) they pay
    no interpreter start and run beside each other on every core. A cluster job (data zones)
    is a Snakemake process of its own, so it calls the function itself.
    """
    if SMALL_JOBS:
        return workers.run_in_worker(function, *args, **kwargs)
    return function(*args, **kwargs)


def start_workers(cores):
    """Start the worker processes of the local jobs: one per core used, at most one per CPU.

    In a thread of its own: the fork server loads its libraries (about 2 s) while the first
    jobs (the ingest) start, instead of before them.
    """
    try:
        count = int(cores)
    except (TypeError, ValueError):  # no limit given (cluster runs)
        count = os.cpu_count() or 1
    count = max(1, min(count, os.cpu_count() or 1))
    threading.Thread(target=workers.start, args=(count,), daemon=True).start()


def processed(path):
    """Path inside the configured processed-data folder."""
    return str(Path(config["processed_dir"]) / path)


def results(path):
    """Path inside the configured results folder."""
    return str(Path(config["results_dir"]) / path)


def step_code(step):
    """The digests of the package sources ``step`` runs (its jobs' code input)."""
    return processed(f"code/{step}.sha256")


def twfe_fits():
    """The twfe fit of every indicator: which terms the steps after the fits analyse."""
    return [results(f"fits/twfe/{indicator}.json") for indicator in INDICATORS]


ANALYSIS_PARTS = ("inference", "draws", "power", "size", "sensitivity", "equivalence")


def analysis_parts(part):
    """One per-indicator analysis file of every indicator (rule ``analyse``), in registry order."""
    return [results(f"analysis/{indicator}/{part}.parquet") for indicator in INDICATORS]


def registry_file():
    """The dataset's indicator registry."""
    return str(Path(config["raw_dir"]) / "indicators.csv")


def fit_settings():
    """Minimum data, significance level and the plan's min_partnerships for every model fit."""
    settings = {key: config[key] for key in ("min_years", "min_areas", "alpha")}
    return settings | {"min_partnerships": PLAN.min_partnerships}


def output_dir(wildcards, output):
    """The folder of a rule's first output."""
    return str(Path(output[0]).parent)


def config_json():
    """The configuration as canonical JSON, for provenance."""
    return json.dumps(config, sort_keys=True)


def folder_of(key):
    """A params function: the folder of the first file of the named input."""

    def folder(wildcards, input):
        files = getattr(input, key)
        return str(Path(files if isinstance(files, str) else files[0]).parent)

    return folder


def raw_inputs():
    """Every file of the dataset directory that the ingest reads (new files trigger reruns)."""
    raw = Path(config["raw_dir"])
    files = [raw / "covariates.csv"]
    files += sorted((raw / "values").rglob("*.csv"))
    return [str(path) for path in files]


def truth_files():
    """The dataset's known effects (`demo_truth.csv`) as a one-item list, or [] if it has none."""
    path = Path(config["raw_dir"]) / "demo_truth.csv"
    return [str(path)] if path.is_file() else []


def covariates_file():
    """The dataset's covariates file."""
    return str(Path(config["raw_dir"]) / "covariates.csv")


def indicator_value_files(wildcards):
    """The values files of one indicator: values/<id>.csv and values/<id>/*.csv.

    Only these are the indicator's ingest inputs, so a new year's file for one indicator
    reruns that indicator's ingest and fits and the steps that combine all indicators.
    """
    values = Path(config["raw_dir"]) / "values"
    return [str(path) for path in indicator_files(values, wildcards.indicator)]


def unread_value_files():
    """Files in values/ that no indicator's ingest reads (normally none).

    They are inputs of every ingest job, so that one appearing (a stray indicator, a `.CSV`
    or `.xlsx` file) reruns the ingest, which stops and names it instead of leaving it out.
    """
    values = Path(config["raw_dir"]) / "values"
    read = {path for indicator in INDICATORS for path in indicator_files(values, indicator)}
    return [str(path) for path in unread_files(values, read)]


def dataset_dir(wildcards, input):
    """The dataset directory, as the folder of the registry file."""
    return str(Path(input.registry).parent)


OVERVIEW_FIGURES = ["trends", "forest"]  # span all indicators: rules figures_trends, _forest
# the figures of one indicator, drawn by one job from its own fits (rule figures_indicator)
INDICATOR_FIGURES = ["coefficients"]
if any(model in EVENT_STUDY_MODELS for model in MODELS):
    INDICATOR_FIGURES.append("event_study")
# the fits those figures read: the linear models (glm's effects are on another scale)
FIGURE_MODELS = [model for model in MODELS if model in LINEAR_MODELS]


def figure_files():
    """PNG and SVG files of every figure the report embeds (not the sensitivity figure)."""
    names = [*OVERVIEW_FIGURES, "estimators"]  # estimators: rules/estimators.smk
    names += [f"{kind}_{indicator}" for kind in INDICATOR_FIGURES for indicator in INDICATORS]
    names += ["power", "size"]  # size: drawn by rule size with its table
    return [results(f"figures/{name}.{ext}") for name in names for ext in ("png", "svg")]


def synthetic_parts(part):
    """One synthetic-control part file of every indicator, in registry order."""
    return [results(f"synthetic/{indicator}/{part}.parquet") for indicator in INDICATORS]


def design_figure_files():
    """The PNG figures of issue 16's checks of the design, in the report's order."""
    names = ["twfe_weights", "honest_did", "synthetic_control"]
    return [results(f"figures/{name}.png") for name in names]


def indicator_figure_files():
    """Output patterns of one indicator's figures: per kind of INDICATOR_FIGURES, in order, its
    PNG then its SVG (the coefficient PNG registered for ``snakemake --report``)."""
    files = []
    for kind in INDICATOR_FIGURES:
        png = results(f"figures/{kind}_{{indicator}}.png")
        if kind == "coefficients":
            png = report(
                png,
                caption="captions/coefficients.rst",
                category="Figures",
                subcategory="Coefficients per indicator",
                labels={"indicator": "{indicator}"},
            )
        files += [png, results(f"figures/{kind}_{{indicator}}.svg")]
    return files


def dataset_files():
    """The dataset's files whose hashes provenance records."""
    return [registry_file(), *raw_inputs(), *truth_files()]


def stale_warning_of(path):
    """The warning of a provenance.json whose inputs changed during the run, or None."""
    path = Path(path)
    return stale_warning(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else None


def final_outputs():
    """All targets of a full run; for data zones, the panel, fit tables and provenance."""
    if AREA_LEVEL == "data zone":
        return [
            processed("panel.parquet"),
            processed("exclusions.csv"),
            results("tables/coefficients.csv"),
            results("provenance.json"),
        ]
    return [
        processed("panel.parquet"),
        processed("exclusions.csv"),
        results("tables/summary.csv"),
        results("tables/inference.csv"),
        results("report.html"),
        results("provenance.json"),
    ]


wildcard_constraints:
    indicator="|".join(INDICATORS),
    # twfe is fitted even when not listed in `models`: its fits decide what the few-cluster
    # inference, power and sensitivity analyse (integration_models.inference.scope)
    model="|".join(sorted({*MODELS, "twfe"})),
    step="|".join(ENTRY),
