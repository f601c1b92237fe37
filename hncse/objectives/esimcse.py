"""ESimCSE (Wu et al., COLING 2022, "ESimCSE: Enhanced Sample Building Method for
Contrastive Learning of Unsupervised Sentence Embedding") on the method interface.

- Positive: word repetition. Of each sentence's N sub-word tokens (special tokens
  excluded), ``dup_len`` uniform in [0, max(2, int(dup_rate·N))] distinct positions are
  duplicated in place (dup_rate 0.32 in the paper); the anchor is the sentence unchanged.
- Momentum contrast: a copy of the encoder, updated after each optimiser step as
  θ_m ← λ·θ_m + (1 − λ)·θ (λ = 0.995), encodes the step's anchors without dropout (as
  the authors' code does); their normalised embeddings enter a FIFO queue of
  ``queue_ratio × batch_size`` negatives (2.5 in the paper).
- Loss: InfoNCE of each anchor z_i over the in-batch positives p_j and the queue q_l::

      ℓ_i = −log exp(s(z_i, p_i)/τ) / (Σ_j exp(s(z_i, p_j)/τ) + Σ_l exp(s(z_i, q_l)/τ))

Where the paper is thin: repeated rows may grow past max_seq_length (at most by
int(dup_rate·N) tokens; not truncated), padding uses id 0 under attention mask 0, and the
momentum encoder is updated after the optimiser step (MoCo's order).

torch is imported inside the functions: the config validates ESimCSE's options, and the
workflow plans its runs, without it.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pydantic import Field

from hncse.objectives.method import (
    Method,
    MethodOptions,
    Published,
    StepResult,
    TokenBatch,
)

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from hncse.model import SentenceEncoder
    from hncse.objectives.base import ObjectiveInputs, ObjectiveOutput


class ESimCSEOptions(MethodOptions):
    temperature: float
    batch_size: int
    dup_rate: float = Field(0.32, ge=0.0, le=1.0, description="share of tokens repeated at most")
    momentum: float = Field(0.995, ge=0.0, le=1.0, description="momentum encoder's λ")
    queue_ratio: float = Field(2.5, ge=0.0, le=64.0, description="queue size / batch_size")

    @property
    def queue_size(self) -> int:
        return round(self.queue_ratio * self.batch_size)


def repetition_count(length: int, dup_rate: float, generator: torch.Generator) -> int:
    """dup_len ~ U{0, …, max(2, int(dup_rate·length))}, at most ``length``."""
    import torch

    high = max(2, int(dup_rate * length))
    drawn = torch.randint(0, high + 1, (1,), generator=generator, device=generator.device)
    return min(int(drawn.item()), length)


def repeat_tokens(row: Tensor, positions: Tensor) -> Tensor:
    """``row`` with the tokens at ``positions`` written twice, in place of once."""
    import torch

    repeats = torch.ones_like(row)
    repeats[positions] = 2
    return row.repeat_interleave(repeats)


def word_repetition(batch: TokenBatch, dup_rate: float, generator: torch.Generator) -> TokenBatch:
    """The positive view: each row's tokens between its first and last (the special
    tokens) repeated at ``repetition_count`` random positions; padded to the longest row."""
    import torch

    lengths = batch["attention_mask"].sum(dim=1).tolist()
    rows: dict[str, list[Tensor]] = {key: [] for key in batch}
    for index, length in enumerate(lengths):
        inner = max(length - 2, 0)
        count = repetition_count(inner, dup_rate, generator)
        order = torch.randperm(inner, generator=generator, device=generator.device)
        positions = order[:count].to(batch["input_ids"].device) + 1
        for key, tensor in batch.items():
            rows[key].append(repeat_tokens(tensor[index, :length], positions))
    return {
        key: torch.nn.utils.rnn.pad_sequence(values, batch_first=True, padding_value=0)
        for key, values in rows.items()
    }


def momentum_update(target: torch.nn.Module, source: torch.nn.Module, momentum: float) -> None:
    """θ_target ← momentum·θ_target + (1 − momentum)·θ_source, parameter by parameter."""
    import torch

    with torch.no_grad():
        for kept, current in zip(target.parameters(), source.parameters(), strict=True):
            kept.mul_(momentum).add_(current.detach(), alpha=1.0 - momentum)


def enqueue(queue: Tensor, new: Tensor, size: int) -> Tensor:
    """FIFO: ``new`` rows appended, the oldest dropped beyond ``size`` rows."""
    import torch

    return torch.cat([queue, new])[max(queue.shape[0] + new.shape[0] - size, 0) :]


def esimcse_loss(h: Tensor, h_pos: Tensor, queue: Tensor, temperature: float) -> Tensor:
    """InfoNCE of the anchors over the in-batch positives and the (normalised) queue."""
    import torch

    from hncse.objectives import functional as fn

    with torch.autocast(device_type=h.device.type, enabled=False):
        z, p = fn.normalize(h), fn.normalize(h_pos)
        similarities = torch.cat([z @ p.T, z @ queue.to(z).T], dim=1)
        return fn.info_nce_loss(similarities, temperature)


class ESimCSE(Method):
    """Word repetition for the positive, a momentum encoder filling a queue of negatives."""

    name = "esimcse"
    Options = ESimCSEOptions
    published = Published("BERT-base", 78.27, "Wu et al., COLING 2022")

    def __init__(self, options: MethodOptions) -> None:
        super().__init__(options)
        assert isinstance(options, ESimCSEOptions)
        self.settings = options
        self.momentum_encoder: SentenceEncoder | None = None
        self.queue: Tensor | None = None

    def setup(self, encoder: SentenceEncoder) -> None:
        import torch

        self.momentum_encoder = copy.deepcopy(encoder).eval()  # no dropout, as the authors
        self.momentum_encoder.requires_grad_(False)
        width = encoder.backbone.config.hidden_size
        self.queue = torch.zeros(0, width, device=next(encoder.parameters()).device)

    def views(self, batch: TokenBatch, generator: torch.Generator) -> tuple[TokenBatch, TokenBatch]:
        return batch, word_repetition(batch, self.settings.dup_rate, generator)

    def loss(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        from hncse.objectives.base import ObjectiveOutput

        assert self.queue is not None, "ESimCSE.setup was not called"
        loss = esimcse_loss(inputs.h, inputs.h_pos, self.queue, self.settings.temperature)
        return ObjectiveOutput(loss, {"esimcse/queue_size": float(self.queue.shape[0])})

    def after_step(self, step: StepResult) -> None:
        import torch
        import torch.nn.functional as F

        assert self.momentum_encoder is not None and self.queue is not None
        momentum_update(self.momentum_encoder, step.encoder, self.settings.momentum)
        with torch.no_grad():
            keys = step.gather(self.momentum_encoder(step.anchor).float())
        self.queue = enqueue(self.queue, F.normalize(keys, dim=-1), self.settings.queue_size)

    def state_dict(self) -> dict[str, Any]:
        assert self.momentum_encoder is not None and self.queue is not None
        return {"momentum_encoder": self.momentum_encoder.state_dict(), "queue": self.queue}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        assert self.momentum_encoder is not None and self.queue is not None
        self.momentum_encoder.load_state_dict(state["momentum_encoder"])
        self.queue = state["queue"].to(self.queue.device)
