"""Studies -> runs: the helpers every rule file and every baseline in baselines/ uses.

A *run* is one encoder to evaluate, in its own directory under ``<results_dir>/runs/``:

    <backbone>/<method>[-<key>=<value>,...]/seed<seed>/   trained by `hncse train`
    <backbone>/<variant>/                                 used as it is (baselines)

The run directory holds no study name: a run that several studies need (the default
SimCSE run is in the main study, in the k × m grid at k = 10, m = 40, in Q3, ...) is
trained and evaluated once. The ``-<key>=<value>`` part lists only the settings whose
value differs from the backbone's recipe, sorted by key, so it is stable and two ways
of writing the same run name the same directory. Studies reference runs by id.
"""

import itertools
import json
import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from snakemake.exceptions import WorkflowError

from hncse.config import ConfigError, TrainConfig, build_config
from hncse.data_root import ENV_VAR as DATA_ENV_VAR
from hncse.data_root import resolve_data_root
from hncse.evaluation.tasks import resolve_tasks
from hncse.files import write_text

DATA_ROOT = resolve_data_root(config["data_dir"])
# Jobs (local, or SLURM, which exports the environment) find the data root here; it is
# not a rule parameter, so moving the data does not make Snakemake redo the runs.
os.environ[DATA_ENV_VAR] = str(DATA_ROOT)
# Under --software-deployment-method conda, jobs run in this environment (the project
# installed by its post-deploy script); otherwise in the current one.
CONDA_ENV = "../envs/hncse.yaml"
RESULTS_DIR = Path(config["results_dir"])
RUNS_DIR = RESULTS_DIR / "runs"
BENCHMARKS_DIR = RESULTS_DIR / "benchmarks"
# "the data is there and matches its manifest": the download rules' outputs (data.smk)
DATA_MARKERS = {name: RESULTS_DIR / "data" / f"{name}.ready" for name in ("senteval", "wiki1m")}
ANALYSIS_DIR = RESULTS_DIR / "analysis"  # `hncse aggregate`'s tables and figures
STUDY_SPEC = RESULTS_DIR / "studies.yaml"  # the study spec of `hncse aggregate` / `report`
REPORT_FILE = Path(config["report"])  # `hncse report`'s HTML file
# Keys a study's settings may not sweep: the study's own axes and the workflow's paths.
RESERVED_SETTINGS = ("method", "backbone", "seed", "output_dir", "data_dir")
STAGE_DEFAULTS = {
    "train": {"threads": 2, "mem_mb": 8000, "runtime": 240, "gpu": 0},
    "evaluate": {"threads": 2, "mem_mb": 8000, "runtime": 120, "gpu": 0},
}
EVALUATION_DEFAULTS = {"tasks": ["sts", "transfer"], "mode": "fasttest",
                       "alignment_uniformity": False, "max_train_samples": None}


@dataclass(frozen=True)
class Run:
    """One encoder to evaluate: trained by the workflow when ``train`` is set."""

    run_id: str  # directory under RUNS_DIR
    method: str  # a training method, or the baseline's name for an untrained encoder
    backbone: str  # the backbone's short name in the config (or the encoder's name)
    seed: int | None
    settings: Mapping[str, Any]  # what tells this run apart from its backbone's recipe
    encoder_args: str  # `hncse evaluate` arguments that choose the encoder
    train: Mapping[str, Any] | None = None  # `hncse train --set` keys
    corpus: Path | None = None  # the training corpus file (an input of the train job)
    resources: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        return RUNS_DIR / self.run_id


@dataclass(frozen=True)
class Study:
    """A configured study, its settings expanded (see the config schema)."""

    name: str
    methods: list[str]
    backbones: list[str]
    seeds: list[int]
    settings: list[dict[str, Any]]
    evaluation: dict[str, Any]
    baselines: list[str]
    include_studies: list[str]
    analysis: str  # the hncse.analysis study kind (hncse/analysis/studies.py)
    description: str | None = None


RUNS: dict[str, Run] = {}  # run id -> run
STUDIES: dict[str, Study] = {}  # study name -> study
STUDY_RUNS: dict[str, list[str]] = {}  # study -> ids of its runs
RUN_EVALUATION: dict[str, dict[str, Any]] = {}  # run id -> union of its studies' needs
BASELINES: dict[str, Callable[[Study], Iterable[Run]]] = {}


