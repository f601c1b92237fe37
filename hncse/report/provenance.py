"""Provenance of a report: code version, package versions, the machine, the configs, and
wall time per Snakemake rule (benchmark files) and per run (train_summary / eval.json)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hncse.analysis.collect import Collection

PACKAGES = ("hncse", "torch", "transformers", "sentence-transformers", "numpy", "scipy",
            "pandas", "statsmodels", "scikit-learn", "matplotlib", "seaborn", "jinja2",
            "snakemake")


@dataclass
class Provenance:
    command: str
    git: str
    packages: dict[str, str]
    machine: dict[str, str]
    runs: pd.DataFrame  # run, method, seed, settings that vary, train/eval seconds
    benchmarks: pd.DataFrame  # one row per Snakemake benchmark file
    studies_yaml: str
    skipped: list[str]
    evaluation: list[str]  # the evaluation protocols of the runs, with their counts


def git_version(folder: Path) -> str:
    """``<commit>`` (``+ uncommitted changes`` when dirty), or why it is unknown."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout, or no commit yet)"
    return f"{commit}{' + uncommitted changes' if dirty else ''}"


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine() -> dict[str, str]:
    """The machine that built the report (training hardware is per run, in its logs)."""
    import psutil

    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": str(os.cpu_count()),
            "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB"}
    try:
        gpus = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30, check=True).stdout
        info["gpus"] = ", ".join(gpus.split("\n")).strip(", ") or "none"
    except (OSError, subprocess.SubprocessError):
        info["gpus"] = "none found (no nvidia-smi)"
    return info


def benchmark_table(folder: Path | None) -> pd.DataFrame:
    """Snakemake ``benchmark:`` files (TSV: ``s``, ``h:m:s``, ``max_rss``, ...) under
    ``folder``, one row each, named by their path."""
    if folder is None or not folder.is_dir():
        return pd.DataFrame()
    rows = []
    for path in sorted(folder.rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        if "s" not in frame:
            continue
        row = frame.mean(numeric_only=True)  # repeated benchmarks: their mean
        rows.append({"benchmark": path.relative_to(folder).with_suffix("").as_posix(),
                     "seconds": row["s"], "max_rss_mb": row.get("max_rss", np.nan),
                     "cpu_time_s": row.get("cpu_time", np.nan)})
    return pd.DataFrame(rows)


def run_table(collection: Collection) -> pd.DataFrame:
    """Per run: identity, the settings that differ between runs, train and eval seconds."""
    runs = collection.runs.drop(columns="path")
    varying = [c for c in collection.settings_columns
               if runs[c].astype(str).nunique() > 1]
    seconds = collection.table[collection.table["metric"] == "seconds"].pivot_table(
        index="run", columns="task", values="value")
    seconds = seconds.reindex(columns=["training", "evaluation"]).add_suffix("_seconds")
    return runs[["run", "method", "backbone", "seed", *varying]].merge(
        seconds, left_on="run", right_index=True, how="left")


def describe_protocol(evaluation: dict[str, Any]) -> str:
    """A run's classifier mode and, when cut, its transfer training data."""
    text = f"SentEval {evaluation.get('mode', '?')} mode"
    if evaluation.get("max_train_samples") is not None:
        text += (f", transfer training data cut to {evaluation['max_train_samples']} samples "
                 "per task (stratified subset; test sets whole): transfer accuracies are "
                 "not comparable with published SentEval numbers")
    return text


def evaluation_protocols(collection: Collection) -> list[str]:
    """Each distinct evaluation protocol of the runs and how many runs used it."""
    counts = Counter(describe_protocol(p) for p in collection.protocols.values())
    return [f"{text} ({n} run{'s' if n > 1 else ''})" for text, n in counts.items()]


def gather(collection: Collection, command: str, studies_yaml: str,
           benchmarks: Path | None) -> Provenance:
    code = Path(__file__).resolve().parents[1]  # the hncse package that made the report
    return Provenance(command, git_version(code), package_versions(), machine(),
                      run_table(collection), benchmark_table(benchmarks), studies_yaml,
                      collection.skipped, evaluation_protocols(collection))
