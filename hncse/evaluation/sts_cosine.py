"""STS-B and SICK-R, evaluated as SimCSE does: cosine similarity, no regressor.

- STS-B ``STS/STSBenchmark/sts-{train,dev,test}.csv``: tab-separated, score in column 5,
  sentences in columns 6 and 7 (1-based); 5749 / 1500 / 1379 pairs; scores in [0, 5].
- SICK-R ``SICK/SICK_{train,trial,test_annotated}.txt``: a header line, then sentence A,
  sentence B, relatedness in columns 2, 3, 4; 4500 / 500 / 4927 pairs; scores in [1, 5].

Spearman on ``test`` is the headline; STS-B ``dev`` is what training-time model selection
uses (:func:`stsb_dev_spearman`). Upstream SentEval's supervised regressor mode is not this.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hncse.data_root import resolve_data_root, senteval_dir
from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.reading import (
    check_count,
    columns,
    join_tokens,
    number,
    read_lines,
    require_file,
)
from hncse.evaluation.results import Correlation, CosineResult
from hncse.evaluation.similarity import PairSet, correlation, cosine_scores, pair_frame

HEADLINE_SPLIT = "test"


@dataclass(frozen=True)
class Layout:
    """Where a file keeps its fields (0-based columns) and what it must hold."""

    columns: int
    at_least: bool
    header: bool
    first: int
    second: int
    score: int
    score_range: tuple[float, float]


STSB_LAYOUT = Layout(
    7, at_least=True, header=False, first=5, second=6, score=4, score_range=(0.0, 5.0)
)
SICK_LAYOUT = Layout(
    5, at_least=False, header=True, first=1, second=2, score=3, score_range=(1.0, 5.0)
)


def read_pairs(path: Path, layout: Layout, expected: int, task: str) -> PairSet:
    """Read one split; parsed once per process and file version (the trainer calls this at
    every evaluation), keyed by path, size and modification time."""
    stat = require_file(path, task).stat()
    return _parse_pairs(path, stat.st_size, stat.st_mtime_ns, layout, expected, task)


@functools.lru_cache(maxsize=16)
def _parse_pairs(
    path: Path, size: int, mtime_ns: int, layout: Layout, expected: int, task: str
) -> PairSet:
    lines = read_lines(path, "utf-8", task)
    body = lines[1:] if layout.header else lines
    check_count(len(body), expected, path, "pairs")
    first, second, gold = [], [], []
    offset = 2 if layout.header else 1
    for line_number, line in enumerate(body, start=offset):
        fields = columns(line, path, line_number, layout.columns, layout.at_least)
        gold.append(number(fields[layout.score], path, line_number, *layout.score_range, "score"))
        first.append(join_tokens(fields[layout.first]))
        second.append(join_tokens(fields[layout.second]))
    return PairSet(first, second, np.asarray(gold, dtype=np.float64))


@dataclass(frozen=True)
class LoadedCosine:
    name: str
    splits: dict[str, PairSet]
    files: tuple[Path, ...]

    def sentences(self) -> list[str]:
        return [s for pairs in self.splits.values() for s in pairs.sentences()]

    def headline_only(self) -> LoadedCosine:
        """Only the reported split (``test``): the train and dev splits are 60 % of this
        task's sentences and no headline uses them."""
        return LoadedCosine(self.name, {HEADLINE_SPLIT: self.splits[HEADLINE_SPLIT]}, self.files)

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        start = time.perf_counter()
        results: dict[str, Correlation] = {}
        pairs_frame = None
        for split, pairs in self.splits.items():
            scores = cosine_scores(embed(pairs.first), embed(pairs.second))
            results[split] = correlation(scores, pairs.gold)
            if split == HEADLINE_SPLIT:
                pairs_frame = pair_frame(self.name, split, pairs.gold, scores)
        result = CosineResult(splits=results, seconds=time.perf_counter() - start)
        return TaskOutcome(result, pairs_frame)


@dataclass(frozen=True)
class CosineSpec:
    """A pair task with train/dev/test files: (split, file name, expected pairs)."""

    name: str
    folder: str
    files: tuple[tuple[str, str, int], ...]
    layout: Layout
    family: str = "sts_cosine"

    def path(self, senteval: Path, split: str) -> Path:
        names = {name: file for name, file, _ in self.files}
        return senteval / self.folder / names[split]

    def read(self, senteval: Path, split: str) -> PairSet:
        expected = {name: count for name, _, count in self.files}[split]
        return read_pairs(self.path(senteval, split), self.layout, expected, self.name)

    def load(self, senteval: Path) -> LoadedCosine:
        splits = {name: self.read(senteval, name) for name, _, _ in self.files}
        paths = tuple(self.path(senteval, name) for name, _, _ in self.files)
        return LoadedCosine(self.name, splits, paths)


STSB = CosineSpec(
    "STSBenchmark",
    "STS/STSBenchmark",
    (
        ("train", "sts-train.csv", 5749),
        ("dev", "sts-dev.csv", 1500),
        ("test", "sts-test.csv", 1379),
    ),
    STSB_LAYOUT,
)
SICKR = CosineSpec(
    "SICKRelatedness",
    "SICK",
    (
        ("train", "SICK_train.txt", 4500),
        ("dev", "SICK_trial.txt", 500),
        ("test", "SICK_test_annotated.txt", 4927),
    ),
    SICK_LAYOUT,
)
SPECS: tuple[CosineSpec, ...] = (STSB, SICKR)


def stsb_dev_spearman(
    encode: Callable[[list[str]], np.ndarray | torch.Tensor],
    data_root: str | Path | None = None,
) -> float:
    """Cosine Spearman ×100 on STS-B dev (``sts-dev.csv``): the trainer's model selection.

    ``encode`` maps a list of sentences to one row per sentence; it is called once with the
    distinct dev sentences, shortest first (less padding if it batches in order).
    """
    pairs = STSB.read(senteval_dir(resolve_data_root(data_root)), "dev")
    unique = sorted(set(pairs.sentences()), key=lambda s: (len(s.split()), len(s), s))
    matrix = encode(unique)
    if isinstance(matrix, torch.Tensor):
        matrix = matrix.detach().float().cpu().numpy()
    row = {sentence: i for i, sentence in enumerate(unique)}
    first = matrix[[row[s] for s in pairs.first]]
    second = matrix[[row[s] for s in pairs.second]]
    spearman = correlation(cosine_scores(first, second), pairs.gold).spearman
    return float("nan") if spearman is None else spearman
