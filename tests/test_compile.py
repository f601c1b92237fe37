"""The opt-in ``compile`` option (docs/training.md): torch.compile changes the speed of a
training step, never its numbers. A tiny random BERT without dropout (dropout masks of
compiled code come from another random stream), trained a few steps each way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from hncse.config import load_config
from hncse.trainer import Trainer

STEPS = 4


def losses(
    tmp_path: Path, data_root: Path, backbone: Path, method: str, compile_encoder: bool
) -> list[float]:
    config = load_config(
        overrides={
            "method": method,
            "backbone": str(backbone),
            "data_dir": str(data_root),
            "corpus": "wiki1m_head.txt",
            "batch_size": 8,
            "max_seq_length": 16,
            "seed": 3,
            "k": 4,
            "m": 8,
            "compile": compile_encoder,
            "output_dir": str(tmp_path / f"{method}-{compile_encoder}"),
        }
    )
    trainer = Trainer(config)
    assert isinstance(trainer.model, torch._dynamo.eval_frame.OptimizedModule) == compile_encoder
    return [trainer.train_step(step)["loss"] for step in range(STEPS)]


@pytest.mark.slow  # compiling: about 80 s the first time on this CPU, seconds once cached
@pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None,
    reason="torch.compile's inductor backend needs a C compiler on CPU",
)
@pytest.mark.parametrize("method", ["simcse", "hncse"])
def test_compiled_training_has_the_eager_losses(
    method: str, tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    eager = losses(tmp_path, data_root, tiny_backbone, method, compile_encoder=False)
    compiled = losses(tmp_path, data_root, tiny_backbone, method, compile_encoder=True)
    assert len(set(eager)) == STEPS  # the weights change from step to step
    assert compiled == pytest.approx(eager, abs=1e-5, rel=0)
