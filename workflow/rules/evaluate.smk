# Evaluation: one `hncse evaluate` per run, on the union of the tasks its studies need.


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        json=RUNS_DIR / "{run}" / "eval.json",
        pairs=RUNS_DIR / "{run}" / "eval.pairs.parquet",
    conda:
        CONDA_ENV
    log:
        "logs/evaluate/{run}.log",
    benchmark:
        BENCHMARKS_DIR / "evaluate" / "{run}.tsv"
    threads: resource("evaluate", "threads")
    resources:
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=resource("evaluate", "runtime"),
        gpu=resource("evaluate", "gpu"),
    params:
        encoder=lambda wildcards: run_of(wildcards).encoder_args,
        evaluation=evaluation_args,
    shell:
        "OMP_NUM_THREADS={threads} "
        "hncse evaluate {params.encoder} {params.evaluation} --out {output.json:q} "
        "> {log:q} 2>&1"
