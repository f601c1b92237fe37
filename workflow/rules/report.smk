# The analysis, run once over every run: its tables and figures (what `hncse aggregate`
# writes) and the HTML report with its compact inputs, from the same analysis in one
# `hncse report --tables` call (docs/analysis.md); the report is also shown by
# `snakemake --report`.


rule report:
    input:
        evaluations=all_eval_files,
        descriptions=all_run_descriptions,
        spec=STUDY_SPEC,
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
        tables=directory(ANALYSIS_DIR),
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
        "--out {output.html:q} --tables {output.tables:q} "
        "--workflow-command {params.workflow_command:q} > {log:q} 2>&1"
