"""SentEval-protocol evaluation (docs/protocol.md, docs/evaluation.md).

One module per task family (``sts``, ``sts_cosine``, ``binary``, ``sst``, ``trec``,
``mrpc``: reader + evaluator), shared pieces (``classifier``: batched logistic regression;
``validation``: SentEval's validation schemes; ``reference``: the one-at-a-time loop the
batched classifier is checked against; ``encoding``: encoders and the embedding cache;
``results``: the typed result record; ``errors``), the task catalogue (``catalogue``: names,
groups, headline numbers; no torch), the registry (``tasks``), the ``runner`` and ``cli``
(``hncse evaluate``).

The names below are imported on first use, so that ``hncse.evaluation.catalogue`` stays
light (the workflow plans studies with it without importing torch).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GROUPS": "hncse.evaluation.catalogue",
    "resolve_tasks": "hncse.evaluation.catalogue",
    "TASK_SPECS": "hncse.evaluation.tasks",
    "Evaluation": "hncse.evaluation.runner",
    "evaluate": "hncse.evaluation.runner",
    "encoder_source": "hncse.evaluation.encoding",
    "function_source": "hncse.evaluation.encoding",
    "stsb_dev_spearman": "hncse.evaluation.sts_cosine",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
