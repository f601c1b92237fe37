"""The verdict vocabulary of docs/study.md, defined once: the only words a table, the report or
the README may use for the outcome of a claim (docs/analysis.md repeats the definitions).

A part of a claim gets its word from :func:`decide`; a claim made of parts from
:func:`combine`. ``NOT_EVALUATED`` is not a verdict: it marks a claim whose data are absent
(no runs, or runs that predate the statistics it needs), always with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

ALPHA = 0.05
POWER = 0.80

Verdict = Literal[
    "reproduced", "contradicted", "not reproduced", "inconclusive", "untestable at this scale"
]
VERDICTS: tuple[str, ...] = get_args(Verdict)
REPRODUCED, CONTRADICTED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTABLE = VERDICTS
NOT_EVALUATED = "not evaluated"  # not a verdict: the data are absent (the reason is shown)
Outcome = Verdict | Literal["not evaluated"]

DEFINITIONS: dict[str, str] = {
    REPRODUCED: "the corrected interval excludes 0 in the paper's direction "
    "(Holm-adjusted p < 0.05 within the claim's declared family)",
    CONTRADICTED: "the corrected interval excludes 0 in the other direction",
    NOT_REPRODUCED: "the corrected interval excludes the paper's stated effect and the "
    "comparison had the power to detect it (minimum detectable effect at "
    "80% power ≤ the stated effect)",
    INCONCLUSIVE: "neither of the above; the minimum detectable effect and the seeds needed "
    "are stated",
    UNTESTABLE: "the mechanism under test did not act (e.g. PM mixed fewer than 1% of a "
    "run's queries or fewer than 100), with the counts",
    NOT_EVALUATED: "no verdict: the claim's data are absent (no runs, or runs that did not "
    "log what it needs), with the reason",
}


@dataclass(frozen=True)
class Evidence:
    """What one part of a claim rests on: the estimate in the claim's units, its corrected
    interval, the Holm-adjusted p within the declared family, the minimum detectable
    effect, and the paper's stated effect (None when the paper states none)."""

    estimate: float
    low: float
    high: float
    p_holm: float
    mde: float
    paper_effect: float | None = None


def decide(evidence: Evidence | None, direction: int = 1, acted: bool = True) -> Outcome:
    """The word for one part. ``direction``: +1 when the paper expects a positive
    difference, −1 a negative one; ``acted``: False when the mechanism did not act."""
    if not acted:
        return UNTESTABLE
    if evidence is None:
        return NOT_EVALUATED
    if evidence.p_holm < ALPHA:
        return REPRODUCED if direction * evidence.estimate > 0 else CONTRADICTED
    effect = evidence.paper_effect
    if (
        effect is not None
        and evidence.mde <= abs(effect)
        and not (evidence.low <= effect <= evidence.high)
    ):
        return NOT_REPRODUCED
    return INCONCLUSIVE


# a claim is as weak as its weakest part: the first word found in this order wins
_PRECEDENCE: tuple[str, ...] = (CONTRADICTED, NOT_REPRODUCED, UNTESTABLE, INCONCLUSIVE, REPRODUCED)


def combine(parts: list[Outcome]) -> Outcome:
    """A claim made of parts: reproduced only when every part is; otherwise the weakest
    part's word (contradicted, not reproduced, untestable, inconclusive, in that order).
    Parts without data are left out (the caller names them); not evaluated when no part
    could be evaluated."""
    evaluated = [p for p in parts if p != NOT_EVALUATED]
    if not evaluated:
        return NOT_EVALUATED
    return next(word for word in _PRECEDENCE if word in evaluated)
