rule figures_overview:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        coefficients=results("tables/coefficients.parquet"),
        model_fit=results("tables/model_fit.csv"),
        code=package_sources("figures"),
    output:
        report(
            results("figures/trends.png"),
            caption="captions/trends.rst",
            category="Figures",
            labels={"figure": "trends by integration category"},
        ),
        results("figures/trends.svg"),
        report(
            results("figures/forest.png"),
            caption="captions/forest.rst",
            category="Figures",
            labels={"figure": "forest plot of integration effects"},
        ),
        results("figures/forest.svg"),
    log:
        results("logs/figures_overview.log"),
    params:
        out_dir=output_dir,
    shell:
        package_command(
            "figures --panel {input.panel:q}"
            " --registry {input.registry:q} --coefficients {input.coefficients:q}"
            " --model-fit {input.model_fit:q} --out-dir {params.out_dir:q} 2> {log:q}"
        )


# One job per indicator, reading only that indicator's fits: a change to one indicator's data
# redraws its own figures, not every indicator's. A local `run:` rule handing the drawing to a
# worker process kept for the run (integration_models.plots.indicator says why).
rule figures_indicator:
    localrule: SMALL_JOBS
    input:
        fits=expand(results("fits/{model}/{{indicator}}.json"), model=FIGURE_MODELS),
        registry=registry_file(),
        code=package_sources("figures_indicator"),
    output:
        indicator_figure_files(),
    log:
        results("logs/figures/{indicator}.log"),
    run:
        from integration_models.plots.indicator import indicator_figures_job

        stems = [Path(path).with_suffix("") for path in output[::2]]
        indicator_figures_job(
            input.fits,
            input.registry,
            wildcards.indicator,
            stems[0],
            stems[1] if len(stems) > 1 else None,
            log[0],
        )


rule figures_power:
    input:
        table=results("tables/power.csv"),
        registry=registry_file(),
        code=package_sources("power_figure"),
    output:
        report(
            results("figures/power.png"),
            caption="captions/power.rst",
            category="Figures",
            labels={"figure": "minimum detectable effects"},
        ),
        results("figures/power.svg"),
    log:
        results("logs/figures_power.log"),
    params:
        out=lambda wildcards, output: str(Path(output[0]).with_suffix("")),
    shell:
        package_command(
            "power-figure --table {input.table:q} --registry {input.registry:q}"
            " --out {params.out:q} 2> {log:q}"
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

