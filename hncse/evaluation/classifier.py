"""SentEval's logistic-regression classifier, many models trained together as one.

SentEval (``senteval/tools/classifier.py``, ``MLP`` with ``nhid=0``) fits each model alone:
``nn.Linear(d, C)`` initialised after ``torch.manual_seed(seed)``, ``np.random.seed(seed)``,
mean cross-entropy, Adam or RMSprop with the L2 penalty as ``weight_decay`` (on weight and
bias), ``epoch_size`` passes over the training set between dev evaluations, each pass in the
order of a fresh ``np.random.permutation``; the best-dev copy of the weights is kept; the
early-stopping counter is never reset, so a fit ends at the ``tenacity + 1``-th
non-improving evaluation, or once the epoch counter passes ``max_epoch``. With
``validation_split`` instead of a dev set, a first permutation holds out that fraction.

Every fit restarts both random streams from the seed, so models on training sets of the
same size see the same permutations, and models that share a training set (the L2 grid)
see the same minibatches. :func:`fit_groups` therefore trains a :class:`FitGroup` (one
training set, several penalties) on one gathered minibatch, and all groups side by side:
weights are stacked ``(groups, penalties × classes, d + 1)`` (bias as a last column), the
forward pass and gradient are two batched matmuls, and the optimiser is Adam / RMSprop
written out elementwise (PyTorch's formulas) with per-group step counts, so a group whose
pass has fewer minibatches than another's is left untouched. Each model keeps its own
random stream, early-stopping counter and best copy: results equal a one-at-a-time loop
(:mod:`hncse.evaluation.reference`) up to float rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

Optimizer = Literal["adam", "rmsprop"]
ADAM = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}  # torch.optim.Adam defaults
RMSPROP = {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}  # torch.optim.RMSprop defaults


@dataclass(frozen=True)
class ClassifierSettings:
    """SimCSE's SentEval settings (``evaluation.py``): see :data:`MODES`."""

    kfold: int
    optimizer: Optimizer
    batch_size: int
    tenacity: int
    epoch_size: int
    max_epoch: int = 200
    seed: int = 1111
    l2_grid: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    validation_split: float = 0.05

    def as_dict(self) -> dict[str, float | int | str | list[float]]:
        values = asdict(self)
        values["l2_grid"] = list(self.l2_grid)
        return values


MODES: dict[str, ClassifierSettings] = {
    "test": ClassifierSettings(kfold=10, optimizer="adam", batch_size=64, tenacity=5, epoch_size=4),
    "fasttest": ClassifierSettings(
        kfold=5, optimizer="rmsprop", batch_size=128, tenacity=3, epoch_size=2
    ),
}


@dataclass(frozen=True)
class FitGroup:
    """Models sharing one training set (row ids into the features, in SentEval's order) and
    one dev set (row ids, or None: hold out ``validation_split`` of ``train`` as SentEval
    does), one model per L2 penalty."""

    train: np.ndarray
    dev: np.ndarray | None
    l2: tuple[float, ...]


@dataclass(frozen=True)
class FitResult:
    """Best-dev weights ``(groups, penalties, classes, d + 1)`` (bias last), their dev
    accuracy (a fraction) and the epoch counter at which each fit stopped."""

    weights: Tensor
    dev_accuracy: np.ndarray
    epochs: np.ndarray


Fitter = Callable[[Tensor, Tensor, int, Sequence[FitGroup], ClassifierSettings], FitResult]


