"""MR, CR, SUBJ, MPQA: binary sentence classification with nested cross-validation.

Two files of sentences, one a line, read as latin-1 and split as SentEval does
(``senteval/binary.py``: ``read().splitlines()``, empty lines kept as empty samples); the
first file is label 1, the second label 0 (SUBJ: objective = 1, subjective = 0).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.reading import check_count, read_lines
from hncse.evaluation.transfer import Labelled, labelled, stratified_subset, timed_result
from hncse.evaluation.validation import nested_cv


@dataclass(frozen=True)
class LoadedBinary:
    name: str
    data: Labelled
    files: tuple[Path, ...]

    def sentences(self) -> list[str]:
        return self.data.sentences

    def limit_training(self, max_samples: int) -> LoadedBinary:
        """Cross-validation trains and tests on the whole set, so the whole set is cut."""
        return replace(self, data=self.data.take(stratified_subset(self.data.labels, max_samples)))

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        features = embed(self.data.sentences)
        return timed_result(
            lambda: nested_cv(
                features, self.data.labels, 2, context.classifier, context.device, context.fitter
            ),
            n=len(self.data),
            ntest=len(self.data),
        )


@dataclass(frozen=True)
class BinarySpec:
    """Folder, the label-1 file and the label-0 file, with their line counts."""

    name: str
    folder: str
    positive: tuple[str, int]
    negative: tuple[str, int]
    family: str = "classification"

    def load(self, senteval: Path) -> LoadedBinary:
        tokens: list[list[str]] = []
        labels: list[int] = []
        paths = []
        for (file, expected), label in ((self.positive, 1), (self.negative, 0)):
            path = senteval / self.folder / file
            lines = read_lines(path, "latin-1", self.name)
            check_count(len(lines), expected, path, "sentences")
            tokens += [line.split() for line in lines]
            labels += [label] * len(lines)
            paths.append(path)
        return LoadedBinary(self.name, labelled(tokens, labels), tuple(paths))


SPECS: tuple[BinarySpec, ...] = (
    BinarySpec("MR", "MR", ("rt-polarity.pos", 5331), ("rt-polarity.neg", 5331)),
    BinarySpec("CR", "CR", ("custrev.pos", 2407), ("custrev.neg", 1368)),
    BinarySpec("SUBJ", "SUBJ", ("subj.objective", 5000), ("subj.subjective", 5000)),
    BinarySpec("MPQA", "MPQA", ("mpqa.pos", 3312), ("mpqa.neg", 7294)),
)
