"""Tests of ``hncse.analysis.collect`` on synthetic run folders with known answers (the
folders: tests/conftest.py, shared by every analysis and report test)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Run, ablation_runs, write_results, write_run

from hncse.analysis.collect import collect, read_run_info
from hncse.analysis.tasks import STS_AVG, STS_TASKS, headline_scores


def test_collect_builds_the_tidy_table(tmp_path: Path) -> None:
    write_results(tmp_path, ablation_runs(seeds=(1, 2)))
    collection = collect(tmp_path)
    table = collection.table
    assert len(collection.runs) == 8 and not collection.skipped
    for column in (
        "run",
        "method",
        "backbone",
        "seed",
        "k",
        "temperature",
        "task",
        "split",
        "metric",
        "value",
    ):
        assert column in table, column
    assert "output_dir" not in table and "path" not in table  # not settings
    stsb = table[
        (table["task"] == "STSBenchmark")
        & (table["split"] == "test")
        & (table["metric"] == "spearman")
    ]
    assert len(stsb) == 8
    mechanism = table[(table["task"] == "training") & (table["metric"] == "pm/frac_clear")]
    assert set(mechanism["method"]) == {"hncse-pm", "hncse"}  # only methods with PM
    assert mechanism["value"].between(0.6, 0.8).all()
    space = table[table["task"] == "embedding_space"]
    assert set(space["metric"]) == {"alignment", "uniformity", "positive_pairs", "sentences"}
    assert set(collection.steps["kind"]) == {"train", "eval"}


def test_headline_scores_use_the_papers_numbers(tmp_path: Path) -> None:
    write_results(tmp_path, [Run("simcse", 1)])
    collection = collect(tmp_path)
    scores = headline_scores(collection.table, collection.runs).iloc[0]
    evaluation = json.loads(next(tmp_path.rglob("eval.json")).read_text())["tasks"]
    assert scores["STS12"] == pytest.approx(evaluation["STS12"]["all"]["spearman"])
    assert scores["STS-B"] == pytest.approx(
        evaluation["STSBenchmark"]["splits"]["test"]["spearman"]
    )
    assert scores["MR"] == pytest.approx(evaluation["MR"]["acc"])  # acc, never devacc
    assert scores[STS_AVG] == pytest.approx(np.mean([scores[t.label] for t in STS_TASKS]))


def test_run_json_wins_over_train_summary(tmp_path: Path) -> None:
    folder = write_run(tmp_path, Run("simcse", 7))
    (folder / "run.json").write_text(
        json.dumps(
            {"method": "pretrained", "backbone": "b", "seed": None, "settings": {"pooler": "avg"}}
        )
    )
    info = read_run_info(folder, tmp_path)
    assert (info.method, info.backbone, info.seed, info.settings) == (
        "pretrained",
        "b",
        None,
        {"pooler": "avg"},
    )


def test_bad_folders_are_skipped_with_their_reason(tmp_path: Path) -> None:
    write_results(tmp_path, [Run("simcse", 1), Run("hncse", 1)])
    broken = tmp_path / "runs" / "broken"
    broken.mkdir()
    (broken / "eval.json").write_text("{}")  # no metadata beside it
    log = next(tmp_path.rglob("hncse/seed1/train_log.jsonl"))
    log.write_text(log.read_text() + '{"kind": "train", "st')  # a log being written
    collection = collect(tmp_path)
    assert sorted(collection.runs["method"]) == ["hncse", "simcse"]
    assert len(collection.skipped) == 1 and "runs/broken" in collection.skipped[0]
    assert "run.json" in collection.skipped[0]


def test_mixed_type_settings_survive_parquet(tmp_path: Path) -> None:
    write_results(
        tmp_path,
        [
            Run("hncse", 1, settings={"alpha": "uniform"}),
            Run("hncse", 2, settings={"alpha": 0.5}),
            Run("hncse", 3, settings={"max_sentences": 1000}),
        ],
    )
    collection = collect(tmp_path)
    collection.table.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert set(back["alpha"].dropna()) == {"uniform", "0.5"}
    assert pd.api.types.is_numeric_dtype(collection.runs["max_sentences"])
    assert pd.api.types.is_numeric_dtype(collection.runs["k"])
