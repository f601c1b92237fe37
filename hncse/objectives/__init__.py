"""Training methods and their objectives (docs/methods.md, docs/training.md "Objectives").

A method (:class:`Method`, hncse.objectives.method) declares its options, views, state
and loss; the trainer calls ``build_method(config)`` and nothing method-specific. The
built-in methods (``methods``: SimCSE, HNCSE-PM, HNCSE-HNM, HNCSE, MixCSE; ``esimcse``)
map :class:`ObjectiveInputs` (the two views of a batch, the negative bank, a generator) to
:class:`ObjectiveOutput` (the loss and its mechanism statistics).

This package's top level imports no torch: the training config resolves ``method`` and
validates its options while the workflow plans a DAG. ``functional`` (the mathematics),
``hncse`` and ``mixcse`` (the objectives) need torch.
"""

from hncse.objectives.base import Objective, ObjectiveInputs, ObjectiveOutput
from hncse.objectives.method import Method, MethodOptions, Published, StepResult
from hncse.objectives.options import HNMOptions, PMOptions
from hncse.objectives.registry import (
    available_methods,
    build_method,
    load_method,
    register_method,
)

__all__ = [
    "HNMOptions",
    "Method",
    "MethodOptions",
    "Objective",
    "ObjectiveInputs",
    "ObjectiveOutput",
    "PMOptions",
    "Published",
    "StepResult",
    "available_methods",
    "build_method",
    "load_method",
    "register_method",
]