def initial_weights(dim: int, nclasses: int, seed: int) -> Tensor:
    """``nn.Linear(dim, nclasses)`` as created right after ``torch.manual_seed(seed)``, as
    ``(classes, dim + 1)``; the global CPU random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        layer = nn.Linear(dim, nclasses)
    return torch.cat([layer.weight, layer.bias[:, None]], dim=1).detach()


def split_validation(
    train: np.ndarray, fraction: float, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """SentEval's ``validation_split``: the first ``int(fraction·n)`` of a permutation are
    the dev set, the rest (in permuted order) the training set."""
    permutation = rng.permutation(len(train))
    cut = int(fraction * len(train))
    return train[permutation[cut:]], train[permutation[:cut]]


def predict(weight: Tensor, features: Tensor, rows: np.ndarray) -> np.ndarray:
    """Class predictions of one model ``(classes, d + 1)`` on ``features[rows]``."""
    chosen = features[torch.as_tensor(rows, device=features.device)]
    logits = chosen @ weight[:, :-1].T + weight[:, -1]
    return logits.argmax(dim=1).cpu().numpy()


@dataclass
class _Plan:
    """One group's training rows, dev rows and random stream, prepared as SentEval does."""

    train: np.ndarray
    dev: np.ndarray
    rng: np.random.RandomState


def _plan(group: FitGroup, settings: ClassifierSettings, rows: int) -> _Plan:
    rng = np.random.RandomState(settings.seed)
    train, dev = np.asarray(group.train), group.dev
    for part in (train, dev):
        if part is not None and len(part) and not 0 <= part.min() <= part.max() < rows:
            raise ValueError(f"row ids must be in [0, {rows}); got {part.min()}..{part.max()}")
    if dev is None:
        train, dev = split_validation(train, settings.validation_split, rng)
    if len(train) == 0 or len(dev) == 0:
        raise ValueError(f"a fit needs training and dev rows, got {len(train)} and {len(dev)}")
    return _Plan(train, np.asarray(dev), rng)


class _StackedOptimizer:
    """Adam or RMSprop (PyTorch's update formulas, L2 as ``weight_decay``) on stacked weights
    ``(groups, penalties × classes, d + 1)``, with a step count per group.

    Adam: g ← ∇ + λw; m ← β₁m + (1-β₁)g; v ← β₂v + (1-β₂)g²;
          w ← w - lr/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε).
    RMSprop: g ← ∇ + λw; v ← αv + (1-α)g²; w ← w - lr · g / (√v + ε).
    """

    def __init__(self, kind: Optimizer, weights: Tensor, decay: Tensor) -> None:
        self.kind = kind
        self.decay = decay  # (groups, penalties × classes, 1)
        self.square = torch.zeros_like(weights)
        self.momentum = torch.zeros_like(weights) if kind == "adam" else None
        self.steps = torch.zeros(weights.shape[0], 1, 1, dtype=torch.float64, device=weights.device)

    def keep(self, index: Tensor) -> None:
        """Drop finished groups' state (``index``: the groups that go on)."""
        self.decay, self.square, self.steps = (
            self.decay[index],
            self.square[index],
            self.steps[index],
        )
        if self.momentum is not None:
            self.momentum = self.momentum[index]

    def step(self, weights: Tensor, grad: Tensor, groups: Tensor | None) -> None:
        """Update ``weights`` in place; ``groups`` limits the update to those groups."""
        if groups is None:
            self._update(weights, grad, self.decay, self.square, self.momentum, self.steps)
            return
        parts = [weights[groups], self.square[groups], self.steps[groups]]
        momentum = self.momentum[groups] if self.momentum is not None else None
        self._update(parts[0], grad[groups], self.decay[groups], parts[1], momentum, parts[2])
        weights[groups], self.square[groups], self.steps[groups] = parts
        if self.momentum is not None:
            self.momentum[groups] = momentum

    def _update(
        self,
        w: Tensor,
        grad: Tensor,
        decay: Tensor,
        square: Tensor,
        momentum: Tensor | None,
        steps: Tensor,
    ) -> None:
        grad = grad.add_(decay * w)
        steps += 1
        if momentum is None:
            square.mul_(RMSPROP["alpha"]).addcmul_(grad, grad, value=1 - RMSPROP["alpha"])
            w.addcdiv_(grad, square.sqrt().add_(RMSPROP["eps"]), value=-RMSPROP["lr"])
            return
        beta1, beta2 = ADAM["beta1"], ADAM["beta2"]
        momentum.lerp_(grad, 1 - beta1)
        square.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = (ADAM["lr"] / (1 - beta1**steps)).to(w.dtype)
        correction = torch.sqrt(1 - beta2**steps).to(w.dtype)
        w.sub_(step_size * momentum / (square.sqrt() / correction + ADAM["eps"]))


