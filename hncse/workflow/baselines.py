"""The built-in baselines' runs; each file in baselines/ switches one on (docs/workflow.md).

A baseline is a function ``(planner, study) -> runs``; ``Planner.add_baseline(name,
partial(function, planner))`` registers it. Options come from the config's
``baselines: {<name>: {...}}``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from functools import partial

from hncse.workflow.plan import PlanError, Planner, Study
from hncse.workflow.runs import START, Run

# The SimCSE paper's "BERT [CLS]" / "BERT (first-last avg.)" rows, and the mean.
PRETRAINED_POOLERS = ("cls_before_pooler", "avg", "avg_first_last")


def pretrained_runs(planner: Planner, study: Study) -> list[Run]:
    """Each study backbone as it is, untrained, under several poolers (option ``poolers``):
    ``<backbone>/pretrained-<pooler>/``. ``cls_before_pooler`` is the raw [CLS] state: an
    untrained backbone has no SimCSE MLP."""
    poolers = planner.baseline_options("pretrained").get("poolers", PRETRAINED_POOLERS)
    return [
        planner.encoder_run(
            backbone,
            f"pretrained-{pooler}",
            f"--model {shlex.quote(planner.backbone_model(backbone))} --pooler {pooler}",
            {"pooler": pooler},
        )
        for backbone in study.backbones
        for pooler in poolers
    ]


def start_runs(planner: Planner, study: Study) -> list[Run]:
    """The untrained starting encoder of each study backbone, evaluated with the recipe's
    eval pooler: ``<backbone>/start/``, the reference that tells whether training improved
    the encoder. Refused for a backbone whose recipe re-draws layers: its start differs
    per seed, and each run's training log holds it (the STS-B dev at step 0)."""
    runs = []
    for backbone in study.backbones:
        recipe = planner.recipe(backbone)
        if recipe.reinit_top_layers:
            raise PlanError(
                f"baseline 'start' in study {study.name!r}: backbone {backbone!r} re-draws "
                f"its top {recipe.reinit_top_layers} layers (reinit_top_layers), so its "
                "untrained start differs per seed; drop 'start' from the study's baselines "
                "(each run's step-0 STS-B dev in its training log is its start)"
            )
        runs.append(
            planner.encoder_run(
                backbone,
                START,
                f"--model {shlex.quote(planner.backbone_model(backbone))} "
                f"--pooler {recipe.eval_pooler}",
                {"pooler": recipe.eval_pooler},
            )
        )
    return runs


def glove_runs(planner: Planner, study: Study) -> list[Run]:
    """Averaged GloVe 6B 50d word vectors, one run for all backbones:
    ``glove-6B-50d/glove-avg/``."""
    return [planner.encoder_run("glove-6B-50d", "glove-avg", "--encoder glove")]


def method_runs(planner: Planner, study: Study, name: str, method: str) -> list[Run]:
    """Training ``method`` (a name, module:object or file.py: docs/methods.md) on every
    backbone × settings × seed of the study, like a study's method; the baseline's options
    (config ``baselines: {<name>: ...}``) are training keys applied to its runs only."""
    options = planner.baseline_options(name)
    return [
        planner.trained_run(backbone, method, seed, settings | options)
        for backbone in study.backbones
        for settings in study.settings
        for seed in study.seeds
    ]


BUILT_IN: dict[str, Callable[[Planner, Study], list[Run]]] = {
    "pretrained": pretrained_runs,
    "start": start_runs,
    "glove": glove_runs,
    "mixcse": partial(method_runs, name="mixcse", method="mixcse"),
    "esimcse": partial(method_runs, name="esimcse", method="esimcse"),
}


def add_built_in(planner: Planner, name: str) -> None:
    """Switch on built-in baseline ``name`` (what its file in baselines/ does)."""
    planner.add_baseline(name, partial(BUILT_IN[name], planner))


def add_method(planner: Planner, name: str, method: str) -> None:
    """Switch on baseline ``name``: the runs of training ``method`` (a rule file's
    ``method_baseline(name, method)``, docs/methods.md)."""
    planner.add_baseline(name, partial(method_runs, planner, name=name, method=method))
