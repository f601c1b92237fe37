"""MixCSE baseline (Zhang et al., AAAI 2022, "Unsupervised Sentence Representation via
Contrastive Learning with Mixing Negatives"), as docs/method.md's peers list states it."""

from __future__ import annotations

import torch
from torch import Tensor

from hncse.objectives import functional as fn
from hncse.objectives.base import ObjectiveInputs, ObjectiveOutput


def mixcse_negatives(p: Tensor, lam: float) -> Tensor:
    """ñ_i = normalize(λ·p_i + (1 − λ)·p_{(i+1) mod N}), detached: (N, d)."""
    p = p.detach().float()
    return fn.normalize(lam * p + (1.0 - lam) * p.roll(-1, dims=0))


class MixCSEObjective:
    """SimCSE's InfoNCE plus one detached mixed negative per query, as column N of its row::

        ñ_i = normalize(λ·p_i + (1 − λ)·p_{(i+1) mod N})
        ℓ_i = −log exp(s(z_i, p_i)/τ) / (Σ_j exp(s(z_i, p_j)/τ) + exp(s(z_i, ñ_i)/τ))

    In float32, even under autocast; no statistics. Source: Zhang et al. 2022, section 3.

    Example::

        >>> import torch
        >>> from hncse.objectives import ObjectiveInputs
        >>> from hncse.objectives.mixcse import MixCSEObjective
        >>> objective = MixCSEObjective(temperature=0.05, lam=0.6)
        >>> out = objective(ObjectiveInputs(torch.randn(8, 16), torch.randn(8, 16), None,
        ...                                 torch.Generator().manual_seed(0)))
        >>> out.loss.shape, out.stats
        (torch.Size([]), {})
    """

    def __init__(self, temperature: float = 0.05, lam: float = 0.6) -> None:
        self.temperature = temperature
        self.lam = lam

    def __call__(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        with torch.autocast(device_type=inputs.h.device.type, enabled=False):
            z, p = fn.normalize(inputs.h), fn.normalize(inputs.h_pos)
            mixed = (z * mixcse_negatives(p, self.lam)).sum(dim=1, keepdim=True)
            similarities = torch.cat([z @ p.T, mixed], dim=1)
            return ObjectiveOutput(loss=fn.info_nce_loss(similarities, self.temperature))
