"""The parity reference: SentEval's classifier loop, one model at a time.

A straightforward re-statement of ``senteval/tools/classifier.py`` (``MLP``, ``nhid=0``)
with ``torch.nn.Linear`` and ``torch.optim``: each fit reseeds NumPy's and PyTorch's
streams, permutes the training set with NumPy every pass, steps the optimiser per minibatch
and scores the dev set after ``epoch_size`` passes. :func:`fit_groups` has the signature of
:func:`hncse.evaluation.classifier.fit_groups`, so the validation schemes run on either;
tests and ``benchmarks/bench_evaluation.py`` compare the two.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from hncse.evaluation.classifier import (
    ADAM,
    RMSPROP,
    ClassifierSettings,
    FitGroup,
    FitResult,
    initial_weights,
    split_validation,
)


def _accuracy(model: nn.Module, features: Tensor, labels: Tensor, batch_size: int) -> float:
    """SentEval's ``score``: batched argmax, correct / n as a Python float."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            output = model(features[start : start + batch_size])
            correct += int((output.argmax(dim=1) == labels[start : start + batch_size]).sum())
    return correct / len(features)


def _optimizer(model: nn.Module, settings: ClassifierSettings, l2: float) -> torch.optim.Optimizer:
    if settings.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=ADAM["lr"], weight_decay=l2)
    return torch.optim.RMSprop(model.parameters(), lr=RMSPROP["lr"], weight_decay=l2)


def fit_one(
    features: Tensor,
    labels: Tensor,
    nclasses: int,
    train: np.ndarray,
    dev: np.ndarray | None,
    l2: float,
    settings: ClassifierSettings,
) -> tuple[Tensor, float, int]:
    """One SentEval fit: best-dev weights ``(classes, d + 1)``, their dev accuracy, epochs."""
    rng = np.random.RandomState(settings.seed)  # = np.random.seed(seed); np.random.permutation
    if dev is None:
        train, dev = split_validation(np.asarray(train), settings.validation_split, rng)
    device = features.device
    start = initial_weights(features.shape[1], nclasses, settings.seed)
    model = nn.Linear(features.shape[1], nclasses).to(device)
    with torch.no_grad():
        model.weight.copy_(start[:, :-1])
        model.bias.copy_(start[:, -1])
    optimizer = _optimizer(model, settings, l2)
    loss_fn = nn.CrossEntropyLoss()
    train_x, train_y = features[torch.as_tensor(train)], labels[torch.as_tensor(train)]
    dev_x, dev_y = features[torch.as_tensor(dev)], labels[torch.as_tensor(dev)]
    epoch, best, misses, stop = 0, -1.0, 0, False
    best_model = copy.deepcopy(model)
    while not stop and epoch <= settings.max_epoch:
        model.train()
        for _ in range(settings.epoch_size):
            permutation = torch.as_tensor(rng.permutation(len(train_x)), device=device)
            for begin in range(0, len(train_x), settings.batch_size):
                index = permutation[begin : begin + settings.batch_size]
                loss = loss_fn(model(train_x[index]), train_y[index])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        epoch += settings.epoch_size
        accuracy = _accuracy(model, dev_x, dev_y, settings.batch_size)
        if accuracy > best:
            best, best_model = accuracy, copy.deepcopy(model)
        else:  # SentEval never resets this counter
            stop = misses >= settings.tenacity
            misses += 1
    weight = torch.cat([best_model.weight, best_model.bias[:, None]], dim=1).detach()
    return weight, best, epoch


def fit_groups(
    features: Tensor,
    labels: Tensor,
    nclasses: int,
    groups: Sequence[FitGroup],
    settings: ClassifierSettings,
) -> FitResult:
    """Every (group, penalty) model fitted alone, in turn."""
    fits = [
        [
            fit_one(features, labels, nclasses, group.train, group.dev, l2, settings)
            for l2 in group.l2
        ]
        for group in groups
    ]
    return FitResult(
        weights=torch.stack([torch.stack([w for w, _, _ in row]) for row in fits]),
        dev_accuracy=np.array([[acc for _, acc, _ in row] for row in fits]),
        epochs=np.array([[epoch for _, _, epoch in row] for row in fits]),
    )
