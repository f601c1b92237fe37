"""SimCSE, HNCSE-PM, HNCSE-HNM and HNCSE: one contrastive objective with two switches.

method.md: SimCSE is InfoNCE over s(z_i, p_j)/τ; positive mixing (PM) replaces the positive
p_i by p̃_i; hard negative mixing (HNM) appends m synthetic negatives per query, mixed from
the k bank vectors most similar to it. HNCSE = both; SimCSE = neither.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from hncse.objectives import ObjectiveInputs, ObjectiveOutput, register_objective
from hncse.objectives import functional as fn

if TYPE_CHECKING:
    from hncse.config import TrainConfig


def _hnm_candidates(
    p: Tensor, bank: Tensor | None, config: TrainConfig
) -> tuple[Tensor | None, bool]:
    """The vectors HNM mixes and whether query i must skip row i of them.

    ``previous``: the bank of earlier batches (None while empty). ``in_batch`` (authors' code):
    the current batch's detached positives p_j, j ≠ i.
    """
    if config.bank == "in_batch":
        return p.detach(), True
    if bank is None or bank.shape[0] == 0:
        return None, False
    return bank.to(device=p.device, dtype=torch.float32), False


def contrastive_objective(
    inputs: ObjectiveInputs, *, positive_mixing: bool, hard_negative_mixing: bool
) -> ObjectiveOutput:
    """InfoNCE with optional PM (positive logit, or every column with pm_scope=all, uses p̃)
    and optional HNM (m columns s(z_i, h_{i,t}) after the N in-batch ones). All in float32."""
    config = inputs.config
    # float32 even inside the trainer's autocast region: autocast would re-cast the matmuls.
    with torch.autocast(device_type=inputs.h.device.type, enabled=False):
        z, p = fn.normalize(inputs.h), fn.normalize(inputs.h_pos)
        in_batch = z @ p.T
        similarities = in_batch
        stats: dict[str, Tensor | float] = {}
        if positive_mixing:
            hardest = fn.hardest_negatives(in_batch)
            fixed = (config.pm_w1, config.pm_w2) if config.pm_weights == "fixed" else None
            p_tilde, cases = fn.mix_positives(p, hardest, config.theta, fixed)
            mixed = cases != fn.PMCase.CLEAR
            similarities = fn.mixed_positive_similarities(
                in_batch, z, p_tilde, mixed, config.pm_scope
            )
            stats |= fn.pm_stats(z, p, p_tilde, hardest, cases, mixed)
        if hard_negative_mixing:
            candidates, exclude_self = _hnm_candidates(p, inputs.bank, config)
            synthetic = mixed_from = None
            if candidates is not None and candidates.shape[0] - int(exclude_self) >= 2:
                selected = fn.select_bank_vectors(
                    z, candidates, config.k, config.beta, exclude_self
                )
                negatives = fn.mix_hard_negatives(
                    candidates, selected, config.m, config.alpha, inputs.generator
                )
                synthetic = fn.synthetic_similarities(z, negatives)
                mixed_from = fn.bank_similarities(z, candidates, selected)
                similarities = torch.cat([similarities, synthetic], dim=1)
            stats |= fn.hnm_stats(in_batch, synthetic, mixed_from, config.k)
        loss = fn.info_nce_loss(similarities, config.temperature)
    return ObjectiveOutput(loss=loss, stats=fn.to_floats(stats))


# name -> (positive_mixing, hard_negative_mixing), as hncse.config.PRESETS
VARIANTS: dict[str, tuple[bool, bool]] = {
    "simcse": (False, False),
    "hncse-pm": (True, False),
    "hncse-hnm": (False, True),
    "hncse": (True, True),
}
for _name, (_pm, _hnm) in VARIANTS.items():
    register_objective(_name)(
        partial(contrastive_objective, positive_mixing=_pm, hard_negative_mixing=_hnm)
    )
