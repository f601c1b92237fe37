"""One evaluation run: read and check every selected task, encode their sentences once,
evaluate task by task, and assemble the result record (written only when all succeeded)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from hncse.data_root import resolve_data_root, senteval_dir
from hncse.evaluation.alignment import alignment_uniformity
from hncse.evaluation.base import EvalContext, LimitableTask, LoadedTask, SplitTask
from hncse.evaluation.classifier import MODES, Fitter, fit_groups
from hncse.evaluation.encoding import (
    DEFAULT_CACHE_DIR,
    EmbeddingCache,
    EncoderSource,
    embed_tasks,
)
from hncse.evaluation.errors import EvaluationError
from hncse.evaluation.results import (
    PAIR_COLUMNS,
    DataInfo,
    EvaluationResult,
    TaskResult,
    write_result,
)
from hncse.evaluation.sts_cosine import STSB
from hncse.evaluation.tasks import TASK_SPECS, resolve_tasks
from hncse.manifest import check_digests, sha256_file
from hncse.versions import package_versions


@dataclass(frozen=True)
class Evaluation:
    result: EvaluationResult
    pairs: pd.DataFrame

    def write(self, out: str | Path) -> None:
        """``out`` (JSON) and ``<stem>.pairs.parquet`` beside it, atomically."""
        write_result(self.result, self.pairs, Path(out))


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_cache_dir(cache_dir: Path, data_root: Path) -> Path:
    """The cache must not live inside the (read-only, shared) data root."""
    resolved = Path(cache_dir).expanduser().resolve()
    if resolved.is_relative_to(data_root.resolve()):
        raise EvaluationError(
            f"cache dir {resolved} is inside the data root {data_root}; choose another --cache-dir"
        )
    return resolved


def limit_training(task: LoadedTask, max_samples: int | None) -> LoadedTask:
    if max_samples is None or not isinstance(task, LimitableTask):
        return task
    return task.limit_training(max_samples)


def select_splits(task: LoadedTask, all_splits: bool) -> LoadedTask:
    if all_splits or not isinstance(task, SplitTask):
        return task
    return task.headline_only()


def _data_info(root: Path, senteval: Path, loaded: Sequence[LoadedTask]) -> DataInfo:
    """The files' hashes, checked against the data root's MANIFEST.sha256 if it has one."""
    digests = {path: sha256_file(path) for task in loaded for path in task.files}
    check_digests(root, digests)
    files = {str(path.relative_to(senteval)): digest for path, digest in digests.items()}
    return DataInfo(senteval_dir=str(senteval), files=files)


def evaluate(
    tasks: str | Sequence[str],
    source: EncoderSource,
    data_root: str | Path | None = None,
    mode: str = "test",
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
    device: str | None = None,
    batch_size: int = 128,
    with_alignment_uniformity: bool = False,
    progress: bool = False,
    fitter: Fitter = fit_groups,
    max_train_samples: int | None = None,
    all_splits: bool = False,
) -> Evaluation:
    """Evaluate ``source`` on ``tasks`` (names or a selection like ``"sts,transfer"``).

    ``cache_dir=None`` disables the embedding cache. ``max_train_samples`` cuts every
    transfer task's training data (MR, CR, SUBJ, MPQA: the whole cross-validated set) to a
    stratified subset of that many samples, the same for every encoder; test sets stay
    whole. A speed/variance trade-off for small machines, not SentEval's protocol.
    STS-B and SICK-R are scored on their test split (the headline) unless ``all_splits``;
    the headlines are the same either way.
    """
    started = time.perf_counter()
    names = resolve_tasks(tasks if isinstance(tasks, str) else ",".join(tasks))
    if mode not in MODES:
        raise EvaluationError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    root = resolve_data_root(data_root)
    senteval = senteval_dir(root)
    cache = (
        EmbeddingCache(check_cache_dir(Path(cache_dir), root), source.info.fingerprint)
        if cache_dir is not None
        else None
    )
    loaded = {
        name: select_splits(
            limit_training(TASK_SPECS[name].load(senteval), max_train_samples), all_splits
        )
        for name in names
    }  # all checks before work
    needed = dict(loaded)
    if with_alignment_uniformity:  # over all of STS-B's splits
        needed[STSB.name] = STSB.load(senteval)
    data = _data_info(root, senteval, list(needed.values()))
    encoded = embed_tasks(
        {name: task.sentences() for name, task in needed.items()},
        source,
        cache,
        batch_size,
        progress,
    )
    device = device or default_device()
    context = EvalContext(MODES[mode], device, fitter)
    results, pairs = _score(loaded, encoded.table, context, progress)
    au = None
    if with_alignment_uniformity:
        au = alignment_uniformity(encoded.table, needed[STSB.name].splits)
    result = EvaluationResult(
        model=source.info,
        data=data,
        mode=mode,
        classifier=MODES[mode].as_dict(),
        device=device,
        seconds=time.perf_counter() - started,
        encode_seconds=encoded.seconds,
        sentences_encoded=encoded.encoded,
        sentences_unique=len(encoded.table.index),
        max_train_samples=max_train_samples,
        tasks=results,
        alignment_uniformity=au,
        versions=package_versions(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return Evaluation(result, pairs)


def _score(
    tasks: Mapping[str, LoadedTask], table: pd.DataFrame, context: EvalContext, progress: bool
) -> tuple[dict[str, TaskResult], pd.DataFrame]:
    """Each task's result from the shared embedding table, and the STS tasks' per-pair
    scores in one frame."""
    results: dict[str, TaskResult] = {}
    frames = []
    for name, task in tqdm(tasks.items(), desc="tasks", disable=not progress):
        outcome = task.evaluate(table, context)
        results[name] = outcome.result
        if outcome.pairs is not None:
            frames.append(outcome.pairs)
    pairs = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({column: [] for column in PAIR_COLUMNS})
    )
    return results, pairs
