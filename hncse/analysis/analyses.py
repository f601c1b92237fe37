"""What every analysis of the study spec reads (:class:`StudyData`) and the helpers they
share; :mod:`hncse.analysis.dispatch` runs each study's analysis.

Every analysis copes with missing data: a study with no runs yet gets its sections with a
"no runs yet" line (and ``not evaluated`` claim rows); single-seed variants are labelled; a
statistic that cannot be computed says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hncse.analysis.collect import Collection
from hncse.analysis.mechanisms import Thresholds
from hncse.analysis.sections import Section, VerdictRow
from hncse.analysis.studies import Study, label_runs, select_runs
from hncse.analysis.tasks import headline_scores

MAX_CURVE_POINTS = 200


@dataclass(frozen=True)
class Options:
    """``n_resamples`` bootstrap replicates (``rng_seed`` seeds them); ``senteval`` is the
    SentEval data folder for CKA's sentences (None: no CKA); ``svg``: also draw SVGs;
    ``thresholds``: when PM counts as having acted (C4)."""

    n_resamples: int = 1000
    rng_seed: int = 0
    senteval: Path | None = None
    svg: bool = True  # figures as SVG too (files for Snakemake); the HTML needs PNG only
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass
class StudyData:
    """A study's runs (with ``variant``/``series``/``context`` labels), their headline
    scores, training summaries and logged steps."""

    study: Study
    collection: Collection
    runs: pd.DataFrame
    scores: pd.DataFrame
    training: pd.DataFrame
    steps: pd.DataFrame
    options: Options

    @property
    def empty(self) -> bool:
        return self.runs.empty

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.options.rng_seed)

    def seed_note(self) -> str | None:
        """A sentence labelling single-seed variants, None when all have several."""
        counts = self.runs.groupby("variant").size()
        single = counts[counts == 1].index.tolist()
        if not single:
            return None
        if len(single) == len(counts):
            return (
                "Single-seed: every variant has one run, so there are no spreads or seed "
                "tests; intervals come from the bootstrap over test pairs only."
            )
        return f"Single-seed variants (no spread): {', '.join(single)}."


def study_data(collection: Collection, study: Study, options: Options) -> StudyData:
    runs = label_runs(select_runs(collection.runs, study), study.swept)
    labels = runs[["run", "variant", "series", "context"]]
    scores = headline_scores(collection.table, runs.drop(columns="path"))
    training_rows = collection.table[
        (collection.table["task"] == "training") & collection.table["run"].isin(runs["run"])
    ]
    training = training_rows.pivot_table(index="run", columns="metric", values="value")
    training = runs.merge(training, left_on="run", right_index=True, how="left")
    steps = collection.steps[collection.steps["run"].isin(runs["run"])].merge(labels, on="run")
    return StudyData(study, collection, runs, scores, training, steps, options)


def no_runs(data: StudyData, key: str, title: str) -> Section:
    section = Section(key, title, data.study.name)
    section.say(
        f"No runs yet for study {data.study.name!r} (its filter matched none of "
        f"the {len(data.collection.runs)} collected runs)."
    )
    return section


def thin(steps: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Training lines averaged within at most MAX_CURVE_POINTS step bins (same bins for
    every run), so that curves over 15k steps stay light and seeds line up."""
    train = steps[steps["kind"] == "train"].dropna(subset=keys, how="all")
    if train.empty:
        return train
    width = max(1, math.ceil(train["step"].max() / MAX_CURVE_POINTS))
    binned = train.assign(step=(train["step"] // width) * width)
    return binned.groupby(["run", "variant", "step"], as_index=False)[keys].mean()


def suffix(context: str) -> str:
    """A context as a file-name suffix."""
    return "" if not context else "_" + "".join(c if c.isalnum() else "-" for c in context)


def in_context(context: str) -> str:
    """A context as a parenthesis for titles."""
    return f" ({context})" if context else ""


def verdicts(sections: list[Section]) -> list[VerdictRow]:
    return [row for section in sections for row in section.verdicts]
