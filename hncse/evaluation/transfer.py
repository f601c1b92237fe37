"""What the transfer-task families share: labelled samples in SentEval's order and the
result record built from a validation scheme's scores."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from hncse.evaluation.base import TaskOutcome
from hncse.evaluation.errors import EvaluationError
from hncse.evaluation.results import ClassificationResult
from hncse.evaluation.validation import Scores


@dataclass(frozen=True)
class Labelled:
    """Sentences (tokens joined by single spaces) and integer labels, in SentEval's order."""

    sentences: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Labelled:
        return Labelled([self.sentences[i] for i in indices], self.labels[indices])


def senteval_order(tokens: Sequence[Sequence[str]], labels: Sequence[int]) -> list[int]:
    """The order SentEval encodes and cross-validates in: a stable sort by (token count,
    label) (``senteval/binary.py``, ``sst.py``, ``trec.py``); the folds depend on it."""
    return sorted(range(len(labels)), key=lambda i: (len(tokens[i]), labels[i]))


def labelled(tokens: Sequence[Sequence[str]], labels: Sequence[int]) -> Labelled:
    """Samples sorted as SentEval sorts them."""
    order = senteval_order(tokens, labels)
    return Labelled([" ".join(tokens[i]) for i in order],
                    np.asarray([labels[i] for i in order], dtype=np.int64))


SUBSET_SEED = 1111  # SentEval's seed: every encoder gets the same subset
MIN_TRAIN_SAMPLES = 100  # fewer leaves some classes without samples in some folds


def stratified_subset(labels: np.ndarray, max_samples: int) -> np.ndarray:
    """Indices of at most ``max_samples`` samples with the class proportions kept
    (scikit-learn's stratified split, fixed seed), in their original order, so that a
    subset of a SentEval-ordered set is SentEval-ordered too. All indices when the set is
    no larger."""
    if max_samples < MIN_TRAIN_SAMPLES:
        raise EvaluationError(f"max_train_samples={max_samples}: at least "
                              f"{MIN_TRAIN_SAMPLES} are needed")
    everything = np.arange(len(labels))
    if max_samples >= len(labels):
        return everything
    chosen, _ = train_test_split(everything, train_size=max_samples, stratify=labels,
                                 random_state=SUBSET_SEED)
    return np.sort(chosen)


def timed_result(
    run: Callable[[], Scores], n: int, ntest: int, f1: Callable[[Scores], float] | None = None
) -> TaskOutcome:
    """Run a validation scheme and wrap its scores in a :class:`ClassificationResult`."""
    start = time.perf_counter()
    scores = run()
    result = ClassificationResult(
        acc=scores.acc, devacc=scores.devacc, f1=f1(scores) if f1 else None, n=n, ntest=ntest,
        l2=scores.l2, seconds=time.perf_counter() - start,
    )
    return TaskOutcome(result)
