"""The trainer end to end: real MiniLM on the real wiki1m sample, exports, resume after a
kill, data-parallel gradients, and bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from hncse.config import ConfigError, load_config
from hncse.data import CorpusError
from hncse.data_root import DataNotFoundError
from hncse.model import SentenceEncoder
from hncse.objectives import ObjectiveOutput, register_objective
from hncse.trainer import MODEL_DIR, STATE_DIR, SUMMARY_FILE, NonFiniteLossError, Trainer

METHODS = ["simcse", "hncse-pm", "hncse-hnm", "hncse"]


def _config(tmp_path: Path, data_root: Path, backbone: str, **overrides: object):
    values = {
        "backbone": backbone, "corpus": "wiki1m_head.txt", "data_dir": str(data_root),
        "batch_size": 16, "max_steps": 6, "eval_steps": 0, "save_steps": 0,
        "output_dir": str(tmp_path / "run"), "k": 4, "m": 8, "learning_rate": 1e-4,
    }
    values.update(overrides)
    return load_config(overrides=values)


def _train_losses(run: Path) -> list[float]:
    lines = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    return [line["loss"] for line in lines if line["kind"] == "train"]


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_real_minilm_trains_and_exports(
    method: str, tmp_path: Path, data_root: Path, minilm_path: str
) -> None:
    """A few steps on a fixed batch of real sentences: the loss falls, the exported model
    loads in transformers and sentence-transformers and embeds as the trainer evaluates."""
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    # 32 real sentences, batch 16, 8 steps = 4 epochs: the loss must fall on data it revisits.
    config = _config(tmp_path, data_root, minilm_path, method=method, max_sentences=32,
                     max_steps=8, eval_steps=4, bank="in_batch")
    trainer = Trainer(config)
    summary = trainer.fit()
    run = Path(config.output_dir)
    losses = _train_losses(run)
    assert len(losses) == 8 and all(np.isfinite(losses))
    assert np.mean(losses[-2:]) < np.mean(losses[:2]), losses
    assert summary["steps"] == 8 and summary["best_step"] in (4, 8)
    assert not (run / STATE_DIR).exists() and (run / SUMMARY_FILE).is_file()

    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    keys = set().union(*(line.keys() for line in log if line["kind"] == "train"))
    assert ("pm/frac_ambiguous" in keys) == (method in ("hncse-pm", "hncse"))
    assert ("hnm/sim_synthetic" in keys) == (method in ("hncse-hnm", "hncse"))
    assert sum(line["kind"] == "eval" for line in log) == 2

    sentences = ["a man is playing a guitar .", "the cat sat on the mat .", "stocks fell ."]
    model_dir = run / MODEL_DIR
    reference = SentenceEncoder.from_pretrained(model_dir).encode(sentences).numpy()
    if summary["best_step"] == 8:  # the export is the trainer's final encoder
        np.testing.assert_allclose(trainer.encoder.encode(sentences).numpy(), reference,
                                   atol=1e-6)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    backbone = AutoModel.from_pretrained(model_dir).eval()
    with torch.inference_mode():
        tokens = tokenizer(sentences, padding=True, return_tensors="pt")
        by_transformers = backbone(**tokens).last_hidden_state[:, 0].numpy()
    by_st = SentenceTransformer(str(model_dir), device="cpu").encode(sentences)
    np.testing.assert_allclose(by_transformers, reference, atol=1e-5)
    np.testing.assert_allclose(by_st, reference, atol=1e-5)


@pytest.mark.slow
def test_cls_pooler_with_mlp_and_avg_pooler_export(
    tmp_path: Path, data_root: Path, minilm_path: str
) -> None:
    """Evaluation poolers other than SimCSE's default travel into sentence-transformers too."""
    from sentence_transformers import SentenceTransformer

    sentences = ["two dogs run in a field .", "a plane is taking off ."]
    for eval_pooler in ("cls", "avg"):
        config = _config(tmp_path / eval_pooler, data_root, minilm_path, method="simcse",
                         max_steps=2, eval_pooler=eval_pooler)
        trainer = Trainer(config)
        trainer.fit()
        reference = trainer.encoder.encode(sentences).numpy()
        loaded = SentenceTransformer(str(Path(config.output_dir) / MODEL_DIR), device="cpu")
        np.testing.assert_allclose(loaded.encode(sentences), reference, atol=1e-5)


