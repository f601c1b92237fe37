"""The method interface: what a training method declares (docs/methods.md, "Add your method").

A method is a :class:`Method` subclass with a ``name``, an ``Options`` pydantic model and a
``loss``; it may override how the two views of a batch are made (:meth:`Method.views`),
keep state across steps (:meth:`Method.setup`, :meth:`Method.after_step`,
:meth:`Method.state_dict`) and state its published number (``published``). The trainer calls
only these, so a method lives in one file, in the package or outside it
(hncse.objectives.registry names it from a config).

No torch at the top: TrainConfig validates a method's options, and the workflow plans runs,
without it. A method's own module may import torch inside its functions to stay as light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from hncse.model import SentenceEncoder
    from hncse.objectives.base import ObjectiveInputs, ObjectiveOutput

# A tokenised batch: input_ids, attention_mask (and token_type_ids), each (n, length).
TokenBatch = dict[str, "Tensor"]


class MethodOptions(BaseModel):
    """A method's options. A field named like a training key (``temperature``,
    ``batch_size``, ``k``, ...) receives that key's value; any other field is a new key of
    this method, set like any training key (config, ``--set``, a study's settings) and
    validated with the config, before any model loads."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Published:
    """A method's published STS avg (SentEval, unsupervised), shown beside ours."""

    backbone: str
    sts_avg: float
    source: str


@dataclass
class StepResult:
    """What a method sees after each optimiser step. ``anchor`` and ``positive``: this
    worker's two views (on the device); ``h_pos``: the gathered positives' embeddings;
    ``gather``: concatenates a per-worker tensor across workers (identity when alone)."""

    encoder: SentenceEncoder
    anchor: TokenBatch
    positive: TokenBatch
    h_pos: Tensor
    gather: Callable[[Tensor], Tensor]


class Method:
    """Base class of every training method; the defaults are SimCSE's: the same
    sentences twice (dropout as the only difference) and no state."""

    name: ClassVar[str]
    Options: ClassVar[type[MethodOptions]] = MethodOptions
    published: ClassVar[Published | None] = None

    def __init__(self, options: MethodOptions) -> None:
        self.options = options

    def setup(self, encoder: SentenceEncoder) -> None:
        """Called once the encoder is on its device, before a resume loads the state."""

    def views(self, batch: TokenBatch, generator: torch.Generator) -> tuple[TokenBatch, TokenBatch]:
        """The anchor and positive views of a tokenised batch (on the device). Random
        choices draw from ``generator``, which the training state saves."""
        return batch, batch

    def loss(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        """The loss and its statistics from the two views' embeddings (and the state)."""
        raise NotImplementedError(f"method {self.name!r} defines no loss")

    def after_step(self, step: StepResult) -> None:
        """Update the state after the optimiser step (a momentum encoder, a queue)."""

    def state_dict(self) -> dict[str, Any]:
        """The state to save with the training state: tensors and plain values only
        (it is read back with ``torch.load(weights_only=True)``)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (tensors on the CPU)."""
