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
        package_command(
            "figures --panel {input.panel:q}"
            " --registry {input.registry:q} --coefficients {input.coefficients:q}"
            " --model-fit {input.model_fit:q} --out-dir {params.out_dir:q}"
            " --which {params.which} 2> {log:q}"
        )


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


rule figures_power:
    input:
        table=results("tables/power.csv"),
        panel=processed("panel.parquet"),
        registry=registry_file(),
        coefficients=results("tables/coefficients.parquet"),
        model_fit=results("tables/model_fit.csv"),
        code=package_sources("figures"),
    output:
        report(
            figure_files("power")[0],
            caption="captions/power.rst",
            category="Figures",
            labels={"figure": "minimum detectable effects"},
        ),
        figure_files("power")[1],
    log:
        results("logs/figures_power.log"),
    params:
        out_dir=output_dir,
    shell:
        package_command(
            "figures --panel {input.panel:q}"
            " --registry {input.registry:q} --coefficients {input.coefficients:q}"
            " --model-fit {input.model_fit:q} --table {input.table:q}"
            " --out-dir {params.out_dir:q} --which power 2> {log:q}"
        )


rule report:
    input:
        tables=rules.tables.output,
        headline=rules.headline.output,
        inference=[*rules.inference.output, *rules.size.output],
        sensitivity=[
            results("tables/sensitivity.csv"),
            results("tables/sensitivity_summary.csv"),
        ],
        sensitivity_figure=results("figures/sensitivity.png"),
        figures=figure_files(),
        panel=processed("panel.parquet"),
        exclusions=processed("exclusions.csv"),
        registry=registry_file(),
        dataset=dataset_files(),
        reference=[config["areas"], config["classification"], *config["scenarios"]],
        classification=config["classification"],
        integration=processed("integration.parquet"),
        areas=config["areas"],
        code=package_sources("report"),
    output:
        report=results("report.html"),
        provenance=results("provenance.json"),
    log:
        results("logs/report.log"),
    params:
        # the report opens only these: every table and PNG figure among the inputs
        tables=lambda wildcards, input: [
            path
            for path in (*input.tables, *input.headline, *input.inference, *input.sensitivity)
            if path.endswith(".csv")
        ],
        figures=lambda wildcards, input: [
            path for path in (*input.figures, input.sensitivity_figure) if path.endswith(".png")
        ],
        config_json=config_json(),
        provenance_results=lambda wildcards, input: [
            input.panel,
            input.exclusions,
            *input.tables,
            *input.headline,
            *input.inference,
            *input.sensitivity,
        ],
    shell:
        # provenance first: the report shows it; both read the configuration, so a
        # report-only setting (report_title) reruns this rule and nothing else
        package_command(
            "provenance --dataset {input.dataset:q}"
            " --reference {input.reference:q} --results {params.provenance_results:q}"
            " --panel {input.panel:q} --config-json {params.config_json:q}"
            " --out {output.provenance:q} 2> {log:q}",
            "report --tables {params.tables:q}"
            " --figures {params.figures:q} --panel {input.panel:q}"
            " --exclusions {input.exclusions:q} --registry {input.registry:q}"
            " --classification {input.classification:q} --areas {input.areas:q}"
            " --integration {input.integration:q} --provenance {output.provenance:q} --out {output.report:q} 2>> {log:q}",
        )

