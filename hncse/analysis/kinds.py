"""The analysis kinds, each declared once where its analysis is defined.

A kind names an analysis of the study spec (``analysis:``), the setting(s) it sweeps by
default (its axes) and the report section its output opens (where an error is shown when
it fails). :func:`analysis_kind` registers a function as a kind; :func:`registry` returns
every kind, importing the modules that declare them. The workflow's config schema lists
the same names (tests/test_analysis_kinds.py checks it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hncse.analysis.analyses import StudyData
    from hncse.analysis.sections import Section

Analyzer = Callable[["StudyData"], list["Section"]]
#: the modules whose functions declare the kinds, in report order
MODULES = ("hncse.analysis.ablation", "hncse.analysis.sweeps", "hncse.analysis.space")


@dataclass(frozen=True)
class AnalysisKind:
    name: str
    axes: tuple[str, ...]  # the swept setting(s) by default; () when nothing is swept
    section: str  # the report section key of its first section
    run: Analyzer


_KINDS: dict[str, AnalysisKind] = {}


def analysis_kind(
    name: str, section: str, axes: tuple[str, ...] = ()
) -> Callable[[Analyzer], Analyzer]:
    """Register the decorated function as the analysis called ``name``."""

    def register(function: Analyzer) -> Analyzer:
        if name in _KINDS:
            raise ValueError(f"analysis kind {name!r} declared twice")
        _KINDS[name] = AnalysisKind(name, axes, section, function)
        return function

    return register


def registry() -> dict[str, AnalysisKind]:
    """Every analysis kind, in report order."""
    for module in MODULES:
        importlib.import_module(module)
    return dict(_KINDS)
