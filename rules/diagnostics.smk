# Issue 16: diagnostics of the twfe estimate (de Chaisemartin-D'Haultfoeuille weights,
# Goodman-Bacon decomposition) and HonestDiD bounds of the primary outcomes. The work is per
# indicator (about 0.25 s each on the demo; integration_models.diagnostics.job), in the worker
# processes of this run; one cheap step joins the parts into the tables and draws the figures.


rule diagnose:
    localrule: SMALL_JOBS
    input:
        observations=processed("indicators/{indicator}.parquet"),
        integration=processed("integration.parquet"),
        registry=registry_file(),
        areas=config["areas"],
        plan=config["analysis_plan"],
        code=step_code("diagnose"),
    output:
        results("diagnostics/{indicator}.json"),
    log:
        results("logs/diagnostics/{indicator}.log"),
    params:
        by_measure=config["outcome_scale"],
        overrides=config["outcome_scale_overrides"],
        settings={"alpha": config["alpha"], "min_partnerships": PLAN.min_partnerships},
    run:
        from integration_models.diagnostics.job import diagnostics_job

        local_job(
            diagnostics_job, wildcards.indicator, output[0], log[0], **options(input, params)
        )


rule diagnostics:
    localrule: SMALL_JOBS
    input:
        panel=processed("panel.parquet"),
        registry=registry_file(),
        parts=[results(f"diagnostics/{indicator}.json") for indicator in INDICATORS],
        code=step_code("diagnostics"),
    output:
        twfe=results("tables/twfe_diagnostics.csv"),
        bacon=results("tables/bacon.csv"),
        honest=results("tables/honest_did.csv"),
        breakdown=results("tables/honest_did_breakdown.csv"),
        weights_png=results("figures/twfe_weights.png"),
        weights_svg=results("figures/twfe_weights.svg"),
        honest_png=results("figures/honest_did.png"),
        honest_svg=results("figures/honest_did.svg"),
    log:
        results("logs/diagnostics.log"),
    params:
        config_hash=CONFIG_HASH,
        out_dir=output_dir,
        figure_dir=lambda wildcards, output: str(Path(output.weights_png).parent),
    run:
        command_job(
            "diagnostics",
            log[0],
            panel=input.panel,
            registry=input.registry,
            parts=input.parts,
            config_hash=params.config_hash,
            out_dir=params.out_dir,
            figure_dir=params.figure_dir,
        )
