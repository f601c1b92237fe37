"""Run each study's analysis: the functions of the kinds of :mod:`hncse.analysis.kinds` —
the ablation claims in :mod:`hncse.analysis.ablation`, the sweeps and Q1/Q2 in
:mod:`hncse.analysis.sweeps`, Q3 in :mod:`hncse.analysis.space`. The top of the analysis
wing: it imports the analyses, none of them imports it. An analysis that fails outright is
shown in its section with its error rather than dropped.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from hncse.analysis import ablation, space, sweeps
from hncse.analysis.analyses import Options, StudyData, study_data
from hncse.analysis.collect import Collection
from hncse.analysis.kinds import KINDS, order_key
from hncse.analysis.sections import Section
from hncse.analysis.studies import Study

Analyzer = Callable[[StudyData], list[Section]]
#: the function of each analysis kind
ANALYSES: dict[str, Analyzer] = {
    "ablation": ablation.ablation,
    "grid_km": sweeps.grid_km,
    "tau": sweeps.tau,
    "theta": sweeps.theta,
    "beta": sweeps.beta,
    "scaling": sweeps.scaling,
    "domain": sweeps.domain,
    "embedding_space": space.embedding_space,
}


def run_studies(collection: Collection, studies: list[Study], options: Options) -> list[Section]:
    """Every study's sections in report order. An analysis that raises is reported in a
    section carrying its error (and on stderr), so one bad study never hides the rest."""
    sections: list[Section] = []
    for study in studies:
        try:
            sections += ANALYSES[study.analysis](study_data(collection, study, options))
        except Exception as error:  # shown in the report, not swallowed
            traceback.print_exc(file=sys.stderr)
            sections.append(
                Section(
                    KINDS[study.analysis].section,
                    study.heading,
                    study.name,
                    error=f"{type(error).__name__}: {error}",
                )
            )
    return sorted(sections, key=order_key)
