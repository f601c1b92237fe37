# Data the runs need, under the data root (config data_dir, else $HNCSE_DATA_DIR, else
# ~/.cache/hncse/data). A root that already holds the files (an offline copy such as
# ../shared/data) makes these rules a check against its MANIFEST.sha256; otherwise
# `hncse download` fetches them (into a temporary folder, moved into place when complete);
# wiki1m_head.txt, the CPU studies' corpus, is derived from the downloaded wiki1m.
#
# The outputs are markers under <results_dir>/data/, never the data itself: Snakemake
# deletes a rule's outputs before it reruns the rule (snakemake -F, --forceall, -R), and
# a data root is often shared by a team and cannot be fetched again offline.


for target in DATA_MARKERS:

    rule:
        name:
            f"download_{target}"
        output:
            DATA_MARKERS[target],
        conda:
            CONDA_ENV
        log:
            f"logs/data/download_{target}.log",
        benchmark:
            BENCHMARKS_DIR / "data" / f"download_{target}.tsv"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=60,
            gpu=0,
        params:
            root=DATA_ROOT,
            target=target,
        shell:
            "hncse download {params.target} --data-dir {params.root:q} --marker {output:q} > {log:q} 2>&1"
