"""``hncse probe``: a mechanism pre-flight. Runs the first N training steps of a config (the
same keys as ``hncse train``, nothing exported) and measures, per step, whether the
mechanisms act and whether the loss is saturated (docs/probe.md):

- ``loss``, ``grad_norm`` (before clipping), ``lr`` and ``seconds`` of the step;
- PM: the share of queries in each case at the config's θ and the number mixed, from the
  step's own embeddings, for every method (for SimCSE: what PM *would* mix);
- HNM: the mean similarity of the synthetic negatives, of each query's hardest k in-batch
  negatives (k = the config's ``k``), their gap, and the share of synthetic negatives
  harder than the query's hardest in-batch negative; for a method that mixes hard
  negatives these are the step's own synthetic negatives (its random draws replayed), for
  the others the ones HNM would make from the same bank;
- the distributions: quantiles of s(z, p) (positives), s(z, p_j), j ≠ i (negatives), the
  hardest negative and the relative gap r = (d1 − d2)/|d1| that PM thresholds;
- whether training improves the encoder: STS-B dev (the trainer's own evaluation, eval
  pooler, dropout off) of the untrained encoder (a row of its own, step 0) and after every
  ``eval_every`` steps and the last.

The step is the trainer's own (``Trainer.train_step``, dropout on, clipping, the bank); the
probe reads what the objective saw through a thin wrapper, so it needs nothing from the
objective beyond its inputs and its loss.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hncse import HncseError
from hncse.cli import non_negative_int, positive_int
from hncse.config import TrainConfig, add_config_arguments, load_config, parse_overrides
from hncse.objectives import HNMOptions, ObjectiveInputs, ObjectiveOutput
from hncse.objectives import functional as fn
from hncse.objectives.hncse import ContrastiveObjective
from hncse.objectives.methods import ContrastiveMethod, ContrastiveOptions
from hncse.trainer import Trainer

QUANTILES = (0.1, 0.5, 0.9)
# The columns printed on stdout (the files hold every measurement).
SHOWN = (
    "step",
    "loss",
    "grad_norm",
    "pm_frac_mixed",
    "pm_num_mixed",
    "hnm_sim_synthetic",
    "sim_hardest_k",
    "hnm_gap",
    "hnm_frac_harder",
    "pos_q50",
    "neg_q50",
    "hardest_q50",
    "r_q10",
    "r_q50",
    "stsb_dev",
    "seconds",
)


class ProbeError(HncseError, ValueError):
    """A probe that cannot run as asked (more steps than the run has)."""


@dataclass
class _Recorded:
    inputs: ObjectiveInputs
    generator_state: Tensor
    output: ObjectiveOutput


class _RecordingObjective:
    """Calls the trainer's objective and keeps what it saw (and its generator's state before
    the call, so that its random draws can be replayed)."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective
        self.last: _Recorded | None = None

    def __call__(self, inputs: ObjectiveInputs) -> ObjectiveOutput:
        state = inputs.generator.get_state()
        output = self.objective(inputs)
        self.last = _Recorded(inputs, state, output)
        return output


def _quantiles(name: str, values: Tensor) -> dict[str, float]:
    points = torch.quantile(values.float(), torch.tensor(QUANTILES))
    return {f"{name}_q{round(q * 100)}": v for q, v in zip(QUANTILES, points.tolist(), strict=True)}


def similarity_measurements(z: Tensor, p: Tensor, theta: float) -> dict[str, float]:
    """PM's cases at θ and the similarity distributions of one batch (normalised z, p)."""
    similarities = z @ p.T
    hardest = fn.hardest_negatives(similarities)
    cases = fn.pm_cases(hardest.d1, hardest.d2, theta)
    n = similarities.shape[0]
    negatives = similarities[~torch.eye(n, dtype=torch.bool)]
    gap = (hardest.d1 - hardest.d2) / hardest.d1.abs().clamp_min(fn.EPS)
    fractions = {
        f"pm_frac_{case.name.lower()}": (cases == case).float().mean().item() for case in fn.PMCase
    }
    mixed = int((cases != fn.PMCase.CLEAR).sum())
    return {
        **fractions,
        "pm_frac_mixed": mixed / n,
        "pm_num_mixed": mixed,
        **_quantiles("pos", hardest.d1),
        **_quantiles("neg", negatives),
        "neg_max": negatives.max().item(),
        **_quantiles("hardest", hardest.d2),
        **_quantiles("r", gap),
    }


