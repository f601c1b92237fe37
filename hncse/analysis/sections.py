"""What an analysis produces: report sections (text, tables, figures) and claim verdicts,
shared by ``hncse aggregate`` (files) and ``hncse report`` (one HTML file)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hncse.analysis.figures import Figure
from hncse.analysis.stats import Interval
from hncse.analysis.tables import Table
from hncse.analysis.verdicts import Outcome

#: claims and questions of docs/study.md, in report order, with what the paper says
CLAIMS: dict[str, str] = {
    "C1": "HNCSE beats SimCSE on STS-B test (paper: by about 1.2 Spearman points).",
    "C2": "The gain holds on every task: STS12–16, STS-B, SICK-R and the 7 transfer tasks.",
    "C3": "HNCSE-PM and HNCSE-HNM each beat SimCSE, and HNCSE beats each of them (STS avg).",
    "C4": "Positive mixing brings the positive closer to the query and farther from the "
    "hardest negative.",
    "C5": "Hard negative mixing makes negatives harder (more similar to the query) than the "
    "in-batch ones.",
}
QUESTIONS: dict[str, str] = {
    "Q1": "Diversity vs difficulty of the synthetic negatives (β sweep).",
    "Q2": "Scaling and domain: does HNM's gain over SimCSE grow, shrink or vanish?",
    "Q3": "Embedding space (alignment, uniformity, CKA to SimCSE) and STS performance.",
}
#: the report opens with the claims and training stability; the sections of the other
#: analysis kinds follow in the order they are declared (:func:`hncse.analysis.kinds.report_order`)
ORDER: tuple[str, ...] = (*CLAIMS, "stability")


@dataclass(frozen=True)
class VerdictRow:
    """The verdict on one claim in one context (the settings its runs share)."""

    claim: str
    study: str
    context: str
    verdict: Outcome
    interval: Interval | None
    detail: str
    n: int | None = None  # seeds (or runs) behind the deciding part
    p_holm: float = math.nan  # its Holm-adjusted p within the declared family
    mde: float = math.nan  # its minimum detectable effect (80% power at ``alpha``)
    part: str = ""  # the part of the claim (C4, C5 are read in parts)
    size: str = ""  # the size word of a claim that states an effect (C1)
    level: float = math.nan  # confidence level of the interval (the member's Holm level)
    alpha: float = math.nan  # the α the verdict uses: 1 − level
    two_way: tuple[float, float] = (math.nan, math.nan)  # counting test-set sampling too
    conditional_only: bool = False  # the verdict's interval excludes 0, the two-way one not
    eps_min: float = math.nan  # almost stochastic order of the deciding member
    conditional_on: str = ""  # what the interval is conditional on


@dataclass
class Section:
    key: str  # one of hncse.analysis.kinds.report_order()
    title: str
    study: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    verdicts: list[VerdictRow] = field(default_factory=list)
    error: str | None = None  # an analysis that failed: shown, never hidden

    def say(self, text: str) -> None:
        self.paragraphs.append(text)
