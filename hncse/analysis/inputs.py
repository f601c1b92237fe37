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
        table = pd.read_parquet(folder / "results.parquet")
        runs = pd.read_parquet(folder / "runs.parquet")
        pairs = pd.read_parquet(folder / "pairs.parquet")
        steps = pd.read_parquet(folder / "train_log.parquet")
        cka = pd.read_parquet(folder / "cka.parquet")
        benchmarks = pd.read_parquet(folder / "benchmarks.parquet")
    except (OSError, ValueError) as error:
        raise ResultsError(f"{folder}: not a report's inputs folder ({error})") from None
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
