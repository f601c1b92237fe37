"""The tasks of the SimCSE/HNCSE tables and each task's headline number, from the task
catalogue (hncse/evaluation/catalogue.py: name, label, headline split and metric).

"STS avg" and "Transfer avg" are computed per run over its seven tasks (NaN when one is
missing), then summarised over seeds like any task.
"""

from __future__ import annotations

import pandas as pd

from hncse.evaluation.catalogue import BY_NAME, TASKS, Task

STS_TASKS: tuple[Task, ...] = tuple(task for task in TASKS if task.group == "sts")
TRANSFER_TASKS: tuple[Task, ...] = tuple(task for task in TASKS if task.group == "transfer")
STS_AVG = "STS avg"
TRANSFER_AVG = "Transfer avg"
STSB = BY_NAME["STSBenchmark"].label  # "STS-B"
#: each task's subset of eval.pairs.parquet that its headline is computed on (None = all,
#: the STS12–16 ``all`` aggregation)
PAIRS_SUBSET: dict[str, str | None] = {
    task.name: None if task.split == "all" else task.split for task in STS_TASKS
}


def headline_scores(table: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its metadata columns, one column per task label (headline number,
    NaN where the run lacks it), ``STS avg`` and ``Transfer avg``."""
    wide = runs.set_index("run").copy()
    for task in (*STS_TASKS, *TRANSFER_TASKS):
        rows = table[
            (table["task"] == task.name)
            & (table["split"] == task.split)
            & (table["metric"] == task.metric)
        ]
        wide[task.label] = rows.set_index("run")["value"].reindex(wide.index).astype(float)
    # skipna=False: an average over fewer tasks is not the paper's average
    wide[STS_AVG] = wide[[t.label for t in STS_TASKS]].mean(axis=1, skipna=False)
    wide[TRANSFER_AVG] = wide[[t.label for t in TRANSFER_TASKS]].mean(axis=1, skipna=False)
    return wide.reset_index()


def sts_columns() -> list[str]:
    return [*(t.label for t in STS_TASKS), STS_AVG]


def transfer_columns() -> list[str]:
    return [*(t.label for t in TRANSFER_TASKS), TRANSFER_AVG]
