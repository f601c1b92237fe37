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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hncse.analysis.analyses import Options, verdicts
from hncse.analysis.collect import Collection, ResultsError, collect, from_tables
from hncse.analysis.dispatch import run_studies
from hncse.analysis.figures import write_figure
from hncse.analysis.inputs import read_inputs as from_inputs
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


@dataclass
class Analysis:
    collection: Collection
    studies: list[Study]
    sections: list[Section]


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


def _senteval(args: argparse.Namespace) -> Path | None:
    if args.no_cka:
        return None
    from hncse.data_root import DataNotFoundError, resolve_data_root, senteval_dir

    try:
        return senteval_dir(resolve_data_root(args.data_dir))
    except DataNotFoundError as error:
        print(f"hncse: no CKA: {error}", file=sys.stderr)
        return None


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


def source_folder(args: argparse.Namespace) -> Path:
    return Path(args.results or args.from_tables or args.from_inputs)


def analyse(
    args: argparse.Namespace,
    svg: bool = True,
    collection: Collection | None = None,
    studies: list[Study] | None = None,
) -> Analysis:
    """Collect ``--results`` (or read ``--from-tables``; or take ``collection``, read from
    ``--from-inputs`` by the caller) and run every study of ``--studies`` (or ``studies``)."""
    if collection is None and args.from_inputs:
        collection, meta, _ = from_inputs(args.from_inputs)
        if studies is None and args.studies is None:  # the spec the report was built with
            studies = parse_studies(meta["studies"], f"{args.from_inputs}/meta.json")
    if collection is None:
        collection = collect(args.results) if args.results else from_tables(args.from_tables)
    if studies is None:
        studies = load_studies(args.studies)
    studies = select_studies(studies, args.study)
    if args.results:
        check_complete(collection, studies, args.allow_missing)
    thresholds = Thresholds(args.min_mixed_fraction, args.min_mixed_queries)
    # CKA read back from a report's inputs needs no sentences (and no data root)
    senteval = None if collection.cka_final else _senteval(args)
    options = Options(args.bootstrap, args.bootstrap_seed, senteval, svg, thresholds)
    return Analysis(collection, studies, run_studies(collection, studies, options))


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


def write_outputs(analysis: Analysis, out: Path) -> list[Path]:
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


def run(args: argparse.Namespace) -> int:
    analysis = analyse(args)
    out = args.out or source_folder(args) / "analysis"
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: a file, not a folder")
    with staged_set([out]) as staging:  # the whole folder or the previous one, never a mix
        written = write_outputs(analysis, staging / out.name)
    failed = [s for s in analysis.sections if s.error]
    for section in failed:
        print(f"hncse aggregate: study {section.study!r} failed: {section.error}", file=sys.stderr)
    print(
        f"hncse aggregate: {len(analysis.collection.runs)} runs, "
        f"{len(analysis.sections)} sections, {len(written)} files in {out}"
    )
    return 1 if failed else 0
