"""Glue between Snakemake and the planner: the study plan (hncse/workflow/plan.py) as
globals, input functions and the baselines API of baselines/*.smk. No logic lives here."""

import json
import shlex
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError

from hncse.data_root import ENV_VAR as DATA_ENV_VAR
from hncse.data_root import WIKI1M_FILE, WIKI1M_HEAD_FILE, resolve_data_root
from hncse.evaluation.catalogue import resolve_tasks
from hncse.evaluation.mteb_export import mteb_tasks, study_folder
from hncse.files import write_text
from hncse.workflow.baselines import add_built_in, add_method
from hncse.workflow.plan import Plan, PlanError, Planner, Study, snakemake_command
from hncse.workflow.runs import Run

DATA_ROOT = resolve_data_root(config["data_dir"])
if not DATA_ROOT.is_dir():  # one line, before any job: where the data will come from
    print(
        f"hncse: data root {DATA_ROOT} does not exist yet: the download rules fill it (online); "
        f"offline, set {DATA_ENV_VAR} (or config data_dir) to a data root that holds "
        "senteval/downstream/ and corpora/, e.g. ../shared/data",
        file=sys.stderr,
    )
# Every job's shell line exports the data root (Snakemake's default prefix, plus it). Not a
# rule parameter, so moving the data does not make Snakemake redo the runs.
shell.prefix(f"set -euo pipefail; export {DATA_ENV_VAR}={shlex.quote(str(DATA_ROOT))}; ")
# Under --software-deployment-method conda, jobs run in this environment (the project
# installed by its post-deploy script); otherwise in the current one.
CONDA_ENV = "../envs/hncse.yaml"
RESULTS_DIR = Path(config["results_dir"])
BENCHMARKS_DIR = RESULTS_DIR / "benchmarks"
# "the data is there and matches its manifest": the download rules' outputs (data.smk), by
# `hncse download` target; the corpora among them by file name
DATA_MARKERS = {
    name: RESULTS_DIR / "data" / f"{name}.ready" for name in ("senteval", "wiki1m", "wiki1m_head")
}
CORPUS_MARKERS = {WIKI1M_FILE: DATA_MARKERS["wiki1m"], WIKI1M_HEAD_FILE: DATA_MARKERS["wiki1m_head"]}
ANALYSIS_DIR = RESULTS_DIR / "analysis"  # the tables and figures of `hncse aggregate`
STUDY_SPEC = RESULTS_DIR / "studies.yaml"  # the study spec of `hncse aggregate` / `report`
REPORT_FILE = Path(config["report"])  # `hncse report`'s HTML file
PLANNER = Planner(config, DATA_ROOT)
RUNS_DIR = PLANNER.runs_dir

# The API of baselines/*.smk (docs/workflow.md, "Adding a baseline").
baseline = PLANNER.baseline
baseline_options = PLANNER.baseline_options
trained_run = PLANNER.trained_run
encoder_run = PLANNER.encoder_run


def built_in_baseline(name: str) -> None:
    """Switch on a baseline of hncse/workflow/baselines.py."""
    add_built_in(PLANNER, name)


def method_baseline(name: str, method: str) -> None:
    """Train ``method`` (module:object or path/to/file.py[:object], docs/methods.md) as
    baseline ``name``: every backbone × settings × seed of the studies that list it."""
    add_method(PLANNER, name, method)


def build_plan() -> Plan:
    """Every study's runs; called once, after baselines/*.smk are included."""
    try:
        return PLANNER.plan()
    except PlanError as error:
        raise WorkflowError(str(error)) from None


def run_of(wildcards) -> Run:
    try:
        return PLAN.run(wildcards.run)
    except PlanError as error:
        raise WorkflowError(f"{RUNS_DIR}/{error}") from None


def train_corpus(wildcards) -> Path | list:
    """The train job's corpus input: the file (or saved dataset folder), or for wiki1m and
    its head in the data root the marker of their download rule (data.smk), so that the
    data itself is never an output."""
    corpus = run_of(wildcards).corpus
    if corpus is None:  # a hub dataset (hf:): the datasets library fetches it
        return []
    downloaded = corpus.parent == DATA_ROOT / "corpora" and corpus.name in CORPUS_MARKERS
    return CORPUS_MARKERS[corpus.name] if downloaded else corpus


def evaluate_inputs(wildcards) -> dict[str, Path]:
    """SentEval's data, and for a trained run its completion marker."""
    run = run_of(wildcards)
    inputs = {"senteval": DATA_MARKERS["senteval"]}
    if run.train is not None:
        inputs["trained"] = run.directory / "train_summary.json"
    return inputs


def resource(stage: str, key: str):
    return lambda wildcards: run_of(wildcards).resources[stage][key]


def evaluation_args(wildcards) -> str:
    return PLAN.evaluations[wildcards.run].arguments()


def all_eval_files(wildcards) -> list[str]:
    return [str(run.directory / "eval.json") for run in PLAN.runs.values()]


def all_run_descriptions(wildcards) -> list[str]:
    """run.json of the untrained runs (trained ones have train_summary.json)."""
    return [str(run.directory / "run.json") for run in PLAN.runs.values() if run.train is None]


def write_atomically(path: str, text: str, log: str) -> None:
    """Write through a temporary file and a rename (hncse.files): no half-written output."""
    write_text(Path(path), text)
    Path(log).write_text(f"wrote {path}\n")


def trained_eval_files(study: str) -> list[str]:
    """eval.json of the study's trained runs."""
    runs = (PLAN.runs[run_id] for run_id in PLAN.study_runs[study])
    return [str(run.directory / "eval.json") for run in runs if run.train is not None]


def study_mteb_tasks(study: str) -> list[str]:
    """The MTEB tasks of the STS tasks the study evaluates (hncse.evaluation.mteb_export)."""
    return mteb_tasks(resolve_tasks(",".join(PLAN.studies[study].evaluation.tasks)))


def mteb_export_inputs(wildcards) -> list[str]:
    return trained_eval_files(wildcards.study)


def mteb_folders(wildcards) -> list[str]:
    """With the config's mteb_export: the MTEB folder of each study that trains runs and
    evaluates an STS task MTEB has."""
    if not config["mteb_export"]:
        return []
    studies = [s for s in PLAN.studies if trained_eval_files(s) and study_mteb_tasks(s)]
    return [str(study_folder(RESULTS_DIR, study)) for study in studies]
