"""STS evaluation: the aggregations, the cosine, and sanity on real data and real encoders."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr, spearmanr

from hncse.evaluation import evaluate, function_source, stsb_dev_spearman
from hncse.evaluation.base import EvalContext
from hncse.evaluation.classifier import MODES
from hncse.evaluation.encoding import encode_sentences, glove_source, hf_source
from hncse.evaluation.similarity import PairSet, cosine_scores
from hncse.evaluation.sts import LoadedSTS

CONTEXT = EvalContext(MODES["fasttest"])


def angle_lookup(sentences: list[str]) -> np.ndarray:
    """'x' -> (1, 0); 'y:<c>' -> (c, √(1-c²)): cosine('x', 'y:<c>') = c."""
    rows = []
    for sentence in sentences:
        c = 1.0 if sentence == "x" else float(sentence.split(":")[1])
        rows.append([c, np.sqrt(max(0.0, 1 - c * c))])
    return np.asarray(rows)


def constructed_task(scores: dict[str, np.ndarray], gold: dict[str, np.ndarray]) -> LoadedSTS:
    subsets = {
        name: PairSet(["x"] * len(s), [f"y:{float(v)!r}" for v in s], gold[name])
        for name, s in scores.items()
    }
    return LoadedSTS("STSX", subsets, ())


def test_aggregations_differ_as_they_should() -> None:
    rng = np.random.RandomState(0)
    small_gold = np.linspace(0, 5, 10)
    large_gold = rng.uniform(0, 5, 30)
    # A: perfect but squeezed into [0.8, 0.9]; B: noisy, spread over [-0.5, 0.5]
    scores = {
        "A": 0.8 + small_gold / 50,
        "B": np.clip((large_gold - 2.5) / 5 + rng.normal(0, 0.15, 30), -0.99, 0.99),
    }
    gold = {"A": small_gold, "B": large_gold}
    outcome = constructed_task(scores, gold).evaluate(angle_lookup, CONTEXT)
    result = outcome.result
    rho = {name: spearmanr(scores[name], gold[name]).statistic * 100 for name in scores}
    assert result.subsets["A"].spearman == pytest.approx(100.0)
    assert result.subsets["B"].spearman == pytest.approx(rho["B"])
    assert result.mean.spearman == pytest.approx((rho["A"] + rho["B"]) / 2)
    assert result.wmean.spearman == pytest.approx((10 * rho["A"] + 30 * rho["B"]) / 40)
    pooled = spearmanr(np.r_[scores["A"], scores["B"]], np.r_[small_gold, large_gold])
    assert result.all.spearman == pytest.approx(pooled.statistic * 100)
    assert result.all.pearson == pytest.approx(
        pearsonr(np.r_[scores["A"], scores["B"]], np.r_[small_gold, large_gold]).statistic * 100
    )
    assert result.mean.spearman > result.wmean.spearman  # the small subset is the good one
    assert result.all.spearman != pytest.approx(result.wmean.spearman, abs=1.0)
    assert result.all.n == result.mean.n == result.wmean.n == 40
    assert list(outcome.pairs.columns) == ["task", "subset", "pair_index", "gold", "score"]
    np.testing.assert_allclose(outcome.pairs.score, np.r_[scores["A"], scores["B"]])


def test_cosine_handles_zero_and_nan_vectors_like_senteval() -> None:
    u = np.array([[1.0, 0.0], [0.0, 0.0], [np.nan, 1.0], [3.0, 4.0]])
    v = np.array([[0.0, 2.0], [1.0, 1.0], [0.0, 1.0], [6.0, 8.0]])
    np.testing.assert_allclose(cosine_scores(u, v), [0.0, 0.0, 1.0, 1.0])


def hashed_random(sentences: list[str]) -> np.ndarray:
    """An encoder that ignores meaning: a random vector seeded by the sentence's hash."""
    seeds = [int(hashlib.sha256(s.encode()).hexdigest()[:8], 16) for s in sentences]
    return np.stack([np.random.RandomState(seed).randn(32) for seed in seeds])


def test_random_encoder_scores_near_zero(data_root: Path) -> None:
    result = evaluate(
        "STS12,STSBenchmark",
        function_source(hashed_random, "hashed-random"),
        data_root,
        cache_dir=None,
    ).result
    assert abs(result.tasks["STS12"].all.spearman) < 5
    assert abs(result.tasks["STSBenchmark"].splits["test"].spearman) < 5


