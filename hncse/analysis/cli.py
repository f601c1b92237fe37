"""``hncse aggregate``: collect a results folder and write the tidy table, the summary
tables (Markdown, LaTeX, CSV), the statistics, the figures (PNG, SVG) and the verdicts.

Output layout (``--out``, default ``<results>/analysis``)::

    results.csv, results.parquet     tidy table: run × task × split × metric (+ metadata)
    runs.csv                         one row per run: method, backbone, seed, settings
    train_steps.parquet              every train_log.jsonl line, with its run
    verdicts.csv, verdicts.md        one row per claim (and context)
    <study>/<table>.{md,tex,csv}     tables and test results of each study
    <study>/<figure>.{png,svg}       figures of each study
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hncse.analysis.api import (
    AnalysisOptions,
    Loaded,
    Source,
    analyse,
    load_source,
    write_tables,
)
from hncse.analysis.mechanisms import Thresholds


def _replicates(text: str) -> int:
    value = int(text)
    if value < 100:
        raise argparse.ArgumentTypeError("at least 100 replicates for a 95% interval")
    return value


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``hncse aggregate`` and ``hncse report``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--results", type=Path, help="results folder holding the run folders")
    source.add_argument(
        "--from-tables",
        type=Path,
        metavar="DIR",
        help="re-analyse the results.csv and runs.csv of an earlier "
        "aggregate (no training logs or per-pair scores: claims that "
        "need them are not evaluated)",
    )
    source.add_argument(
        "--from-inputs",
        type=Path,
        metavar="DIR",
        help="rebuild from the compact inputs `hncse report` wrote beside "
        "a report (<report>_inputs/: tidy table, per-pair scores, "
        "training logs, CKA values, study spec, provenance)",
    )
    parser.add_argument(
        "--studies",
        type=Path,
        default=None,
        help="study spec YAML (default: every run as one ablation and one embedding-space study)",
    )
    parser.add_argument(
        "--study",
        action="append",
        default=None,
        metavar="NAME",
        help="analyse only this study of the spec (repeatable)",
    )
    parser.add_argument(
        "--bootstrap",
        type=_replicates,
        default=1000,
        metavar="N",
        help="bootstrap replicates per comparison (default 1000)",
    )
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument(
        "--data-dir",
        default=None,
        help="data root for CKA's STS-B sentences (default $HNCSE_DATA_DIR)",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="analyse the runs that could be read even if some could not be read or "
        "found (they are listed; the report shows them first)",
    )
    parser.add_argument("--no-cka", action="store_true", help="skip CKA (no model is loaded)")
    parser.add_argument(
        "--min-mixed-fraction",
        type=float,
        default=Thresholds.min_fraction,
        help="C4 is untestable unless PM mixed at least this fraction of "
        "the queries (default 0.01)",
    )
    parser.add_argument(
        "--min-mixed-queries",
        type=int,
        default=Thresholds.min_queries,
        help="... and at least this many queries (default 100)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument(
        "--out", type=Path, default=None, help="output folder (default <results>/analysis)"
    )


def source_of(args: argparse.Namespace) -> Source:
    """The source the mutually exclusive ``--results/--from-tables/--from-inputs`` name."""
    if args.results:
        return Source("results", Path(args.results))
    if args.from_tables:
        return Source("tables", Path(args.from_tables))
    return Source("inputs", Path(args.from_inputs))


def options_of(args: argparse.Namespace, svg: bool = True) -> AnalysisOptions:
    return AnalysisOptions(
        bootstrap=args.bootstrap,
        bootstrap_seed=args.bootstrap_seed,
        data_dir=args.data_dir,
        cka=not args.no_cka,
        allow_missing=args.allow_missing,
        thresholds=Thresholds(args.min_mixed_fraction, args.min_mixed_queries),
        studies=tuple(args.study) if args.study else None,
        svg=svg,
    )


def load(args: argparse.Namespace) -> Loaded:
    return load_source(source_of(args), args.studies)


def run(args: argparse.Namespace) -> int:
    analysis = analyse(load(args), options_of(args))
    out = args.out or source_of(args).folder / "analysis"
    written = write_tables(analysis, out)
    failed = [s for s in analysis.sections if s.error]
    for section in failed:
        print(f"hncse aggregate: study {section.study!r} failed: {section.error}", file=sys.stderr)
    print(
        f"hncse aggregate: {len(analysis.collection.runs)} runs, "
        f"{len(analysis.sections)} sections, {len(written)} files in {out}"
    )
    return 1 if failed else 0
