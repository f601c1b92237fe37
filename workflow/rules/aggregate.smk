# A study's results: its runs' eval.json files as one table (workflow/scripts/
# collect_results.py until `hncse aggregate` lands; see docs/workflow.md).


rule describe_run:
    # run.json for runs that are not trained (baselines): what the results tables read
    # where there is no train_summary.json (docs/architecture.md, hncse/analysis/collect.py).
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
        info=lambda wildcards: run_info(run_of(wildcards)),
    run:
        write_json_atomically(output[0], params.info, log[0])


rule aggregate:
    input:
        evaluations=study_eval_files,
        descriptions=study_run_descriptions,
    output:
        table=report(
            RESULTS_DIR / "{study}" / "results.csv",
            caption="../report/results_csv.rst",
            category="{study}",
            labels={"table": "results.csv (long)"},
        ),
        runs=RESULTS_DIR / "{study}" / "runs.csv",
        markdown=RESULTS_DIR / "{study}" / "results.md",
    conda:
        CONDA_ENV
    log:
        "logs/aggregate/{study}.log",
    benchmark:
        BENCHMARKS_DIR / "aggregate" / "{study}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    params:
        runs=study_runs_table,
    script:
        "../scripts/collect_results.py"
