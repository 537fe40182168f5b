rule fit:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        code=package_sources("fit"),
    output:
        results("fits/{model}/{indicator}.json"),
    log:
        results("logs/fit/{model}/{indicator}.log"),
    benchmark:
        results("benchmarks/fit/{model}/{indicator}.tsv")
    params:
        by_measure=config["outcome_scale"],
        overrides=config["outcome_scale_overrides"],
        settings=fit_settings(),
    run:
        from integration_models.fitting import fit_job

        fit_job(input.panel, input.registry, wildcards.indicator, wildcards.model,
                params.by_measure, params.overrides, params.settings, output[0], log[0])


rule tables:
    input:
        fits=expand(results("fits/{model}/{indicator}.json"), model=MODELS, indicator=INDICATORS),
        registry=registry_file(),
        code=package_sources("tables"),
    output:
        coefficients=report(
            results("tables/coefficients.csv"), caption="captions/tables.rst", category="Tables"
        ),
        coefficients_parquet=results("tables/coefficients.parquet"),
        model_fit=report(
            results("tables/model_fit.csv"), caption="captions/tables.rst", category="Tables"
        ),
        summary=report(
            results("tables/summary.csv"), caption="captions/tables.rst", category="Tables"
        ),
        headline=report(
            results("tables/headline.csv"), caption="captions/tables.rst", category="Tables"
        ),
        event_study=results("tables/event_study.csv"),
    log:
        results("logs/tables.log"),
    params:
        alpha=config["alpha"],
        out_dir=output_dir,
    shell:
        "python -m integration_models tables --fits {input.fits:q} --registry {input.registry:q}"
        " --alpha {params.alpha} --out-dir {params.out_dir:q} 2> {log:q}"
