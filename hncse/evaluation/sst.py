"""SST2: binary sentiment with a train / dev / test split (``senteval/sst.py``, binary).

``SST/binary/sentiment-{train,dev,test}``: UTF-8, ``sentence<TAB>label`` with label 0 or 1;
67349 / 872 / 1821 samples. Each split is sorted as SentEval sorts it; the classifier is
SentEval's ``SplitClassifier``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from hncse.evaluation.base import EvalContext, Lookup, TaskOutcome
from hncse.evaluation.reading import check_count, columns, label, read_lines
from hncse.evaluation.transfer import Labelled, labelled, stratified_subset, timed_result
from hncse.evaluation.validation import split_then_test

SPLITS = (
    ("train", "sentiment-train", 67349),
    ("dev", "sentiment-dev", 872),
    ("test", "sentiment-test", 1821),
)


def read_split(path: Path, expected: int, task: str) -> Labelled:
    lines = read_lines(path, "utf-8", task)
    check_count(len(lines), expected, path, "samples")
    tokens, labels = [], []
    for number, line in enumerate(lines, start=1):
        sentence, value = columns(line, path, number, 2)
        labels.append(int(label(value, path, number, {"0", "1"})))
        tokens.append(sentence.split())
    return labelled(tokens, labels)


@dataclass(frozen=True)
class LoadedSST:
    name: str
    splits: dict[str, Labelled]
    files: tuple[Path, ...]

    def sentences(self) -> list[str]:
        return [s for split in self.splits.values() for s in split.sentences]

    def limit_training(self, max_samples: int) -> LoadedSST:
        train = self.splits["train"]
        subset = train.take(stratified_subset(train.labels, max_samples))
        return replace(self, splits={**self.splits, "train": subset})

    def evaluate(self, embed: Lookup, context: EvalContext) -> TaskOutcome:
        parts = {
            name: (embed(split.sentences), split.labels) for name, split in self.splits.items()
        }
        return timed_result(
            lambda: split_then_test(
                parts["train"],
                parts["dev"],
                parts["test"],
                2,
                context.classifier,
                context.device,
                context.fitter,
            ),
            n=len(self.splits["train"]),
            ntest=len(self.splits["test"]),
        )


@dataclass(frozen=True)
class SSTSpec:
    name: str = "SST2"
    folder: str = "SST/binary"
    family: str = "classification"

    def load(self, senteval: Path) -> LoadedSST:
        paths = {name: senteval / self.folder / file for name, file, _ in SPLITS}
        splits = {name: read_split(paths[name], count, self.name) for name, _, count in SPLITS}
        return LoadedSST(self.name, splits, tuple(paths.values()))


SPECS: tuple[SSTSpec, ...] = (SSTSpec(),)
