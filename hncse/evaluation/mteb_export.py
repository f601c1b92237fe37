"""``hncse export-mteb``: a run's STS results as MTEB result files.

    hncse export-mteb results/runs/x [results/runs/y ...] --out results/mteb

writes, through the ``mteb`` package's own classes, ``DIR/results/<model>/<revision>/`` with
one ``<Task>.json`` per MTEB task (``TaskResult``) and ``model_meta.json`` (``ModelMeta``):
the layout ``mteb.ResultCache(DIR).load_results(...)`` reads. The model is ``hncse/<run
id>`` (``--name`` for one run), its revision the evaluation's model fingerprint.

A number is exported under an MTEB task only where it is that task's ``main_score`` by
definition: MTEB's main score is cosine Spearman on its test split, and the eval.json number
must be cosine Spearman over exactly as many pairs as that split holds (from mteb's task
metadata, in the package: nothing is downloaded). SICK-R fails this (MTEB's test split is all
of SICK, 9,927 pairs; SentEval's is SICK's test file, 4,927), so it is not exported by default
and refused when asked for. docs/evaluation.md gives the correspondence task by task.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hncse import HncseError
from hncse.evaluation.results import EvaluationResult, load_result, split_correlation
from hncse.workflow.plan import RUNS_FOLDER

if TYPE_CHECKING:
    from mteb import TaskResult
    from mteb.models import ModelMeta

EVAL_FILE = "eval.json"
MTEB_DIR = "mteb"  # <results>/mteb/<study>/: the workflow's export of a study's trained runs
SUMMARY_FILE = "train_summary.json"
MAIN_SCORE = "cosine_spearman"
# How long a revision folder name is (hex digits of the model fingerprint).
REVISION_DIGITS = 16


class ExportError(HncseError, ValueError):
    """A number that cannot be exported under the MTEB task asked for."""


@dataclass(frozen=True)
class Correspondence:
    """An MTEB task and the eval.json number that may stand for its main score."""

    mteb_task: str
    task: str  # key in eval.json's "tasks"
    split: str  # STS12–16: the 'all' aggregation; STS-B, SICK-R: the split


CORRESPONDENCES: dict[str, Correspondence] = {
    c.mteb_task: c
    for c in (
        *(Correspondence(f"STS1{i}", f"STS1{i}", "all") for i in range(2, 7)),
        Correspondence("STSBenchmark", "STSBenchmark", "test"),
        Correspondence("SICK-R", "SICKRelatedness", "test"),
    )
}
# SICK-R's definitions never match (module docstring): asked for only by name.
DEFAULT_TASKS = tuple(name for name in CORRESPONDENCES if name != "SICK-R")


def mteb_tasks(evaluated: list[str]) -> list[str]:
    """The default MTEB tasks whose eval.json task is among ``evaluated``."""
    return [name for name in DEFAULT_TASKS if CORRESPONDENCES[name].task in evaluated]


def eval_file(run_or_eval: Path) -> Path:
    path = run_or_eval / EVAL_FILE if run_or_eval.is_dir() else run_or_eval
    if not path.is_file():
        raise ExportError(f"{path}: no such file (give a run folder with {EVAL_FILE} or the file)")
    return path


def task_result(name: str, evaluation: EvaluationResult, source: Path) -> TaskResult:
    """``evaluation``'s number for MTEB task ``name`` as mteb's ``TaskResult``, or an
    ExportError naming the task where the definitions differ."""
    import mteb

    if name not in CORRESPONDENCES:
        raise ExportError(
            f"{name}: not an MTEB task this export knows ({', '.join(CORRESPONDENCES)})"
        )
    match = CORRESPONDENCES[name]
    task = mteb.get_task(name)
    (split,) = task.metadata.eval_splits  # the STS tasks have one: test
    record = evaluation.tasks.get(match.task)
    if record is None:
        raise ExportError(f"{name}: {source} has no {match.task} (evaluate with --tasks sts)")
    correlation = split_correlation(record, match.split)
    pairs = task.metadata.descriptive_stats[split]["num_samples"]
    if task.metadata.main_score != MAIN_SCORE or correlation is None or correlation.n != pairs:
        found = "no such number" if correlation is None else f"{correlation.n} pairs"
        raise ExportError(
            f"{name}: MTEB's main score is {task.metadata.main_score} on its {split} split "
            f"({pairs} pairs); {source}'s {match.task} '{match.split}' has {found}: "
            "not the same number, not exported"
        )
    if correlation.spearman is None or correlation.pearson is None:
        raise ExportError(f"{name}: {source}'s {match.task} correlation is undefined (null)")
    scores = {
        "cosine_spearman": correlation.spearman / 100,
        "cosine_pearson": correlation.pearson / 100,
        "main_score": correlation.spearman / 100,
    }
    return mteb.TaskResult.from_task_results(
        task,
        {split: {subset: scores for subset in task.metadata.hf_subsets}},
        evaluation_time=record.seconds,
        date=datetime.fromisoformat(evaluation.created),
    )


def default_name(run_dir: Path) -> str:
    """``hncse/<run id>``: the run's folders under the workflow's ``runs/`` joined by ``--``
    (``hncse/minilm--simcse--seed1``), else the folder's name."""
    parts = run_dir.resolve().parts
    below = parts[len(parts) - parts[::-1].index(RUNS_FOLDER) :] if RUNS_FOLDER in parts else ()
    return "hncse/" + "--".join(below or (run_dir.resolve().name,))


