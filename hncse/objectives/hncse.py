"""SimCSE, HNCSE-PM, HNCSE-HNM and HNCSE: one contrastive objective with two switches."""

from __future__ import annotations

import torch
from torch import Tensor

from hncse.objectives import functional as fn
from hncse.objectives.base import ObjectiveInputs, ObjectiveOutput
from hncse.objectives.options import HNMOptions, PMOptions


class ContrastiveObjective:
    """InfoNCE over in-batch negatives, with optional positive mixing (PM) and hard negative
    mixing (HNM): SimCSE = neither, HNCSE-PM = ``pm``, HNCSE-HNM = ``hnm``, HNCSE = both.

    With z_i, p_i the normalised views of sentence i, s the cosine and τ the temperature::

        ℓ_i = −log exp(s(z_i, p̃_i)/τ) / (Σ_j exp(s(z_i, p_j)/τ) + Σ_t exp(s(z_i, h_{i,t})/τ))
        loss = mean_i ℓ_i

    PM: p̃_i = p_i unless the hardest in-batch negative n_i is close (relative gap ≤ θ) or
    closer than p_i; then p̃_i = normalize(a·p_i + (1 − a)·n_i), a = d1/(d1 + d2) (or the
    fixed weights). Without PM, p̃_i = p_i. HNM: the m synthetic negatives h_{i,t} =
    normalize(α·b_a + (1 − α)·b_b) of pairs of the k bank vectors nearest z_i (detached);
    without HNM (or while the bank is empty) there are none. Computed in float32, even
    under autocast. Statistics: ``pm/*`` (the cases' fractions, how p̃ moved) and ``hnm/*``
    (the mean similarity to the query of the synthetic negatives, of all and of the hardest k
    in-batch negatives, and of the bank vectors mixed: docs/study.md, C5).

    Sources: SimCSE (Gao et al., EMNLP 2021, eq. 1); HNCSE (arXiv 2411.12156, sections 3.2
    and 3.3) and the authors' code; the choices where they are thin: docs/method.md.

    Example::

        >>> import torch
        >>> from hncse.objectives import HNMOptions, ObjectiveInputs, PMOptions
        >>> from hncse.objectives.hncse import ContrastiveObjective
        >>> objective = ContrastiveObjective(0.05, pm=PMOptions(theta=0.1),
        ...                                  hnm=HNMOptions(k=4, m=8))
        >>> h, h_pos, bank = torch.randn(8, 16), torch.randn(8, 16), torch.randn(16, 16)
        >>> out = objective(ObjectiveInputs(h, h_pos, torch.nn.functional.normalize(bank),
        ...                                 torch.Generator().manual_seed(0)))
        >>> out.loss.shape, "pm/frac_ambiguous" in out.stats, "hnm/sim_synthetic" in out.stats
        (torch.Size([]), True, True)
    """

    def __init__(
        self, temperature: float = 0.05, pm: PMOptions | None = None, hnm: HNMOptions | None = None
    ) -> None:
        self.temperature = temperature
        self.pm = pm
        self.hnm = hnm

    def __call__(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        # float32 even inside the trainer's autocast region: autocast would re-cast the matmuls.
        with torch.autocast(device_type=inputs.h.device.type, enabled=False):
            z, p = fn.normalize(inputs.h), fn.normalize(inputs.h_pos)
            in_batch = z @ p.T
            similarities = in_batch
            stats: dict[str, Tensor | float] = {}
            if self.pm is not None:
                hardest = fn.hardest_negatives(in_batch)
                p_tilde, cases = fn.mix_positives(
                    p, hardest, self.pm.theta, self.pm.fixed_weights, self.pm.weight_formula
                )
                mixed = cases != fn.PMCase.CLEAR
                similarities = fn.mixed_positive_similarities(
                    in_batch, z, p_tilde, mixed, self.pm.scope
                )
                stats |= fn.pm_stats(z, p, p_tilde, hardest, cases, mixed)
            if self.hnm is not None:
                synthetic, mixed_from, parent = self._synthetic_similarities(z, p, inputs, self.hnm)
                if synthetic is not None:
                    similarities = torch.cat([similarities, synthetic], dim=1)
                stats |= fn.hnm_stats(in_batch, synthetic, mixed_from, parent, self.hnm.k)
            loss = fn.info_nce_loss(similarities, self.temperature)
        return ObjectiveOutput(loss=loss, stats=fn.to_floats(stats))

    @staticmethod
    def _synthetic_similarities(
        z: Tensor, p: Tensor, inputs: ObjectiveInputs, hnm: HNMOptions
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        """s(z_i, h_{i,t}) (N, m), s(z_i, b) for the k vectors b each query mixed from
        (N, k) and the harder parent of each synthetic negative, max(s(z_i, b_a), s(z_i, b_b))
        (N, m); None while there is nothing to mix. The vectors mixed:
        ``previous``, the bank of earlier batches; ``in_batch`` (authors' code), the current
        batch's detached positives p_j, j ≠ i."""
        if hnm.bank == "in_batch":
            candidates, exclude_self = p.detach(), True
        elif inputs.bank is None or inputs.bank.shape[0] == 0:
            return None, None, None
        else:
            candidates = inputs.bank.to(device=p.device, dtype=torch.float32)
            exclude_self = False
        if candidates.shape[0] - int(exclude_self) < 2:  # a pair needs two vectors
            return None, None, None
        selected = fn.select_bank_vectors(z, candidates, hnm.k, hnm.beta, exclude_self)
        negatives, parents = fn.mix_hard_negatives(
            candidates, selected, hnm.m, hnm.alpha, inputs.generator
        )
        mixed_from = fn.bank_similarities(z, candidates, selected)
        n, m = parents.shape[:2]
        harder = mixed_from.gather(1, parents.reshape(n, 2 * m)).reshape(n, m, 2).amax(dim=-1)
        return fn.synthetic_similarities(z, negatives), mixed_from, harder
