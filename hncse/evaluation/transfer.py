"""What the transfer-task families share: labelled samples in SentEval's order and the
result record built from a validation scheme's scores."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hncse.evaluation.base import TaskOutcome
from hncse.evaluation.results import ClassificationResult
from hncse.evaluation.validation import Scores


@dataclass(frozen=True)
class Labelled:
    """Sentences (tokens joined by single spaces) and integer labels, in SentEval's order."""

    sentences: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def senteval_order(tokens: Sequence[Sequence[str]], labels: Sequence[int]) -> list[int]:
    """The order SentEval encodes and cross-validates in: a stable sort by (token count,
    label) (``senteval/binary.py``, ``sst.py``, ``trec.py``); the folds depend on it."""
    return sorted(range(len(labels)), key=lambda i: (len(tokens[i]), labels[i]))


def labelled(tokens: Sequence[Sequence[str]], labels: Sequence[int]) -> Labelled:
    """Samples sorted as SentEval sorts them."""
    order = senteval_order(tokens, labels)
    return Labelled([" ".join(tokens[i]) for i in order],
                    np.asarray([labels[i] for i in order], dtype=np.int64))


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
