# A study's report pages, shown by `snakemake --report reports/report.html`.
#
# For now the page is the per-run results table. The analysis of issue 5 swaps in here:
# replace the `script:` with `shell: "hncse report ... --out {output}"` writing the
# same directory (index.html plus its figures); the report() annotation stays.


rule report:
    input:
        RESULTS_DIR / "{study}" / "results.csv",
    output:
        report(
            directory(RESULTS_DIR / "{study}" / "report"),
            htmlindex="index.html",
            caption="../report/study.rst",
            category="{study}",
            labels={"table": "per-run results"},
        ),
    conda:
        CONDA_ENV
    log:
        "logs/report/{study}.log",
    benchmark:
        BENCHMARKS_DIR / "report" / "{study}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    script:
        "../scripts/collect_results.py"