def test_shuffled_gold_scores_give_about_zero(data_root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "senteval" / "downstream" / "STS" / "STSBenchmark"
    shutil.copytree(data_root / "senteval/downstream/STS/STSBenchmark", folder)
    for split in ("train", "dev", "test"):
        path = folder / f"sts-{split}.csv"
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
        shuffled = np.random.RandomState(0).permutation([row[4] for row in rows])
        path.write_text(
            "".join(
                "\t".join([*row[:4], score, *row[5:]]) + "\n"
                for row, score in zip(rows, shuffled, strict=True)
            ),
            encoding="utf-8",
        )
    glove = glove_source()
    real = evaluate("STSBenchmark", glove, data_root, cache_dir=None, all_splits=True).result
    shuffled_result = evaluate(
        "STSBenchmark", glove, tmp_path, cache_dir=None, all_splits=True
    ).result
    for split in ("train", "dev", "test"):
        assert real.tasks["STSBenchmark"].splits[split].spearman > 35
        assert abs(shuffled_result.tasks["STSBenchmark"].splits[split].spearman) < 6


def test_random_bert_is_far_below_a_trained_encoder(data_root: Path, tiny_backbone: Path) -> None:
    """A random BERT still sees word overlap (scores ~30-45 here), so it is not at 0, but it
    stays far below a trained encoder (MiniLM: ~79 on STS16)."""
    result = evaluate(
        "STS16",
        hf_source(str(tiny_backbone), "cls_before_pooler", "cpu", None),
        data_root,
        cache_dir=None,
    ).result
    assert result.tasks["STS16"].all.spearman < 55


@pytest.mark.slow
def test_real_minilm_scores_high(data_root: Path, minilm_path: str, tmp_path: Path) -> None:
    evaluation = evaluate(
        "STS16", hf_source(minilm_path, "avg", "cpu", None), data_root, cache_dir=None
    )
    sts16 = evaluation.result.tasks["STS16"]
    assert sts16.all.spearman > 75
    assert min(subset.spearman for subset in sts16.subsets.values()) > 60
    evaluation.write(tmp_path / "eval.json")
    pairs = pd.read_parquet(tmp_path / "eval.pairs.parquet")
    assert len(pairs) == 1186 and set(pairs.subset) == set(sts16.subsets)
    headlines = pairs[pairs.subset == "headlines"]
    assert spearmanr(headlines.score, headlines.gold).statistic * 100 == pytest.approx(
        sts16.subsets["headlines"].spearman
    )


def test_stsb_dev_spearman_matches_the_evaluator(data_root: Path) -> None:
    glove = glove_source()
    expected = evaluate("STSBenchmark", glove, data_root, cache_dir=None, all_splits=True).result
    encode = glove.build()
    value = stsb_dev_spearman(encode, data_root)
    assert value == pytest.approx(expected.tasks["STSBenchmark"].splits["dev"].spearman)
    as_tensor = stsb_dev_spearman(lambda s: torch.from_numpy(encode(s)), data_root)
    assert as_tensor == pytest.approx(value)


def test_constant_encoder_gives_null_correlations_that_round_trip(
    data_root: Path, tmp_path: Path
) -> None:
    from hncse.evaluation.results import load_result

    evaluation = evaluate(
        "STS13",
        function_source(lambda s: np.ones((len(s), 3)), "constant"),
        data_root,
        cache_dir=None,
    )
    assert evaluation.result.tasks["STS13"].all.spearman is None
    evaluation.write(tmp_path / "eval.json")
    assert '"spearman": null' in (tmp_path / "eval.json").read_text()
    assert load_result(tmp_path / "eval.json").tasks["STS13"].mean.pearson is None


def test_headline_splits_give_the_same_headlines_with_fewer_sentences(data_root: Path) -> None:
    glove = glove_source()
    tasks = "STSBenchmark,SICKRelatedness"
    every = evaluate(tasks, glove, data_root, cache_dir=None, all_splits=True).result
    headline = evaluate(tasks, glove, data_root, cache_dir=None).result
    for name in ("STSBenchmark", "SICKRelatedness"):
        assert set(every.tasks[name].splits) == {"train", "dev", "test"}
        assert set(headline.tasks[name].splits) == {"test"}
        assert headline.tasks[name].splits["test"] == every.tasks[name].splits["test"]
    assert headline.sentences_unique < every.sentences_unique / 2


def test_token_sorted_batches_give_the_same_embeddings(tiny_backbone: Path) -> None:
    """Batches of equal token counts (HFEncode) and one sentence at a time agree to 1e-5, and
    the batches really are sorted by token count."""
    source = hf_source(str(tiny_backbone), "avg", "cpu", None)
    encode = source.build()
    sentences = [("word " * n).strip() + f" {i}" for i, n in enumerate([9, 1, 30, 4, 4, 17, 2])]
    seen: list[list[int]] = []

    class Recording:
        def __call__(self, batch: list[str]) -> torch.Tensor:
            seen.append(encode.lengths(batch))
            return encode(batch)

        def lengths(self, batch: list[str]) -> list[int]:
            return encode.lengths(batch)

    batched = encode_sentences(Recording(), sentences, batch_size=3)
    alone = np.concatenate([np.asarray(encode([s])) for s in sentences])
    np.testing.assert_allclose(batched, alone, atol=1e-5)
    flat = [n for batch in seen for n in batch]
    assert flat == sorted(encode.lengths(sentences))
