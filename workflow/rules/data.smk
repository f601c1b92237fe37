# Data the runs need, under the data root (config data_dir, else $HNCSE_DATA_DIR, else
# ~/.cache/hncse/data). A root that already holds the files (an offline copy such as
# ../shared/data) makes these rules no-ops; otherwise `hncse download` fetches them.


rule download_senteval:
    output:
        directory(DATA_ROOT / "senteval" / "downstream"),
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
        "hncse download senteval --data-dir {params.root:q} > {log:q} 2>&1"


rule download_wiki1m:
    output:
        DATA_ROOT / "corpora" / WIKI1M_FILE,
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
        "hncse download wiki1m --data-dir {params.root:q} > {log:q} 2>&1"
