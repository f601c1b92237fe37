"""SentEval's three validation schemes (``senteval/tools/validation.py``), on any fitter.

- :func:`nested_cv` (MR, CR, SUBJ, MPQA; SentEval's ``InnerKFoldClassifier``): outer
  stratified k-fold; in each outer training part an inner k-fold scores every L2 penalty
  (mean inner accuracy, rounded to 2 decimals in percent), the best penalty is refitted on
  the whole outer training part (5% held out for early stopping) and scored on the outer
  test part (rounded). ``devacc`` = mean of the best inner scores, ``acc`` = mean of the
  outer accuracies, both rounded.
- :func:`kfold_then_test` (TREC, MRPC; ``KFoldClassifier``): k-fold on train scores the
  penalties, the best is refitted on all of train (5% held out) and scored on test.
- :func:`split_then_test` (SST2; ``SplitClassifier``): each penalty fitted on train with
  the dev set, the best scored on test. SentEval refits the chosen penalty identically (same
  seed, same data); the fit from the search is reused.

Folds: ``StratifiedKFold(n_splits=kfold, shuffle=True, random_state=seed)`` over the samples
in SentEval's sorted order. Rounding is Python's ``round`` where SentEval rounds Python
floats and NumPy's where it rounds NumPy scalars, as in SentEval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold

from hncse.evaluation.classifier import (
    ClassifierSettings,
    FitGroup,
    Fitter,
    fit_groups,
    predict,
)


@dataclass(frozen=True)
class Scores:
    """Test accuracy ``acc`` and model-selection score ``devacc`` (percent), chosen penalties,
    and the test predictions where there is one test set."""

    acc: float
    devacc: float
    l2: list[float]
    predictions: np.ndarray | None = None


def _tensors(
    features: np.ndarray, labels: np.ndarray, device: str
) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.as_tensor(np.ascontiguousarray(features), dtype=torch.float32, device=device),
        torch.as_tensor(labels, dtype=torch.long, device=device),
    )


def stratified_folds(
    labels: np.ndarray, settings: ClassifierSettings
) -> list[tuple[np.ndarray, np.ndarray]]:
    """SentEval's folds: ``StratifiedKFold(kfold, shuffle=True, random_state=seed)``."""
    splitter = StratifiedKFold(n_splits=settings.kfold, shuffle=True, random_state=settings.seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def _accuracy(
    weight: torch.Tensor, features: torch.Tensor, labels: np.ndarray, rows: np.ndarray
) -> float:
    """SentEval's ``score``: correct / n as a Python float."""
    return int((predict(weight, features, rows) == labels[rows]).sum()) / len(rows)


def nested_cv(
    features: np.ndarray,
    labels: np.ndarray,
    nclasses: int,
    settings: ClassifierSettings,
    device: str = "cpu",
    fitter: Fitter = fit_groups,
    outer_folds: Sequence[int] | None = None,
) -> Scores:
    """SentEval's ``InnerKFoldClassifier`` (kfold × penalties × kfold + kfold fits);
    ``outer_folds`` restricts it to some outer folds (partial parity checks)."""
    x, y = _tensors(features, labels, device)
    grid = settings.l2_grid
    outer = stratified_folds(labels, settings)
    if outer_folds is not None:
        outer = [outer[i] for i in outer_folds]
    inner_groups = [
        FitGroup(train[inner_train], train[inner_dev], grid)
        for train, _ in outer
        for inner_train, inner_dev in stratified_folds(labels[train], settings)
    ]
    inner = fitter(x, y, nclasses, inner_groups, settings)
    accuracy = inner.dev_accuracy.reshape(len(outer), -1, len(grid))
    per_penalty = [
        [round(100 * np.mean(fold[:, r]), 2) for r in range(len(grid))] for fold in accuracy
    ]
    chosen = [int(np.argmax(scores)) for scores in per_penalty]
    final_groups = [
        FitGroup(train, None, (grid[c],)) for (train, _), c in zip(outer, chosen, strict=True)
    ]
    final = fitter(x, y, nclasses, final_groups, settings)
    test = [
        round(100 * _accuracy(final.weights[i, 0], x, labels, test_rows), 2)
        for i, (_, test_rows) in enumerate(outer)
    ]
    devacc = round(np.mean([np.max(scores) for scores in per_penalty]), 2)
    return Scores(
        acc=float(round(np.mean(test), 2)), devacc=float(devacc), l2=[grid[c] for c in chosen]
    )


def kfold_then_test(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    nclasses: int,
    settings: ClassifierSettings,
    device: str = "cpu",
    fitter: Fitter = fit_groups,
) -> Scores:
    """SentEval's ``KFoldClassifier`` (penalties × kfold + 1 fits); ``train``/``test`` are
    (features, labels)."""
    n_train = len(train[1])
    labels = np.concatenate([train[1], test[1]])
    x, y = _tensors(np.concatenate([train[0], test[0]]), labels, device)
    grid = settings.l2_grid
    folds = stratified_folds(train[1], settings)
    search = fitter(x, y, nclasses, [FitGroup(tr, dev, grid) for tr, dev in folds], settings)
    per_penalty = [round(100 * np.mean(search.dev_accuracy[:, r]), 2) for r in range(len(grid))]
    chosen = int(np.argmax(per_penalty))
    final = fitter(x, y, nclasses, [FitGroup(np.arange(n_train), None, (grid[chosen],))], settings)
    test_rows = np.arange(n_train, len(labels))
    predictions = predict(final.weights[0, 0], x, test_rows)
    acc = round(100 * (int((predictions == test[1]).sum()) / len(test_rows)), 2)
    return Scores(
        acc=acc, devacc=float(np.max(per_penalty)), l2=[grid[chosen]], predictions=predictions
    )


def split_then_test(
    train: tuple[np.ndarray, np.ndarray],
    dev: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    nclasses: int,
    settings: ClassifierSettings,
    device: str = "cpu",
    fitter: Fitter = fit_groups,
) -> Scores:
    """SentEval's ``SplitClassifier`` (one fit per penalty, scored on dev, best on test)."""
    sizes = np.cumsum([0, len(train[1]), len(dev[1]), len(test[1])])
    labels = np.concatenate([train[1], dev[1], test[1]])
    x, y = _tensors(np.concatenate([train[0], dev[0], test[0]]), labels, device)
    grid = settings.l2_grid
    group = FitGroup(np.arange(sizes[0], sizes[1]), np.arange(sizes[1], sizes[2]), grid)
    search = fitter(x, y, nclasses, [group], settings)
    per_penalty = [round(100 * float(acc), 2) for acc in search.dev_accuracy[0]]
    chosen = int(np.argmax(per_penalty))
    test_rows = np.arange(sizes[2], sizes[3])
    predictions = predict(search.weights[0, chosen], x, test_rows)
    acc = round(100 * (int((predictions == test[1]).sum()) / len(test_rows)), 2)
    return Scores(
        acc=acc, devacc=float(np.max(per_penalty)), l2=[grid[chosen]], predictions=predictions
    )
