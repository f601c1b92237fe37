"""``max_train_samples``: transfer tasks trained on a stratified subset, test sets whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hncse.data_root import senteval_dir
from hncse.evaluation.encoding import glove_source
from hncse.evaluation.errors import EvaluationError
from hncse.evaluation.runner import evaluate
from hncse.evaluation.tasks import TASK_SPECS
from hncse.evaluation.transfer import stratified_subset


def test_subset_keeps_class_proportions_and_order() -> None:
    labels = np.array([0] * 700 + [1] * 300)
    chosen = stratified_subset(labels, 200)
    assert len(chosen) == 200 and len(set(chosen)) == 200
    assert np.all(np.diff(chosen) > 0)  # original (SentEval) order
    assert np.bincount(labels[chosen]).tolist() == [140, 60]
    assert np.array_equal(chosen, stratified_subset(labels, 200))  # same for every encoder


def test_subset_of_a_small_set_is_the_set_and_too_small_a_limit_is_refused() -> None:
    labels = np.array([0, 1] * 60)
    assert np.array_equal(stratified_subset(labels, 1000), np.arange(120))
    with pytest.raises(EvaluationError, match="max_train_samples=50"):
        stratified_subset(labels, 50)


def train_and_test(task: object) -> tuple[object, object]:
    """A loaded task's training data and test data (cross-validated tasks: the set twice)."""
    if hasattr(task, "splits"):
        return task.splits["train"], task.splits["test"]
    if hasattr(task, "train"):
        return task.train, task.test
    return task.data, task.data


@pytest.mark.parametrize("task", ["MR", "SST2", "TREC", "MRPC"])
def test_training_data_are_cut_and_test_data_kept(data_root: Path, task: str) -> None:
    loaded = TASK_SPECS[task].load(senteval_dir(data_root))
    limited = loaded.limit_training(500)
    assert set(limited.sentences()) <= set(loaded.sentences())
    train, test = train_and_test(limited)
    assert len(train) == 500
    if task == "MR":  # cross-validated: the whole set is the training data
        lengths = [len(s.split()) for s in train.sentences]
        assert lengths == sorted(lengths)  # still in SentEval's order
    else:
        assert test is train_and_test(loaded)[1]


def test_evaluation_records_the_limit_and_leaves_sts_alone(data_root: Path) -> None:
    full = evaluate(
        "STS16,TREC", glove_source(), data_root=data_root, mode="fasttest", cache_dir=None
    ).result
    cut = evaluate(
        "STS16,TREC",
        glove_source(),
        data_root=data_root,
        mode="fasttest",
        cache_dir=None,
        max_train_samples=300,
    ).result
    assert full.max_train_samples is None and cut.max_train_samples == 300
    assert "max_train_samples" not in full.model_dump()  # the full protocol's record as before
    assert (full.tasks["TREC"].n, cut.tasks["TREC"].n) == (5452, 300)
    assert cut.tasks["TREC"].ntest == 500
    assert cut.tasks["STS16"] == full.tasks["STS16"].model_copy(
        update={"seconds": cut.tasks["STS16"].seconds}
    )
