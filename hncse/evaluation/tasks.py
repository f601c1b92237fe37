"""The task registry: every task of the catalogue (catalogue.py) with the spec of its family
that reads and evaluates it."""

from __future__ import annotations

from hncse.evaluation import binary, mrpc, sst, sts, sts_cosine, trec
from hncse.evaluation.base import TaskSpec
from hncse.evaluation.catalogue import BY_NAME, GROUPS, resolve_tasks

_SPECS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (*sts.SPECS, *sts_cosine.SPECS, *binary.SPECS, *sst.SPECS, *trec.SPECS, *mrpc.SPECS)
}
# Task name -> the spec that reads and scores it, in the catalogue's order (the catalogue's
# TASKS is the tuple of task metadata); tests/test_evaluation_readers.py checks both list
# the same tasks.
TASK_SPECS: dict[str, TaskSpec] = {name: _SPECS[name] for name in BY_NAME}

__all__ = ["GROUPS", "TASK_SPECS", "resolve_tasks"]
