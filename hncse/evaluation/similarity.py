"""Cosine scores of sentence pairs and their correlation with gold scores (SentEval's STS).

SentEval (``senteval/sts.py``, SimCSE's fork) scores a pair by
``nan_to_num(cosine(nan_to_num(u), nan_to_num(v)))`` and reports scipy's Pearson r and
Spearman ρ against the gold scores. Both are computed here ×100, in float64.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import pearsonr, spearmanr

from hncse.evaluation.results import Correlation


def cosine_scores(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Row-wise cos(u, v) = u·v / (‖u‖‖v‖); a zero vector gives 0 (SentEval's NaN → 0)."""
    u = np.nan_to_num(np.asarray(first, dtype=np.float64))
    v = np.nan_to_num(np.asarray(second, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.einsum("ij,ij->i", u, v) / (
            np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1)
        )
    return np.nan_to_num(scores)


def _percent(value: float) -> float | None:
    return None if np.isnan(value) else float(value) * 100.0


def correlation(scores: np.ndarray, gold: np.ndarray) -> Correlation:
    """Pearson and Spearman ×100 (None when undefined, e.g. constant scores)."""
    if len(scores) < 2:
        return Correlation(pearson=None, spearman=None, n=len(scores))
    with warnings.catch_warnings():  # constant input: scipy warns and returns NaN
        warnings.simplefilter("ignore")
        pearson = pearsonr(scores, gold).statistic
        spearman = spearmanr(scores, gold).statistic
    return Correlation(pearson=_percent(pearson), spearman=_percent(spearman), n=len(scores))


@dataclass(frozen=True)
class PairSet:
    """Sentence pairs with gold similarity scores, in file order (empty-gold pairs dropped)."""

    first: list[str]
    second: list[str]
    gold: np.ndarray

    def __len__(self) -> int:
        return len(self.gold)

    def sentences(self) -> list[str]:
        return self.first + self.second


def pair_frame(task: str, subset: str, gold: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    """Per-pair rows of ``eval.pairs.parquet``; ``pair_index`` = position in file order."""
    return pd.DataFrame(
        {
            "task": task,
            "subset": subset,
            "pair_index": np.arange(len(gold), dtype=np.int64),
            "gold": np.asarray(gold, dtype=np.float64),
            "score": scores,
        }
    )
