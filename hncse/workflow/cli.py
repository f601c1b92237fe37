"""``hncse plan``: what the studies of a workflow config run, without Snakemake running
anything; ``--cost`` adds the GPU estimate of hncse/workflow/cost.py (docs/workflow.md).

    hncse plan --cost --configfile config/paper.yaml --tflops 40

Run it from the repository root, as Snakemake: the config is checked by
workflow/schemas/config.schema.yaml, and the built-in baselines are planned (a custom
baselines/*.smk is Snakemake code and is not read here).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hncse import HncseError
from hncse.config import ConfigError, read_yaml
from hncse.data_root import resolve_data_root
from hncse.workflow.baselines import BUILT_IN, add_built_in
from hncse.workflow.cost import EVAL_TOKENS, Throughput, backbone_lines, cost_table
from hncse.workflow.plan import Plan, Planner

DEFAULT_CONFIG = Path("config/config.yaml")  # the Snakefile's
SCHEMA = Path("workflow/schemas/config.schema.yaml")
DEFAULT_TFLOPS = 40.0
GPU_COUNTS = (1, 8, 64)


class PlanConfigError(HncseError, ValueError):
    """A workflow config that cannot be read or does not match the schema."""


def positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"workflow config (default {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--cost", action="store_true", help="add estimated GPU-hours and wall times (FLOP counts)"
    )
    parser.add_argument(
        "--tflops",
        type=positive,
        default=DEFAULT_TFLOPS,
        help="ASSUMED sustained TFLOP/s of one GPU over a whole job "
        f"(default {DEFAULT_TFLOPS:g}; no GPU has been measured)",
    )


def load_workflow_config(path: Path) -> dict[str, Any]:
    """The config as the Snakefile sees it: schema-checked, defaults filled in."""
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    if not path.is_file():
        raise PlanConfigError(f"config file not found: {path}")
    if not SCHEMA.is_file():
        raise PlanConfigError(f"{SCHEMA} not found: run `hncse plan` from the repository root")
    config = read_yaml(path)
    if not isinstance(config, dict):
        raise PlanConfigError(f"{path}: expected a mapping of keys to values at the top level")
    try:
        validate(config, str(SCHEMA))
    except WorkflowError as error:
        reason = str(error).strip().splitlines()
        raise PlanConfigError(f"{path}: {reason[1] if len(reason) > 1 else reason[0]}") from None
    return config


def readable_or_exit(path: str | Path) -> None:
    """Exit with one line (the file, the line or byte) when ``path`` is not UTF-8 YAML: the
    Snakefile's check of its default config, whose reading by Snakemake is a traceback."""
    try:
        read_yaml(Path(path))
    except ConfigError as error:
        raise SystemExit(f"hncse: {error}") from None


def plan_of(path: Path) -> Plan:
    config = load_workflow_config(path)
    planner = Planner(config, resolve_data_root(config["data_dir"]))
    for name in BUILT_IN:
        add_built_in(planner, name)
    return planner.plan()


def run(args: argparse.Namespace) -> int:
    plan = plan_of(args.configfile)
    if not args.cost:
        for name, run_ids in plan.study_runs.items():
            trained = sum(plan.runs[run_id].train is not None for run_id in run_ids)
            print(f"{name}: {trained} trainings, {len(run_ids)} evaluations")
        trained = sum(run.train is not None for run in plan.runs.values())
        print(f"all (each run once): {trained} trainings, {len(plan.runs)} evaluations")
        return 0
    table = cost_table(plan, Throughput(args.tflops), GPU_COUNTS)
    print(
        f"Cost of {args.configfile}: an ESTIMATE from FLOP counts, ASSUMING {args.tflops:g} "
        "TFLOP/s sustained per GPU\n(--tflops; no GPU measured). Training 6·N·tokens "
        "(2 views × max_seq_length tokens a sentence),\nevaluation 2·N·tokens (SentEval's "
        f"sentences, {EVAL_TOKENS} tokens each). N, the encoder layers' weights:"
    )
    print("\n".join(backbone_lines(plan)))
    print()
    print(table)
    print()
    print(
        "Runs shared by studies count in each of them; `all` counts each run once.\n"
        "Wall time: runs are independent jobs on whole GPUs: max(GPU-hours / GPUs, the "
        "longest\ntraining + evaluation of one run). Not counted: loading, tokenising, "
        "the transfer tasks'\nclassifier fits."
    )
    return 0
