# The HTML report of every study (`hncse report`, docs/analysis.md), also shown by
# `snakemake --report`.


rule report:
    input:
        evaluations=all_eval_files,
        descriptions=all_run_descriptions,
        spec=STUDY_SPEC,
        # After `hncse aggregate`: it caches each run's CKA embeddings, which the report
        # then reads instead of encoding them again.
        analysis=ANALYSIS_DIR,
        # the MTEB folders it links (config mteb_export; none by default)
        mteb=mteb_folders,
    output:
        html=report(
            REPORT_FILE,
            caption="../report/analysis.rst",
            category="analysis",
            labels={"report": "hncse report"},
        ),
        # its compact inputs, from which `hncse report --from-inputs` rebuilds it
        inputs=directory(REPORT_FILE.parent / f"{REPORT_FILE.stem}_inputs"),
    conda:
        CONDA_ENV
    log:
        "logs/report.log",
    benchmark:
        BENCHMARKS_DIR / "report.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
    params:
        results=RESULTS_DIR,
        workflow_command=snakemake_command(workflow.overwrite_configfiles),
    shell:
        "OMP_NUM_THREADS={threads} "
        "hncse report --results {params.results:q} --studies {input.spec:q} "
        "--out {output.html:q} --workflow-command {params.workflow_command:q} > {log:q} 2>&1"
