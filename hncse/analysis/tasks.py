"""The task catalogue of the SimCSE/HNCSE tables and each task's headline number.

Headline (docs/protocol.md; SimCSE's Table 1 and Table 2):

- STS12–STS16: Spearman of the ``all`` aggregation (one correlation over all subsets).
- STS-B, SICK-R: Spearman on the test split (cosine similarity, no regressor).
- MR … MRPC: test accuracy ``acc`` (never ``devacc``).

"STS avg" and "Transfer avg" are computed per run over its seven tasks (NaN when one is
missing), then summarised over seeds like any task.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Task:
    key: str  # name in eval.json
    label: str  # column header in tables
    split: str  # split (or aggregation) of the headline number
    metric: str


STS_TASKS: tuple[Task, ...] = (
    *(Task(f"STS1{i}", f"STS1{i}", "all", "spearman") for i in range(2, 7)),
    Task("STSBenchmark", "STS-B", "test", "spearman"),
    Task("SICKRelatedness", "SICK-R", "test", "spearman"),
)
TRANSFER_TASKS: tuple[Task, ...] = tuple(
    Task(key, label, "", "acc")
    for key, label in (("MR", "MR"), ("CR", "CR"), ("SUBJ", "SUBJ"), ("MPQA", "MPQA"),
                       ("SST2", "SST"), ("TREC", "TREC"), ("MRPC", "MRPC"))
)
STS_AVG = "STS avg"
TRANSFER_AVG = "Transfer avg"
STSB = "STS-B"
#: each task's subset of eval.pairs.parquet that its headline is computed on (None = all)
PAIRS_SUBSET: dict[str, str | None] = {
    **{task.key: None for task in STS_TASKS[:5]},
    "STSBenchmark": "test",
    "SICKRelatedness": "test",
}


def headline_scores(table: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its metadata columns, one column per task label (headline number,
    NaN where the run lacks it), ``STS avg`` and ``Transfer avg``."""
    wide = runs.set_index("run").copy()
    for task in (*STS_TASKS, *TRANSFER_TASKS):
        rows = table[(table["task"] == task.key) & (table["split"] == task.split)
                     & (table["metric"] == task.metric)]
        wide[task.label] = rows.set_index("run")["value"].reindex(wide.index).astype(float)
    # skipna=False: an average over fewer tasks is not the paper's average
    wide[STS_AVG] = wide[[t.label for t in STS_TASKS]].mean(axis=1, skipna=False)
    wide[TRANSFER_AVG] = wide[[t.label for t in TRANSFER_TASKS]].mean(axis=1, skipna=False)
    return wide.reset_index()


def sts_columns() -> list[str]:
    return [*(t.label for t in STS_TASKS), STS_AVG]


def transfer_columns() -> list[str]:
    return [*(t.label for t in TRANSFER_TASKS), TRANSFER_AVG]
