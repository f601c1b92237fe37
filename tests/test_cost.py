"""The GPU cost estimate (hncse/workflow/cost.py, `hncse plan --cost`) against values worked
out by hand; milliseconds, no torch."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hncse import HncseError
from hncse.cli import COMMANDS
from hncse.workflow import cli as plan_cli
from hncse.workflow.cost import (
    KNOWN_BACKBONES,
    PUBLISHED_SIZES,
    SENTEVAL_SENTENCES,
    Architecture,
    CostError,
    RunCost,
    StudyCost,
    Throughput,
    architecture,
    dev_evaluations,
    run_cost,
)
from hncse.workflow.runs import Evaluation, Run

REPO = Path(__file__).resolve().parents[1]
# 2 layers, h = 4, i = 8: per layer 4·16 + 2·4·8 + 9·4 + 8 = 172 weights
TINY = {
    "num_hidden_layers": 2,
    "hidden_size": 4,
    "intermediate_size": 8,
    "vocab_size": 10,
    "max_position_embeddings": 6,
}
ONE_GPU_HOUR = 3600e12  # FLOPs, at 1 TFLOP/s


def test_cost_imports_no_torch() -> None:
    code = (
        "import sys, hncse.workflow.cost, hncse.workflow.cli; print(sorted(m for m in "
        "sys.modules if m.split('.')[0] in ('torch', 'transformers')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_hncse_plan_starts_without_torch() -> None:
    """`hncse plan` imports only its own command's module, not the trainer's torch."""
    code = (
        "import sys; from hncse.cli import build_parser; build_parser('plan'); print(sorted("
        "m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_parameters_of_a_tiny_encoder() -> None:
    arch = Architecture(2, 4, 8, 10, 6, source="test")
    assert arch.layer_parameters == 344
    # + embeddings (10 + 6 + 2)·4, their layer norm 2·4, the pooler 4·4 + 4
    assert arch.parameters == 344 + 72 + 8 + 20


@pytest.mark.parametrize("name", sorted(PUBLISHED_SIZES))
def test_known_backbones_match_their_published_sizes(name: str) -> None:
    assert KNOWN_BACKBONES[name].parameters == pytest.approx(PUBLISHED_SIZES[name], rel=0.02)


def test_config_json_wins_over_the_table(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    assert architecture(str(tmp_path)).layer_parameters == 344
    assert architecture("roberta-base").layer_parameters == 12 * (
        4 * 768**2 + 2 * 768 * 3072 + 9 * 768 + 3072
    )
    assert architecture("glove-6B-50d") is None


@pytest.mark.parametrize(
    ("steps", "every", "expected"), [(250, 125, 3), (251, 125, 4), (10, 0, 1), (100, 125, 2)]
)
def test_dev_evaluations_at_step_0_every_n_steps_and_at_the_end(
    steps: int, every: int, expected: int
) -> None:
    assert dev_evaluations(steps, every) == expected


def tiny_run(tmp_path: Path, train: dict | None, gpus: int = 1) -> Run:
    model = tmp_path / "tiny"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text(json.dumps(TINY))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"sentence {i}\n\n" for i in range(11)))  # 11, blanks skipped
    if train is not None:
        train = {"method": "simcse", "backbone": str(model), "corpus": str(corpus)} | train
    return Run(
        run_id="tiny/simcse/seed1",
        directory=tmp_path / "run",
        method="simcse",
        backbone="tiny",
        model=str(model),
        seed=1,
        settings={},
        encoder_args="",
        train=train,
        corpus=corpus,
        resources={"train": {"gpu": gpus}, "evaluate": {"gpu": 1}},
    )


def test_run_cost_by_hand(tmp_path: Path) -> None:
    run = tiny_run(
        tmp_path, {"batch_size": 2, "max_seq_length": 4, "eval_steps": 2, "num_epochs": 2}
    )
    cost = run_cost(run, Evaluation(tasks=("STS12", "MR")))
    # 11 sentences // batch 2 = 5 steps an epoch, 10 steps; tokens 10·2·2 views·4 = 160;
    # 6 STS-B dev evaluations (step 0, 2, 4, 6, 8, 10) of 3000 sentences at 32 tokens
    assert cost.train_flops == 6 * 344 * 160 + 2 * 344 * 6 * 3000 * 32
    assert cost.eval_flops == 2 * 344 * (2 * 3108 + 10662) * 32
    assert cost.trained and cost.train_gpus == 1


def test_max_sentences_and_max_steps_cut_the_training(tmp_path: Path) -> None:
    capped = run_cost(
        tiny_run(
            tmp_path, {"batch_size": 2, "max_seq_length": 4, "eval_steps": 0, "max_sentences": 4}
        ),
        Evaluation(),
    )
    assert capped.train_flops == 6 * 344 * 2 * 2 * 2 * 4 + 2 * 344 * 3000 * 32
    stepped = run_cost(
        tiny_run(tmp_path, {"batch_size": 2, "max_seq_length": 4, "eval_steps": 0, "max_steps": 3}),
        Evaluation(),
    )
    assert stepped.train_flops == 6 * 344 * 3 * 2 * 2 * 4 + 2 * 344 * 3000 * 32


def test_alignment_uniformity_adds_the_stsb_sentences(tmp_path: Path) -> None:
    run = tiny_run(tmp_path, None)
    plain = run_cost(run, Evaluation(tasks=("STSBenchmark",)))
    both = run_cost(run, Evaluation(tasks=("STSBenchmark",), alignment_uniformity=True))
    assert plain.eval_flops == 2 * 344 * 2758 * 32 and plain.train_flops == 0
    assert both.eval_flops - plain.eval_flops == 2 * 344 * 2 * (5749 + 1500 + 1379) * 32
    assert not plain.trained


def test_a_trained_unknown_backbone_is_an_error(tmp_path: Path) -> None:
    run = tiny_run(tmp_path, {"batch_size": 2})
    unknown = Run(**{**run.__dict__, "model": "no-such-model"})
    with pytest.raises(CostError, match="no-such-model"):
        run_cost(unknown, Evaluation())


def test_wall_time_spreads_jobs_over_gpus_but_not_below_one_run() -> None:
    costs = [RunCost(f"r{i}", True, ONE_GPU_HOUR, 0.0, 1, 1) for i in range(3)]
    costs.append(RunCost("big", True, 4 * ONE_GPU_HOUR, ONE_GPU_HOUR, 4, 1))
    throughput = Throughput(tflops=1.0)
    one, eight = (StudyCost.of(costs, throughput, gpus) for gpus in (1, 8))
    assert (one.trainings, one.evaluations, one.gpu_hours) == (4, 4, 8.0)
    assert one.wall_hours == 8.0  # all in a row; the 4-GPU run on the one GPU
    assert eight.wall_hours == 2.0  # the 4-GPU run: 1 h training + 1 h evaluation
    assert StudyCost.of(costs * 8, throughput, 8).wall_hours == 8.0  # 64 GPU-hours / 8
    # fewer GPUs than the run asks for: it runs on those, 4 GPU-hours on 2 GPUs + 1 h
    assert StudyCost.of(costs[-1:], throughput, 2).wall_hours == 3.0


def test_senteval_sizes_match_the_data(data_root: Path) -> None:
    root = data_root / "senteval" / "downstream"

    def lines(*names: str, header: bool = False) -> int:
        return sum(
            len((root / name).read_text(encoding="latin-1").splitlines()) - header for name in names
        )

    assert SENTEVAL_SENTENCES["MR"] == lines("MR/rt-polarity.pos", "MR/rt-polarity.neg")
    assert SENTEVAL_SENTENCES["SST2"] == lines(
        *(f"SST/binary/sentiment-{split}" for split in ("train", "dev", "test"))
    )
    assert SENTEVAL_SENTENCES["MRPC"] == 2 * lines(
        "MRPC/msr_paraphrase_train.txt", "MRPC/msr_paraphrase_test.txt", header=True
    )
    assert SENTEVAL_SENTENCES["SICKRelatedness"] == 2 * lines(
        "SICK/SICK_test_annotated.txt", header=True
    )
    assert SENTEVAL_SENTENCES["STSBenchmark"] == 2 * lines("STS/STSBenchmark/sts-test.csv")


# --------------------------------------------------------------------------- the command
def plan(argv: list[str]) -> int:
    """`hncse plan ARGV` as hncse.cli runs it (whose parser imports every command, torch
    included: seconds), its errors to exit status 2."""
    parser = argparse.ArgumentParser(prog="hncse plan")
    plan_cli.add_arguments(parser)
    try:
        return plan_cli.run(parser.parse_args(argv))
    except HncseError as error:
        print(f"hncse plan: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_info:  # argparse's own checks
        return exit_info.code


def test_the_command_is_registered() -> None:
    assert COMMANDS["plan"][0] == plan_cli.__name__


def test_plan_prints_counts_and_costs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    assert plan(["--configfile", "config/cpu-questions.yaml"]) == 0
    assert "all (each run once): 24 trainings, 25 evaluations" in capsys.readouterr().out
    assert plan(["--cost", "--tflops", "2.5", "--configfile", "config/cpu-questions.yaml"]) == 0
    out = capsys.readouterr().out
    assert "ASSUMING 2.5 TFLOP/s" in out and "wall, 64 GPUs" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tflops", "0"], "'0': must be a positive number"),
        (["--tflops", "inf"], "'inf': must be a positive number"),
        (["--configfile", "config/none.yaml"], "config file not found: config/none.yaml"),
    ],
)
def test_plan_mistakes_exit_2_with_one_line(
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(REPO)
    assert plan(["--cost", *argv]) == 2
    error = capsys.readouterr()
    assert message in error.err and not error.out


def test_a_config_against_the_schema_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("results_dir: 3\nstudies: {}\n")
    monkeypatch.chdir(REPO)
    assert plan(["--configfile", str(bad)]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and str(bad) in error
