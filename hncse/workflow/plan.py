"""Studies -> runs: the plan of a workflow config (docs/workflow.md).

A *run* is one encoder to evaluate, in its own directory under ``<results_dir>/runs/``:

    <backbone>/<method>[-<key>=<value>,...]/seed<seed>/   trained by `hncse train`
    <backbone>/<variant>/                                 used as it is (baselines)

The run directory holds no study name: a run that several studies need (the default
SimCSE run is in the main study, in the k × m grid at k = 10, m = 40, in Q3, ...) is
trained and evaluated once. The ``-<key>=<value>`` part lists only the settings whose
value differs from the backbone's recipe, sorted by key, so it is stable and two ways
of writing the same run name the same directory. Studies reference runs by id.

    planner = Planner(config, data_root)        # config: validated by the config schema
    planner.add_baseline("glove", glove_runs)   # what baselines/*.smk do
    plan = planner.plan()                       # plan.runs, plan.studies, plan.study_runs

Nothing here imports Snakemake, torch or transformers (tests/test_plan.py checks the last two).
"""

from __future__ import annotations

import itertools
import os
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hncse import HncseError
from hncse.config import ConfigError, TrainConfig, build_config
from hncse.data_root import corpus_location, is_hf_corpus, parse_hf_corpus
from hncse.evaluation.catalogue import resolve_tasks
from hncse.objectives.registry import load_method
from hncse.workflow.runs import Evaluation, Run, slug

# Keys a study's settings may not sweep: the study's own axes and the workflow's paths.
RESERVED_SETTINGS = ("method", "backbone", "seed", "output_dir", "data_dir")
STAGE_DEFAULTS: dict[str, dict[str, int]] = {
    "train": {"threads": 2, "mem_mb": 8000, "runtime": 240, "gpu": 0},
    "evaluate": {"threads": 2, "mem_mb": 8000, "runtime": 120, "gpu": 0},
}
RUNS_FOLDER = "runs"  # under results_dir; also the prefix of run ids in the study spec


class PlanError(HncseError, ValueError):
    """A workflow config that cannot be planned; the message names the key and the value."""


@dataclass(frozen=True)
class Study:
    """A configured study, its settings expanded (see the config schema)."""

    name: str
    methods: list[str]
    backbones: list[str]
    seeds: list[int]
    settings: list[dict[str, Any]]
    evaluation: Evaluation
    baselines: list[str]
    include_studies: list[str]
    analysis: str  # the hncse.analysis study kind (hncse/analysis/studies.py)
    description: str | None = None


Baseline = Callable[[Study], Iterable[Run]]


@dataclass(frozen=True)
class Plan:
    """Every run of every study, once, with the evaluation its studies need."""

    runs: dict[str, Run]  # run id -> run
    studies: dict[str, Study]
    study_runs: dict[str, list[str]]  # study -> ids of its runs
    evaluations: dict[str, Evaluation]  # run id -> union of its studies' needs

    def run(self, run_id: str) -> Run:
        try:
            return self.runs[run_id]
        except KeyError:
            raise PlanError(f"{run_id} is no run of the configured studies") from None

    def analysis_spec(self) -> dict[str, dict[str, Any]]:
        """The study spec of `hncse aggregate` / `hncse report` (hncse/analysis/studies.py):
        per study its analysis and its runs, as run ids relative to the results folder (the
        ids hncse.analysis.collect gives run folders)."""
        spec = {}
        for name, study in self.studies.items():
            entry: dict[str, Any] = {"analysis": study.analysis}
            if study.description:
                entry["description"] = study.description
            runs = [f"{RUNS_FOLDER}/{run_id}" for run_id in self.study_runs[name]]
            spec[name] = entry | {"runs": runs}
        return spec


