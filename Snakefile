"""integration-models: is integration of children's health and social care associated with outcomes?

Run `snakemake --cores 2` for the embedded demo dataset; see README.md and config.yaml.
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, schema="schemas/config.schema.yaml")


localrules: code_digest, classify, panel, data_summary, tables, headline, provenance, report, design_checks


include: "rules/common.smk"
include: "rules/ingest.smk"
include: "rules/models.smk"
include: "rules/estimators.smk"
include: "rules/report.smk"
include: "rules/data_zones.smk"
include: "rules/diagnostics.smk"
include: "rules/synthetic.smk"
include: "rules/code.smk"


onstart:
    # the worker processes of the local jobs load their libraries while the first jobs run
    start_workers(workflow.cores)
    unlimit_local_job_starts(workflow)
    if AREA_LEVEL == "data zone":
        print(
            "Data-zone areas table: data preparation, the twfe fits (clustered by partnership) "
            "and their tables only; inference, sensitivity, figures and report are council-level."
        )


onsuccess:
    # an input edited after the ingest read it: say so where the run is watched
    warning = stale_warning_of(results("provenance.json"))
    if warning:
        print(warning)


rule all:
    input:
        final_outputs(),
    default_target: True