def hardness_measurements(
    z: Tensor, similarities: Tensor, synthetic: Tensor | None, k: int
) -> dict[str, float]:
    """Synthetic negatives s(z, h) (N, m) against each query's hardest k in-batch negatives."""
    n = similarities.shape[0]
    off_diagonal = similarities.masked_fill(torch.eye(n, dtype=torch.bool), -math.inf)
    hardest_k = off_diagonal.topk(min(k, n - 1), dim=1).values
    measured = {"sim_hardest_k": hardest_k.mean().item()}
    if synthetic is None:  # the bank is still empty
        return measured | {
            "hnm_sim_synthetic": math.nan,
            "hnm_gap": math.nan,
            "hnm_frac_harder": math.nan,
        }
    harder = synthetic > hardest_k[:, :1]  # than the query's hardest in-batch negative
    return measured | {
        "hnm_sim_synthetic": synthetic.mean().item(),
        "hnm_gap": synthetic.mean().item() - measured["sim_hardest_k"],
        "hnm_frac_harder": harder.float().mean().item(),
    }


def _synthetic(
    recorded: _Recorded, z: Tensor, p: Tensor, hnm: HNMOptions, replay: bool, own: torch.Generator
) -> Tensor | None:
    """s(z, h) of the synthetic negatives: the objective's own (replayed) or HNM's would-be."""
    if replay:
        generator = torch.Generator(device=recorded.inputs.generator.device)
        generator.set_state(recorded.generator_state)
    else:
        generator = own
    inputs = ObjectiveInputs(
        recorded.inputs.h, recorded.inputs.h_pos, recorded.inputs.bank, generator
    )
    synthetic, _, _ = ContrastiveObjective._synthetic_similarities(z, p, inputs, hnm)
    return synthetic


class Probe:
    """The first ``steps`` steps of ``config``'s run, measured (see the module docstring)."""

    def __init__(self, config: TrainConfig, steps: int, eval_every: int = 0) -> None:
        self.config = config
        self.trainer = Trainer(config)
        if steps > self.trainer.total_steps:
            raise ProbeError(
                f"--steps {steps}: the run has {self.trainer.total_steps} steps; "
                f"give 1 … {self.trainer.total_steps}"
            )
        self.steps = steps
        self.eval_every = eval_every
        method = self.trainer.method
        self.recorder = _RecordingObjective(method.loss)
        method.loss = self.recorder  # type: ignore[method-assign]
        self.hnm = config.options(ContrastiveOptions).hnm  # HNCSE's k for every method
        self.replay = isinstance(method, ContrastiveMethod) and method.hard_negative_mixing
        self.own_generator = torch.Generator().manual_seed(config.seed)

    def step(self, step: int) -> dict[str, float]:
        started = time.perf_counter()
        logged = self.trainer.train_step(step)
        seconds = time.perf_counter() - started
        recorded = self.recorder.last
        assert recorded is not None  # train_step calls the objective
        with torch.no_grad():
            z = fn.normalize(recorded.inputs.h.detach())
            p = fn.normalize(recorded.inputs.h_pos.detach())
            synthetic = _synthetic(recorded, z, p, self.hnm, self.replay, self.own_generator)
            row = {
                "step": step + 1,
                "loss": logged["loss"],
                "grad_norm": logged["grad_norm"],
                "lr": self.trainer.scheduler.get_last_lr()[0],
            }
            row |= similarity_measurements(z, p, self.config.theta)
            row |= hardness_measurements(z, z @ p.T, synthetic, self.hnm.k)
        return row | {"seconds": seconds}

    def evaluates_after(self, step: int) -> bool:
        """STS-B dev after step ``step`` (1-based): every ``eval_every`` steps and the last."""
        return bool(self.eval_every) and (step % self.eval_every == 0 or step == self.steps)

    def run(self) -> list[dict[str, float]]:
        """A row a step; with ``eval_every``, first a step-0 row: the untrained encoder's dev
        score, nothing else (no step has run)."""
        start = self.trainer.evaluate_dev() if self.eval_every else math.nan
        self.trainer.encoder.train()  # dropout on, as in fit()
        rows = []
        for step in range(self.steps):
            row = self.step(step)
            dev = self.trainer.evaluate_dev() if self.evaluates_after(step + 1) else math.nan
            rows.append(row | {"stsb_dev": dev})  # encode() leaves training mode as it found it
        if not self.eval_every:
            return rows
        untrained = dict.fromkeys(rows[0], math.nan) | {"step": 0, "stsb_dev": start}
        return [untrained, *rows]


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    """Mean of every measurement over the trained steps (NaN steps skipped), the last loss,
    and the STS-B dev curve's start, end, best (and its step) and gains over the start."""
    trained = [row for row in rows if row["step"] > 0]
    summary: dict[str, float] = {}
    for key in (key for key in rows[0] if key not in ("step", "stsb_dev")):
        values = [row[key] for row in trained if not math.isnan(row[key])]
        summary[key] = sum(values) / len(values) if values else math.nan
    summary |= {"last_loss": trained[-1]["loss"], "steps": len(trained)}
    return summary | dev_curve_summary(rows)


