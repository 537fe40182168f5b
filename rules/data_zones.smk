"""Data-zone runs (an areas table of `S01` codes): data preparation, twfe fits, fit tables.

The council-level steps (few-cluster inference, sensitivity, figures, report) do not run for
data zones (see docs/cluster.md); these rules take the place of `tables` and of the provenance
written by `report`.
"""


if AREA_LEVEL == "data zone":

    ruleorder: tables_fits > tables
    ruleorder: provenance_fits > provenance

    rule tables_fits:
        localrule: True
        input:
            fits=expand(
                results("fits/{model}/{indicator}.json"), model=MODELS, indicator=INDICATORS
            ),
            registry=registry_file(),
            panel=processed("panel.parquet"),
            code=step_code("tables"),
        output:
            coefficients=results("tables/coefficients.csv"),
            coefficients_parquet=results("tables/coefficients.parquet"),
            model_fit=results("tables/model_fit.csv"),
            summary=results("tables/summary.csv"),
            event_study=results("tables/event_study.csv"),
            model_counts=results("tables/model_counts.csv"),
        log:
            results("logs/tables.log"),
        params:
            alpha=config["alpha"],
            config_hash=CONFIG_HASH,
            out_dir=output_dir,
        shell:
            package_command(
                "tables --fits {input.fits:q}"
                " --registry {input.registry:q} --alpha {params.alpha}"
                " --panel {input.panel:q} --config-hash {params.config_hash}"
                " --out-dir {params.out_dir:q} 2> {log:q}"
            )

    rule provenance_fits:
        localrule: True
        input:
            panel=processed("panel.parquet"),
            exclusions=processed("exclusions.csv"),
            tables=rules.tables_fits.output,
            dataset=dataset_files(),
            reference=[
                config["analysis_plan"],
                config["areas"],
                config["classification"],
                *config["scenarios"],
            ],
            code=step_code("provenance"),
        output:
            results("provenance.json"),
        log:
            results("logs/provenance.log"),
        params:
            config_json=config_json(),
        shell:
            package_command(
                "provenance --dataset {input.dataset:q}"
                " --reference {input.reference:q}"
                " --results {input.panel:q} {input.exclusions:q} {input.tables:q}"
                " --panel {input.panel:q}"
                " --config-json {params.config_json:q} --out {output:q} 2> {log:q}"
            )