def _pass_rows(
    plans: Sequence[_Plan], batch_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One pass for each group: minibatch rows (padded with row 0), per-row loss weights
    (1 / that minibatch's size; 0 for padding) and the number of minibatches per group."""
    sizes = np.array([len(plan.train) for plan in plans])
    steps = -(-sizes // batch_size)
    width = int(steps.max()) * batch_size
    rows = np.zeros((len(plans), width), dtype=np.int64)
    scale = np.zeros((len(plans), width), dtype=np.float32)
    position = np.arange(width)
    for i, plan in enumerate(plans):
        size = sizes[i]
        rows[i, :size] = plan.train[plan.rng.permutation(size)]
        batch_len = np.minimum(batch_size, size - (position[:size] // batch_size) * batch_size)
        scale[i, :size] = 1.0 / batch_len
    return rows, scale, steps


def _dev_correct(
    weights: Tensor,
    features: Tensor,
    labels: Tensor,
    plans: Sequence[_Plan],
    penalties: int,
    nclasses: int,
) -> Tensor:
    """Correct dev predictions ``(groups, penalties)`` of the stacked models."""
    counts = torch.zeros(len(plans), penalties, dtype=torch.long)
    for g, plan in enumerate(plans):
        rows = torch.as_tensor(plan.dev, device=features.device)
        logits = features[rows] @ weights[g].T  # (n, penalties × classes)
        predicted = logits.view(len(rows), penalties, nclasses).argmax(dim=2)
        counts[g] = (predicted == labels[rows, None]).sum(dim=0).cpu()
    return counts


class _Trainer:
    """The stacked models of :func:`fit_groups` and their early-stopping state."""

    def __init__(
        self,
        features: Tensor,
        labels: Tensor,
        nclasses: int,
        groups: Sequence[FitGroup],
        settings: ClassifierSettings,
    ) -> None:
        penalties = {len(group.l2) for group in groups}
        if len(penalties) != 1:
            raise ValueError("all groups of one fit_groups call need the same number of penalties")
        self.settings, self.nclasses, self.penalties = settings, nclasses, penalties.pop()
        device = features.device
        self.features = torch.cat([features.float(), features.new_ones(len(features), 1)], 1)
        self.labels = labels.to(device)
        self.plans = [_plan(group, settings, len(features)) for group in groups]
        start = initial_weights(features.shape[1], nclasses, settings.seed).to(device)
        self.weights = start.repeat(len(groups), self.penalties, 1)  # (G, R·C, D)
        decay = torch.tensor([group.l2 for group in groups], device=device)
        self.optimizer = _StackedOptimizer(
            settings.optimizer, self.weights, decay.repeat_interleave(nclasses, dim=1)[:, :, None]
        )
        shape = (len(groups), self.penalties)
        self.best = self.weights.view(len(groups), *shape[1:], nclasses, -1).clone()
        self.best_correct = torch.full(shape, -1, dtype=torch.long)
        self.misses = torch.zeros(shape, dtype=torch.long)
        self.done = torch.zeros(shape, dtype=torch.bool)
        self.epochs = torch.zeros(shape, dtype=torch.long)
        self.alive = torch.arange(len(groups))
        self.buffer = torch.empty(
            len(groups) * settings.batch_size, self.features.shape[1], device=device
        )

    def train_pass(self) -> None:
        plans = [self.plans[g] for g in self.alive.tolist()]
        rows, scale, steps = _pass_rows(plans, self.settings.batch_size)
        device = self.features.device
        rows_t = torch.from_numpy(rows).to(device)
        scale_t = torch.from_numpy(scale).to(device)
        targets = self.labels[rows_t]
        size = self.settings.batch_size
        for s in range(int(steps.max())):
            window = slice(s * size, (s + 1) * size)
            grad = self._gradient(rows_t[:, window], targets[:, window], scale_t[:, window])
            # a group whose pass is shorter sits this minibatch out (no decay, no moments)
            short = steps <= s
            groups = torch.from_numpy(np.flatnonzero(~short)).to(device) if short.any() else None
            self.optimizer.step(self.weights, grad, groups)

    def _gradient(self, rows: Tensor, targets: Tensor, scale: Tensor) -> Tensor:
        """∂/∂W of each model's mean cross-entropy on its minibatch: (softmax − onehot)ᵀ x / b."""
        count, size = rows.shape
        batch = torch.index_select(
            self.features, 0, rows.reshape(-1), out=self.buffer[: count * size]
        )
        batch = batch.view(count, size, -1)
        logits = torch.bmm(self.weights, batch.transpose(1, 2))  # (G, R·C, b)
        probs = logits.view(count, self.penalties, self.nclasses, size).softmax(dim=2)
        index = targets.view(count, 1, 1, size).expand(count, self.penalties, 1, size)
        probs.scatter_add_(2, index, torch.full_like(index, -1.0, dtype=probs.dtype))
        probs.mul_(scale.view(count, 1, 1, size))
        return torch.bmm(probs.view(count, -1, size), batch)

    def evaluate(self, epoch: int) -> None:
        """SentEval's dev check after ``epoch_size`` passes, for every model still running."""
        plans = [self.plans[g] for g in self.alive.tolist()]
        correct = _dev_correct(
            self.weights, self.features, self.labels, plans, self.penalties, self.nclasses
        )
        alive, running = self.alive, ~self.done[self.alive]
        improved = running & (correct > self.best_correct[alive])
        stalled = running & ~improved
        device = self.weights.device
        current = self.weights.view(len(alive), self.penalties, self.nclasses, -1)
        self.best[alive.to(device)] = torch.where(
            improved.to(device)[:, :, None, None], current, self.best[alive.to(device)]
        )
        self.best_correct[alive] = torch.where(improved, correct, self.best_correct[alive])
        self.done[alive] |= stalled & (self.misses[alive] >= self.settings.tenacity)
        self.misses[alive] += stalled.long()
        self.epochs[alive] = torch.where(running, epoch, self.epochs[alive])
        going = ~self.done[alive].all(dim=1)
        if not bool(going.all()):
            keep = torch.nonzero(going).squeeze(1)
            self.alive = alive[keep]
            self.weights = self.weights[keep.to(self.weights.device)]
            self.optimizer.keep(keep.to(self.weights.device))

    def result(self) -> FitResult:
        dev_sizes = np.array([len(plan.dev) for plan in self.plans], dtype=np.float64)
        accuracy = self.best_correct.numpy() / dev_sizes[:, None]
        return FitResult(self.best, accuracy, self.epochs.numpy())


@contextmanager
def single_cpu_thread(device: torch.device) -> Iterator[None]:
    """One intra-op thread on CPU: the classifier's ops are small (milliseconds), so more
    threads gain little on an idle machine, and on a busy one every op waits for a
    descheduled thread (measured here on 2 shared cores: MRPC fasttest 0.15 s vs 7.8 s)."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_groups(
    features: Tensor,
    labels: Tensor,
    nclasses: int,
    groups: Sequence[FitGroup],
    settings: ClassifierSettings,
) -> FitResult:
    """Fit every (group, penalty) model with SentEval's protocol, all together."""
    with single_cpu_thread(features.device):
        trainer = _Trainer(features, labels, nclasses, groups, settings)
        epoch = 0
        while len(trainer.alive) and epoch <= settings.max_epoch:
            for _ in range(settings.epoch_size):
                trainer.train_pass()
            epoch += settings.epoch_size
            trainer.evaluate(epoch)
        return trainer.result()
