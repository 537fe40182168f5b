# The size limit of input files (max_input_mb) is read from the configuration in the shell
# command, not given as a parameter: it decides whether a job may read its inputs, never what
# it writes, so changing it reruns no ingest (only the report, which records the config).


rule ingest:
    localrule: SMALL_JOBS
    input:
        registry=registry_file(),
        values=indicator_value_files,
        unread=unread_value_files(),
        covariates=covariates_file(),
        areas=config["areas"],
        code=step_code("ingest"),
    output:
        observations=processed("indicators/{indicator}.parquet"),
        exclusions=processed("indicators/{indicator}.exclusions.parquet"),
    log:
        processed("logs/ingest/{indicator}.log"),
    params:
        raw_dir=dataset_dir,
        first_year=config["first_year"],
        last_year=config["last_year"],
        covid_window=f"{config['covid_window']['start']} {config['covid_window']['end']}",
        baseline_year=config["deprivation_baseline_year"],
    shell:
        package_command(
            "ingest-indicator --raw-dir {params.raw_dir:q}"
            " --indicator {wildcards.indicator} --areas {input.areas:q}"
            " --first-year {params.first_year} --last-year {params.last_year}"
            " --covid-window {params.covid_window} --observations {output.observations:q}"
            " --deprivation-baseline-year {params.baseline_year}"
            " --exclusions {output.exclusions:q} --max-input-mb {config[max_input_mb]}"
            " 2> {log:q}"
        )


rule classify:
    input:
        areas=config["areas"],
        classification=config["classification"],
        registry=registry_file(),
        code=step_code("classify"),
    output:
        processed("integration.parquet"),
    log:
        processed("logs/classify.log"),
    params:
        first_year=config["first_year"],
        last_year=config["last_year"],
    run:
        command_job(
            "classify",
            log[0],
            areas=input.areas,
            classification=input.classification,
            registry=input.registry,
            first_year=params.first_year,
            last_year=params.last_year,
            out=output[0],
            max_input_mb=config["max_input_mb"],
        )


rule panel:
    input:
        observations=expand(processed("indicators/{indicator}.parquet"), indicator=INDICATORS),
        exclusions=expand(
            processed("indicators/{indicator}.exclusions.parquet"), indicator=INDICATORS
        ),
        integration=processed("integration.parquet"),
        code=step_code("panel"),
    output:
        panel=processed("panel.parquet"),
        exclusions=processed("exclusions.csv"),
    log:
        processed("logs/panel.log"),
    run:
        command_job(
            "panel",
            log[0],
            observations=input.observations,
            exclusions_in=input.exclusions,
            integration=input.integration,
            panel=output.panel,
            exclusions=output.exclusions,
        )
