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
from conftest import logged_step
from safetensors.torch import load_file

from hncse import checkpoint
from hncse.config import ConfigError, load_config
from hncse.data import CorpusError
from hncse.data_root import DataNotFoundError
from hncse.evaluation import stsb_dev_spearman
from hncse.model import SentenceEncoder
from hncse.objectives import Method, ObjectiveOutput, register_method
from hncse.run_folder import LOG_FILE, MODEL_DIR, STATE_DIR, SUMMARY_FILE
from hncse.trainer import NonFiniteLossError, Trainer

METHODS = ["simcse", "hncse-pm", "hncse-hnm", "hncse"]


def _config(tmp_path: Path, data_root: Path, backbone: str, **overrides: object):
    values = {
        "backbone": backbone,
        "corpus": "wiki1m_head.txt",
        "data_dir": str(data_root),
        "batch_size": 16,
        "max_steps": 6,
        "eval_steps": 0,
        "save_steps": 0,
        "output_dir": str(tmp_path / "run"),
        "k": 4,
        "m": 8,
        "learning_rate": 1e-4,
    }
    values.update(overrides)
    return load_config(overrides=values)


def _train_losses(run: Path) -> list[float]:
    lines = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    return [line["loss"] for line in lines if line["kind"] == "train"]


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_real_minilm_loss_falls(
    method: str, tmp_path: Path, data_root: Path, minilm_path: str
) -> None:
    """Real MiniLM, real wiki1m sentences: 32 sentences in batches of 16 revisited for 8
    steps (the bank holds real previous batches); the loss must fall, the mechanisms log."""
    config = _config(
        tmp_path, data_root, minilm_path, method=method, max_sentences=32, max_steps=8, pooler="cls"
    )
    trainer = Trainer(config)
    logged = [trainer.train_step(step) for step in range(8)]
    losses = [entry["loss"] for entry in logged]
    assert all(np.isfinite(losses))
    assert np.mean(losses[-2:]) < np.mean(losses[:2]), losses
    assert ("pm/frac_ambiguous" in logged[-1]) == (method in ("hncse-pm", "hncse"))
    assert ("hnm/sim_synthetic" in logged[-1]) == (method in ("hncse-hnm", "hncse"))
    if method in ("hncse-hnm", "hncse"):  # the bank of the previous batch feeds HNM
        assert np.isnan(logged[0]["hnm/sim_synthetic"]) and logged[-1]["hnm/num_synthetic"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("eval_pooler", ["cls_before_pooler", "cls", "avg"])
def test_exported_model_loads_in_transformers_and_sentence_transformers(
    eval_pooler: str, tmp_path: Path, data_root: Path, minilm_path: str
) -> None:
    """The saved best model embeds exactly as the trainer's evaluation did, through
    ``AutoModel`` and through ``SentenceTransformer`` with the right pooling."""
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    config = _config(
        tmp_path, data_root, minilm_path, method="hncse", max_steps=2, eval_pooler=eval_pooler
    )
    trainer = Trainer(config)
    summary = trainer.fit()
    run = Path(config.output_dir)
    assert summary["steps"] == summary["best_step"] == 2
    assert not (run / STATE_DIR).exists() and (run / SUMMARY_FILE).is_file()

    sentences = ["a man is playing a guitar .", "the cat sat on the mat .", "stocks fell ."]
    reference = trainer.encoder.encode(sentences).numpy()  # what the dev evaluation saw
    model_dir = run / MODEL_DIR
    reloaded = SentenceEncoder.from_pretrained(model_dir, "cls", eval_pooler)
    np.testing.assert_allclose(reloaded.encode(sentences).numpy(), reference, atol=1e-5)
    by_st = SentenceTransformer(str(model_dir), device="cpu").encode(sentences)
    np.testing.assert_allclose(by_st, reference, atol=1e-5)
    if eval_pooler == "cls_before_pooler":
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        backbone = AutoModel.from_pretrained(model_dir).eval()
        with torch.inference_mode():
            tokens = tokenizer(sentences, padding=True, return_tensors="pt")
            by_transformers = backbone(**tokens).last_hidden_state[:, 0].numpy()
        np.testing.assert_allclose(by_transformers, reference, atol=1e-5)


def test_best_dev_checkpoint_is_kept(tmp_path: Path, data_root: Path, tiny_backbone: Path) -> None:
    config = _config(
        tmp_path,
        data_root,
        str(tiny_backbone),
        method="simcse",
        max_steps=6,
        eval_steps=2,
        learning_rate=5e-3,
    )
    trainer = Trainer(config)
    summary = trainer.fit()
    log = [
        json.loads(line)
        for line in (Path(config.output_dir) / "train_log.jsonl").read_text().splitlines()
    ]
    evals = [line for line in log if line["kind"] == "eval"]
    assert [line["step"] for line in evals] == [0, 2, 4, 6]  # step 0: before training
    assert not evals[0]["best"]  # the untrained model is never the kept checkpoint
    best = max(evals[1:], key=lambda line: line["stsb_dev_spearman"])
    assert summary["best_step"] == best["step"] and best["best"]
    assert summary["best_stsb_dev_spearman"] == pytest.approx(best["stsb_dev_spearman"])
    exported = SentenceEncoder.from_pretrained(
        Path(config.output_dir) / MODEL_DIR, "cls", "cls_before_pooler"
    )
    # the export is the best step's model, not the last one
    assert stsb_dev_spearman(exported.encode, data_root) == pytest.approx(
        best["stsb_dev_spearman"], abs=1e-4
    )


def _train_command(config_path: Path) -> list[str]:
    return [sys.executable, "-m", "hncse.cli", "train", "--config", str(config_path)]


def _final_weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(run / MODEL_DIR / "model.safetensors")


def test_fresh_parts_train_at_their_own_learning_rate(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    """fresh_learning_rate: the re-drawn top layer and the cls pooler's MLP form an AdamW
    group of their own; Adam's first step moves each weight by about its group's rate."""
    config = _config(
        tmp_path,
        data_root,
        str(tiny_backbone),
        method="simcse",
        pooler="cls",
        reinit_top_layers=1,
        learning_rate=1e-5,
        fresh_learning_rate=1e-2,
    )
    trainer = Trainer(config)
    encoder = trainer.encoder
    fresh = [*encoder.backbone.encoder.layer[1].parameters(), *encoder.mlp.parameters()]
    groups = trainer.optimizer.param_groups
    assert [group["lr"] for group in groups] == [1e-5, 1e-2]
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in fresh}
    assert len(groups[0]["params"]) + len(fresh) == len(list(encoder.parameters()))
    before = {name: p.detach().clone() for name, p in encoder.named_parameters()}
    trainer.train_step(0)
    moved = {name: (p - before[name]).abs().max().item() for name, p in encoder.named_parameters()}
    fresh_names = {name for name, p in encoder.named_parameters() if any(p is f for f in fresh)}
    assert max(moved[name] for name in fresh_names) == pytest.approx(1e-2, rel=0.01)
    assert max(moved[name] for name in moved if name not in fresh_names) <= 1.01e-5
    one_group = Trainer(_config(tmp_path, data_root, str(tiny_backbone), reinit_top_layers=1))
    assert len(one_group.optimizer.param_groups) == 1
    with pytest.raises(ConfigError, match=r"fresh_learning_rate = 0\.01: nothing is drawn afresh"):
        _config(tmp_path, data_root, str(tiny_backbone), pooler="avg", fresh_learning_rate=1e-2)


@pytest.mark.parametrize("method", ["hncse", "esimcse"])
def test_killed_run_resumes_to_the_same_weights(
    tmp_path: Path, data_root: Path, tiny_backbone: Path, method: str
) -> None:
    """SIGKILL a run after its first saved state, restart it: it resumes from that state
    (its log up to there is kept byte for byte; a restart from scratch rewrites every line
    with new timings) and ends with the same weights as a run that was never interrupted
    (the full method: bank, random draws and dropout included; ESimCSE's word repetition,
    momentum encoder and queue)."""
    common = {
        "backbone": str(tiny_backbone),
        "corpus": "wiki1m_head.txt",
        "data_dir": str(data_root),
        "method": method,
        "batch_size": 8,
        "k": 4,
        "m": 6,
        "alpha": "uniform",
        "bank_size": 2,
        "max_steps": 60,
        "save_steps": 10,
        "eval_steps": 0,
        "dropout": 0.1,
        "learning_rate": 1e-3,
    }
    runs = {}
    for name in ("straight", "killed"):
        config_path = tmp_path / f"{name}.yaml"
        config_path.write_text(json.dumps({**common, "output_dir": str(tmp_path / name)}))
        runs[name] = (config_path, tmp_path / name)

    subprocess.run(_train_command(runs["straight"][0]), check=True, capture_output=True)

    config_path, run = runs["killed"]
    process = subprocess.Popen(
        _train_command(config_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while not (run / STATE_DIR).is_dir() and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (run / STATE_DIR).is_dir(), "the run never saved its state"
    assert not (run / SUMMARY_FILE).exists(), "the run finished before it was killed"
    saved_step = checkpoint.load_training_state(run / STATE_DIR)["run"]["step"]
    saved_lines = [
        line
        for line in (run / LOG_FILE).read_text().splitlines()
        if logged_step(line) <= saved_step
    ]
    assert saved_step >= 10 and len(saved_lines) >= saved_step

    subprocess.run(_train_command(config_path), check=True, capture_output=True)
    final_log = (run / LOG_FILE).read_text().splitlines()
    assert final_log[: len(saved_lines)] == saved_lines, "the run started again from scratch"
    straight, resumed = _final_weights(runs["straight"][1]), _final_weights(run)
    for name, tensor in straight.items():
        torch.testing.assert_close(resumed[name], tensor, rtol=0, atol=0, msg=name)
    steps = [json.loads(line)["step"] for line in final_log if '"train"' in line]
    assert steps == list(range(1, 61))  # no step logged twice, none missing


# ---------------------------------------------------------------- bad input


def test_missing_and_empty_corpus(tmp_path: Path, data_root: Path, tiny_backbone: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"no_such_corpus\.txt"):
        Trainer(_config(tmp_path, data_root, str(tiny_backbone), corpus="no_such_corpus.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(CorpusError, match="empty"):
        Trainer(_config(tmp_path, data_root, str(tiny_backbone), corpus=str(empty)))
    assert not (tmp_path / "run").exists()


def test_cli_reports_bad_options_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hncse.cli",
            "train",
            "--set",
            "method=simsce",
            "k=-3",
            "precision=fp8",
            f"output_dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    for expected in ("method = 'simsce'", "hncse-pm", "k = -3", "precision = 'fp8'", "bf16"):
        assert expected in result.stderr
    assert not (tmp_path / "run").exists()


_calls = {"n": 0}


@register_method
class _NanAtStep3(Method):
    name = "test-nan-at-step-3"

    def loss(self, inputs):  # type: ignore[no-untyped-def]
        _calls["n"] += 1
        loss = (inputs.h * inputs.h_pos).sum(-1).mean()
        return ObjectiveOutput(loss * float("nan") if _calls["n"] == 3 else loss)


def test_non_finite_loss_stops_and_keeps_the_last_good_model(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    config = _config(
        tmp_path,
        data_root,
        str(tiny_backbone),
        method="test-nan-at-step-3",
        eval_steps=1,
        save_steps=1,
    )
    with pytest.raises(NonFiniteLossError, match="step 3"):
        Trainer(config).fit()
    run = Path(config.output_dir)
    assert (run / MODEL_DIR / "model.safetensors").is_file()
    assert (run / STATE_DIR).is_dir() and not (run / SUMMARY_FILE).exists()
    with pytest.raises(ConfigError):
        load_config(overrides={"method": "no-such-method"})


def test_encode_command_writes_the_evaluation_embeddings(
    tmp_path: Path, tiny_backbone: Path
) -> None:
    sentences = ["a man plays a guitar .", "", "stocks fell sharply ."]
    (tmp_path / "in.txt").write_text("\n".join(sentences) + "\n")
    out = tmp_path / "emb.npy"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hncse.cli",
            "encode",
            "--model",
            str(tiny_backbone),
            "--pooler",
            "avg",
            "--input",
            str(tmp_path / "in.txt"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    expected = SentenceEncoder.from_pretrained(tiny_backbone, "avg", "avg").encode(sentences)
    np.testing.assert_allclose(np.load(out), expected.numpy(), atol=1e-5)
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "hncse.cli",
            "encode",
            "--model",
            str(tiny_backbone),
            "--input",
            str(tmp_path / "nope.txt"),
            "--out",
            str(tmp_path / "x.npy"),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "not found" in missing.stderr
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda state: state["model"].popitem(),  # a weight missing
        lambda state: state["model"].update(
            {k: torch.zeros(3) for k in list(state["model"])[:1]}
        ),  # a weight of the wrong shape
        lambda state: state.update(run={"step": 1, "unknown": 0}),  # another run record
    ],
    ids=["missing-weight", "wrong-shape", "wrong-run-record"],
)
def test_a_training_state_of_another_shape_is_one_line_and_changes_nothing(
    tmp_path: Path, data_root: Path, tiny_backbone: Path, tamper
) -> None:
    trainer = Trainer(_config(tmp_path, data_root, str(tiny_backbone)))
    trainer._save_state()
    path = trainer.output_dir / STATE_DIR / "training_state.pt"
    state = torch.load(path, weights_only=True)
    tamper(state)
    torch.save(state, path)

    def files() -> list[str]:  # the run folder's lock file aside
        return sorted(p.name for p in trainer.output_dir.iterdir() if p.name != ".train.lock")

    before = files()
    with pytest.raises(checkpoint.CheckpointError) as raised:
        Trainer(_config(tmp_path, data_root, str(tiny_backbone))).fit()
    message = str(raised.value)
    assert "\n" not in message and "training state this run cannot take" in message
    assert files() == before
