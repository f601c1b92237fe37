"""MRPC: paraphrase detection on sentence pairs (``senteval/mrpc.py``).

``MRPC/msr_paraphrase_{train,test}.txt``: UTF-8, a header line, then
``Quality<TAB>#1 ID<TAB>#2 ID<TAB>#1 String<TAB>#2 String``; 4076 / 1725 pairs. Pairs are
sorted by (tokens of A, tokens of B, label); features are ``np.c_[|u − v|, u ⊙ v]``;
k-fold on train chooses the penalty, the refit is scored on test: accuracy and F1 of
class 1, both ×100 and rounded to 2 decimals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hncse.evaluation.base import Lookup
from hncse.evaluation.reading import check_count, columns, label, read_lines
from hncse.evaluation.transfer import TrainTestSpec


@dataclass(frozen=True)
class Pairs:
    first: list[str]
    second: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, indices: np.ndarray) -> Pairs:
        return Pairs(
            [self.first[i] for i in indices],
            [self.second[i] for i in indices],
            self.labels[indices],
        )

    def texts(self) -> list[str]:
        return self.first + self.second

    def features(self, embed: Lookup) -> np.ndarray:
        return pair_features(embed(self.first), embed(self.second))


def read_file(path: Path, expected: int, task: str) -> Pairs:
    lines = read_lines(path, "utf-8", task)[1:]  # header
    check_count(len(lines), expected, path, "pairs")
    rows = []
    for number, line in enumerate(lines, start=2):
        fields = columns(line, path, number, 5)
        value = int(label(fields[0], path, number, {"0", "1"}))
        rows.append((fields[3].split(), fields[4].split(), value))
    rows.sort(key=lambda row: (len(row[0]), len(row[1]), row[2]))  # stable, as SentEval
    return Pairs(
        [" ".join(a) for a, _, _ in rows],
        [" ".join(b) for _, b, _ in rows],
        np.asarray([y for _, _, y in rows], dtype=np.int64),
    )


def pair_features(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """SentEval's MRPC features: ``np.c_[np.abs(u - v), u * v]``."""
    return np.c_[np.abs(first - second), first * second]


SPECS: tuple[TrainTestSpec[Pairs], ...] = (
    TrainTestSpec(
        "MRPC",
        ("msr_paraphrase_train.txt", 4076),
        ("msr_paraphrase_test.txt", 1725),
        read_file,
        nclasses=2,
        with_f1=True,
    ),
)
