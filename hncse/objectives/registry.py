"""Training methods by name: each builds its objective from :class:`ObjectiveOptions`.

Light on purpose: TrainConfig checks ``method`` against these names, and the workflow plans
studies, without importing torch; an objective's module is imported when it is built. A
baseline (or a test) adds a method with ``@register_objective("name")`` on a function
``(options) -> objective``.
"""

from __future__ import annotations

from collections.abc import Callable

from hncse.objectives.base import Objective
from hncse.objectives.options import ObjectiveOptions

ObjectiveFactory = Callable[[ObjectiveOptions], Objective]
_REGISTRY: dict[str, ObjectiveFactory] = {}


def register_objective(name: str) -> Callable[[ObjectiveFactory], ObjectiveFactory]:
    def decorator(factory: ObjectiveFactory) -> ObjectiveFactory:
        if name in _REGISTRY:
            raise ValueError(f"objective {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorator


def available_objectives() -> list[str]:
    return sorted(_REGISTRY)


def build_objective(name: str, options: ObjectiveOptions) -> Objective:
    """The objective of method ``name`` with ``options``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; choose one of {', '.join(available_objectives())}"
        ) from None
    return factory(options)


# name -> (positive mixing, hard negative mixing): SimCSE = neither, HNCSE = both.
CONTRASTIVE_METHODS: dict[str, tuple[bool, bool]] = {
    "simcse": (False, False),
    "hncse-pm": (True, False),
    "hncse-hnm": (False, True),
    "hncse": (True, True),
}


def _contrastive(positive_mixing: bool, hard_negative_mixing: bool) -> ObjectiveFactory:
    def factory(options: ObjectiveOptions) -> Objective:
        from hncse.objectives.hncse import ContrastiveObjective  # torch

        return ContrastiveObjective(
            options.temperature,
            pm=options.pm if positive_mixing else None,
            hnm=options.hnm if hard_negative_mixing else None,
        )

    return factory


def mixes_hard_negatives(name: str) -> bool:
    """Whether method ``name`` draws k vectors from the negative bank (HNM)."""
    return CONTRASTIVE_METHODS.get(name, (False, False))[1]


for _name, (_pm, _hnm) in CONTRASTIVE_METHODS.items():
    register_objective(_name)(_contrastive(_pm, _hnm))


@register_objective("mixcse")
def _mixcse(options: ObjectiveOptions) -> Objective:
    from hncse.objectives.mixcse import MixCSEObjective  # torch

    return MixCSEObjective(options.temperature, options.mixcse_lambda)
