rule ingest:
    input:
        registry=registry_file(),
        raw=raw_inputs(),
        areas=config["areas"],
        classification=config["classification"],
        code=package_sources("ingest"),
    output:
        panel=processed("panel.parquet"),
        exclusions=processed("exclusions.csv"),
    log:
        processed("logs/ingest.log"),
    params:
        raw_dir=dataset_dir,
        first_year=config["first_year"],
        last_year=config["last_year"],
        covid_years=" ".join(str(year) for year in config["covid_years"]),
    shell:
        "python -m integration_models ingest --raw-dir {params.raw_dir:q}"
        " --areas {input.areas:q} --classification {input.classification:q}"
        " --first-year {params.first_year} --last-year {params.last_year}"
        " --covid-years {params.covid_years}"
        " --panel {output.panel:q} --exclusions {output.exclusions:q} 2> {log:q}"
