"""Training objectives, looked up by name.

An objective maps :class:`ObjectiveInputs` (the two dropout views of a batch, the negative
bank, the config) to :class:`ObjectiveOutput` (the loss and its mechanism statistics). The
trainer only calls ``get_objective(config.method)``; a baseline adds a method by decorating
its function with ``@register_objective("name")`` in a module imported below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:
    from hncse.config import TrainConfig


@dataclass
class ObjectiveInputs:
    """What an objective sees for one step (global batch under data parallelism).

    ``h`` and ``h_pos`` are the pooled, unnormalised embeddings of the two dropout passes,
    shape (N, d); the local rows carry gradient. ``bank`` holds the detached, normalised
    positives of previous batches, shape (K, d), or ``None`` while empty. ``generator``
    drives every random choice so that all workers draw the same numbers.
    """

    h: Tensor
    h_pos: Tensor
    bank: Tensor | None
    config: TrainConfig
    generator: torch.Generator


@dataclass
class ObjectiveOutput:
    loss: Tensor
    stats: dict[str, float] = field(default_factory=dict)


Objective = Callable[[ObjectiveInputs], ObjectiveOutput]
_REGISTRY: dict[str, Objective] = {}


def register_objective(name: str) -> Callable[[Objective], Objective]:
    def decorator(function: Objective) -> Objective:
        if name in _REGISTRY:
            raise ValueError(f"objective {name!r} is already registered")
        _REGISTRY[name] = function
        return function

    return decorator


def get_objective(name: str) -> Objective:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; choose one of {', '.join(available_objectives())}"
        ) from None


def available_objectives() -> list[str]:
    return sorted(_REGISTRY)


# Importing the modules registers their objectives.
from hncse.objectives import hncse as _hncse  # noqa: E402, F401
from hncse.objectives import mixcse as _mixcse  # noqa: E402, F401