# ----------------------------------------------------------------------- baselines API
def baseline(name: str) -> Callable:
    """Register ``function(study) -> runs`` as baseline ``name`` (used in baselines/*.smk)."""

    def decorator(function: Callable[[Study], Iterable[Run]]) -> Callable:
        if name in BASELINES:
            raise WorkflowError(f"baseline {name!r} is registered twice (baselines/*.smk)")
        BASELINES[name] = function
        return function

    return decorator


def baseline_options(name: str) -> dict[str, Any]:
    """The options of baseline ``name`` from the config's ``baselines:`` mapping."""
    return dict(config["baselines"].get(name) or {})


def stage_resources(backbone: str | None, stage: str) -> dict[str, int]:
    """Resources of ``stage`` for ``backbone``: built-in < config ``resources`` < backbone."""
    merged = dict(STAGE_DEFAULTS[stage]) | config["resources"].get(stage, {})
    if backbone in config["backbones"]:
        merged |= config["backbones"][backbone].get("resources", {}).get(stage, {})
    return merged


def slug(value: Any) -> str:
    """A value as it appears in a run directory: ``brown/news.txt`` -> ``brown_news``."""
    text = "none" if value is None else str(value).removesuffix(".txt")
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text)


def check_not_reserved(options: Mapping[str, Any], key: str) -> None:
    if bad := sorted(set(options) & set(RESERVED_SETTINGS)):
        raise WorkflowError(
            f"config {key}: {bad} may not be set here (studies choose methods, backbones "
            "and seeds; the workflow chooses the paths)"
        )


def _explicit(backbone: str, method: str, seed: int, settings: Mapping[str, Any]) -> dict:
    """The training options a run sets: config ``train`` < backbone recipe < its settings."""
    spec = config["backbones"][backbone]
    identity = {"method": method, "backbone": spec["model"], "seed": seed}
    return identity | config["train"] | (spec.get("train") or {}) | dict(settings)


@cache
def _validated(backbone: str, method: str, seed: int, settings: tuple) -> TrainConfig:
    """TrainConfig of a run: checks every key and value before any job runs."""
    explicit = _explicit(backbone, method, seed, dict(settings))
    where = f"backbone {backbone!r}, method {method!r}, settings {dict(settings)}"
    try:
        return build_config(explicit, source=f"workflow config, {where}")
    except ConfigError as error:
        raise WorkflowError(str(error)) from None


def trained_run(
    backbone: str, method: str, seed: int, settings: Mapping[str, Any] | None = None
) -> Run:
    """The run that trains ``method`` on ``backbone`` with ``settings`` over the recipe."""
    settings = dict(settings or {})
    check_not_reserved(settings, f"settings of {method} on {backbone}")
    validated = _validated(backbone, method, seed, tuple(sorted(settings.items())))
    recipe = _validated(backbone, method, seed, ())
    # Only the settings that change the recipe name the run, with TrainConfig's normalised
    # values (YAML reads 3e-5 as text; TrainConfig makes it 3e-05).
    distinct = {
        key: getattr(validated, key)
        for key in sorted(settings)
        if getattr(validated, key) != getattr(recipe, key)
    }
    overrides = ",".join(f"{key}={slug(value)}" for key, value in distinct.items())
    variant = f"{method}-{overrides}" if overrides else method
    run_id = f"{backbone}/{variant}/seed{seed}"
    explicit = _explicit(backbone, method, seed, distinct)
    return Run(
        run_id=run_id,
        method=method,
        backbone=backbone,
        seed=seed,
        settings=distinct,
        encoder_args=f"--model {shlex.quote(str(RUNS_DIR / run_id / 'model'))} "
        f"--pooler {validated.eval_pooler}",
        train={key: getattr(validated, key) for key in explicit},
        corpus=corpus_file(validated.corpus),
        resources={stage: stage_resources(backbone, stage) for stage in STAGE_DEFAULTS},
    )


def encoder_run(
    backbone: str, method: str, encoder_args: str, settings: Mapping[str, Any] | None = None
) -> Run:
    """A run that evaluates an encoder as it is, without training: ``<backbone>/<method>/``.
    ``encoder_args`` are the `hncse evaluate` arguments that choose the encoder."""
    return Run(
        run_id=f"{backbone}/{method}",
        method=method,
        backbone=backbone,
        seed=None,
        settings=dict(settings or {}),
        encoder_args=encoder_args,
        resources={"evaluate": stage_resources(backbone, "evaluate")},
    )


