"""TREC: 6-class question type (``senteval/trec.py``).

``TREC/train_5500.label`` (5452) and ``TREC_10.label`` (500), latin-1, lines like
``DESC:manner How did serfdom develop ... ?``: the coarse label before ``:``, the fine label
up to the first space (dropped), then the question. k-fold on train chooses the penalty,
the refit on all of train is scored on test (SentEval's ``KFoldClassifier``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.reading import DataFormatError, check_count, label, read_lines
from hncse.evaluation.transfer import Labelled, labelled, stratified_subset, timed_result
from hncse.evaluation.validation import kfold_then_test

CLASSES = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")  # SentEval's label ids 0..5


def read_file(path: Path, expected: int, task: str) -> Labelled:
    lines = read_lines(path, "latin-1", task)
    check_count(len(lines), expected, path, "questions")
    tokens, labels = [], []
    for number, line in enumerate(lines, start=1):
        coarse, colon, rest = line.strip().partition(":")
        fine_and_question = rest.split(" ", 1)
        if not colon or len(fine_and_question) != 2:
            raise DataFormatError(path, number,
                                  f"expected 'COARSE:fine question ...', found {line!r}")
        labels.append(CLASSES.index(label(coarse, path, number, CLASSES)))
        tokens.append(fine_and_question[1].split())
    return labelled(tokens, labels)


@dataclass(frozen=True)
class LoadedTREC:
    name: str
    train: Labelled
    test: Labelled
    files: tuple[Path, ...]

    def sentences(self) -> list[str]:
        return self.train.sentences + self.test.sentences

    def limit_training(self, max_samples: int) -> LoadedTREC:
        return replace(self, train=self.train.take(stratified_subset(self.train.labels,
                                                                     max_samples)))

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        train = (embed(self.train.sentences), self.train.labels)
        test = (embed(self.test.sentences), self.test.labels)
        return timed_result(
            lambda: kfold_then_test(train, test, len(CLASSES), context.classifier,
                                    context.device, context.fitter),
            n=len(self.train), ntest=len(self.test))


@dataclass(frozen=True)
class TRECSpec:
    name: str = "TREC"
    folder: str = "TREC"
    family: str = "classification"

    def load(self, senteval: Path) -> LoadedTREC:
        train_path = senteval / self.folder / "train_5500.label"
        test_path = senteval / self.folder / "TREC_10.label"
        return LoadedTREC(self.name, read_file(train_path, 5452, self.name),
                          read_file(test_path, 500, self.name), (train_path, test_path))


SPECS: tuple[TRECSpec, ...] = (TRECSpec(),)
