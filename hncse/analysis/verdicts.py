"""The verdict vocabulary of docs/study.md, defined once: the only words a table, the report or
the README may use for the outcome of a claim (docs/analysis.md repeats the definitions).

A claim with a direction and a size (C1: "beats SimCSE by about 1.2") gets two words: the
direction from :func:`decide` and the size from :func:`decide_size`. The two never compete:
a gain can be reproduced in direction while its size is not. A part of a claim that follows
from the method's definition is *decided by construction* (never a test result); a claim
made of tested parts gets its direction word from :func:`combine`. ``NOT_EVALUATED`` marks a
claim whose data are absent (no runs, or runs that predate the statistics it needs), always
with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ALPHA = 0.05
POWER = 0.80

Direction = Literal["reproduced", "contradicted", "inconclusive"]
Size = Literal["not reproduced", "consistent", "not comparable at this scale"]
Verdict = Direction | Size | Literal["untestable at this scale", "decided by construction"]
REPRODUCED, CONTRADICTED, INCONCLUSIVE = get_args(Direction)
NOT_REPRODUCED, CONSISTENT, NOT_COMPARABLE = get_args(Size)
UNTESTABLE, BY_CONSTRUCTION = "untestable at this scale", "decided by construction"
VERDICTS: tuple[str, ...] = (*get_args(Direction), *get_args(Size), UNTESTABLE, BY_CONSTRUCTION)
NOT_EVALUATED = "not evaluated"  # not a verdict: the data are absent (the reason is shown)
Outcome = Verdict | Literal["not evaluated"]
#: the size word of a claim that states no size
NO_SIZE = ""

DEFINITIONS: dict[str, str] = {
    REPRODUCED: "direction: the corrected interval excludes 0 in the paper's direction "
    "(Holm-adjusted p < 0.05 within the claim's declared family)",
    CONTRADICTED: "direction: the corrected interval excludes 0 in the other direction",
    INCONCLUSIVE: "direction: neither of the above; the minimum detectable effect and the "
    "seeds needed (both at the member's Holm level) are stated",
    NOT_REPRODUCED: "size, only where the runs are in the paper's setting: the corrected "
    "interval excludes the paper's stated effect and the comparison had the power to detect "
    "it (minimum detectable effect at 80% power and the member's Holm level ≤ the stated "
    "effect)",
    CONSISTENT: "size, only where the runs are in the paper's setting: the corrected "
    "interval holds the paper's stated effect",
    NOT_COMPARABLE: "size, wherever the runs are not in the paper's setting (backbone, "
    "corpus and recipe of config/paper.yaml): a proxy's effect size says nothing about the "
    "paper's",
    UNTESTABLE: "the mechanism under test did not act (e.g. PM mixed fewer than 1% of a "
    "run's queries or fewer than 100), with the counts",
    BY_CONSTRUCTION: "the statement follows from the method's definition (the reason is "
    "given); never a test result, never with a p-value",
    NOT_EVALUATED: "no verdict: the claim's data are absent (no runs, or runs that did not "
    "log what it needs), with the reason",
}


@dataclass(frozen=True)
class Evidence:
    """What one part of a claim rests on: the estimate in the claim's units, its corrected
    interval, the Holm-adjusted p within the declared family, the minimum detectable
    effect at the member's Holm level, and the paper's stated effect (None when the paper
    states none)."""

    estimate: float
    low: float
    high: float
    p_holm: float
    mde: float
    paper_effect: float | None = None


def decide(evidence: Evidence | None, direction: int = 1, acted: bool = True) -> Outcome:
    """The direction word for one part. ``direction``: +1 when the paper expects a positive
    difference, −1 a negative one; ``acted``: False when the mechanism did not act."""
    if not acted:
        return UNTESTABLE
    if evidence is None:
        return NOT_EVALUATED
    if evidence.p_holm < ALPHA:
        return REPRODUCED if direction * evidence.estimate > 0 else CONTRADICTED
    return INCONCLUSIVE


def decide_size(evidence: Evidence | None, paper_setting: bool) -> Outcome | Literal[""]:
    """The size word of a part whose claim states an effect (``NO_SIZE`` when it states
    none): judged only where the runs are in the paper's setting."""
    if evidence is None:
        return NOT_EVALUATED
    effect = evidence.paper_effect
    if effect is None:
        return NO_SIZE
    if not paper_setting:
        return NOT_COMPARABLE
    if evidence.low <= effect <= evidence.high:
        return CONSISTENT
    if evidence.mde <= abs(effect):  # NaN (no interval, one seed) compares False
        return NOT_REPRODUCED
    return INCONCLUSIVE


# a claim is as weak as its weakest tested part: the first word found in this order wins
_PRECEDENCE: tuple[str, ...] = (CONTRADICTED, UNTESTABLE, INCONCLUSIVE, REPRODUCED)


def combine(parts: list[Outcome]) -> Outcome:
    """The direction word of a claim made of tested parts: reproduced only when every part
    is; otherwise the weakest part's word (contradicted, untestable, inconclusive, in that
    order). Parts without data are left out (the caller names them); not evaluated when no
    part could be evaluated."""
    evaluated = [p for p in parts if p in _PRECEDENCE]
    if not evaluated:
        return NOT_EVALUATED
    return next(word for word in _PRECEDENCE if word in evaluated)
