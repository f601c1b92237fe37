"""The objectives' mathematics as small pure tensor functions (docs/method.md).

Notation as in docs/method.md: z_i = h_i/‖h_i‖ is the query, p_i = h_i⁺/‖h_i⁺‖ its positive,
s(a, b) the cosine similarity, τ the temperature. Every function casts its inputs to float32
(the loss is computed in float32 even when the encoder runs in bf16/fp16); callers that run
under ``torch.autocast`` must disable it around these functions, as the registered objectives
do, or the matrix products are cast back down.

Nothing here reads a config or a global: the registered objectives (``hncse.py``,
``mixcse.py``) pass the options in.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-8
PMScope = Literal["diagonal", "all"]
PMWeightFormula = Literal["authors", "guarded"]


def normalize(x: Tensor) -> Tensor:
    """x/‖x‖ along the last dimension, in float32."""
    return F.normalize(x.float(), dim=-1)


def info_nce_loss(similarities: Tensor, tau: float) -> Tensor:
    """InfoNCE over cosine logits; the target of row i is column i.

        ℓ_i = −log exp(S_ii/τ) / Σ_c exp(S_ic/τ),   loss = mean_i ℓ_i

    ``similarities`` is (N, C) with C ≥ N: the N in-batch columns s(z_i, p_j) first, then any
    extra negative columns (synthetic or mixed negatives).
    """
    logits = similarities.float() / tau
    targets = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, targets)


# ---------------------------------------------------------------------------------------------
# Positive mixing (HNCSE-PM)


class PMCase(IntEnum):
    """Per-query case of positive mixing (docs/method.md, HNCSE-PM, cases 1-3)."""

    CLEAR = 0  # d1 > d2 and r > θ: p̃ = p
    AMBIGUOUS = 1  # d1 > d2 and r ≤ θ: p̃ = normalize(w1·p + w2·n)
    INVERTED = 2  # d2 ≥ d1: p̃ = normalize(a·p + (1 − a)·n)


class HardestNegatives(NamedTuple):
    """j* = argmax_{j≠i} s(z_i, p_j), d1 = s(z_i, p_i), d2 = s(z_i, p_{j*}); no gradient."""

    index: Tensor  # (N,) long: j*
    d1: Tensor  # (N,)
    d2: Tensor  # (N,)


def hardest_negatives(similarities: Tensor) -> HardestNegatives:
    """Hardest in-batch negative of every query from S = z @ pᵀ (N, N), without gradient."""
    n = similarities.shape[0]
    if n < 2 or similarities.shape != (n, n):
        raise ValueError(
            f"need an (N, N) similarity matrix, N ≥ 2, got {tuple(similarities.shape)}"
        )
    with torch.no_grad():
        s = similarities.detach().float()
        eye = torch.eye(n, dtype=torch.bool, device=s.device)
        d2, index = s.masked_fill(eye, -math.inf).max(dim=1)
        return HardestNegatives(index=index, d1=s.diagonal(), d2=d2)


def pm_cases(d1: Tensor, d2: Tensor, theta: float) -> Tensor:
    """Case code (:class:`PMCase`) per query from r = (d1 − d2)/|d1|.

    Evaluated as d1 − d2 > θ·|d1| (clear), which equals r > θ for d1 ≠ 0 and needs no guard
    at d1 = 0 (then any d2 < 0 is clear, r = +∞). Inverted is d2 ≥ d1, whatever the sign of d1.
    """
    gap = d1 - d2
    ambiguous = (gap <= theta * d1.abs()).long()  # 1 = AMBIGUOUS, 0 = CLEAR
    return torch.where(gap <= 0, int(PMCase.INVERTED), ambiguous)


def similarity_weight(d1: Tensor, d2: Tensor, formula: PMWeightFormula = "authors") -> Tensor:
    """a, the weight of p in the similarity-weighted mix (``pm_weight_formula``).

    ``authors`` (the authors' code): a = d1/(d1 + d2), as written: outside [0, 1] when d1 or
    d2 is negative (the mix then extrapolates beyond p or n), infinite at d1 + d2 = 0 (the
    loss becomes NaN and the trainer stops). ``guarded`` [choice]: a = (d1⁺ + ε)/(d1⁺ + d2⁺
    + 2ε) with x⁺ = max(x, 0), ε = 1e-8: equal to the authors' (to float32 precision)
    whenever d1, d2 ≥ 0, the usual case since dropout positives sit near 1; always in
    [0, 1], and 0.5 when both are ≤ 0.
    """
    if formula == "authors":
        return d1 / (d1 + d2)
    if formula != "guarded":
        raise ValueError(f"unknown pm_weight_formula {formula!r}; choose authors or guarded")
    d1p = d1.clamp_min(0.0)
    return (d1p + EPS) / (d1p + d2.clamp_min(0.0) + 2 * EPS)


def mix_positives(
    p: Tensor,
    hardest: HardestNegatives,
    theta: float,
    fixed_weights: tuple[float, float] | None = None,
    formula: PMWeightFormula = "authors",
) -> tuple[Tensor, Tensor]:
    """Mixed positives p̃ (N, d) and the case code per query (N,).

    With n_i = p_{j*} and a = :func:`similarity_weight` (d1, d2, ``formula``):
    clear: p̃_i = p_i; ambiguous: p̃_i = normalize(w1·p_i + w2·n_i) with (w1, w2) =
    ``fixed_weights`` or (a, 1 − a) when None; inverted: p̃_i = normalize(a·p_i + (1 − a)·n_i).
    Since p̃ is normalised only w1/(w1 + w2) matters, so every mix is computed as
    normalize(lerp(n_i, p_i, a_i)). The weights carry no gradient; gradient flows through p̃_i
    into p_i and n_i.
    """
    if fixed_weights is not None and sum(fixed_weights) <= 0.0:
        raise ValueError(f"fixed PM weights must not both be 0, got {fixed_weights}")
    p = p.float()
    cases = pm_cases(hardest.d1, hardest.d2, theta)
    a = similarity_weight(hardest.d1, hardest.d2, formula)
    if fixed_weights is not None:
        w1, w2 = fixed_weights
        a = torch.where(cases == PMCase.AMBIGUOUS, w1 / (w1 + w2), a)
    blended = normalize(torch.lerp(p[hardest.index], p, a.unsqueeze(1)))
    return torch.where((cases != PMCase.CLEAR).unsqueeze(1), blended, p), cases


def mixed_positive_similarities(
    similarities: Tensor, z: Tensor, p_tilde: Tensor, mixed: Tensor, scope: PMScope
) -> Tensor:
    """The (N, N) in-batch similarities once positives are mixed (``mixed``: case ≠ CLEAR).

    ``diagonal`` [choice]: S̃_ii = s(z_i, p̃_i), S̃_ij = S_ij = s(z_i, p_j) for j ≠ i.
    ``all`` (authors' code): S̃_ij = s(z_i, p̃_j) for every column.
    Unmixed queries keep S exactly, so with no query mixed the result equals S bit for bit.
    """
    z, p_tilde = z.float(), p_tilde.float()
    if scope == "all":
        return z @ p_tilde.T
    if scope != "diagonal":
        raise ValueError(f"unknown pm_scope {scope!r}; choose diagonal or all")
    mixed_positive = (z * p_tilde).sum(dim=1)
    diagonal = torch.where(mixed, mixed_positive, similarities.diagonal())
    return torch.diagonal_scatter(similarities.float(), diagonal)


def pm_stats(
    z: Tensor, p: Tensor, p_tilde: Tensor, hardest: HardestNegatives, cases: Tensor, mixed: Tensor
) -> dict[str, Tensor]:
    """Mechanism check of PM (docs/method.md "Log, per step"), as 0-d tensors.

    pm/frac_{clear,ambiguous,inverted}: share of queries per case; over the mixed queries
    (ambiguous + inverted): pm/delta_sim_query = mean s(z, p̃) − s(z, p) and
    pm/delta_sim_negative = mean s(p̃, n) − s(p, n) (NaN when no query is mixed);
    pm/num_mixed: their count; pm/num_queries: the queries of the step. Clear rows have
    p̃ − p = 0 exactly, so sums over all rows divided by the count are the means over the
    mixed ones.
    """
    with torch.no_grad():
        change = p_tilde.detach().float() - p.detach().float()
        codes = torch.arange(len(PMCase), device=cases.device)
        fractions = (cases.unsqueeze(1) == codes).float().mean(dim=0)
        num_mixed = mixed.sum().float()
        n = p.detach().float()[hardest.index]
        delta_query = (z.detach().float() * change).sum() / num_mixed
        delta_negative = (n * change).sum() / num_mixed
    stats = {f"pm/frac_{case.name.lower()}": fractions[case] for case in PMCase}
    return stats | {
        "pm/delta_sim_query": delta_query,
        "pm/delta_sim_negative": delta_negative,
        "pm/num_mixed": num_mixed,
        "pm/num_queries": float(cases.shape[0]),
    }


# ---------------------------------------------------------------------------------------------
# Hard negative mixing (HNCSE-HNM)


def select_bank_vectors(
    queries: Tensor, bank: Tensor, k: int, beta: float = 1.0, exclude_self: bool = False
) -> Tensor:
    """Indices (N, k') into ``bank`` (K, d) of the vectors each query mixes, k' = min(k, K').

    β = 1: the k most similar, top-k of s(z_i, b). β < 1 [choice]: greedy, first the most
    similar, then argmax_b β·s(z_i, b) − (1 − β)·max_{c∈S} s(b, c) over unpicked b (S = the
    picks so far). ``exclude_self`` (bank = the current batch, K = N) forbids b_i for query i,
    so K' = K − 1. Vectorised over queries; the loop runs over the k picks. No gradient.
    """
    with torch.no_grad():
        queries, bank = queries.detach().float(), bank.detach().float()
        n, size = queries.shape[0], bank.shape[0]
        if exclude_self and size != n:
            raise ValueError(f"exclude_self needs one bank row per query, got {size} for {n}")
        k = min(k, size - int(exclude_self))
        scores = queries @ bank.T
        if exclude_self:
            scores.fill_diagonal_(-math.inf)
        if beta >= 1.0:
            return scores.topk(k, dim=1).indices
        gram = bank @ bank.T
        rows = torch.arange(n, device=scores.device)
        pick = scores.argmax(dim=1)
        picks = [pick]
        redundancy = gram[pick]  # max_{c∈S} s(b, c) for every b
        for _ in range(k - 1):
            scores[rows, pick] = -math.inf  # picked: never again (β·(−∞) = −∞ for β > 0)
            objective = torch.where(
                scores == -math.inf, -math.inf, beta * scores - (1.0 - beta) * redundancy
            )
            pick = objective.argmax(dim=1)
            picks.append(pick)
            redundancy = torch.maximum(redundancy, gram[pick])
        return torch.stack(picks, dim=1)


def draw_pairs(
    num_queries: int, k: int, m: int, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """m ordered pairs (a, b), a ≠ b, uniform over the k(k − 1) choices, per query: (N, m) each.

    Drawn on the generator's device so that every worker with the same seed draws the same.
    """
    if k < 2:
        raise ValueError(f"pairs need at least 2 candidates, got k={k}")
    device = generator.device
    first = torch.randint(k, (num_queries, m), generator=generator, device=device)
    second = torch.randint(k - 1, (num_queries, m), generator=generator, device=device)
    return first, second + (second >= first).long()  # skip a: b uniform over the other k − 1


def mix_hard_negatives(
    bank: Tensor,
    selected: Tensor,
    m: int,
    alpha: float | Literal["uniform"],
    generator: torch.Generator,
) -> tuple[Tensor, Tensor]:
    """Synthetic negatives (N, m, d), detached: h = normalize(α·b_a + (1 − α)·b_b), and
    their parents (N, m, 2): the columns a, b of ``selected`` each was mixed from.

    (a, b) is a random ordered pair of distinct columns of ``selected`` (N, k), the bank rows
    chosen for each query. α is the constant ``alpha`` or, with ``"uniform"`` [choice],
    α ~ U(0, 1) per negative (MoCHi). If b_a = −b_b and α = 1/2 the mix is 0 (cosine 0).
    """
    with torch.no_grad():
        bank = bank.detach().float()
        n, k = selected.shape
        first, second = (x.to(selected.device) for x in draw_pairs(n, k, m, generator))
        if alpha == "uniform":
            uniform = torch.rand((n, m, 1), generator=generator, device=generator.device)
            weight: Tensor | float = uniform.to(bank.device)
        else:
            weight = float(alpha)
        b_a = bank[selected.gather(1, first)]
        b_b = bank[selected.gather(1, second)]
        parents = torch.stack([first, second], dim=-1)
        return normalize(torch.lerp(b_b, b_a, weight)), parents  # b_b + α(b_a − b_b)


def synthetic_similarities(z: Tensor, synthetic: Tensor) -> Tensor:
    """s(z_i, h_{i,t}) for the synthetic negatives (N, m, d) of each query: (N, m)."""
    return torch.bmm(synthetic.float(), z.float().unsqueeze(-1)).squeeze(-1)


def bank_similarities(queries: Tensor, bank: Tensor, selected: Tensor) -> Tensor:
    """s(z_i, b) for the bank vectors each query mixes from, ``selected`` (N, k): (N, k)."""
    with torch.no_grad():
        chosen = bank.detach().float()[selected]  # (N, k, d)
        return torch.bmm(chosen, queries.detach().float().unsqueeze(-1)).squeeze(-1)


def hnm_stats(
    similarities: Tensor,
    synthetic: Tensor | None,
    mixed_from: Tensor | None,
    harder_parent: Tensor | None,
    k: int,
) -> dict[str, Tensor | float]:
    """Mechanism check of HNM (docs/method.md "Log, per step"; docs/study.md C5: like with like).

    hnm/sim_inbatch: mean s(z_i, p_j) over j ≠ i (original positives);
    hnm/sim_hardest_inbatch: mean over queries of the k largest s(z_i, p_j), j ≠ i (k capped
    at N − 1); hnm/sim_synthetic: mean s(z_i, h) over the synthetic negatives;
    hnm/sim_mixed_from: mean s(z_i, b) over the bank vectors each query mixed (``mixed_from``,
    N × k); both NaN when there are none; hnm/num_synthetic: synthetic negatives per query
    (0 while the bank is empty). C5's tests free of re-normalisation's bias (docs/study.md):
    hnm/gap_harder_parent: mean s(z_i, h) − max(s(z_i, b_a), s(z_i, b_b)) over the synthetic
    negatives (``harder_parent``, N × m); hnm/gap_hardest_single and
    hnm/frac_above_hardest: the mean of s(z_i, h) − max_j≠i s(z_i, p_j) and the fraction of
    synthetic negatives above the query's single hardest in-batch negative (NaN without
    synthetic negatives).
    """
    with torch.no_grad():
        s = similarities.detach().float()
        n = s.shape[0]
        off_diagonal_mean = (s.sum() - s.trace()) / (n * (n - 1))
        others = s.clone().fill_diagonal_(-math.inf)
        hardest = others.topk(min(k, n - 1), dim=1).values.mean()
        stats: dict[str, Tensor | float] = {
            "hnm/sim_inbatch": off_diagonal_mean,
            "hnm/sim_hardest_inbatch": hardest,
            "hnm/sim_synthetic": math.nan,
            "hnm/sim_mixed_from": math.nan if mixed_from is None else mixed_from.mean(),
            "hnm/num_synthetic": 0.0,
            "hnm/gap_harder_parent": math.nan,
            "hnm/gap_hardest_single": math.nan,
            "hnm/frac_above_hardest": math.nan,
        }
        if synthetic is None or harder_parent is None:
            return stats
        h = synthetic.detach().float()
        single = (h - others.max(dim=1, keepdim=True).values).float()
        return stats | {
            "hnm/sim_synthetic": h.mean(),
            "hnm/num_synthetic": float(h.shape[1]),
            "hnm/gap_harder_parent": (h - harder_parent).mean(),
            "hnm/gap_hardest_single": single.mean(),
            "hnm/frac_above_hardest": (single > 0).float().mean(),
        }


def to_floats(stats: dict[str, Tensor | float]) -> dict[str, float]:
    """Statistics to Python floats, with one device synchronisation for all the tensors."""
    floats = {key: value for key, value in stats.items() if not isinstance(value, Tensor)}
    tensors = {key: value for key, value in stats.items() if isinstance(value, Tensor)}
    if tensors:
        values = torch.stack([value.float() for value in tensors.values()]).tolist()
        floats |= dict(zip(tensors, values, strict=True))
    return {key: floats[key] for key in stats}  # keep the order of ``stats``
