# MTEB result files of a study's trained runs (`hncse export-mteb`, docs/evaluation.md),
# requested only when the config's mteb_export is true (mteb_folders in common.smk).


rule export_mteb:
    input:
        mteb_export_inputs,
    output:
        directory(study_folder(RESULTS_DIR, "{study}")),
    conda:
        CONDA_ENV
    log:
        "logs/export_mteb/{study}.log",
    benchmark:
        BENCHMARKS_DIR / "export_mteb" / "{study}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    params:
        tasks=lambda wildcards: ",".join(study_mteb_tasks(wildcards.study)),
    shell:
        "hncse export-mteb {input:q} --tasks {params.tasks} --out {output:q} > {log:q} 2>&1"
