"""MRPC: paraphrase detection on sentence pairs (``senteval/mrpc.py``).

``MRPC/msr_paraphrase_{train,test}.txt``: UTF-8, a header line, then
``Quality<TAB>#1 ID<TAB>#2 ID<TAB>#1 String<TAB>#2 String``; 4076 / 1725 pairs. Pairs are
sorted by (tokens of A, tokens of B, label); features are ``np.c_[|u − v|, u ⊙ v]``;
k-fold on train chooses the penalty, the refit is scored on test: accuracy and F1 of
class 1, both ×100 and rounded to 2 decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.reading import check_count, columns, label, read_lines
from hncse.evaluation.transfer import stratified_subset, timed_result
from hncse.evaluation.validation import Scores, kfold_then_test


@dataclass(frozen=True)
class Pairs:
    first: list[str]
    second: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Pairs:
        return Pairs([self.first[i] for i in indices], [self.second[i] for i in indices],
                     self.labels[indices])


def read_file(path: Path, expected: int, task: str) -> Pairs:
    lines = read_lines(path, "utf-8", task)[1:]  # header
    check_count(len(lines), expected, path, "pairs")
    rows = []
    for number, line in enumerate(lines, start=2):
        fields = columns(line, path, number, 5)
        value = int(label(fields[0], path, number, {"0", "1"}))
        rows.append((fields[3].split(), fields[4].split(), value))
    rows.sort(key=lambda row: (len(row[0]), len(row[1]), row[2]))  # stable, as SentEval
    return Pairs([" ".join(a) for a, _, _ in rows], [" ".join(b) for _, b, _ in rows],
                 np.asarray([y for _, _, y in rows], dtype=np.int64))


def pair_features(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """SentEval's MRPC features: ``np.c_[np.abs(u - v), u * v]``."""
    return np.c_[np.abs(first - second), first * second]


@dataclass(frozen=True)
class LoadedMRPC:
    name: str
    train: Pairs
    test: Pairs
    files: tuple[Path, ...]

    def sentences(self) -> list[str]:
        return self.train.first + self.train.second + self.test.first + self.test.second

    def limit_training(self, max_samples: int) -> LoadedMRPC:
        """``max_samples`` pairs."""
        return replace(self, train=self.train.take(stratified_subset(self.train.labels,
                                                                     max_samples)))

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        train = (pair_features(embed(self.train.first), embed(self.train.second)),
                 self.train.labels)
        test = (pair_features(embed(self.test.first), embed(self.test.second)),
                self.test.labels)

        def f1(scores: Scores) -> float:
            return round(100 * float(f1_score(self.test.labels, scores.predictions)), 2)

        return timed_result(
            lambda: kfold_then_test(train, test, 2, context.classifier, context.device,
                                    context.fitter),
            n=len(self.train), ntest=len(self.test), f1=f1)


@dataclass(frozen=True)
class MRPCSpec:
    name: str = "MRPC"
    folder: str = "MRPC"
    family: str = "classification"

    def load(self, senteval: Path) -> LoadedMRPC:
        train_path = senteval / self.folder / "msr_paraphrase_train.txt"
        test_path = senteval / self.folder / "msr_paraphrase_test.txt"
        return LoadedMRPC(self.name, read_file(train_path, 4076, self.name),
                          read_file(test_path, 1725, self.name), (train_path, test_path))


SPECS: tuple[MRPCSpec, ...] = (MRPCSpec(),)
