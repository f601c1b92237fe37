"""STS12–STS16: unsupervised semantic textual similarity (cosine, no training).

Files ``STS/STS1x-en-test/STS.input.<subset>.txt`` (two tab-separated sentences a line) and
``STS.gs.<subset>.txt`` (one gold score in [0, 5] a line, empty for unscored pairs, which
are dropped), as SentEval's ``senteval/sts.py`` reads them. Aggregations as in SimCSE's
fork: ``all`` = Pearson/Spearman over all subsets' pairs concatenated (the headline),
``mean`` = plain mean of the subsets' values, ``wmean`` = mean weighted by subset size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.reading import DataFormatError, check_count, join_tokens, number, read_lines
from hncse.evaluation.results import Correlation, STSResult
from hncse.evaluation.similarity import PairSet, correlation, cosine_scores, pair_frame

GOLD_RANGE = (0.0, 5.0)


@dataclass(frozen=True)
class Subset:
    """One subset and the protocol's counts: input lines, and pairs with a gold score."""

    name: str
    lines: int
    pairs: int


def read_subset(folder: Path, subset: Subset, task: str) -> PairSet:
    """Read one subset, checking line counts, two sentences a line and numeric gold scores."""
    input_path = folder / f"STS.input.{subset.name}.txt"
    gold_path = folder / f"STS.gs.{subset.name}.txt"
    inputs = read_lines(input_path, "utf-8", task)
    golds = read_lines(gold_path, "utf-8", task)
    check_count(len(inputs), subset.lines, input_path, "lines")
    check_count(len(golds), subset.lines, gold_path, "lines")
    first, second, scores = [], [], []
    for line_number, (line, gold) in enumerate(zip(inputs, golds, strict=True), start=1):
        if gold == "":  # unscored pair: SentEval drops it
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataFormatError(
                input_path, line_number, f"expected 2 tab-separated sentences, found {len(fields)}"
            )
        scores.append(number(gold, gold_path, line_number, *GOLD_RANGE, "gold score"))
        first.append(join_tokens(fields[0]))
        second.append(join_tokens(fields[1]))
    check_count(len(scores), subset.pairs, gold_path, "scored pairs")
    return PairSet(first, second, np.asarray(scores, dtype=np.float64))


def mean_correlation(parts: list[Correlation], weighted: bool) -> Correlation:
    """Mean (or n-weighted mean) of the subsets' correlations; ``n`` = all pairs."""
    weights = [part.n for part in parts] if weighted else None

    def average(values: list[float | None]) -> float | None:
        if any(value is None for value in values):
            return None
        return float(np.average(np.asarray(values, dtype=np.float64), weights=weights))

    return Correlation(
        pearson=average([p.pearson for p in parts]),
        spearman=average([p.spearman for p in parts]),
        n=sum(part.n for part in parts),
    )


@dataclass(frozen=True)
class LoadedSTS:
    name: str
    subsets: dict[str, PairSet]
    files: tuple[Path, ...]

    def sentences(self) -> list[str]:
        return [s for pairs in self.subsets.values() for s in pairs.sentences()]

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        start = time.perf_counter()
        per_subset: dict[str, Correlation] = {}
        frames, all_scores, all_gold = [], [], []
        for subset, pairs in self.subsets.items():
            scores = cosine_scores(embed(pairs.first), embed(pairs.second))
            per_subset[subset] = correlation(scores, pairs.gold)
            frames.append(pair_frame(self.name, subset, pairs.gold, scores))
            all_scores.append(scores)
            all_gold.append(pairs.gold)
        parts = list(per_subset.values())
        result = STSResult(
            subsets=per_subset,
            all=correlation(np.concatenate(all_scores), np.concatenate(all_gold)),
            mean=mean_correlation(parts, weighted=False),
            wmean=mean_correlation(parts, weighted=True),
            seconds=time.perf_counter() - start,
        )
        return TaskOutcome(result, pd.concat(frames, ignore_index=True))


@dataclass(frozen=True)
class STSSpec:
    """An STS year: its folder under ``STS/`` and its subsets in SentEval's order."""

    name: str
    folder: str
    subsets: tuple[Subset, ...]
    family: str = "sts"

    def load(self, senteval: Path) -> LoadedSTS:
        folder = senteval / "STS" / self.folder
        data = {s.name: read_subset(folder, s, self.name) for s in self.subsets}
        files = tuple(
            folder / f"STS.{kind}.{s.name}.txt" for s in self.subsets for kind in ("input", "gs")
        )
        return LoadedSTS(self.name, data, files)


def _subsets(*rows: tuple[str, int, int]) -> tuple[Subset, ...]:
    return tuple(Subset(*row) for row in rows)


# Counts: the SentEval data's line counts and scored pairs (protocol: STS12 3108, STS13 1500,
# STS14 3750, STS15 3000, STS16 1186). STS13's SMT subset has no input file and is left out.
SPECS: tuple[STSSpec, ...] = (
    STSSpec(
        "STS12",
        "STS12-en-test",
        _subsets(
            ("MSRpar", 750, 750),
            ("MSRvid", 750, 750),
            ("SMTeuroparl", 459, 459),
            ("surprise.OnWN", 750, 750),
            ("surprise.SMTnews", 399, 399),
        ),
    ),
    STSSpec(
        "STS13",
        "STS13-en-test",
        _subsets(("FNWN", 189, 189), ("headlines", 750, 750), ("OnWN", 561, 561)),
    ),
    STSSpec(
        "STS14",
        "STS14-en-test",
        _subsets(
            ("deft-forum", 450, 450),
            ("deft-news", 300, 300),
            ("headlines", 750, 750),
            ("images", 750, 750),
            ("OnWN", 750, 750),
            ("tweet-news", 750, 750),
        ),
    ),
    STSSpec(
        "STS15",
        "STS15-en-test",
        _subsets(
            ("answers-forums", 2000, 375),
            ("answers-students", 1500, 750),
            ("belief", 2000, 375),
            ("headlines", 1500, 750),
            ("images", 1500, 750),
        ),
    ),
    STSSpec(
        "STS16",
        "STS16-en-test",
        _subsets(
            ("answer-answer", 1572, 254),
            ("headlines", 1498, 249),
            ("plagiarism", 1271, 230),
            ("postediting", 3287, 244),
            ("question-question", 1555, 209),
        ),
    ),
)
