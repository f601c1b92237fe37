# Training: one job per trained run, `hncse train` (torchrun for several GPUs).
#
# The declared output is train_summary.json alone, which the trainer writes last. The
# run's model/ and checkpoint/ stay undeclared on purpose: Snakemake deletes the declared
# outputs of a failed or interrupted job (and, with --rerun-incomplete, of an incomplete
# one) before running it again; the checkpoint must survive so that the rerun resumes.
# Nothing half-written is ever mistaken for a finished run: without train_summary.json
# the run is not done, and the evaluation waits for it.


rule train:
    input:
        corpus=train_corpus,
    output:
        RUNS_DIR / "{run}" / "train_summary.json",
    conda:
        CONDA_ENV
    log:
        "logs/train/{run}.log",
    benchmark:
        BENCHMARKS_DIR / "train" / "{run}.tsv"
    threads: resource("train", "threads")
    resources:
        mem_mb=resource("train", "mem_mb"),
        runtime=resource("train", "runtime"),
        gpu=resource("train", "gpu"),
    params:
        launcher=lambda wildcards: run_of(wildcards).train_launcher(),
        options=lambda wildcards: run_of(wildcards).train_arguments(),
        run_dir=lambda wildcards: run_of(wildcards).directory,
    shell:
        "OMP_NUM_THREADS={threads} "
        "{params.launcher} train --exit-with-parent --set {params.options} "
        "--output-dir {params.run_dir:q} "
        "> {log:q} 2>&1"
