"""The method interface (docs/methods.md): the ported methods' losses unchanged, ESimCSE
against hand-computed values, and a method written outside the package, trained by
`hncse train` and planned by Snakemake."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import copy_workflow, load_yaml, output_of, snakemake, tiny_run, write_config

from hncse.config import ConfigError, build_config
from hncse.objectives import ObjectiveInputs, build_method
from hncse.objectives.esimcse import (
    enqueue,
    esimcse_loss,
    momentum_update,
    repeat_tokens,
    repetition_count,
    word_repetition,
)

# Losses on the batch below, computed with the code before the port (commit c90b70b,
# build_objective(method, config.objective_options())): the port must not move them.
LOSSES_BEFORE_THE_PORT = {
    "simcse": 4.922808647155762,
    "hncse-pm": 1.6754263639450073,
    "hncse-hnm": 10.08242416381836,
    "hncse": 6.403670310974121,
    "mixcse": 5.085672378540039,
}


@pytest.mark.parametrize("method", sorted(LOSSES_BEFORE_THE_PORT))
def test_ported_methods_keep_their_losses(method: str) -> None:
    g = torch.Generator().manual_seed(7)
    h, h_pos = torch.randn(8, 16, generator=g), torch.randn(8, 16, generator=g)
    bank = torch.nn.functional.normalize(torch.randn(16, 16, generator=g), dim=-1)
    config = build_config({"method": method, "k": 4, "m": 8, "batch_size": 8, "bank_size": 2})
    out = build_method(config).loss(
        ObjectiveInputs(h, h_pos, bank, torch.Generator().manual_seed(3))
    )
    assert out.loss.item() == pytest.approx(LOSSES_BEFORE_THE_PORT[method], abs=1e-7)


# ----------------------------------------------------------------------------- ESimCSE
def test_repeat_tokens_doubles_the_chosen_positions() -> None:
    row = torch.tensor([101, 7, 8, 9, 102])  # [CLS] 7 8 9 [SEP]
    assert repeat_tokens(row, torch.tensor([1, 3])).tolist() == [101, 7, 7, 8, 9, 9, 102]


def test_repetition_count_is_drawn_in_the_papers_range() -> None:
    # N = 20, dup_rate 0.32: int(6.4) = 6 -> dup_len in {0, ..., 6}; N = 3: max(2, 0) = 2.
    g = torch.Generator().manual_seed(0)
    draws = {repetition_count(20, 0.32, g) for _ in range(400)}
    assert draws == set(range(7))
    assert {repetition_count(3, 0.32, g) for _ in range(200)} == {0, 1, 2}
    assert {repetition_count(1, 0.32, g) for _ in range(200)} <= {0, 1}  # at most N


def test_word_repetition_keeps_specials_and_is_seeded() -> None:
    batch = {
        "input_ids": torch.tensor([[101, 5, 6, 7, 8, 9, 102], [101, 5, 6, 102, 0, 0, 0]]),
        "attention_mask": torch.tensor([[1] * 7, [1, 1, 1, 1, 0, 0, 0]]),
    }
    first = word_repetition(batch, 0.32, torch.Generator().manual_seed(1))
    again = word_repetition(batch, 0.32, torch.Generator().manual_seed(1))
    assert all(torch.equal(first[key], again[key]) for key in batch)
    for row, mask, original in zip(
        first["input_ids"], first["attention_mask"], batch["input_ids"], strict=True
    ):
        kept = row[mask.bool()].tolist()
        assert kept[0] == 101 and kept[-1] == 102
        assert sorted(set(kept)) == sorted(set(original[original > 0].tolist()))
        assert len(kept) - int((original > 0).sum()) <= 2  # max(2, int(0.32·5)) = 2


def test_momentum_update_hand_computed() -> None:
    kept, current = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    torch.nn.init.constant_(kept.weight, 1.0), torch.nn.init.constant_(current.weight, 0.0)
    torch.nn.init.constant_(kept.bias, 2.0), torch.nn.init.constant_(current.bias, 4.0)
    momentum_update(kept, current, 0.995)
    assert kept.weight.item() == pytest.approx(0.995)  # 0.995·1 + 0.005·0
    assert kept.bias.item() == pytest.approx(2.01)  # 0.995·2 + 0.005·4


def test_queue_is_fifo() -> None:
    queue = torch.zeros(0, 1)
    for batch in ([1.0, 2.0], [3.0, 4.0], [5.0, 6.0]):
        queue = enqueue(queue, torch.tensor(batch).unsqueeze(1), 4)
    assert queue.squeeze(1).tolist() == [3.0, 4.0, 5.0, 6.0]


def test_esimcse_loss_hand_computed() -> None:
    # z1 = (1,0), z2 = (0,1); p1 = (1,0), p2 = (0,1); queue q = (0.6, 0.8); τ = 0.5.
    # row 1 logits [2, 0, 1.2], row 2 [0, 2, 1.6]; ℓ = log Σ exp − own.
    h, h_pos = torch.tensor([[2.0, 0.0], [0.0, 3.0]]), torch.tensor([[1.0, 0.0], [0.0, 5.0]])
    queue = torch.tensor([[0.6, 0.8]])
    l1 = math.log(math.exp(2) + 1 + math.exp(1.2)) - 2
    l2 = math.log(1 + math.exp(2) + math.exp(1.6)) - 2
    loss = esimcse_loss(h, h_pos, queue, 0.5)
    assert loss.item() == pytest.approx((l1 + l2) / 2, rel=1e-6)
    empty = esimcse_loss(h, h_pos, torch.zeros(0, 2), 0.5)  # first step: SimCSE's loss
    assert empty.item() == pytest.approx(math.log(1 + math.exp(-2)), rel=1e-6)


def test_esimcse_options_are_config_keys() -> None:
    config = build_config({"method": "esimcse", "batch_size": 64})
    assert (config.dup_rate, config.momentum, config.method_options().queue_size) == (
        0.32,
        0.995,
        160,
    )
    with pytest.raises(ConfigError, match=r"dup_rate = 1.5: .*less than or equal to 1"):
        build_config({"method": "esimcse", "dup_rate": 1.5})
    with pytest.raises(ConfigError, match=r"dup_rate = 0.3: unknown key.*adds: none"):
        build_config({"method": "simcse", "dup_rate": 0.3})


# ------------------------------------------------------- a method outside the package
MY_METHOD = """
import torch
from pydantic import Field

