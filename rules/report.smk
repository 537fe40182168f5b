rule figures_overview:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        coefficients=results("tables/coefficients.parquet"),
        model_fit=results("tables/model_fit.csv"),
        code=package_sources("figures"),
    output:
        report(
            figure_files("overview")[0],
            caption="captions/trends.rst",
            category="Figures",
            labels={"figure": "trends by integration category"},
        ),
        figure_files("overview")[1],
        report(
            figure_files("overview")[2],
            caption="captions/forest.rst",
            category="Figures",
            labels={"figure": "forest plot of integration effects"},
        ),
        figure_files("overview")[3],
    log:
        results("logs/figures_overview.log"),
    params:
        out_dir=output_dir,
        which="overview",
    shell:
        "python -m integration_models figures --panel {input.panel:q}"
        " --registry {input.registry:q} --coefficients {input.coefficients:q}"
        " --model-fit {input.model_fit:q} --out-dir {params.out_dir:q}"
        " --which {params.which} 2> {log:q}"


use rule figures_overview as figures_coefficients_1 with:
    output:
        reported_coefficient_figures("coefficients_1"),
    log:
        results("logs/figures_coefficients_1.log"),
    params:
        out_dir=output_dir,
        which="coefficients " + " ".join(figure_indicators("coefficients_1")),


use rule figures_overview as figures_coefficients_2 with:
    output:
        reported_coefficient_figures("coefficients_2"),
    log:
        results("logs/figures_coefficients_2.log"),
    params:
        out_dir=output_dir,
        which="coefficients " + " ".join(figure_indicators("coefficients_2")),


use rule figures_overview as figures_event_study with:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        coefficients=results("tables/coefficients.parquet"),
        model_fit=results("tables/model_fit.csv"),
        events=results("tables/event_study.csv"),
        code=package_sources("figures"),
    output:
        figure_files("event_study"),
    log:
        results("logs/figures_event_study.log"),
    params:
        out_dir=output_dir,
        which="event_study",


rule provenance:
    input:
        dataset=dataset_files(),
        reference=[config["areas"], config["classification"], *config["scenarios"]],
        results=[
            processed("panel.parquet"),
            processed("exclusions.csv"),
            results("tables/coefficients.csv"),
            results("tables/model_fit.csv"),
            results("tables/summary.csv"),
        ],
        code=package_sources("provenance"),
    output:
        results("provenance.json"),
    log:
        results("logs/provenance.log"),
    params:
        config_json=config_json(),
    shell:
        "python -m integration_models provenance --dataset {input.dataset:q}"
        " --reference {input.reference:q} --results {input.results:q}"
        " --config-json {params.config_json:q} --out {output:q} 2> {log:q}"


rule report:
    input:
        tables=rules.tables.output,
        inference=rules.inference.output,
        figures=figure_files(),
        panel=processed("panel.parquet"),
        exclusions=processed("exclusions.csv"),
        registry=registry_file(),
        classification=config["classification"],
        areas=config["areas"],
        provenance=results("provenance.json"),
        code=package_sources("report"),
    output:
        results("report.html"),
    log:
        results("logs/report.log"),
    params:
        tables_dir=folder_of("tables"),
        figures_dir=folder_of("figures"),
    shell:
        "python -m integration_models report --tables-dir {params.tables_dir:q}"
        " --figures-dir {params.figures_dir:q} --panel {input.panel:q}"
        " --exclusions {input.exclusions:q} --registry {input.registry:q}"
        " --classification {input.classification:q} --areas {input.areas:q}"
        " --provenance {input.provenance:q} --out {output:q} 2> {log:q}"
