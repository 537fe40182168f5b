# Issue 16: synthetic control and synthetic difference-in-differences of the single early
# adopters (synthetic_partnerships: Highland and Moray), per indicator, then one cheap
# combining step (the pattern of rule `analyse` and its combining rules).

SYNTHETIC_PARTS = ("estimates", "weights", "paths")


rule synthetic_part:
    localrule: SMALL_JOBS
    input:
        observations=processed("indicators/{indicator}.parquet"),
        integration=processed("integration.parquet"),
        areas=config["areas"],
        classification=config["classification"],
        registry=registry_file(),
        code=step_code("synthetic_part"),
    output:
        **{part: results(f"synthetic/{{indicator}}/{part}.parquet") for part in SYNTHETIC_PARTS},
    log:
        results("logs/synthetic/{indicator}.log"),
    params:
        by_measure=config["outcome_scale"],
        overrides=config["outcome_scale_overrides"],
        settings={
            "partnerships": config["synthetic_partnerships"],
            "min_pre_years": config["synthetic_min_pre_years"],
            "reps": config["synthetic_placebo_reps"],
            "seed": config["seed"],
            "alpha": config["alpha"],
        },
    run:
        from integration_models.results.synthetic_control import synthetic_job

        # every named input (but the code) and parameter is the argument of that name
        local_job(
            synthetic_job,
            wildcards.indicator,
            dict(output.items()),
            log[0],
            **options(input, params),
        )


rule synthetic_control:
    localrule: SMALL_JOBS
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        plan=config["analysis_plan"],
        estimates=synthetic_parts("estimates"),
        weights=synthetic_parts("weights"),
        paths=synthetic_parts("paths"),
        code=step_code("synthetic_control"),
    output:
        table=results("tables/synthetic_control.csv"),
        weights_table=results("tables/synthetic_weights.csv"),
        figure=report(
            results("figures/synthetic_control.png"),
            caption="captions/synthetic_control.rst",
            category="Figures",
            labels={"figure": "synthetic control of the early adopters"},
        ),
        figure_svg=results("figures/synthetic_control.svg"),
    log:
        results("logs/synthetic_control.log"),
    params:
        config_hash=CONFIG_HASH,
        figure_stem=lambda wildcards, output: str(Path(output.figure).with_suffix("")),
    run:
        command_job(
            "synthetic-control",
            log[0],
            panel=input.panel,
            registry=input.registry,
            plan=input.plan,
            estimates=input.estimates,
            weights=input.weights,
            paths=input.paths,
            config_hash=params.config_hash,
            table=output.table,
            weights_table=output.weights_table,
            figure_stem=params.figure_stem,
        )
