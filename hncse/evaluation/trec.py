"""TREC: 6-class question type (``senteval/trec.py``).

``TREC/train_5500.label`` (5452) and ``TREC_10.label`` (500), latin-1, lines like
``DESC:manner How did serfdom develop ... ?``: the coarse label before ``:``, the fine label
up to the first space (dropped), then the question. k-fold on train chooses the penalty,
the refit on all of train is scored on test (SentEval's ``KFoldClassifier``).
"""

from __future__ import annotations

from pathlib import Path

from hncse.evaluation.reading import DataFormatError, check_count, label, read_lines
from hncse.evaluation.transfer import Labelled, TrainTestSpec, labelled

CLASSES = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")  # SentEval's label ids 0..5


def read_file(path: Path, expected: int, task: str) -> Labelled:
    lines = read_lines(path, "latin-1", task)
    check_count(len(lines), expected, path, "questions")
    tokens, labels = [], []
    for number, line in enumerate(lines, start=1):
        coarse, colon, rest = line.strip().partition(":")
        fine_and_question = rest.split(" ", 1)
        if not colon or len(fine_and_question) != 2:
            raise DataFormatError(
                path, number, f"expected 'COARSE:fine question ...', found {line!r}"
            )
        labels.append(CLASSES.index(label(coarse, path, number, CLASSES)))
        tokens.append(fine_and_question[1].split())
    return labelled(tokens, labels)


SPECS: tuple[TrainTestSpec[Labelled], ...] = (
    TrainTestSpec(
        "TREC", ("train_5500.label", 5452), ("TREC_10.label", 500), read_file, len(CLASSES)
    ),
)
