# The two figures that span indicators, each from the one file it needs: after a data
# update the trends start once the panel is written, the forest once the tables are.
rule figures_trends:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        code=step_code("trends_figure"),
    output:
        report(
            results("figures/trends.png"),
            caption="captions/trends.rst",
            category="Figures",
            labels={"figure": "trends by integration category"},
        ),
        results("figures/trends.svg"),
    log:
        results("logs/figures_trends.log"),
    params:
        out=lambda wildcards, output: str(Path(output[0]).with_suffix("")),
    run:
        command_job(
            "trends-figure", log[0], panel=input.panel, registry=input.registry, out=params.out
        )


rule figures_forest:
    input:
        coefficients=results("tables/coefficients.parquet"),
        model_fit=results("tables/model_fit.csv"),
        registry=registry_file(),
        code=step_code("forest_figure"),
    output:
        report(
            results("figures/forest.png"),
            caption="captions/forest.rst",
            category="Figures",
            labels={"figure": "forest plot of integration effects"},
        ),
        results("figures/forest.svg"),
    log:
        results("logs/figures_forest.log"),
    params:
        out=lambda wildcards, output: str(Path(output[0]).with_suffix("")),
    run:
        command_job(
            "forest-figure",
            log[0],
            coefficients=input.coefficients,
            model_fit=input.model_fit,
            registry=input.registry,
            out=params.out,
        )


# One job per indicator, reading only that indicator's fits: a change to one indicator's data
# redraws its own figures, not every indicator's. A local `run:` rule handing the drawing to a
# worker process kept for the run (integration_models.plots.indicator says why).
rule figures_indicator:
    localrule: SMALL_JOBS
    input:
        fits=expand(results("fits/{model}/{{indicator}}.json"), model=FIGURE_MODELS),
        registry=registry_file(),
        code=step_code("figures_indicator"),
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
        code=step_code("power_figure"),
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
    run:
        command_job(
            "power-figure", log[0], table=input.table, registry=input.registry, out=params.out
        )


# What the data preparation kept and left out, counted for the report (which counts nothing).
rule data_summary:
    input:
        panel=processed("panel.parquet"),
        exclusions=processed("exclusions.csv"),
        registry=registry_file(),
        integration=processed("integration.parquet"),
        code=step_code("data_summary"),
    output:
        results("tables/data_summary.csv"),
        results("tables/exclusion_counts.csv"),
        results("tables/exposure_counts.csv"),
    log:
        results("logs/data_summary.log"),
    params:
        config_hash=CONFIG_HASH,
        out_dir=output_dir,
    run:
        command_job(
            "data-summary",
            log[0],
            panel=input.panel,
            exclusions=input.exclusions,
            registry=input.registry,
            integration=input.integration,
            config_hash=params.config_hash,
            out_dir=params.out_dir,
        )


# Issue 16's checks of the design in words, and the estimators' agreement, decided here so
# that the report only shows them.
rule design_checks:
    input:
        coefficients=results("tables/coefficients.parquet"),
        twfe_diagnostics=results("tables/twfe_diagnostics.csv"),
        honest_did_breakdown=results("tables/honest_did_breakdown.csv"),
        synthetic_control=results("tables/synthetic_control.csv"),
        registry=registry_file(),
        plan=config["analysis_plan"],
        panel=processed("panel.parquet"),
        code=step_code("design_checks"),
    output:
        out=results("tables/design_checks.csv"),
        agreement=results("tables/estimator_agreement.csv"),
    log:
        results("logs/design_checks.log"),
    params:
        config_hash=CONFIG_HASH,
    run:
        # every named input (but the code), output and parameter is the option of that name
        command_job("design-checks", log[0], **options(input, output, params))


# What the report shows of the run: inputs with their hashes, configuration, versions, commit.
# It reads the configuration, so a report-only setting (report_title) reruns this rule and
# the report, nothing else.
rule provenance:
    input:
        panel=processed("panel.parquet"),
        exclusions=processed("exclusions.csv"),
        tables=rules.tables.output,
        headline=rules.headline.output,
        inference=[*rules.inference.output, rules.size.output.table],
        sensitivity=[
            results("tables/sensitivity.csv"),
            results("tables/sensitivity_summary.csv"),
        ],
        dataset=dataset_files(),
        reference=[
            config["analysis_plan"],
            config["areas"],
            config["classification"],
            *config["scenarios"],
        ],
        plan=config["analysis_plan"],
        code=step_code("provenance"),
    output:
        results("provenance.json"),
    log:
        results("logs/provenance.log"),
    params:
        config_json=config_json(),
    run:
        command_job(
            "provenance",
            log[0],
            dataset=input.dataset,
            reference=input.reference,
            results=[
                input.panel,
                input.exclusions,
                *input.tables,
                *input.headline,
                *input.inference,
                *input.sensitivity,
            ],
            panel=input.panel,
            plan=input.plan,
            config_json=params.config_json,
            out=output[0],
        )


rule report:
    input:
        tables=rules.tables.output,
        headline=rules.headline.output,
        inference=[*rules.inference.output, rules.size.output.table],
        sensitivity=[
            results("tables/sensitivity.csv"),
            results("tables/sensitivity_summary.csv"),
        ],
        data=rules.data_summary.output,
        design=[
            *rules.design_checks.output,
            results("tables/twfe_diagnostics.csv"),
            results("tables/honest_did_breakdown.csv"),
            results("tables/synthetic_control.csv"),
            # not shown, but their stamps are checked with every other table's
            results("tables/bacon.csv"),
            results("tables/honest_did.csv"),
            results("tables/synthetic_weights.csv"),
        ],
        design_figures=design_figure_files(),
        sensitivity_figure=results("figures/sensitivity.png"),
        figures=figure_files(),
        registry=registry_file(),
        classification=config["classification"],
        areas=config["areas"],
        provenance=results("provenance.json"),
        code=step_code("report"),
    output:
        results("report.html"),
    log:
        results("logs/report.log"),
    params:
        # the report opens only these: every table and PNG figure among the inputs
        tables=lambda wildcards, input: [
            path
            for path in (
                *input.tables,
                *input.headline,
                *input.inference,
                *input.sensitivity,
                *input.data,
                *input.design,
            )
            if path.endswith(".csv")
        ],
        figures=lambda wildcards, input: [
            path
            for path in (*input.figures, *input.design_figures, input.sensitivity_figure)
            if path.endswith(".png")
        ],
    run:
        command_job(
            "report",
            log[0],
            tables=params.tables,
            figures=params.figures,
            registry=input.registry,
            classification=input.classification,
            areas=input.areas,
            provenance=input.provenance,
            out=output[0],
        )
