# What the analysis reads besides the evaluations: run.json of the untrained runs and the
# study spec from the run registry (the analysis itself: report.smk; docs/analysis.md).


rule describe_run:
    # run.json for runs that are not trained (baselines): what hncse.analysis reads where
    # there is no train_summary.json (docs/architecture.md, hncse/analysis/collect.py).
    output:
        RUNS_DIR / "{run}" / "run.json",
    log:
        "logs/describe_run/{run}.log",
    benchmark:
        BENCHMARKS_DIR / "describe_run" / "{run}.tsv"
    threads: 1
    resources:
        mem_mb=200,
        runtime=1,
        gpu=0,
    params:
        info=lambda wildcards: run_of(wildcards).description(),
    run:
        write_atomically(output[0], json.dumps(params.info, indent=2) + "\n", log[0])


rule study_spec:
    # Which runs answer which study, with which analysis; from the config alone (the
    # params carry the spec, so a changed study rewrites it).
    output:
        STUDY_SPEC,
    log:
        "logs/study_spec.log",
    benchmark:
        BENCHMARKS_DIR / "study_spec.tsv"
    threads: 1
    resources:
        mem_mb=200,
        runtime=1,
        gpu=0,
    params:
        spec=PLAN.analysis_spec(),
    run:
        write_atomically(output[0], yaml.safe_dump(params.spec, sort_keys=False), log[0])
