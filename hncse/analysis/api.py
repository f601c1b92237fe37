"""The analysis as a library: read a source, analyse its studies, write the tables.

    from hncse.analysis.api import AnalysisOptions, Source, analyse, load_source, write_tables

    loaded = load_source(Source("results", Path("results")), spec=Path("results/studies.yaml"))
    analysis = analyse(loaded, AnalysisOptions(bootstrap=1000))
    write_tables(analysis, Path("results/analysis"))

A source is a results folder of run folders, the tables of an earlier ``hncse aggregate``
(``results.csv`` and ``runs.csv``; no training logs or per-pair scores), or the compact
inputs written beside a report. ``hncse aggregate`` and ``hncse report`` are thin command
lines over this module, and the workflow calls it once per study set (docs/analysis.md).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from hncse.analysis.analyses import Options, verdicts
from hncse.analysis.collect import Collection, ResultsError, collect, from_tables
from hncse.analysis.dispatch import run_studies
from hncse.analysis.figures import write_figure
from hncse.analysis.inputs import read_inputs
from hncse.analysis.mechanisms import Thresholds
from hncse.analysis.output import write_frame
from hncse.analysis.sections import CLAIMS, Section, VerdictRow
from hncse.analysis.studies import (
    Study,
    load_studies,
    parse_studies,
    select_studies,
    unmatched_runs,
)
from hncse.analysis.tables import frame_table, to_markdown, write_table
from hncse.files import OutputError, staged_set, write_text

SourceKind = Literal["results", "tables", "inputs"]


@dataclass(frozen=True)
class Source:
    """Where the runs come from: ``results`` (run folders), ``tables`` (an earlier
    aggregate's folder) or ``inputs`` (``<report>_inputs/``)."""

    kind: SourceKind
    folder: Path


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse: bootstrap replicates and seed, the data root for CKA's sentences
    (``cka=False``: no model is loaded), whether unreadable or missing runs are allowed
    (listed in ``collection.skipped``), C4's testability thresholds, the studies to keep
    (None: all), and whether figures are drawn as SVG too (files; the HTML needs PNG)."""

    bootstrap: int = 1000
    bootstrap_seed: int = 0
    data_dir: str | None = None
    cka: bool = True
    allow_missing: bool = False
    thresholds: Thresholds = field(default_factory=Thresholds)
    studies: tuple[str, ...] | None = None
    svg: bool = True


@dataclass
class Loaded:
    """What a source holds: its runs, the studies to analyse, and for a report's inputs
    the report's provenance (``meta``) and wall-time table."""

    source: Source
    collection: Collection
    studies: list[Study]
    meta: dict[str, Any] | None = None
    benchmarks: pd.DataFrame | None = None


@dataclass
class Analysis:
    collection: Collection
    studies: list[Study]
    sections: list[Section]


def load_source(source: Source, spec: Path | None = None) -> Loaded:
    """Read ``source``; the studies come from the ``spec`` YAML, else from the report's
    inputs (the spec the report was built with), else every run as one study of each kind."""
    if source.kind == "inputs":
        collection, meta, benchmarks = read_inputs(source.folder)
        if spec is not None:
            studies = load_studies(spec)
        elif "studies" in meta:
            studies = parse_studies(meta["studies"], f"{source.folder}/meta.json")
        else:
            raise ResultsError(f"{source.folder}/meta.json: no 'studies': not a report's inputs")
        return Loaded(source, collection, studies, meta, benchmarks)
    collection = collect(source.folder) if source.kind == "results" else from_tables(source.folder)
    return Loaded(source, collection, load_studies(spec))


def check_complete(collection: Collection, studies: list[Study], allow_missing: bool) -> None:
    """Every run folder read and every run the spec names found, or a refusal listing
    them; with ``allow_missing`` they are kept in ``collection.skipped``, which the report
    shows on its first screen."""
    found = [*collection.runs["run"], *collection.unreadable]
    collection.skipped += [
        f"study {study.name!r} names run {pattern!r}: not found under {collection.root}"
        for study in studies
        for pattern in unmatched_runs(found, study)
    ]
    if not collection.skipped or allow_missing:
        return
    for line in collection.skipped:
        print(f"hncse: {line}", file=sys.stderr)
    raise ResultsError(
        f"{len(collection.skipped)} run(s) could not be read or found (listed above); "
        "fix them, or pass --allow-missing to analyse the rest"
    )


def _senteval(options: AnalysisOptions) -> Path | None:
    """SentEval's folder for CKA's sentences; None (with a notice) where there is none."""
    if not options.cka:
        return None
    from hncse.data_root import DataNotFoundError, resolve_data_root, senteval_dir

    try:
        return senteval_dir(resolve_data_root(options.data_dir))
    except DataNotFoundError as error:
        print(f"hncse: no CKA: {error}", file=sys.stderr)
        return None


def analyse(loaded: Loaded, options: AnalysisOptions) -> Analysis:
    """Run every selected study of ``loaded`` on its runs: the sections with their tables,
    tests, figures and verdict rows."""
    collection = loaded.collection
    studies = select_studies(loaded.studies, list(options.studies) if options.studies else None)
    if loaded.source.kind == "results":
        check_complete(collection, studies, options.allow_missing)
    # CKA read back from a report's inputs needs no sentences (and no data root)
    senteval = None if collection.cka_final else _senteval(options)
    settings = Options(
        options.bootstrap, options.bootstrap_seed, senteval, options.svg, options.thresholds
    )
    return Analysis(collection, studies, run_studies(collection, studies, settings))


VERDICT_COLUMNS = [
    "claim",
    "part",
    "statement",
    "study",
    "context",
    "verdict",
    "size",
    "estimate",
    "ci_low",
    "ci_high",
    "level",
    "interval",
    "conditional_on",
    "two_way_low",
    "two_way_high",
    "conditional_only",
    "n",
    "p_holm",
    "alpha",
    "mde",
    "eps_min",
    "detail",
]


def verdict_frame(rows: list[VerdictRow]) -> pd.DataFrame:
    """One row per claim and context: the verdict word and the deciding part's estimate,
    corrected interval and how it was made, n, Holm p within the family and MDE."""
    return pd.DataFrame(
        [
            {
                "claim": row.claim,
                "part": row.part,
                "statement": CLAIMS.get(row.claim, ""),
                "study": row.study,
                "context": row.context,
                "verdict": row.verdict,
                "size": row.size,
                "estimate": row.interval.estimate if row.interval else None,
                "ci_low": row.interval.low if row.interval else None,
                "ci_high": row.interval.high if row.interval else None,
                "level": row.level,
                "interval": row.interval.method if row.interval else "",
                "conditional_on": row.conditional_on,
                "two_way_low": row.two_way[0],
                "two_way_high": row.two_way[1],
                "conditional_only": row.conditional_only,
                "n": row.n,
                "p_holm": row.p_holm,
                "alpha": row.alpha,
                "mde": row.mde,
                "eps_min": row.eps_min,
                "detail": row.detail,
            }
            for row in rows
        ],
        columns=VERDICT_COLUMNS,
    ).astype({"n": "Int64"})


def _write_folder(analysis: Analysis, out: Path) -> list[Path]:
    collection, written = analysis.collection, []
    written += write_frame(collection.table, out / "results")
    written += write_frame(collection.runs, out / "runs", ("csv",))
    if not collection.steps.empty:
        written += write_frame(collection.steps, out / "train_steps", ("parquet",))
    frame = verdict_frame(verdicts(analysis.sections))
    written += write_frame(frame, out / "verdicts", ("csv",))
    written.append(
        write_text(
            out / "verdicts.md",
            to_markdown(
                frame_table(frame.set_index("claim"), "verdicts", "Verdicts on the paper's claims")
            ),
        )
    )
    for section in analysis.sections:
        folder = out / section.study
        for table in section.tables:
            written += write_table(table, folder)
        for figure in section.figures:
            written += write_figure(figure, folder)
    return written


def write_tables(analysis: Analysis, out: Path) -> list[Path]:
    """The tidy table, the verdicts and every study's tables and figures under ``out``,
    written as one set: the whole new folder, or the previous one after any failure."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: a file, not a folder")
    with staged_set([out]) as staging:
        written = _write_folder(analysis, staging / out.name)
    return [out / path.relative_to(staging / out.name) for path in written]
