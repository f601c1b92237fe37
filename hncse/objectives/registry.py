"""Training methods by name or by reference (docs/methods.md).

A config's ``method`` is a built-in name (:data:`BUILT_IN`), a name registered in this
process (:func:`register_method`), a ``module:object`` path of an importable
:class:`~hncse.objectives.method.Method` subclass, or a file ``path/to/file.py[:object]``
(without ``:object``, the one Method subclass the file defines). Light on purpose:
TrainConfig resolves a method, and the workflow plans studies, importing the method's
module only (the built-in ones import torch inside their functions).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Protocol

from hncse.objectives.method import Method, MethodOptions


class MethodConfig(Protocol):
    """What :func:`build_method` reads of a training config (``hncse.config.TrainConfig``,
    which imports this module: a structural type keeps the import one way)."""

    method: str

    def method_options(self) -> MethodOptions: ...


BUILT_IN: dict[str, str] = {
    "simcse": "hncse.objectives.methods:SimCSE",
    "hncse-pm": "hncse.objectives.methods:HNCSEPositiveMixing",
    "hncse-hnm": "hncse.objectives.methods:HNCSEHardNegativeMixing",
    "hncse": "hncse.objectives.methods:HNCSE",
    "mixcse": "hncse.objectives.methods:MixCSE",
    "esimcse": "hncse.objectives.esimcse:ESimCSE",
}
_REGISTERED: dict[str, type[Method]] = {}


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator: name ``cls`` by its ``name`` in this process (tests, notebooks)."""
    if cls.name in BUILT_IN or cls.name in _REGISTERED:
        raise ValueError(f"method {cls.name!r} is already registered")
    _REGISTERED[cls.name] = cls
    return cls


def available_methods() -> list[str]:
    return sorted({*BUILT_IN, *_REGISTERED})


def is_reference(method: str) -> bool:
    """Whether ``method`` names code (``module:object`` or a .py file), not a method name."""
    return ":" in method or method.endswith(".py")


def load_method(method: str) -> type[Method]:
    """The Method subclass ``method`` names; ValueError naming it when it names none."""
    if method in _REGISTERED:
        return _REGISTERED[method]
    if method not in BUILT_IN and not is_reference(method):
        raise ValueError(
            f"unknown method {method!r}; choose one of {', '.join(available_methods())}, "
            "or give module:object or path/to/file.py[:object]"
        )
    return _load_reference(BUILT_IN.get(method, method))


@cache
def _load_reference(reference: str) -> type[Method]:
    location, _, attribute = reference.rpartition(":") if ":" in reference else (reference, "", "")
    try:
        module = _import_file(Path(location)) if location.endswith(".py") else None
        module = module or importlib.import_module(location)
    except (ImportError, OSError, SyntaxError) as error:
        raise ValueError(f"method {reference!r}: cannot import {location} ({error})") from None
    if attribute:
        found = getattr(module, attribute, None)
        candidates = [found] if inspect.isclass(found) and issubclass(found, Method) else []
    else:
        candidates = [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and issubclass(value, Method)
            and value.__module__ == module.__name__
        ]
    if len(candidates) != 1:
        raise ValueError(
            f"method {reference!r}: {location} defines {len(candidates)} Method subclasses "
            f"{'named ' + attribute if attribute else ''}; give path:ClassName of one"
        )
    return candidates[0]


def _import_file(path: Path) -> ModuleType:
    """Import a method file once per process under a name derived from its path."""
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise ImportError(f"no such file {path}")
    name = f"hncse_method_{resolved.stem}_{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    assert spec is not None and spec.loader is not None  # a .py file always has a loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build_method(config: MethodConfig) -> Method:
    """The method of ``config`` with its validated options."""
    return load_method(config.method)(config.method_options())
