"""Does torch.compile help the objective? Its forward and backward on random embeddings,
eager and compiled, interleaved round by round (so machine drift hits both alike).

    python benchmarks/bench_objective_compile.py [--batch-size 64 --hidden 768 --rounds 20]

The encoder is left out: this isolates the objective, the only part `compile: true` does
not compile (docs/training.md, "Compiling the encoder"). Prints, per method, the median
milliseconds a call, the compiled/eager ratio, the first compiled call's seconds
(compilation) and the largest loss difference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from hncse.config import load_config
from hncse.objectives import ObjectiveInputs, build_method

METHODS = ("simcse", "hncse")


def inputs(args: argparse.Namespace, seed: int) -> ObjectiveInputs:
    draw = torch.Generator().manual_seed(seed)
    h, h_pos, bank = (torch.randn(args.batch_size, args.hidden, generator=draw) for _ in range(3))
    return ObjectiveInputs(
        h.requires_grad_(),
        h_pos.requires_grad_(),
        F.normalize(bank, dim=-1),
        torch.Generator().manual_seed(seed),
    )


def call(objective: Callable, args: argparse.Namespace, seed: int) -> float:
    """One forward and backward; the loss."""
    loss = objective(inputs(args, seed)).loss
    loss.backward()
    return loss.item()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=768, help="BERT-base: 768")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(f"threads {torch.get_num_threads()}, batch {args.batch_size}, hidden {args.hidden}")
    for method in METHODS:
        eager = build_method(load_config(overrides={"method": method})).loss
        compiled = torch.compile(eager)
        start = time.perf_counter()
        call(compiled, args, 0)
        first = time.perf_counter() - start
        times: dict[str, list[float]] = {"eager": [], "compiled": []}
        difference = 0.0
        for seed in range(1, args.rounds + 1):
            losses = {}
            for name, objective in (("eager", eager), ("compiled", compiled)):
                start = time.perf_counter()
                losses[name] = call(objective, args, seed)
                times[name].append(time.perf_counter() - start)
            difference = max(difference, abs(losses["eager"] - losses["compiled"]))
        median = {name: statistics.median(values) for name, values in times.items()}
        print(
            f"{method}: eager {1e3 * median['eager']:.2f} ms, compiled "
            f"{1e3 * median['compiled']:.2f} ms, compiled/eager "
            f"{median['compiled'] / median['eager']:.3f}; first compiled call {first:.1f} s; "
            f"largest loss difference {difference:.2e}"
        )


if __name__ == "__main__":
    main()
