# Data the runs need, under the data root (config data_dir, else $HNCSE_DATA_DIR, else
# ~/.cache/hncse/data). A root that already holds the files (an offline copy such as
# ../shared/data) makes these rules a check against its MANIFEST.sha256; otherwise
# `hncse download` fetches them (into a temporary folder, moved into place when complete).
#
# The outputs are markers under <results_dir>/data/, never the data itself: Snakemake
# deletes a rule's outputs before it reruns the rule (snakemake -F, --forceall, -R), and
# a data root is often shared by a team and cannot be fetched again offline.


rule download_senteval:
    output:
        DATA_MARKERS["senteval"],
    conda:
        CONDA_ENV
    log:
        "logs/data/download_senteval.log",
    benchmark:
        BENCHMARKS_DIR / "data" / "download_senteval.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        root=DATA_ROOT,
    shell:
        "hncse download senteval --data-dir {params.root:q} --marker {output:q} > {log:q} 2>&1"


rule download_wiki1m:
    output:
        DATA_MARKERS["wiki1m"],
    conda:
        CONDA_ENV
    log:
        "logs/data/download_wiki1m.log",
    benchmark:
        BENCHMARKS_DIR / "data" / "download_wiki1m.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        root=DATA_ROOT,
    shell:
        "hncse download wiki1m --data-dir {params.root:q} --marker {output:q} > {log:q} 2>&1"
