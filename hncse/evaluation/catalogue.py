"""The task catalogue: every SentEval task by name, its group and its headline number.

Light on purpose (no torch, no data): the workflow checks a study's tasks with it while
Snakemake plans the DAG, and the analysis reads each task's headline from it. The task
families (sts.py, binary.py, ...) implement the tasks; evaluation/tasks.py joins the two.

Headline (docs/protocol.md; SimCSE's Table 1 and Table 2), MTEB's ``main_score`` idea:

- STS12–STS16: Spearman of the ``all`` aggregation (one correlation over all subsets).
- STS-B, SICK-R: Spearman on the test split (cosine similarity, no regressor).
- MR … MRPC: test accuracy ``acc`` (never ``devacc``); no split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hncse.evaluation.errors import EvaluationError


@dataclass(frozen=True)
class Task:
    """One task of the catalogue and where its headline number is in eval.json."""

    name: str  # key in eval.json's "tasks"
    group: Literal["sts", "transfer"]
    label: str  # column header in tables
    split: str  # split (or STS aggregation) of the headline number; "" for transfer tasks
    metric: str  # "spearman" or "acc"


TASKS: tuple[Task, ...] = (
    *(Task(f"STS1{i}", "sts", f"STS1{i}", "all", "spearman") for i in range(2, 7)),
    Task("STSBenchmark", "sts", "STS-B", "test", "spearman"),
    Task("SICKRelatedness", "sts", "SICK-R", "test", "spearman"),
    *(
        Task(name, "transfer", label, "", "acc")
        for name, label in (
            ("MR", "MR"),
            ("CR", "CR"),
            ("SUBJ", "SUBJ"),
            ("MPQA", "MPQA"),
            ("SST2", "SST"),
            ("TREC", "TREC"),
            ("MRPC", "MRPC"),
        )
    ),
)
BY_NAME: dict[str, Task] = {task.name: task for task in TASKS}
GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(task.name for task in TASKS if task.group == group)
    for group in ("sts", "transfer")
}


def resolve_tasks(selection: str) -> list[str]:
    """``"sts,transfer"``, ``"STS12,MR"``, ``"sts,mrpc"``... -> task names in order, once each
    (group and task names are case-insensitive)."""
    by_lower = {name.lower(): name for name in BY_NAME}
    names: list[str] = []
    for item in (part.strip() for part in selection.split(",")):
        if not item:
            continue
        if item.lower() in GROUPS:
            chosen = GROUPS[item.lower()]
        elif item.lower() in by_lower:
            chosen = (by_lower[item.lower()],)
        else:
            known = ", ".join([*GROUPS, *BY_NAME])
            raise EvaluationError(f"unknown task or group {item!r}; choose from {known}")
        names += [name for name in chosen if name not in names]
    if not names:
        raise EvaluationError("no task selected")
    return names
