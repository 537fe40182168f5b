# No rule has a `benchmark:` file: a job run in a thread of this process (local_job) would
# measure the Snakemake process, not the worker doing the work, and reading that process's
# memory every few seconds cost a tenth of a whole demo run's processor time. Snakemake's own
# log (.snakemake/log/) has each job's start and end.
rule fit:
    localrule: SMALL_JOBS
    # twfe first: the inference and sensitivity (the longest steps) wait for every twfe fit
    priority: lambda wildcards: 1 if wildcards.model == "twfe" else 0
    input:
        observations=processed("indicators/{indicator}.parquet"),
        integration=processed("integration.parquet"),
        registry=registry_file(),
        areas=config["areas"],
        classification=config["classification"],
        code=step_code("fit"),
    output:
        results("fits/{model}/{indicator}.json"),
    log:
        results("logs/fit/{model}/{indicator}.log"),
    params:
        by_measure=config["outcome_scale"],
        overrides=config["outcome_scale_overrides"],
        settings=fit_settings(),
    run:
        from integration_models.models.fit_job import fit_job

        local_job(
            fit_job,
            input.observations,
            input.integration,
            input.registry,
            wildcards.indicator,
            wildcards.model,
            params.by_measure,
            params.overrides,
            params.settings,
            output[0],
            log[0],
            areas_path=input.areas,
            classification_path=input.classification,
        )


rule tables:
    input:
        fits=expand(results("fits/{model}/{indicator}.json"), model=MODELS, indicator=INDICATORS),
        registry=registry_file(),
        panel=processed("panel.parquet"),
        truth=truth_files(),
        code=step_code("tables"),
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
        event_study=results("tables/event_study.csv"),
        model_counts=results("tables/model_counts.csv"),
        known_effects=results("tables/known_effects.csv"),
        known_effects_summary=results("tables/known_effects_summary.csv"),
    log:
        results("logs/tables.log"),
    params:
        alpha=config["alpha"],
        config_hash=CONFIG_HASH,
        out_dir=output_dir,
    run:
        command_job(
            "tables",
            log[0],
            fits=input.fits,
            registry=input.registry,
            panel=input.panel,
            config_hash=params.config_hash,
            truth=input.truth,
            alpha=params.alpha,
            out_dir=params.out_dir,
        )


# The headline needs the few-cluster inference; kept apart from `tables` so that the
# coefficient tables and the figures do not wait for the resampling.
rule headline:
    input:
        coefficients=results("tables/coefficients.parquet"),
        model_counts=results("tables/model_counts.csv"),
        inference=results("tables/inference.csv"),
        power=results("tables/power.csv"),
        equivalence=results("tables/equivalence.csv"),
        registry=registry_file(),
        plan=config["analysis_plan"],
        panel=processed("panel.parquet"),
        code=step_code("headline"),
    output:
        out=report(
            results("tables/headline.csv"), caption="captions/tables.rst", category="Tables"
        ),
        conclusion=report(
            results("tables/conclusion.csv"), caption="captions/tables.rst", category="Tables"
        ),
        estimates=report(
            results("tables/estimates.csv"), caption="captions/tables.rst", category="Tables"
        ),
        multiplicity=results("tables/multiplicity.csv"),
    log:
        results("logs/headline.log"),
    params:
        config_hash=CONFIG_HASH,
    run:
        # every named input (but the code), output and parameter is the option of that name
        command_job("headline", log[0], **options(input, output, params))


# The resampling, power and sensitivity refits of one indicator: a new value of one indicator
# reruns its own job and the cheap combining steps below, not every indicator's resampling.
rule analyse:
    localrule: SMALL_JOBS
    input:
        observations=processed("indicators/{indicator}.parquet"),
        integration=processed("integration.parquet"),
        areas=config["areas"],
        scenarios=config["scenarios"],
        registry=registry_file(),
        fit=results("fits/twfe/{indicator}.json"),
        plan=config["analysis_plan"],
        code=step_code("analyse"),
    output:
        **{part: results(f"analysis/{{indicator}}/{part}.parquet") for part in ANALYSIS_PARTS},
    log:
        results("logs/analyse/{indicator}.log"),
    params:
        by_measure=config["outcome_scale"],
        overrides=config["outcome_scale_overrides"],
        settings={
            "reps": config["inference_reps"],
            "power_reps": config["power_reps"],
            "seed": config["seed"],
            "alpha": config["alpha"],
            "min_partnerships": PLAN.min_partnerships,
            "size_sims": config["size_sims"],
            "size_reps": config["size_reps"],
            "size_dgps": config["size_dgps"],
        },
    run:
        from integration_models.results.indicator_analysis import analysis_job

        # every named input (but the code) and parameter is the argument of that name
        local_job(
            analysis_job,
            wildcards.indicator,
            dict(output.items()),
            log[0],
            **options(input, params),
        )


rule inference:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        plan=config["analysis_plan"],
        parts=analysis_parts("inference"),
        draws=analysis_parts("draws"),
        power=analysis_parts("power"),
        equivalence=analysis_parts("equivalence"),
        code=step_code("inference"),
    output:
        inference=results("tables/inference.csv"),
        power=results("tables/power.csv"),
        equivalence=results("tables/equivalence.csv"),
    log:
        results("logs/inference.log"),
    params:
        reps=config["inference_reps"],
        config_hash=CONFIG_HASH,
        out_dir=output_dir,
    run:
        command_job(
            "inference",
            log[0],
            panel=input.panel,
            registry=input.registry,
            plan=input.plan,
            parts=input.parts,
            draws=input.draws,
            power=input.power,
            equivalence=input.equivalence,
            reps=params.reps,
            config_hash=params.config_hash,
            out_dir=params.out_dir,
        )


# The size diagnostic is simulated per indicator in `analyse`; this step only combines the
# parts into one table and draws its figure.
rule size:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        parts=analysis_parts("size"),
        code=step_code("size"),
    output:
        table=results("tables/size.csv"),
        figure=results("figures/size.png"),
        figure_svg=results("figures/size.svg"),
    log:
        results("logs/size.log"),
    params:
        alpha=config["alpha"],
        config_hash=CONFIG_HASH,
        figure_stem=lambda wildcards, output: str(Path(output.figure).with_suffix("")),
    run:
        command_job(
            "size",
            log[0],
            panel=input.panel,
            registry=input.registry,
            parts=input.parts,
            alpha=params.alpha,
            config_hash=params.config_hash,
            out=output.table,
            figure_stem=params.figure_stem,
        )


rule sensitivity:
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        parts=analysis_parts("sensitivity"),
        plan=config["analysis_plan"],
        code=step_code("sensitivity"),
    output:
        table=results("tables/sensitivity.csv"),
        summary=results("tables/sensitivity_summary.csv"),
        figure=report(
            results("figures/sensitivity.png"),
            caption="captions/sensitivity.rst",
            category="Figures",
            labels={"figure": "sensitivity of the integration estimates"},
        ),
        figure_svg=results("figures/sensitivity.svg"),
    log:
        results("logs/sensitivity.log"),
    params:
        config_hash=CONFIG_HASH,
        figure_stem=lambda wildcards, output: str(Path(output.figure).with_suffix("")),
    run:
        command_job(
            "sensitivity",
            log[0],
            panel=input.panel,
            registry=input.registry,
            parts=input.parts,
            plan=input.plan,
            config_hash=params.config_hash,
            table=output.table,
            summary=output.summary,
            figure_stem=params.figure_stem,
        )
