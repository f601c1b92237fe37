"""The task registry: every task by name, and the groups ``sts`` and ``transfer``."""

from __future__ import annotations

from hncse.evaluation import binary, mrpc, sst, sts, sts_cosine, trec
from hncse.evaluation.base import TaskSpec
from hncse.evaluation.errors import EvaluationError

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (*sts.SPECS, *sts_cosine.SPECS, *binary.SPECS, *sst.SPECS, *trec.SPECS,
                 *mrpc.SPECS)
}
GROUPS: dict[str, tuple[str, ...]] = {
    "sts": ("STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"),
    "transfer": ("MR", "CR", "SUBJ", "MPQA", "SST2", "TREC", "MRPC"),
}


def resolve_tasks(selection: str) -> list[str]:
    """``"sts,transfer"``, ``"STS12,MR"``, ``"sts,mrpc"``... -> task names in order, once each
    (group and task names are case-insensitive)."""
    by_lower = {name.lower(): name for name in TASKS}
    names: list[str] = []
    for item in (part.strip() for part in selection.split(",")):
        if not item:
            continue
        if item.lower() in GROUPS:
            chosen = GROUPS[item.lower()]
        elif item.lower() in by_lower:
            chosen = (by_lower[item.lower()],)
        else:
            known = ", ".join([*GROUPS, *TASKS])
            raise EvaluationError(f"unknown task or group {item!r}; choose from {known}")
        names += [name for name in chosen if name not in names]
    if not names:
        raise EvaluationError("no task selected")
    return names
