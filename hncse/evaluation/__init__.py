"""SentEval-protocol evaluation (docs/protocol.md, docs/evaluation.md).

One module per task family (``sts``, ``sts_cosine``, ``binary``, ``sst``, ``trec``,
``mrpc``: reader + evaluator), shared pieces (``classifier``: batched logistic regression;
``validation``: SentEval's validation schemes; ``reference``: the one-at-a-time loop the
batched classifier is checked against; ``encoding``: encoders and the embedding cache;
``results``: the typed result record; ``errors``), the registry (``tasks``), the ``runner``
and ``cli`` (``hncse evaluate``).
"""

from hncse.evaluation.encoding import encoder_source, function_source
from hncse.evaluation.runner import Evaluation, evaluate
from hncse.evaluation.sts_cosine import stsb_dev_spearman
from hncse.evaluation.tasks import GROUPS, TASKS, resolve_tasks

__all__ = ["GROUPS", "TASKS", "Evaluation", "encoder_source", "evaluate", "function_source",
           "resolve_tasks", "stsb_dev_spearman"]
