"""What an objective sees and returns; torch is needed only to call one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch
    from torch import Tensor


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
    generator: torch.Generator


@dataclass
class ObjectiveOutput:
    loss: Tensor
    stats: dict[str, float] = field(default_factory=dict)


class Objective(Protocol):
    def __call__(self, inputs: ObjectiveInputs) -> ObjectiveOutput: ...