def base_model(run_dir: Path) -> str | None:
    """The backbone a run was trained from (its train_summary.json), if it was trained."""
    path = run_dir / SUMMARY_FILE
    return json.loads(path.read_text())["backbone"] if path.is_file() else None


def model_meta(name: str, evaluation: EvaluationResult, run_dir: Path) -> ModelMeta:
    from mteb.models import ModelMeta

    return ModelMeta(
        loader=None,
        name=name,
        revision=evaluation.model.fingerprint[:REVISION_DIGITS],
        release_date=evaluation.created[:10],
        languages=["eng-Latn"],
        n_parameters=None,
        memory_usage_mb=None,
        max_tokens=evaluation.model.max_length,
        embed_dim=None,
        license=None,
        open_weights=True,
        public_training_code=None,
        public_training_data=None,
        framework=["Sentence Transformers", "PyTorch"],
        similarity_fn_name="cosine",
        use_instructions=False,
        training_datasets=None,
        adapted_from=base_model(run_dir),
    )


@dataclass(frozen=True)
class Export:
    """One run's MTEB files, built in memory before anything is written."""

    meta: ModelMeta
    results: list[TaskResult]


def build_export(run_or_eval: Path, tasks: list[str], name: str | None) -> Export:
    path = eval_file(run_or_eval)
    evaluation = load_result(path)  # one line naming the file when it is not a result
    run_dir = path.parent
    meta = model_meta(name or default_name(run_dir), evaluation, run_dir)
    return Export(meta, [task_result(task, evaluation, path) for task in tasks])


def write_export(export: Export, out: Path) -> Path:
    """Write ``export`` under ``out`` with mteb's ``ResultCache``, staged beside its final
    folder and swapped in: a failure leaves the previous export of that model as it was."""
    from mteb import ResultCache

    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        cache = ResultCache(staging)
        for result in export.results:
            cache.save_to_cache(result, export.meta)
        written = cache.get_task_result_path(export.results[0].task_name, export.meta).parent
        target = out / written.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        written.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def study_folder(results: Path, study: str) -> Path:
    """Where the workflow exports a study's trained runs (its ``mteb_export`` switch)."""
    return results / MTEB_DIR / study


def study_links(results: Path, report: Path, studies: list[str]) -> list[dict[str, str]]:
    """The studies whose MTEB folder exists, each with its path relative to ``report``'s
    folder (for the report's link)."""
    folders = {study: study_folder(results, study) for study in studies}
    return [
        {"study": study, "href": os.path.relpath(folder, report.parent)}
        for study, folder in folders.items()
        if folder.is_dir()
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs", nargs="+", type=Path, metavar="RUN_OR_EVAL", help="run folders or eval.json files"
    )
    parser.add_argument("--out", required=True, type=Path, help="MTEB results folder")
    parser.add_argument(
        "--tasks",
        default=",".join(DEFAULT_TASKS),
        help="comma-separated MTEB task names (default: %(default)s; SICK-R is refused: "
        "docs/evaluation.md)",
    )
    parser.add_argument("--name", help="the model's MTEB name (one run only; default hncse/<run>)")


def run(args: argparse.Namespace) -> int:
    tasks = [task.strip() for task in args.tasks.split(",") if task.strip()]
    if not tasks:
        raise ExportError(f"--tasks {args.tasks!r}: no MTEB task named")
    if args.name and len(args.runs) > 1:
        raise ExportError("--name names one model: give one run")
    exports = [build_export(path, tasks, args.name) for path in args.runs]  # all checks first
    for export in exports:
        print(f"wrote {write_export(export, args.out)}", file=sys.stderr)
    return 0
