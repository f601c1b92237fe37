"""A report's compact inputs: everything its numbers and figures come from, small enough to
commit beside the report, so that ``hncse report --from-inputs DIR`` rebuilds the same
HTML without the run folders (docs/analysis.md).

Layout of the folder (Parquet, zstd-compressed)::

    results.parquet       the tidy table (run × task × split × metric)
    runs.parquet          one row per run: method, backbone, seed, resolved config
    pairs.parquet         every run's per-pair STS test scores, with a ``run`` column
    train_log.parquet     every train_log.jsonl line, with its ``run``
    cka.parquet           the CKA values the embedding-space analysis computed
    benchmarks.parquet    Snakemake wall time per rule
    meta.json             protocols, skipped folders, study spec, provenance, report options
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hncse.analysis.collect import Collection, ResultsError
from hncse.files import write_atomic, write_text

META = "meta.json"
#: what each table of the inputs must hold: its columns, and which of them are numbers
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "results.parquet": (("run", "method", "task", "family", "split", "metric"), ("value",)),
    "runs.parquet": (("run", "method", "backbone"), ("seed",)),
    "pairs.parquet": (("run", "task"), ("gold", "score")),
    "train_log.parquet": (("run", "kind"), ("step",)),
    "cka.parquet": (("reference", "run"), ()),
    "benchmarks.parquet": (("benchmark",), ("seconds",)),
}
COMPRESSION = "zstd"


def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    return write_atomic(
        path, lambda tmp: frame.to_parquet(tmp, index=False, compression=COMPRESSION)
    )


def _all_pairs(collection: Collection) -> pd.DataFrame:
    parts = [
        frame.assign(run=run)
        for run in collection.runs["run"]
        if (frame := collection.pairs(run)) is not None
    ]
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["task", "subset", "pair_index", "gold", "score", "run"])
    )


def _steps(collection: Collection) -> pd.DataFrame:
    """The training log with mixed-type columns made storable (a JSON line's ``best`` may be
    missing on some lines)."""
    steps = collection.steps.copy()
    for column in steps.columns:
        if steps[column].dtype == object and column != "run" and column != "kind":
            steps[column] = pd.to_numeric(steps[column], errors="coerce")
    return steps


def write_inputs(
    collection: Collection, folder: Path, meta: dict[str, Any], benchmarks: pd.DataFrame
) -> list[Path]:
    """Write ``collection`` (with the CKA values the analysis computed) and ``meta`` (the
    report's provenance and options) to ``folder``."""
    cka = pd.DataFrame(
        [
            {"reference": ref, "run": run, "cka": value}
            for (ref, run), value in collection.cka.items()
        ],
        columns=["reference", "run", "cka"],
    )
    runs = collection.runs.drop(columns="path")
    written = [
        _write_parquet(collection.table, folder / "results.parquet"),
        _write_parquet(runs, folder / "runs.parquet"),
        _write_parquet(_all_pairs(collection), folder / "pairs.parquet"),
        _write_parquet(_steps(collection), folder / "train_log.parquet"),
        _write_parquet(cka, folder / "cka.parquet"),
        _write_parquet(benchmarks, folder / "benchmarks.parquet"),
    ]
    document = {"protocols": collection.protocols, "skipped": collection.skipped, **meta}
    written.append(write_text(folder / META, json.dumps(document, indent=1) + "\n"))
    return written


def read_inputs(folder: Path) -> tuple[Collection, dict[str, Any], pd.DataFrame]:
    """The collection, the meta document and the benchmark table of a report's inputs."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        frames = {name: pd.read_parquet(folder / name) for name in COLUMNS}
    except (OSError, ValueError) as error:
        raise ResultsError(f"{folder}: not a report's inputs folder ({error})") from None
    for name, (columns, numbers) in COLUMNS.items():
        _check_columns(folder / name, frames[name], columns, numbers)
    if not isinstance(meta, dict) or not isinstance(meta.get("skipped"), list):
        raise ResultsError(f"{folder / META}: no list 'skipped': not a report's inputs")
    if not isinstance(meta.get("protocols"), dict):
        raise ResultsError(f"{folder / META}: no mapping 'protocols': not a report's inputs")
    table, runs, pairs = (frames[n] for n in ("results.parquet", "runs.parquet", "pairs.parquet"))
    steps, cka = frames["train_log.parquet"], frames["cka.parquet"]
    benchmarks = frames["benchmarks.parquet"]
    runs.insert(1, "path", "")  # the run folders are not at hand
    collection = Collection(
        root=folder,
        table=table,
        runs=runs,
        steps=steps,
        skipped=list(meta.pop("skipped")),
        protocols=dict(meta.pop("protocols")),
        pairs_table=pairs,
        cka={(r.reference, r.run): float(r.cka) for r in cka.itertuples()},
        cka_final=True,
    )
    return collection, meta, benchmarks


def _check_columns(
    path: Path, frame: pd.DataFrame, columns: tuple[str, ...], numbers: tuple[str, ...]
) -> None:
    """A tampered table is one error naming the file and the column."""
    missing = [c for c in (*columns, *numbers) if c not in frame]
    if missing:
        raise ResultsError(f"{path}: missing column(s) {', '.join(missing)}: not a report's inputs")
    for column in numbers:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            kind = frame[column].dtype
            raise ResultsError(f"{path}: column {column!r} holds {kind}, not numbers")
