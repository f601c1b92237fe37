"""MixCSE baseline (Zhang et al., AAAI 2022, "Unsupervised Sentence Representation via
Contrastive Learning with Mixing Negatives"), as docs/method.md's peers list states it.

Each query i gets one extra negative column, the detached mix of its own positive and the
next sentence's: ñ_i = normalize(λ·p_i + (1 − λ)·p_{(i+1) mod N}), λ = ``mixcse_lambda``.

    ℓ_i = −log exp(s(z_i, p_i)/τ) / (Σ_j exp(s(z_i, p_j)/τ) + exp(s(z_i, ñ_i)/τ))
"""

from __future__ import annotations

import torch
from torch import Tensor

from hncse.objectives import ObjectiveInputs, ObjectiveOutput, register_objective
from hncse.objectives import functional as fn


def mixcse_negatives(p: Tensor, lam: float) -> Tensor:
    """ñ_i = normalize(λ·p_i + (1 − λ)·p_{(i+1) mod N}), detached: (N, d)."""
    p = p.detach().float()
    return fn.normalize(lam * p + (1.0 - lam) * p.roll(-1, dims=0))


@register_objective("mixcse")
def mixcse(inputs: ObjectiveInputs) -> ObjectiveOutput:
    """InfoNCE with MixCSE's mixed negative appended as column N of every row (float32)."""
    with torch.autocast(device_type=inputs.h.device.type, enabled=False):
        z, p = fn.normalize(inputs.h), fn.normalize(inputs.h_pos)
        mixed = (z * mixcse_negatives(p, inputs.config.mixcse_lambda)).sum(dim=1, keepdim=True)
        similarities = torch.cat([z @ p.T, mixed], dim=1)
        return ObjectiveOutput(loss=fn.info_nce_loss(similarities, inputs.config.temperature))
