"""HNCSE studies: train every run, evaluate it, analyse the studies, write the report.

    snakemake --cores all                                  # config/config.yaml (CPU study)
    snakemake --cores all --configfile config/smoke.yaml   # CI smoke study
    snakemake -n --configfile config/paper.yaml            # plan the paper reproduction
    snakemake --report reports/workflow.html               # Snakemake's report of what ran

See docs/workflow.md.
"""

from pathlib import Path

from snakemake.utils import min_version, validate

from hncse.workflow.cli import readable_or_exit

min_version("8.0")


# --configfile replaces the default study rather than merging into it. Snakemake reads a
# --configfile before this file runs (`hncse plan --configfile F` gives one line for it);
# the default one gets its line here.
if not workflow.overwrite_configfiles:
    readable_or_exit("config/config.yaml")

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


# `snakemake --report reports/workflow.html` does not create the folder itself.
Path("reports").mkdir(exist_ok=True)


include: "workflow/rules/common.smk"


wildcard_constraints:
    study=r"[^/]+",
    run=r"[^/]+/[^/]+(/seed\d+)?",


# Tiny jobs, and downloads (compute nodes are often offline), run where Snakemake runs.
localrules:
    all,
    download_senteval,
    download_wiki1m,
    download_wiki1m_head,
    describe_run,
    study_spec,
    export_mteb,
    report,


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"


# Every baselines/*.smk registers its runs (workflow/rules/common.smk, docs/workflow.md).
for baseline_file in sorted(Path(workflow.basedir, "baselines").glob("*.smk")):

    include: baseline_file


PLAN = build_plan()


include: "workflow/rules/aggregate.smk"
include: "workflow/rules/mteb.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        ANALYSIS_DIR,
        REPORT_FILE,
        mteb_folders,
