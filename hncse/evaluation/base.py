"""What every task family provides (MTEB's pattern: declarative task metadata, an
evaluator shared by the family, a typed result record).

A task spec (frozen dataclass in its family's module) knows its files and expected counts;
``spec.load(senteval_dir)`` reads and validates them into a loaded task, which lists the
sentences it needs encoded and evaluates from an embedding lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from hncse.evaluation.classifier import ClassifierSettings, Fitter, fit_groups
from hncse.evaluation.results import TaskResult

Lookup = Callable[[Sequence[str]], np.ndarray]
"""Embeddings of already-encoded sentences, one row per sentence, in the given order."""


@dataclass(frozen=True)
class EvalContext:
    """How transfer tasks train their classifiers: the ``mode``'s settings, the device, and
    the fitter (the batched one; the one-at-a-time reference for parity checks)."""

    classifier: ClassifierSettings
    device: str = "cpu"
    fitter: Fitter = fit_groups


@dataclass(frozen=True)
class TaskOutcome:
    """A task's result record and its per-pair cosine scores (STS families only)."""

    result: TaskResult
    pairs: pd.DataFrame | None = None


class LoadedTask(Protocol):
    name: str
    files: tuple[Path, ...]

    def sentences(self) -> list[str]: ...

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome: ...


@runtime_checkable
class LimitableTask(Protocol):
    """A transfer task whose training data ``max_train_samples`` can cut down (a stratified
    subset, the same for every encoder); its test data stay whole."""

    def limit_training(self, max_samples: int) -> LoadedTask: ...


@runtime_checkable
class SplitTask(Protocol):
    """A task with splits besides the one its headline is computed on (STS-B, SICK-R)."""

    def headline_only(self) -> LoadedTask: ...


class TaskSpec(Protocol):
    name: str
    family: str

    def load(self, senteval: Path) -> LoadedTask: ...