from hncse.objectives import Method, MethodOptions, ObjectiveOutput


class ShuffleOptions(MethodOptions):
    temperature: float
    swap_first_words: bool = Field(True, description="swap two tokens in the positive")


class ShuffleCSE(Method):
    name = "shufflecse"
    Options = ShuffleOptions

    def views(self, batch, generator):
        positive = dict(batch)
        if self.options.swap_first_words:
            positive["input_ids"] = batch["input_ids"].clone()
            positive["input_ids"][:, [1, 2]] = batch["input_ids"][:, [2, 1]]
        return batch, positive

    def loss(self, inputs):
        z = torch.nn.functional.normalize(inputs.h, dim=-1)
        p = torch.nn.functional.normalize(inputs.h_pos, dim=-1)
        logits = z @ p.T / self.options.temperature
        labels = torch.arange(len(z), device=z.device)
        differ = float(not torch.equal(inputs.h, inputs.h_pos))
        loss = torch.nn.functional.cross_entropy(logits, labels)
        return ObjectiveOutput(loss, {"differ": differ})
"""


def test_a_method_outside_the_package_trains_and_joins_the_dag(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "shufflecse.py").write_text(MY_METHOD)
    reference = str(outside / "shufflecse.py")

    bad = build_config  # unknown and bad options of the method: the config's one-line form
    with pytest.raises(ConfigError, match="swap_first_words = 'maybe'"):
        bad({"method": reference, "swap_first_words": "maybe"})

    run = tmp_path / "run"
    config = tiny_run(
        tmp_path, data_root, tiny_backbone, method=reference, swap_first_words=True, max_steps=2
    )
    (tmp_path / "config.yaml").write_text(json.dumps(config))
    command = [
        sys.executable,
        "-m",
        "hncse.cli",
        "train",
        "--config",
        str(tmp_path / "config.yaml"),
    ]
    subprocess.run(command, check=True, capture_output=True)
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    # the tiny backbone has no dropout: the views differ only by the method's own views()
    assert [line["differ"] for line in log if line["kind"] == "train"] == [1.0, 1.0]
    assert json.loads((run / "train_summary.json").read_text())["steps"] == 2

    workdir = copy_workflow(tmp_path / "workflow")
    (workdir / "baselines" / "shufflecse.smk").write_text(
        f'method_baseline("shufflecse", {reference!r})\n'
    )
    study = load_yaml("smoke.yaml")
    study["baselines"]["shufflecse"] = {"swap_first_words": False}
    result = snakemake(
        workdir,
        "-n",
        "--configfile",
        write_config(workdir, "mine.yaml", study),
        data_root=data_root.resolve(),
    )
    assert result.returncode == 0, output_of(result)[-3000:]
    assert "runs/minilm/shufflecse-swap_first_words=False/seed1" in output_of(result)


def test_the_documented_example_method_works(tmp_path: Path) -> None:
    """docs/methods.md's example, as written: loaded from its file, options validated,
    views swapping tokens 1 and 2 of every row at swap_rate 1, a finite loss."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "methods.md").read_text()
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(example.splitlines()) < 40
    (tmp_path / "shufflecse.py").write_text(example)
    config = build_config({"method": str(tmp_path / "shufflecse.py"), "swap_rate": 1.0})
    method = build_method(config)
    batch = {"input_ids": torch.tensor([[101, 5, 6, 7, 102]]), "attention_mask": torch.ones(1, 5)}
    anchor, positive = method.views(batch, torch.Generator().manual_seed(0))
    assert anchor is batch and positive["input_ids"].tolist() == [[101, 6, 5, 7, 102]]
    h = torch.randn(3, 4)
    out = method.loss(ObjectiveInputs(h, h + 0.1, None, torch.Generator()))
    assert torch.isfinite(out.loss)
    with pytest.raises(ConfigError, match="swap_rate = 2"):
        build_config({"method": str(tmp_path / "shufflecse.py"), "swap_rate": 2})


def test_published_numbers_reach_the_report_tables() -> None:
    """The peers' table puts each method's declared number beside our mean; methods that
    declare none (hncse) and the baseline (SimCSE has its own table) are left out."""
    from hncse.analysis.published import peers_beside

    scores = pd.DataFrame(
        {
            "method": ["simcse", "esimcse", "esimcse", "mixcse", "hncse"],
            "STS avg": [70.0, 71.0, 73.0, 69.0, 72.0],
        }
    )
    table = peers_beside(scores, "STS avg", "simcse")
    assert list(table.index) == ["esimcse", "mixcse"]
    assert table.loc["esimcse", "ours (STS avg)"] == 72.0
    assert table.loc["esimcse", "published (BERT-base)"] == 78.27
    assert table.loc["mixcse", "ours − published"] == pytest.approx(69.0 - 77.66)
