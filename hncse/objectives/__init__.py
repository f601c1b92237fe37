"""Training objectives, looked up by method name (docs/training.md, "Objectives").

An objective is a callable object built with its own options (``ContrastiveObjective(τ,
pm=PMOptions(...), hnm=HNMOptions(...))``, ``MixCSEObjective(τ, λ)``) that maps
:class:`ObjectiveInputs` (the two dropout views of a batch, the negative bank, a generator)
to :class:`ObjectiveOutput` (the loss and its mechanism statistics). The trainer calls
``build_objective(config.method, config.objective_options())``.

This package's top level imports no torch: the training config validates ``method`` with
:func:`available_objectives` while the workflow plans a DAG. ``functional`` (the
mathematics), ``hncse`` and ``mixcse`` (the objectives) need torch.
"""

from hncse.objectives.base import Objective, ObjectiveInputs, ObjectiveOutput
from hncse.objectives.options import HNMOptions, ObjectiveOptions, PMOptions
from hncse.objectives.registry import available_objectives, build_objective, register_objective

__all__ = [
    "HNMOptions",
    "Objective",
    "ObjectiveInputs",
    "ObjectiveOptions",
    "ObjectiveOutput",
    "PMOptions",
    "available_objectives",
    "build_objective",
    "register_objective",
]
