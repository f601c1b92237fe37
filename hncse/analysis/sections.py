"""What an analysis produces: report sections (text, tables, figures) and claim verdicts,
shared by ``hncse aggregate`` (files) and ``hncse report`` (one HTML file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hncse.analysis.figures import Figure
from hncse.analysis.stats import Interval, Verdict
from hncse.analysis.tables import Table

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
#: report order of section keys; sweeps and stability sit between the claims and questions
ORDER: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5", "stability", "grid_km", "tau",
                          "theta", "Q1", "Q2-scaling", "Q2-domain", "Q3")


@dataclass(frozen=True)
class VerdictRow:
    """The verdict on one claim in one context (the settings its runs share)."""

    claim: str
    study: str
    context: str
    verdict: Verdict
    interval: Interval | None
    detail: str


@dataclass
class Section:
    key: str  # one of ORDER
    title: str
    study: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    verdicts: list[VerdictRow] = field(default_factory=list)
    error: str | None = None  # an analysis that failed: shown, never hidden

    def say(self, text: str) -> None:
        self.paragraphs.append(text)


def order_key(section: Section) -> tuple[int, str]:
    return ORDER.index(section.key) if section.key in ORDER else len(ORDER), section.study