def _train_command(config_path: Path) -> list[str]:
    return [sys.executable, "-m", "hncse.cli", "train", "--config", str(config_path)]


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / MODEL_DIR / "model.safetensors")


def test_killed_run_resumes_to_the_same_weights(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    """SIGKILL a run after its first saved state, restart it: same final weights as a run
    that was never interrupted (the full method: bank, random draws and dropout included)."""
    common = {"backbone": str(tiny_backbone), "corpus": "wiki1m_head.txt",
              "data_dir": str(data_root), "method": "hncse", "batch_size": 8, "k": 4, "m": 6,
              "alpha": "uniform", "bank_size": 2, "max_steps": 200, "save_steps": 10,
              "eval_steps": 0, "dropout": 0.1, "learning_rate": 1e-3}
    runs = {}
    for name in ("straight", "killed"):
        config_path = tmp_path / f"{name}.yaml"
        config_path.write_text(json.dumps({**common, "output_dir": str(tmp_path / name)}))
        runs[name] = (config_path, tmp_path / name)

    subprocess.run(_train_command(runs["straight"][0]), check=True, capture_output=True)

    config_path, run = runs["killed"]
    process = subprocess.Popen(_train_command(config_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (run / STATE_DIR).is_dir() and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (run / STATE_DIR).is_dir(), "the run never saved its state"
    assert not (run / SUMMARY_FILE).exists(), "the run finished before it was killed"

    subprocess.run(_train_command(config_path), check=True, capture_output=True)
    straight, resumed = _final_weights(runs["straight"][1]), _final_weights(run)
    for name, tensor in straight.items():
        torch.testing.assert_close(resumed[name], tensor, rtol=0, atol=0, msg=name)
    steps = [json.loads(line)["step"] for line in (run / "train_log.jsonl").read_text().split()
             if '"train"' in line]
    assert steps == list(range(1, 201))  # no step logged twice, none missing


# ---------------------------------------------------------------- bad input


def test_missing_and_empty_corpus(tmp_path: Path, data_root: Path, tiny_backbone: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no_such_corpus.txt"):
        Trainer(_config(tmp_path, data_root, str(tiny_backbone), corpus="no_such_corpus.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(CorpusError, match="empty"):
        Trainer(_config(tmp_path, data_root, str(tiny_backbone), corpus=str(empty)))
    assert not (tmp_path / "run").exists()


def test_cli_reports_bad_options_without_traceback(tmp_path: Path) -> None:
    for option, expected in (("method=simsce", "hncse-pm"), ("k=-3", "k = -3"),
                             ("precision=fp8", "bf16")):
        result = subprocess.run(
            [sys.executable, "-m", "hncse.cli", "train", "--set", option,
             f"output_dir={tmp_path / 'run'}"], capture_output=True, text=True)
        assert result.returncode == 2
        assert expected in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


_calls = {"n": 0}


@register_objective("test-nan-at-step-3")
def _nan_at_step_3(inputs):  # type: ignore[no-untyped-def]
    _calls["n"] += 1
    loss = (inputs.h * inputs.h_pos).sum(-1).mean()
    return ObjectiveOutput(loss * float("nan") if _calls["n"] == 3 else loss)


def test_non_finite_loss_stops_and_keeps_the_last_good_model(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    config = _config(tmp_path, data_root, str(tiny_backbone), method="test-nan-at-step-3",
                     eval_steps=1, save_steps=1)
    with pytest.raises(NonFiniteLossError, match="step 3"):
        Trainer(config).fit()
    run = Path(config.output_dir)
    assert (run / MODEL_DIR / "model.safetensors").is_file()
    assert (run / STATE_DIR).is_dir() and not (run / SUMMARY_FILE).exists()
    with pytest.raises(ConfigError):
        load_config(overrides={"method": "no-such-method"})
