"""What of the GPU path can run on a CPU: bf16 autocast training steps, and the acceptance
script benchmarks/gpu_check.py with ``--device cpu --size tiny`` (its training, evaluation
comparison, torchrun and compile parts on a 2-layer encoder, gloo instead of NCCL)."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import torch

from hncse.config import load_config
from hncse.trainer import Trainer

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _losses(
    precision: str, tiny_backbone: Path, data_root: Path, out: Path
) -> tuple[list[float], Trainer]:
    trainer = Trainer(
        load_config(
            overrides={
                "method": "hncse",
                "backbone": str(tiny_backbone),
                "corpus": "wiki1m_head.txt",
                "data_dir": str(data_root),
                "batch_size": 8,
                "k": 4,
                "m": 5,
                "max_steps": 3,
                "precision": precision,
                "output_dir": str(out),
            }
        )
    )
    return [trainer.train_step(step)["loss"] for step in range(3)], trainer


def test_bf16_autocast_trains_on_cpu(tiny_backbone: Path, data_root: Path, tmp_path: Path) -> None:
    fp32, _ = _losses("fp32", tiny_backbone, data_root, tmp_path / "fp32")
    bf16, trainer = _losses("bf16", tiny_backbone, data_root, tmp_path / "bf16")
    assert all(torch.isfinite(torch.tensor(bf16)))
    # autocast is in effect (bf16 rounds the matmuls) yet the losses stay close to fp32's
    assert bf16 != fp32
    assert torch.allclose(torch.tensor(bf16), torch.tensor(fp32), rtol=0.05)
    # mixed precision, not a bf16 model: the weights the optimiser updates stay float32
    assert {p.dtype for p in trainer.encoder.parameters()} == {torch.float32}


def _eval_json(spearman: float, accuracy: float) -> dict:
    correlation = {"pearson": 0.5, "spearman": spearman, "n": 100}
    return {
        "tasks": {
            "STS12": {
                "family": "sts",
                "subsets": {"MSRpar": correlation},
                "all": correlation,
                "mean": correlation,
                "wmean": correlation,
                "seconds": 1.0,
            },
            "STSBenchmark": {
                "family": "sts_cosine",
                "splits": {"test": correlation},
                "seconds": 1.0,
            },
            "TREC": {
                "family": "classification",
                "acc": accuracy,
                "devacc": accuracy,
                "n": 10,
                "ntest": 5,
                "l2": [0.0],
                "seconds": 1.0,
            },
        }
    }


def test_evaluations_are_compared_within_the_tolerances(gpu_check: ModuleType) -> None:
    reference = _eval_json(70.0, 80.0)
    same = gpu_check.compare_evaluations(_eval_json(70.009, 80.4), reference)
    assert same["failures"] == []
    assert same["largest_sts_difference"] == pytest.approx(0.009)
    assert same["largest_accuracy_difference"] == pytest.approx(0.4)
    off = gpu_check.compare_evaluations(_eval_json(70.02, 80.6), reference)
    # STS12's subset, all, mean; STS-B test; TREC
    assert len(off["failures"]) == 5
    assert any(line.startswith("TREC:") for line in off["failures"])
    fewer = copy.deepcopy(reference)
    del fewer["tasks"]["TREC"]
    assert gpu_check.compare_evaluations(fewer, reference)["failures"] == ["TREC: missing"]


def test_without_cuda_the_script_stops_with_a_clear_line(
    gpu_check: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert gpu_check.main(["--device", "cuda"]) == 2
    assert "no CUDA device" in capsys.readouterr().err


@pytest.mark.slow
def test_the_script_runs_every_check_on_cpu(
    gpu_check: ModuleType, data_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "gpu_check.json"
    status = gpu_check.main(
        [
            "--device",
            "cpu",
            "--size",
            "tiny",
            "--batch-size",
            "8",
            "--steps",
            "2",
            "--warmup",
            "1",
            "--nproc",
            "2",
            "--eval-tasks",
            "STS16,STSBenchmark,TREC",
            "--compile-methods",
            "simcse",
            "--data-dir",
            str(data_root),
            "--out",
            str(out),
        ]
    )
    results = json.loads(out.read_text())
    assert status == 0, results["failures"]
    training = results["training"]
    for method in gpu_check.METHODS:
        record = training[f"{method}/bf16"]
        assert record["finite"] and record["sentences_per_s"] > 0 and record["peak_mem_gb"] > 0
    assert "simcse/fp16" not in training  # fp16 autocast needs CUDA
    assert training["hncse_over_simcse_step/bf16"] > 0
    evaluation = results["evaluation"]
    assert evaluation["tasks"] == "STS16,STSBenchmark,TREC"
    assert evaluation["failures"] == [] and evaluation["largest_sts_difference"] == 0
    torchrun = results["torchrun"]
    assert torchrun["ok"] and torchrun["backend"] == "gloo" and torchrun["world_size"] == 2
    assert len(torchrun["losses"]) == 2
    compiled = results["compile"]
    assert list(compiled) == ["simcse/bf16"]
    record = compiled["simcse/bf16"]
    assert record["finite"] and record["compiled_over_eager_step"] > 0


@pytest.mark.slow
def test_one_worker_still_forms_a_process_group(
    gpu_check: ModuleType, tiny_backbone: Path, data_root: Path, tmp_path: Path
) -> None:
    """One GPU, one worker: the check still needs a group (hncse.distributed makes none)."""
    args = gpu_check.parse_args(
        [
            "--device",
            "cpu",
            "--size",
            "tiny",
            "--batch-size",
            "8",
            "--nproc",
            "1",
            "--data-dir",
            str(data_root),
        ]
    )
    result = gpu_check.check_torchrun(tiny_backbone, tmp_path, args)
    assert result["ok"], result.get("stderr")
    assert (result["world_size"], result["backend"]) == (1, "gloo")
