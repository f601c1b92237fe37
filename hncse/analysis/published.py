"""Published numbers to show beside ours, as docs/method.md lists them (unsupervised,
SentEval, STS 'all' setting, test), each with the backbone and scale it was obtained at:
our runs are usually smaller, so a reader must see that the two are not like for like.

The HNCSE paper's own per-task tables were not available (docs/method.md); its stated
STS-B gain over SimCSE (+1.2) is the C1 family's ``paper_effect`` (hncse/analysis/claims.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hncse.objectives.registry import BUILT_IN, load_method


@dataclass(frozen=True)
class Published:
    method: str
    backbone: str
    scale: str  # who published it and at which scale
    scores: dict[str, float]  # task label -> number

    @property
    def label(self) -> str:
        return f"{self.method}, published ({self.backbone})"

    @property
    def source(self) -> str:
        return f"{self.label}: {self.scale}"


SIMCSE_BERT_BASE = Published(
    "simcse",
    "BERT-base",
    "SimCSE paper; 110 M parameters, 1M Wikipedia sentences, 1 epoch, batch 64",
    {
        "STS12": 68.40,
        "STS13": 82.41,
        "STS14": 74.38,
        "STS15": 80.91,
        "STS16": 78.56,
        "STS-B": 76.85,
        "SICK-R": 72.23,
        "STS avg": 76.25,
        "MR": 81.18,
        "CR": 86.46,
        "SUBJ": 94.45,
        "MPQA": 88.88,
        "SST": 85.50,
        "TREC": 89.80,
        "MRPC": 74.43,
        "Transfer avg": 85.81,
    },
)
#: STS avg of SimCSE on the other backbones, and of the peers on BERT-base
STS_AVG_ELSEWHERE: dict[str, float] = {
    "simcse (BERT-large)": 78.41,
    "simcse (RoBERTa-base)": 76.57,
    "simcse (RoBERTa-large)": 78.90,
    "mixcse (BERT-base)": 77.66,
}


def beside(summary: pd.DataFrame, columns: list[str], ours: str) -> pd.DataFrame:
    """Our mean over seeds of each column (``summary``: runs of one method, one column per
    task) beside the published SimCSE number and their difference."""
    rows = [
        {
            "task": c,
            f"ours ({ours})": summary[c].mean(),
            SIMCSE_BERT_BASE.label: SIMCSE_BERT_BASE.scores[c],
            "ours − published": summary[c].mean() - SIMCSE_BERT_BASE.scores[c],
        }
        for c in columns
        if c in SIMCSE_BERT_BASE.scores and summary[c].notna().any()
    ]
    return pd.DataFrame(rows).set_index("task") if rows else pd.DataFrame()


def peers_beside(scores: pd.DataFrame, column: str, baseline: str) -> pd.DataFrame:
    """Each method other than ``baseline`` whose Method declares a published number
    (docs/methods.md): our mean ``column`` (STS avg) over its runs beside it."""
    rows = []
    for method, own in scores.groupby("method", sort=False):
        if method == baseline or method not in BUILT_IN or column not in own:
            continue
        declared = load_method(method).published
        if declared is None or own[column].isna().all():
            continue
        rows.append(
            {
                "method": method,
                f"ours ({column})": own[column].mean(),
                f"published ({declared.backbone})": declared.sts_avg,
                "ours − published": own[column].mean() - declared.sts_avg,
                "source": declared.source,
            }
        )
    return pd.DataFrame(rows).set_index("method") if rows else pd.DataFrame()