def dev_curve_summary(rows: list[dict[str, float]]) -> dict[str, float]:
    """STS-B dev at step 0, at the last evaluation and at the best; gains over step 0."""
    curve = [(row["step"], row["stsb_dev"]) for row in rows if not math.isnan(row["stsb_dev"])]
    if not curve or curve[0][0] != 0:
        return {}
    best_step, best = max(curve, key=lambda point: point[1])
    start, last = curve[0][1], curve[-1][1]
    return {
        "stsb_dev_start": start,
        "stsb_dev_last": last,
        "stsb_dev_best": best,
        "stsb_dev_best_step": best_step,
        "stsb_dev_gain_last": last - start,
        "stsb_dev_gain_best": best - start,
        "stsb_dev_points": len(curve),
    }


def format_table(rows: list[dict[str, float]]) -> str:
    def cell(value: float) -> str:
        if isinstance(value, int):
            return str(value)
        return "nan" if math.isnan(value) else f"{value:.4g}"

    table = [list(SHOWN)] + [[cell(row[key]) for key in SHOWN] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(SHOWN))]
    return "\n".join(
        "  ".join(text.rjust(width) for text, width in zip(line, widths, strict=True))
        for line in table
    )


def write_outputs(rows: list[dict[str, float]], config: TrainConfig, out: Path) -> Path:
    """``out`` (CSV, a row a step) and ``out`` with suffix .json (config, rows, summary)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    record = {"config": config.model_dump(mode="json"), "summary": summarise(rows), "steps": rows}
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(_strict_json(record), indent=1) + "\n")
    return json_path


def _strict_json(value: Any) -> Any:
    """NaN (nothing to measure that step) becomes null: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strict_json(item) for item in value]
    return value


# ------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument("--steps", type=positive_int, default=20, help="steps to run (default 20)")
    parser.add_argument(
        "--eval-every",
        type=non_negative_int,
        default=5,
        help="STS-B dev at step 0, every N steps and the last (default 5; 0 = never)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("probe.csv"),
        help="CSV of the measurements; the JSON goes beside it (.json)",
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, parse_overrides(args.set))
    with tempfile.TemporaryDirectory() as scratch:  # the trainer needs a folder; nothing lands
        scratch_config = config.model_copy(update={"output_dir": scratch})
        probe = Probe(scratch_config, args.steps, args.eval_every)
        rows = probe.run()
    print(format_table(rows))
    summary = summarise(rows)
    print("mean over steps: " + ", ".join(f"{key} {summary[key]:.4g}" for key in SHOWN[1:-2]))
    if "stsb_dev_start" in summary:
        print(
            f"STS-B dev: {summary['stsb_dev_start']:.2f} at step 0, "
            f"{summary['stsb_dev_last']:.2f} at the end ({summary['stsb_dev_gain_last']:+.2f}), "
            f"best {summary['stsb_dev_best']:.2f} at step {summary['stsb_dev_best_step']}"
        )
    json_path = write_outputs(rows, config, args.out)
    print(f"wrote {args.out} and {json_path}")
    return 0
