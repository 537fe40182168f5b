# Every estimator's overall integration effects side by side for the analysis plan's primary
# outcomes (issue 16): twfe against the staggered difference-in-differences estimators that
# stay unbiased when effects differ between cohorts or grow over time (csdid, sunab, bjs,
# dcdh; rule fit). One multi-panel figure, from the coefficient tables only.
rule figures_estimators:
    input:
        coefficients=results("tables/coefficients.parquet"),
        model_fit=results("tables/model_fit.csv"),
        registry=registry_file(),
        plan=config["analysis_plan"],
        code=step_code("estimators_figure"),
    output:
        report(
            results("figures/estimators.png"),
            caption="captions/estimators.rst",
            category="Figures",
            labels={"figure": "integration effects by estimator, primary outcomes"},
        ),
        results("figures/estimators.svg"),
    log:
        results("logs/figures_estimators.log"),
    params:
        out=lambda wildcards, output: str(Path(output[0]).with_suffix("")),
    run:
        command_job(
            "estimators-figure",
            log[0],
            coefficients=input.coefficients,
            model_fit=input.model_fit,
            registry=input.registry,
            plan=input.plan,
            out=params.out,
        )
