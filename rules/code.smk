rule code_digest:
    # the package modules one step runs -> one small file, the input of that step's jobs
    # (integration_models.workflow: why one file per job instead of every module)
    input:
        lambda wildcards: package_sources(wildcards.step),
    output:
        processed("code/{step}.sha256"),
    log:
        processed("logs/code/{step}.log"),
    run:
        write_code_digest(wildcards.step, output[0], log[0])
