"""The objectives' typed options (no torch): what each mechanism needs, and nothing else.

The contrastive methods' options (hncse.objectives.methods.ContrastiveOptions) build them
from a training config's keys; code that does not train through the config builds them
directly, as sentence-transformers' losses take their own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PMOptions:
    """Positive mixing (docs/method.md, HNCSE-PM).

    ``theta``: the relative gap (d1 − d2)/|d1| at or below which a positive is ambiguous
    and gets mixed. ``weights``: the ambiguous case's mixing weights, ``similarity``
    (a = d1/(d1 + d2), as the inverted case) or ``fixed`` (``w1``, ``w2``). ``weight_formula``:
    how a is computed, ``authors`` (d1/(d1 + d2) as written) or ``guarded`` (clamped to
    [0, 1]; functional.similarity_weight). ``scope``: ``diagonal`` mixes only the positive
    logit, ``all`` every column (the authors' code).
    """

    theta: float = 0.1
    weights: Literal["similarity", "fixed"] = "similarity"
    w1: float = 0.5
    w2: float = 0.5
    scope: Literal["diagonal", "all"] = "diagonal"
    weight_formula: Literal["authors", "guarded"] = "authors"

    @property
    def fixed_weights(self) -> tuple[float, float] | None:
        """(w1, w2) when the weights are fixed; None for the similarity weights."""
        return (self.w1, self.w2) if self.weights == "fixed" else None


@dataclass(frozen=True)
class HNMOptions:
    """Hard negative mixing (docs/method.md, HNCSE-HNM).

    ``k`` bank vectors are selected per query (``beta``: 1 = the k most similar, lower
    trades difficulty for diversity); ``m`` synthetic negatives are mixed from pairs of
    them with weight ``alpha`` (a number, or ``uniform``: drawn per negative). ``bank``:
    ``previous`` mixes the bank of earlier batches, ``in_batch`` the current batch's other
    positives (the authors' code).
    """

    k: int = 10
    m: int = 40
    alpha: float | Literal["uniform"] = 0.5
    beta: float = 1.0
    bank: Literal["previous", "in_batch"] = "previous"
