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


rule inference:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        code=package_sources("inference"),
    output:
        inference=results("tables/inference.csv"),
        power=results("tables/power.csv"),
    log:
        results("logs/inference.log"),
    benchmark:
        results("benchmarks/inference.tsv")
    params:
        scales=json.dumps(config["outcome_scale"], sort_keys=True),
        overrides=json.dumps(config["outcome_scale_overrides"], sort_keys=True),
        reps=config["inference_reps"],
        power_reps=config["power_reps"],
        seed=config["seed"],
        out_dir=output_dir,
    shell:
        "python -m integration_models inference --panel {input.panel:q}"
        " --registry {input.registry:q} --scales-json {params.scales:q}"
        " --overrides-json {params.overrides:q} --reps {params.reps}"
        " --power-reps {params.power_reps} --seed {params.seed}"
        " --out-dir {params.out_dir:q} 2> {log:q}"
