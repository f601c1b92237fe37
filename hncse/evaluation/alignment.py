"""Alignment and uniformity (Wang & Isola, 2020) as the SimCSE paper computes them on STS-B.

On L2-normalised embeddings f:
- alignment = E_{(x, x⁺) ~ p_pos} ‖f(x) − f(x⁺)‖², p_pos = STS-B pairs with gold score > 4;
- uniformity = log E_{x, y ~ p_data} exp(−t ‖f(x) − f(y)‖²), t = 2, over pairs of distinct
  STS-B sentences (all splits).
Lower is better for both.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from hncse.evaluation.base import Lookup
from hncse.evaluation.errors import EvaluationError
from hncse.evaluation.results import AlignmentUniformity
from hncse.evaluation.similarity import PairSet

POSITIVE_THRESHOLD = 4.0
TEMPERATURE = 2.0
CHUNK = 512  # rows per block


def _normalised(embed: Lookup, sentences: list[str]) -> torch.Tensor:
    return F.normalize(torch.as_tensor(embed(sentences), dtype=torch.float32), dim=1)


def uniformity(vectors: torch.Tensor, t: float = TEMPERATURE) -> float:
    """log of the mean of exp(−t‖xᵢ − xⱼ‖²) over all pairs i < j of unit vectors, by row
    blocks against the rows after them (‖x − y‖² = 2 − 2x·y; each term is in [e^-4t, 1])."""
    n = len(vectors)
    if n < 2:
        raise ValueError("uniformity needs at least 2 sentences")
    total = 0.0
    for start in range(0, n - 1, CHUNK):
        block, rest = vectors[start : start + CHUNK], vectors[start:]
        kernel = (2 - 2 * block @ rest.T).clamp_(min=0).mul_(-t).exp_()
        total += float(kernel.triu_(diagonal=1).sum(dtype=torch.float64))  # columns j > i
    return math.log(total / (n * (n - 1) / 2))


def alignment_uniformity(embed: Lookup, splits: dict[str, PairSet]) -> AlignmentUniformity:
    """Both metrics over all given STS-B splits."""
    first, second = [], []
    for pairs in splits.values():
        keep = np.flatnonzero(pairs.gold > POSITIVE_THRESHOLD)
        first += [pairs.first[i] for i in keep]
        second += [pairs.second[i] for i in keep]
    if not first:
        raise EvaluationError(f"no STS-B pair has a gold score above {POSITIVE_THRESHOLD}")
    distances = (_normalised(embed, first) - _normalised(embed, second)).pow(2).sum(dim=1)
    sentences = sorted({s for pairs in splits.values() for s in pairs.sentences()})
    return AlignmentUniformity(
        alignment=float(distances.mean()),
        uniformity=uniformity(_normalised(embed, sentences)),
        positive_pairs=len(first),
        sentences=len(sentences),
    )