def expand_settings(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A study's ``settings``: a list value is swept within its item, items are united.
    ``[{k: [5, 10], m: 20}, {beta: 0.5}]`` -> ``[{k: 5, m: 20}, {k: 10, m: 20}, {beta: 0.5}]``.
    """
    expanded: list[dict[str, Any]] = []
    for item in items:
        axes = [value if isinstance(value, list) else [value] for value in item.values()]
        expanded += [dict(zip(item, combo, strict=True)) for combo in itertools.product(*axes)]
    return expanded


def check_not_reserved(options: Mapping[str, Any], key: str) -> None:
    if bad := sorted(set(options) & set(RESERVED_SETTINGS)):
        raise PlanError(
            f"config {key}: {bad} may not be set here (studies choose methods, backbones "
            "and seeds; the workflow chooses the paths)"
        )


def snakemake_command(config_files: Iterable[str | os.PathLike[str]]) -> str:
    """How to rerun a study, for the report: the config files given on the command line
    (none: the default config). ``--config`` overrides are not recorded."""
    files = [os.path.relpath(path) for path in config_files]
    return shlex.join(["snakemake", "--cores", "all", *(["--configfile", *files] if files else [])])


def _names(value: str | list[str], known: Iterable[str], key: str) -> list[str]:
    """``"all"`` or a list of names, checked against ``known``; ``key`` names it in errors."""
    known = list(known)
    if value == "all":
        return known
    if unknown := [name for name in value if name not in known]:
        raise PlanError(f"config {key}: unknown {unknown}; known: {known}")
    return list(value)


class Planner:
    """Plans the studies of one workflow config (validated by its schema, defaults filled).

    Baselines register first (:meth:`add_baseline`, or the :meth:`baseline` decorator of
    baselines/*.smk); :meth:`plan` then expands every study. ``data_root`` is where the
    training corpora are looked up (hncse.data_root)."""

    def __init__(self, config: Mapping[str, Any], data_root: Path) -> None:
        self.config = config
        self.data_root = data_root
        self.runs_dir = Path(config["results_dir"]) / RUNS_FOLDER
        self.baselines: dict[str, Baseline] = {}
        self._configs: dict[tuple, TrainConfig] = {}

    # ------------------------------------------------------------------- baselines API
    def add_baseline(self, name: str, function: Baseline) -> None:
        """Register ``function(study) -> runs`` as baseline ``name``."""
        if name in self.baselines:
            raise PlanError(f"baseline {name!r} is registered twice (baselines/*.smk)")
        self.baselines[name] = function

    def baseline(self, name: str) -> Callable[[Baseline], Baseline]:
        """``@baseline(name)``: :meth:`add_baseline` as a decorator."""

        def decorator(function: Baseline) -> Baseline:
            self.add_baseline(name, function)
            return function

        return decorator

    def baseline_options(self, name: str) -> dict[str, Any]:
        """The options of baseline ``name`` from the config's ``baselines:`` mapping."""
        return dict(self.config["baselines"].get(name) or {})

    def backbone_model(self, backbone: str) -> str:
        """The model id of a configured backbone (an unknown name is its own id)."""
        return self.config["backbones"].get(backbone, {}).get("model", backbone)

    def stage_resources(self, backbone: str | None, stage: str) -> dict[str, int]:
        """Resources of ``stage`` for ``backbone``: built-in < config ``resources`` < backbone."""
        merged = dict(STAGE_DEFAULTS[stage]) | self.config["resources"].get(stage, {})
        if backbone in self.config["backbones"]:
            merged |= self.config["backbones"][backbone].get("resources", {}).get(stage, {})
        return merged

    def trained_run(
        self, backbone: str, method: str, seed: int, settings: Mapping[str, Any] | None = None
    ) -> Run:
        """The run that trains ``method`` on ``backbone`` with ``settings`` over the recipe."""
        settings = dict(settings or {})
        check_not_reserved(settings, f"settings of {method} on {backbone}")
        validated = self._train_config(backbone, method, seed, settings)
        recipe = self._train_config(backbone, method, seed, {})
        # Only the settings that change the recipe name the run, with TrainConfig's
        # normalised values (YAML reads 3e-5 as text; TrainConfig makes it 3e-05).
        distinct = {
            key: getattr(validated, key)
            for key in sorted(settings)
            if getattr(validated, key) != getattr(recipe, key)
        }
        overrides = ",".join(f"{key}={slug(value)}" for key, value in distinct.items())
        name = load_method(method).name  # a method of one's own: its name, not its path
        variant = f"{name}-{overrides}" if overrides else name
        run_id = f"{backbone}/{variant}/seed{seed}"
        directory = self.runs_dir / run_id
        explicit = self._explicit(backbone, method, seed, distinct)
        return Run(
            run_id=run_id,
            directory=directory,
            method=name,
            backbone=backbone,
            model=self.backbone_model(backbone),
            seed=seed,
            settings=distinct,
            encoder_args=f"--model {shlex.quote(str(directory / 'model'))} "
            f"--pooler {validated.eval_pooler}",
            train={key: getattr(validated, key) for key in explicit},
            corpus=self.corpus_input(validated.corpus),
            resources={stage: self.stage_resources(backbone, stage) for stage in STAGE_DEFAULTS},
        )

    def corpus_input(self, corpus: str) -> Path | None:
        """The train job's corpus input: the text file; for an hf: corpus its saved folder
        when it is one, else nothing (the datasets library fetches and caches it)."""
        if not is_hf_corpus(corpus):
            return corpus_location(corpus, self.data_root)
        folder = Path(parse_hf_corpus(corpus).dataset).expanduser()
        return folder if folder.is_dir() else None

    def encoder_run(
        self,
        backbone: str,
        method: str,
        encoder_args: str,
        settings: Mapping[str, Any] | None = None,
    ) -> Run:
        """A run that evaluates an encoder as it is, without training: ``<backbone>/<method>/``.
        ``encoder_args`` are the `hncse evaluate` arguments that choose the encoder."""
        run_id = f"{backbone}/{method}"
        return Run(
            run_id=run_id,
            directory=self.runs_dir / run_id,
            method=method,
            backbone=backbone,
            model=self.backbone_model(backbone),
            seed=None,
            settings=dict(settings or {}),
            encoder_args=encoder_args,
            resources={"evaluate": self.stage_resources(backbone, "evaluate")},
        )

    # ------------------------------------------------------------------- studies -> runs
    def plan(self) -> Plan:
        """Expand every study into runs; call once, after every baseline is registered."""
        check_not_reserved(self.config["train"], "train")
        for backbone, spec in self.config["backbones"].items():
            check_not_reserved(spec.get("train") or {}, f"backbones.{backbone}.train")
        studies = {name: self.study(name) for name in self.config["studies"]}
        own = {name: self.own_runs(study) for name, study in studies.items()}
        runs: dict[str, Run] = {}
        study_runs: dict[str, list[str]] = {}
        evaluations: dict[str, Evaluation] = {}
        for name, study in studies.items():
            members = own[name] + [run for other in study.include_studies for run in own[other]]
            study_runs[name] = list(dict.fromkeys(run.run_id for run in members))
            for run in members:
                known = runs.setdefault(run.run_id, run)
                if known != run:  # a shared run is one run, never two under one directory
                    raise PlanError(
                        f"two different runs want the directory {run.directory}:"
                        f"\n  {known}\n  {run}"
                    )
                previous = evaluations.get(run.run_id)
                evaluations[run.run_id] = (
                    study.evaluation if previous is None else previous.merged(study.evaluation)
                )
        return Plan(runs, studies, study_runs, evaluations)

    def study(self, name: str) -> Study:
        """Study ``name`` of the config, checked and expanded."""
        spec = self.config["studies"][name]
        for index, item in enumerate(spec["settings"]):
            check_not_reserved(item, f"studies.{name}.settings[{index}]")
        if spec["methods"] and not spec["seeds"]:
            raise PlanError(f"config studies.{name}.seeds: a study that trains needs seeds")
        evaluation = Evaluation.from_config(self.config["evaluation"], spec.get("evaluation", {}))
        try:
            resolve_tasks(",".join(evaluation.tasks))
        except ValueError as error:
            raise PlanError(f"config evaluation of study {name!r}: {error}") from None
        others = [other for other in self.config["studies"] if other != name]
        backbones = self.config["backbones"]
        return Study(
            name=name,
            methods=list(spec["methods"]),
            backbones=_names(spec["backbones"], backbones, f"studies.{name}.backbones"),
            seeds=list(spec["seeds"]),
            settings=expand_settings(spec["settings"]),
            evaluation=evaluation,
            baselines=_names(spec["baselines"], self.baselines, f"studies.{name}.baselines"),
            include_studies=_names(
                spec["include_studies"], others, f"studies.{name}.include_studies"
            ),
            analysis=spec["analysis"],
            description=spec.get("description"),
        )

    def own_runs(self, study: Study) -> list[Run]:
        """The study's grid (methods × backbones × settings × seeds) and its baselines' runs."""
        runs = [
            self.trained_run(backbone, method, seed, settings)
            for backbone in study.backbones
            for method in study.methods
            for settings in study.settings
            for seed in study.seeds
        ]
        for name in study.baselines:
            runs += list(self.baselines[name](study))
        return runs

    def _explicit(
        self, backbone: str, method: str, seed: int, settings: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The training options a run sets: config ``train`` < backbone recipe < settings."""
        spec = self.config["backbones"][backbone]
        identity = {"method": method, "backbone": spec["model"], "seed": seed}
        return identity | self.config["train"] | (spec.get("train") or {}) | dict(settings)

    def recipe(self, backbone: str) -> TrainConfig:
        """The backbone's recipe (config ``train`` < backbone ``train``) as SimCSE's seed-1
        TrainConfig: the options every run on it shares unless its settings change them."""
        return self._train_config(backbone, "simcse", 1, {})

    def _train_config(
        self, backbone: str, method: str, seed: int, settings: Mapping[str, Any]
    ) -> TrainConfig:
        """TrainConfig of a run (cached): checks every key and value before any job runs."""
        key = (backbone, method, seed, tuple(sorted(settings.items())))
        if key not in self._configs:
            where = f"backbone {backbone!r}, method {method!r}, settings {dict(settings)}"
            try:
                self._configs[key] = build_config(
                    self._explicit(backbone, method, seed, settings),
                    source=f"workflow config, {where}",
                )
            except ConfigError as error:
                raise PlanError(str(error)) from None
        return self._configs[key]
