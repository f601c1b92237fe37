"""``hncse evaluate`` / ``hncse download`` end to end, the result schema, the cache, and the
encoder kinds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from hncse.cli import main
from hncse.evaluation.encoding import hf_source, st_source
from hncse.evaluation.results import load_result


def run_cli(*args: str) -> int:
    return main(["evaluate", *args, "--no-progress"])


def test_evaluate_writes_the_documented_schema_and_reuses_the_cache(
    data_root: Path, tmp_path: Path
) -> None:
    out, cache = tmp_path / "run" / "eval.json", tmp_path / "cache"
    common = [
        "--encoder",
        "glove",
        "--tasks",
        "STS13,STSBenchmark,MRPC",
        "--mode",
        "fasttest",
        "--data-dir",
        str(data_root),
        "--cache-dir",
        str(cache),
    ]
    assert run_cli(*common, "--out", str(out), "--alignment-uniformity") == 0
    raw = json.loads(out.read_text())
    # what docs/architecture.md promises to the other layers
    assert raw["schema_version"] == 1 and raw["mode"] == "fasttest"
    assert {"model", "seconds", "sentences_encoded", "tasks"} <= raw.keys()
    sts13 = raw["tasks"]["STS13"]
    assert sts13["family"] == "sts"
    assert set(sts13["subsets"]) == {"FNWN", "headlines", "OnWN"}
    for key in ("all", "mean", "wmean"):
        assert set(sts13[key]) == {"pearson", "spearman", "n"} and sts13[key]["n"] == 1500
    stsb = raw["tasks"]["STSBenchmark"]
    # by default STS-B is scored on its headline split only
    assert stsb["family"] == "sts_cosine" and set(stsb["splits"]) == {"test"}
    mrpc = raw["tasks"]["MRPC"]
    assert mrpc["family"] == "classification"
    assert {"acc", "f1", "devacc", "n", "ntest"} <= mrpc.keys()
    assert (mrpc["n"], mrpc["ntest"]) == (4076, 1725) and 60 < mrpc["acc"] < 90
    assert set(raw["alignment_uniformity"]) >= {"alignment", "uniformity"}
    assert raw["data"]["files"]["MRPC/msr_paraphrase_test.txt"]
    assert raw["sentences_encoded"] == raw["sentences_unique"] > 10_000

    pairs = pd.read_parquet(tmp_path / "run" / "eval.pairs.parquet")
    assert list(pairs.columns) == ["task", "subset", "pair_index", "gold", "score"]
    assert pairs.groupby("task").size().to_dict() == {"STS13": 1500, "STSBenchmark": 1379}
    assert set(pairs[pairs.task == "STSBenchmark"].subset) == {"test"}

    warm = tmp_path / "warm.json"
    assert run_cli(*common, "--out", str(warm), "--alignment-uniformity") == 0
    first, second = load_result(out), load_result(warm)
    assert second.sentences_encoded == 0 and second.encode_seconds < first.encode_seconds
    for name in ("STS13", "STSBenchmark"):
        assert second.tasks[name].model_dump(exclude={"seconds"}) == first.tasks[name].model_dump(
            exclude={"seconds"}
        )
    assert second.tasks["MRPC"].acc == first.tasks["MRPC"].acc


def test_module_function_encoder(
    data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_encoders.py").write_text(
        "import numpy as np\n"
        "def lengths():\n"
        "    return lambda s: np.array([[len(x), 1.0 + x.count('a')] for x in s])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "eval.json"
    assert (
        run_cli(
            "--encoder",
            "my_encoders:lengths",
            "--tasks",
            "STS13",
            "--data-dir",
            str(data_root),
            "--no-cache",
            "--out",
            str(out),
        )
        == 0
    )
    result = load_result(out)
    assert result.model.kind == "callable" and result.model.name == "my_encoders:lengths"
    assert result.tasks["STS13"].all.n == 1500


def test_bad_arguments_fail_cleanly(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eval.json"
    inside = data_root / "embedding-cache"
    assert (
        run_cli(
            "--encoder",
            "glove",
            "--tasks",
            "STS13",
            "--data-dir",
            str(data_root),
            "--cache-dir",
            str(inside),
            "--out",
            str(out),
        )
        == 2
    )
    assert "inside the data root" in capsys.readouterr().err
    assert not inside.exists()
    assert run_cli("--encoder", "nomodule", "--tasks", "STS13", "--out", str(out)) == 2
    assert (
        run_cli(
            "--encoder",
            "glove",
            "--tasks",
            "STS13",
            "--data-dir",
            str(tmp_path / "nowhere"),
            "--out",
            str(out),
        )
        == 2
    )
    assert "hncse download senteval" in capsys.readouterr().err
    assert not out.exists()


def test_download_is_a_no_op_when_the_data_is_there(
    data_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["download", "senteval", "--data-dir", str(data_root)]) == 0
    assert capsys.readouterr().out.strip().endswith("senteval/downstream")


def test_cls_pooler_uses_the_checkpoint_pooler_like_simcse(minilm_path: str) -> None:
    from transformers import AutoModel, AutoTokenizer

    sentences = ["a man is playing a guitar .", "the cat sat"]
    ours = hf_source(minilm_path, "cls", "cpu", None).build()(sentences)
    tokenizer, model = (
        AutoTokenizer.from_pretrained(minilm_path),
        AutoModel.from_pretrained(minilm_path),
    )
    with torch.no_grad():
        expected = model(**tokenizer(sentences, padding=True, return_tensors="pt")).pooler_output
    torch.testing.assert_close(torch.as_tensor(ours), expected, rtol=1e-4, atol=1e-5)


def test_sentence_transformers_model(minilm_path: str) -> None:
    source = st_source(f"st:{minilm_path}", "cpu")
    vectors = np.asarray(source.build()(["a man is playing a guitar .", "a dog runs"]))
    assert vectors.shape == (2, 384)
    assert source.info.kind == "sentence-transformers"
    assert source.info.fingerprint != hf_source(minilm_path, "avg", "cpu", None).info.fingerprint