# ----------------------------------------------------------------------- studies -> runs
def expand_settings(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``[{k: [5, 10], m: 20}, {beta: 0.5}]`` -> ``[{k: 5, m: 20}, {k: 10, m: 20}, {beta: 0.5}]``."""
    expanded: list[dict[str, Any]] = []
    for item in items:
        axes = [value if isinstance(value, list) else [value] for value in item.values()]
        expanded += [dict(zip(item, combo, strict=True)) for combo in itertools.product(*axes)]
    return expanded


def _names(value: str | list[str], known: Iterable[str], key: str) -> list[str]:
    """``"all"`` or a list of names, checked against ``known``; ``key`` names it in errors."""
    known = list(known)
    if value == "all":
        return known
    if unknown := [name for name in value if name not in known]:
        raise WorkflowError(f"config {key}: unknown {unknown}; known: {known}")
    return list(value)


def parse_study(name: str, spec: Mapping[str, Any]) -> Study:
    for index, item in enumerate(spec["settings"]):
        check_not_reserved(item, f"studies.{name}.settings[{index}]")
    if spec["methods"] and not spec["seeds"]:
        raise WorkflowError(f"config studies.{name}.seeds: a study that trains needs seeds")
    evaluation = EVALUATION_DEFAULTS | config["evaluation"] | spec.get("evaluation", {})
    try:
        resolve_tasks(",".join(evaluation["tasks"]))
    except ValueError as error:
        raise WorkflowError(f"config evaluation of study {name!r}: {error}") from None
    others = [other for other in config["studies"] if other != name]
    return Study(
        name=name,
        methods=list(spec["methods"]),
        backbones=_names(spec["backbones"], config["backbones"], f"studies.{name}.backbones"),
        seeds=list(spec["seeds"]),
        settings=expand_settings(spec["settings"]),
        evaluation=evaluation,
        baselines=_names(spec["baselines"], BASELINES, f"studies.{name}.baselines"),
        include_studies=_names(spec["include_studies"], others, f"studies.{name}.include_studies"),
        analysis=spec["analysis"],
        description=spec.get("description"),
    )


def own_runs(study: Study) -> list[Run]:
    """The study's grid (methods × backbones × settings × seeds) and its baselines' runs."""
    runs = [
        trained_run(backbone, method, seed, settings)
        for backbone in study.backbones
        for method in study.methods
        for settings in study.settings
        for seed in study.seeds
    ]
    for name in study.baselines:
        runs += list(BASELINES[name](study))
    return runs


def register(run: Run) -> None:
    """Add a run; the same id twice must be the same run (a shared run), never two runs."""
    known = RUNS.setdefault(run.run_id, run)
    if known != run:
        raise WorkflowError(
            f"two different runs want the directory {run.directory}:\n  {known}\n  {run}"
        )


def merge_evaluation(run_id: str, evaluation: Mapping[str, Any]) -> None:
    """A run shared by studies is evaluated once, on the union of their tasks, in ``test``
    mode if any of them asks for it, with alignment/uniformity if any asks for it, and with
    the most transfer training data any of them asks for (None: all)."""
    merged = RUN_EVALUATION.get(run_id)
    if merged is None:
        RUN_EVALUATION[run_id] = {**evaluation, "tasks": list(evaluation["tasks"])}
        return
    merged["tasks"] += [task for task in evaluation["tasks"] if task not in merged["tasks"]]
    merged["mode"] = "test" if "test" in (merged["mode"], evaluation["mode"]) else "fasttest"
    merged["alignment_uniformity"] |= evaluation["alignment_uniformity"]
    limits = (merged["max_train_samples"], evaluation["max_train_samples"])
    merged["max_train_samples"] = None if None in limits else max(limits)


def evaluation_args(wildcards) -> str:
    """`hncse evaluate` options of a run: its tasks, mode and extras. No embedding cache:
    each encoder is evaluated once here, and a cache of every run would fill the disk."""
    evaluation = RUN_EVALUATION[wildcards.run]
    args = f"--tasks {','.join(evaluation['tasks'])} --mode {evaluation['mode']}"
    if evaluation["alignment_uniformity"]:
        args += " --alignment-uniformity"
    if evaluation["max_train_samples"] is not None:
        args += f" --max-train-samples {evaluation['max_train_samples']}"
    return f"{args} --no-cache --no-progress"


def build_studies() -> None:
    """Expand every study into runs and fill RUNS, STUDY_RUNS and RUN_EVALUATION; run once
    after all baselines are included."""
    check_not_reserved(config["train"], "train")
    for backbone, spec in config["backbones"].items():
        check_not_reserved(spec.get("train") or {}, f"backbones.{backbone}.train")
    studies = {name: parse_study(name, spec) for name, spec in config["studies"].items()}
    STUDIES.update(studies)
    own = {name: own_runs(study) for name, study in studies.items()}
    for name, study in studies.items():
        runs = own[name] + [run for other in study.include_studies for run in own[other]]
        STUDY_RUNS[name] = list(dict.fromkeys(run.run_id for run in runs))
        for run in runs:
            register(run)
            merge_evaluation(run.run_id, study.evaluation)


def snakemake_command() -> str:
    """How to rerun this study, for the report: the config files given on the command line
    (none: the default config). ``--config`` overrides are not recorded."""
    files = [os.path.relpath(path) for path in workflow.overwrite_configfiles]
    return shlex.join(["snakemake", "--cores", "all",
                       *(["--configfile", *files] if files else [])])


# ----------------------------------------------------------------------- input functions
def run_of(wildcards) -> Run:
    try:
        return RUNS[wildcards.run]
    except KeyError:
        raise WorkflowError(
            f"{RUNS_DIR / wildcards.run} is no run of the configured studies"
        ) from None


def corpus_file(corpus: str) -> Path:
    """Where ``hncse.data_root.corpus_path`` will look for a corpus: a file path as given,
    else ``<data root>/corpora/<corpus>`` (wiki1m: the marker of its download rule)."""
    if corpus == "wiki1m":
        return DATA_MARKERS["wiki1m"]
    path = Path(corpus).expanduser()
    return path if path.is_file() else DATA_ROOT / "corpora" / corpus


def evaluate_inputs(wildcards) -> dict[str, Path]:
    """SentEval's data, and for a trained run its completion marker."""
    run = run_of(wildcards)
    inputs = {"senteval": DATA_MARKERS["senteval"]}
    if run.train is not None:
        inputs["trained"] = run.directory / "train_summary.json"
    return inputs


def set_value(value: Any) -> str:
    """A value as `hncse train --set` reads it back (YAML): plain where YAML gives the same
    value back, else JSON (``None`` -> ``null``, ``"1"`` -> ``'"1"'``)."""
    plain = str(value)
    return plain if yaml.safe_load(plain) == value else json.dumps(value)


def train_set_args(wildcards) -> str:
    """``method=hncse k=5 corpus=brown/news.txt``, shell-quoted where needed."""
    options = run_of(wildcards).train
    return " ".join(shlex.quote(f"{key}={set_value(value)}") for key, value in options.items())


def train_launcher(wildcards) -> str:
    """``hncse`` on CPU or one GPU; torchrun with one process per GPU beyond that."""
    gpus = run_of(wildcards).resources["train"]["gpu"]
    if gpus > 1:
        return f"torchrun --standalone --nproc_per_node={gpus} -m hncse.cli"
    return "hncse"


def resource(stage: str, key: str) -> Callable:
    return lambda wildcards: run_of(wildcards).resources[stage][key]


def all_eval_files(wildcards) -> list[str]:
    return [str(run.directory / "eval.json") for run in RUNS.values()]


def all_run_descriptions(wildcards) -> list[str]:
    """run.json of the untrained runs (trained ones have train_summary.json)."""
    return [str(run.directory / "run.json") for run in RUNS.values() if run.train is None]


def run_info(run: Run) -> dict[str, Any]:
    """What run.json holds (hncse/analysis/collect.py reads it for untrained runs). The
    backbone is the model id, as in a trained run's train_summary.json config, so that a
    baseline and the runs trained from the same model share labels and CKA references."""
    model = config["backbones"].get(run.backbone, {}).get("model", run.backbone)
    return {"method": run.method, "backbone": model, "seed": run.seed,
            "settings": dict(run.settings)}


def analysis_spec() -> dict[str, dict[str, Any]]:
    """The study spec of `hncse aggregate` / `hncse report` (hncse/analysis/studies.py):
    per study its analysis and its runs, as run ids relative to RESULTS_DIR (the ids
    hncse.analysis.collect gives run folders)."""
    prefix = RUNS_DIR.relative_to(RESULTS_DIR).as_posix()
    spec = {}
    for name, study in STUDIES.items():
        entry = {"analysis": study.analysis}
        if study.description:
            entry["description"] = study.description
        spec[name] = entry | {"runs": [f"{prefix}/{run_id}" for run_id in STUDY_RUNS[name]]}
    return spec


def write_atomically(path: str, text: str, log: str) -> None:
    """Write through a temporary file and a rename (hncse.files): no half-written output."""
    write_text(Path(path), text)
    Path(log).write_text(f"wrote {path}\n")


def all_targets(wildcards) -> list[str]:
    """The analysis tables and the HTML report."""
    return [str(ANALYSIS_DIR), str(REPORT_FILE)]
