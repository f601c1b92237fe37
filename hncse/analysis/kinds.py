"""The analysis kinds, declared once: the name a study spec gives (``analysis:``), the
setting(s) it sweeps by default (its axes) and the report section its output opens (where
an error is shown when it fails). The functions that run them are bound in
:mod:`hncse.analysis.dispatch`; the workflow's config schema lists the same names
(tests/test_analysis_kinds.py checks both).

This module imports only :mod:`hncse.analysis.sections`, so that everything else can
import it: the analyses, the study spec and the dispatcher depend on it, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass

from hncse.analysis.sections import ORDER, Section


@dataclass(frozen=True)
class AnalysisKind:
    name: str
    section: str  # the report section key of its first section
    axes: tuple[str, ...] = ()  # the swept setting(s) by default; () when nothing is swept


#: every kind, in report order
KINDS: dict[str, AnalysisKind] = {
    kind.name: kind
    for kind in (
        AnalysisKind("ablation", "C1"),
        AnalysisKind("grid_km", "grid_km", ("k", "m")),
        AnalysisKind("tau", "tau", ("temperature",)),
        AnalysisKind("theta", "theta", ("theta",)),
        AnalysisKind("beta", "Q1", ("beta",)),
        AnalysisKind("scaling", "Q2-scaling", ("max_sentences",)),
        AnalysisKind("domain", "Q2-domain", ("corpus",)),
        AnalysisKind("embedding_space", "Q3"),
    )
}


def report_order() -> tuple[str, ...]:
    """The claims and training stability first, then the kinds' sections as declared."""
    return (*ORDER, *(kind.section for kind in KINDS.values() if kind.section not in ORDER))


def order_key(section: Section) -> tuple[int, str]:
    order = report_order()
    return order.index(section.key) if section.key in order else len(order), section.study
