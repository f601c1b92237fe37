"""What the transfer-task families share: labelled samples in SentEval's order, the
stratified training subset, the result record built from a validation scheme's scores, and
the train/test family (TREC, MRPC) whose tasks differ only in their files and samples."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, Protocol, Self, TypeVar

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.errors import EvaluationError
from hncse.evaluation.results import ClassificationResult
from hncse.evaluation.validation import Scores, kfold_then_test


@dataclass(frozen=True)
class Labelled:
    """Sentences (tokens joined by single spaces) and integer labels, in SentEval's order."""

    sentences: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Labelled:
        return Labelled([self.sentences[i] for i in indices], self.labels[indices])

    def texts(self) -> list[str]:
        return self.sentences

    def features(self, embed: Lookup) -> np.ndarray:
        return embed(self.sentences)


def senteval_order(tokens: Sequence[Sequence[str]], labels: Sequence[int]) -> list[int]:
    """The order SentEval encodes and cross-validates in: a stable sort by (token count,
    label) (``senteval/binary.py``, ``sst.py``, ``trec.py``); the folds depend on it."""
    return sorted(range(len(labels)), key=lambda i: (len(tokens[i]), labels[i]))


def labelled(tokens: Sequence[Sequence[str]], labels: Sequence[int]) -> Labelled:
    """Samples sorted as SentEval sorts them."""
    order = senteval_order(tokens, labels)
    return Labelled(
        [" ".join(tokens[i]) for i in order], np.asarray([labels[i] for i in order], dtype=np.int64)
    )


SUBSET_SEED = 1111  # SentEval's seed: every encoder gets the same subset
MIN_TRAIN_SAMPLES = 100  # fewer leaves some classes without samples in some folds


def stratified_subset(labels: np.ndarray, max_samples: int) -> np.ndarray:
    """Indices of at most ``max_samples`` samples with the class proportions kept
    (scikit-learn's stratified split, fixed seed), in their original order, so that a
    subset of a SentEval-ordered set is SentEval-ordered too. All indices when the set is
    no larger."""
    if max_samples < MIN_TRAIN_SAMPLES:
        raise EvaluationError(
            f"max_train_samples={max_samples}: at least {MIN_TRAIN_SAMPLES} are needed"
        )
    everything = np.arange(len(labels))
    if max_samples >= len(labels):
        return everything
    chosen, _ = train_test_split(
        everything, train_size=max_samples, stratify=labels, random_state=SUBSET_SEED
    )
    return np.sort(chosen)


def timed_result(
    run: Callable[[], Scores], n: int, ntest: int, f1: Callable[[Scores], float] | None = None
) -> TaskOutcome:
    """Run a validation scheme and wrap its scores in a :class:`ClassificationResult`."""
    start = time.perf_counter()
    scores = run()
    result = ClassificationResult(
        acc=scores.acc,
        devacc=scores.devacc,
        f1=f1(scores) if f1 else None,
        n=n,
        ntest=ntest,
        l2=scores.l2,
        seconds=time.perf_counter() - start,
    )
    return TaskOutcome(result)


class Samples(Protocol):
    """Labelled samples of the train/test family: sentences (TREC) or pairs (MRPC)."""

    labels: np.ndarray

    def __len__(self) -> int: ...

    def take(self, indices: np.ndarray) -> Self: ...

    def texts(self) -> list[str]: ...

    def features(self, embed: Lookup) -> np.ndarray: ...


S = TypeVar("S", bound=Samples)


@dataclass(frozen=True)
class LoadedTrainTest(Generic[S]):
    name: str
    train: S
    test: S
    files: tuple[Path, ...]
    nclasses: int
    with_f1: bool

    def sentences(self) -> list[str]:
        return self.train.texts() + self.test.texts()

    def limit_training(self, max_samples: int) -> LoadedTrainTest[S]:
        return replace(
            self, train=self.train.take(stratified_subset(self.train.labels, max_samples))
        )

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        train = (self.train.features(embed), self.train.labels)
        test = (self.test.features(embed), self.test.labels)

        def f1(scores: Scores) -> float:  # of class 1, ×100, 2 decimals, as SentEval
            return round(100 * float(f1_score(self.test.labels, scores.predictions)), 2)

        return timed_result(
            lambda: kfold_then_test(
                train, test, self.nclasses, context.classifier, context.device, context.fitter
            ),
            n=len(self.train),
            ntest=len(self.test),
            f1=f1 if self.with_f1 else None,
        )


@dataclass(frozen=True)
class TrainTestSpec(Generic[S]):
    """SentEval's ``KFoldClassifier`` tasks: k-fold on the train file chooses the penalty,
    the refit on all of it is scored on the test file. Files as (name, expected count)."""

    name: str
    train_file: tuple[str, int]
    test_file: tuple[str, int]
    read: Callable[[Path, int, str], S]
    nclasses: int
    with_f1: bool = False
    family: str = "classification"

    def load(self, senteval: Path) -> LoadedTrainTest[S]:
        paths = tuple(senteval / self.name / file for file, _ in (self.train_file, self.test_file))
        train, test = (
            self.read(path, count, self.name)
            for path, (_, count) in zip(paths, (self.train_file, self.test_file), strict=True)
        )
        return LoadedTrainTest(self.name, train, test, paths, self.nclasses, self.with_f1)
