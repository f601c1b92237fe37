"""Provenance of a report: code version, package versions, the machine, the configs, and
wall time per Snakemake rule (benchmark files) and per run (train_summary / eval.json)."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
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
from hncse.evaluation.catalogue import BY_NAME, GROUPS
from hncse.versions import package_versions


@dataclass
class Provenance:
    """Where a report's numbers come from: kept in its inputs (``meta.json``), so that a
    rebuild from them prints the same provenance."""

    generated: str  # when the inputs were written (UTC)
    git: str  # the code that analysed the runs: commit, + a mark when the tree was dirty
    packages: dict[str, str]
    machine: dict[str, str]
    data: dict[str, str]  # data file -> SHA-256
    studies: dict[str, Any]  # the study spec
    workflow_command: str | None
    evaluation: list[str]  # the evaluation protocols of the runs, with their counts

    def to_meta(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: committed outputs, which a study run rewrites before its report reads this: a change
#: there is not a change to the code that made the report
OUTPUT_FOLDERS = ("reports", "results")


def git_version(folder: Path) -> str:
    """``<commit>`` (``+ uncommitted changes`` when a tracked file outside
    :data:`OUTPUT_FOLDERS` differs from it), or why it is unknown."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        outputs = [f":(top,exclude){name}" for name in OUTPUT_FOLDERS]
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ":/", *outputs)
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout, or no commit yet)"
    return f"{commit}{' + uncommitted changes' if dirty else ''}"


def project_path(path: Path) -> str:
    """``path`` relative to the working directory (the project) when under it; else its
    name only: a report never prints a folder of the machine that built it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return f"{path.name} (outside the project)"


def data_digests(corpora: list[str], data_dir: str | None) -> dict[str, str]:
    """SHA-256 of each training corpus and one digest over the SentEval files, from the
    data root's manifest (computed where it has none); empty without a data root."""
    from hncse.data_root import corpus_location, resolve_data_root
    from hncse.manifest import read_manifest, sha256_file

    root = resolve_data_root(data_dir)
    if not root.is_dir():
        return {}
    manifest = read_manifest(root) or {}
    digests = {}
    for corpus in corpora:
        path = corpus_location(corpus, root)
        if not path.is_file():
            digests[f"corpus {corpus}"] = "file not found"
            continue
        name = (
            path.resolve().relative_to(root).as_posix()
            if path.resolve().is_relative_to(root)
            else None
        )
        digests[f"corpus {corpus}"] = manifest.get(name or "") or sha256_file(path)
    senteval = sorted(
        (name, digest) for name, digest in manifest.items() if name.startswith("senteval/")
    )
    if senteval:
        lines = "".join(f"{digest}  {name}\n" for name, digest in senteval)
        digests[f"SentEval ({len(senteval)} files, SHA-256 of their manifest lines)"] = (
            hashlib.sha256(lines.encode()).hexdigest()
        )
    return digests


def machine() -> dict[str, str]:
    """The machine that built the report (training hardware is per run, in its logs)."""
    import psutil

    info = {
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
    }
    try:
        gpus = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
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
        rows.append(
            {
                "benchmark": path.relative_to(folder).with_suffix("").as_posix(),
                "seconds": row["s"],
                "max_rss_mb": row.get("max_rss", np.nan),
                "cpu_time_s": row.get("cpu_time", np.nan),
            }
        )
    return pd.DataFrame(rows)


SUITES = {"sts": "the STS suite (STS12–16, STS-B, SICK-R)", "transfer": "the 7 transfer tasks"}


def describe_tasks(tasks: list[str]) -> str:
    """'the STS suite (STS12–16, STS-B, SICK-R)' for a whole group, else the tasks' labels."""
    parts, rest = [], list(tasks)
    for group, names in GROUPS.items():
        if set(names) <= set(rest):
            parts.append(SUITES[group])
            rest = [task for task in rest if task not in names]
    parts += [BY_NAME[task].label if task in BY_NAME else task for task in rest]
    return " and ".join(parts)


def describe_protocol(evaluation: dict[str, Any]) -> str:
    """A run's tasks (inputs written before they were recorded have none), classifier
    mode and, when cut, its transfer training data."""
    text = f"SentEval {evaluation.get('mode', '?')} mode"
    if tasks := evaluation.get("tasks"):
        text = f"{describe_tasks(tasks)}, {text}"
    if evaluation.get("max_train_samples") is not None:
        text += (
            f", transfer training data cut to {evaluation['max_train_samples']} samples "
            "per task (stratified subset; test sets whole): transfer accuracies are "
            "not comparable with published SentEval numbers"
        )
    return text


def evaluation_protocols(collection: Collection) -> list[str]:
    """Each distinct evaluation protocol of the runs and how many runs used it."""
    counts = Counter(describe_protocol(p) for p in collection.protocols.values())
    return [f"{text} ({n} run{'s' if n > 1 else ''})" for text, n in counts.items()]


def gather(
    collection: Collection,
    studies: dict[str, Any],
    workflow_command: str | None,
    data_dir: str | None,
) -> Provenance:
    code = Path(__file__).resolve().parents[1]  # the hncse package that made the report
    corpora = (
        sorted(collection.runs["corpus"].dropna().astype(str).unique())
        if ("corpus" in collection.runs)
        else []
    )
    return Provenance(
        datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        git_version(code),
        package_versions(),
        machine(),
        data_digests(corpora, data_dir),
        studies,
        workflow_command,
        evaluation_protocols(collection),
    )
