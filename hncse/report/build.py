"""``hncse report``: one self-contained HTML file from a results folder.

Layout: the verdict table on the paper's claims first, then each claim, sweep and question
with its tables, tests and figures, then provenance (command to regenerate, code version,
package versions, machine, configs, wall times). Figures are embedded as base64 PNG data
URIs and the style is inline, so the single file can be mailed and opened offline.
"""

from __future__ import annotations

import argparse
import base64
import re
import shlex
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from hncse.analysis.analyses import verdicts
from hncse.analysis.cli import Analysis, add_common_arguments, analyse, source_folder
from hncse.analysis.collect import collect, from_tables
from hncse.analysis.inputs import read_inputs, write_inputs
from hncse.analysis.sections import CLAIMS, QUESTIONS, Section, VerdictRow
from hncse.analysis.stats import format_effect
from hncse.analysis.studies import Study, load_studies, parse_studies
from hncse.analysis.tables import to_html
from hncse.analysis.verdicts import DEFINITIONS, NOT_EVALUATED
from hncse.evaluation.mteb_export import study_links
from hncse.files import OutputError, staged_set, write_text
from hncse.report.provenance import Provenance, benchmark_table, gather, project_path
from hncse.report.setup import setup_section

TEMPLATE = "report.html.j2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("reports/report.html"),
        help="the HTML file to write (default reports/report.html)",
    )
    parser.add_argument(
        "--benchmarks",
        type=Path,
        default=None,
        help="folder of Snakemake benchmark TSV files, wall time per rule "
        "(default <results>/benchmarks when it exists)",
    )
    parser.add_argument("--title", default="HNCSE reproduction report")
    parser.add_argument(
        "--workflow-command",
        default=None,
        metavar="CMD",
        help="the command that produced the results (the workflow passes "
        "its Snakemake call), shown beside the report's own",
    )


def inputs_folder(out: Path) -> Path:
    """Where a report's compact inputs lie: ``<report stem>_inputs/`` beside it."""
    return out.parent / f"{out.stem}_inputs"


def regenerate_command(args: argparse.Namespace) -> str:
    """The exact ``hncse report`` call that rebuilds this report from its inputs."""
    inputs = args.from_inputs or inputs_folder(args.out)
    argv = [
        "hncse",
        "report",
        "--from-inputs",
        project_path(inputs),
        "--out",
        project_path(args.out),
        "--bootstrap",
        str(args.bootstrap),
        "--bootstrap-seed",
        str(args.bootstrap_seed),
    ]
    for name in args.study or []:
        argv += ["--study", name]
    return shlex.join([*argv, "--title", args.title])


def _anchor(section: Section) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{section.key}-{section.study}".lower()).strip("-")


def _section_view(section: Section) -> dict[str, Any]:
    return {
        "anchor": _anchor(section),
        "key": section.key,
        "title": section.title,
        "study": section.study,
        "paragraphs": section.paragraphs,
        "error": section.error,
        "verdicts": section.verdicts,
        "tables": [
            {"title": t.title, "html": Markup(to_html(t)), "note": t.note} for t in section.tables
        ],
        "figures": [
            {
                "title": f.title,
                "caption": f.caption,
                "src": "data:image/png;base64," + base64.b64encode(f.png).decode(),
            }
            for f in section.figures
        ],
    }


def verdict_table(sections: list[Section]) -> list[VerdictRow]:
    """Every claim's verdict rows in claim order; a claim no study tested gets one
    ``not evaluated`` row, so the table always lists C1–C5."""
    rows = verdicts(sections)
    table = []
    for claim in CLAIMS:
        mine = [r for r in rows if r.claim == claim]
        table += mine or [
            VerdictRow(claim, "–", "", NOT_EVALUATED, None, "no ablation study in the study spec")
        ]
    return table


def sibling_reports(out: Path) -> list[dict[str, Any]]:
    """The other reports in ``out``'s folder, with the questions each answers (its
    sections ``q1``–``q3``), so that a report can point at the one answering a question."""
    siblings = []
    for path in sorted(out.parent.glob("*.html")):
        if path.name == out.name or not path.is_file():  # a folder named *.html
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        title = re.search(r"<title>(.*?)</title>", text, re.S)
        siblings.append(
            {
                "href": path.name,
                "title": title.group(1) if title else path.name,
                "answers": [key for key in QUESTIONS if f'id="{key.lower()}"' in text],
            }
        )
    return siblings


def render(
    analysis: Analysis,
    provenance: Provenance,
    title: str,
    command: str,
    siblings: list[dict[str, Any]],
    benchmarks: pd.DataFrame,
    mteb: list[dict[str, str]] | None = None,
) -> str:
    env = Environment(
        loader=PackageLoader("hncse.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["effect"] = lambda value: format_effect(value, sign="")
    setups = [
        setup_section(analysis.collection, study, provenance.to_meta())
        for study in analysis.studies
    ]
    sections = [_section_view(s) for s in [*setups, *analysis.sections]]
    questions = {
        key: (
            text,
            [s for s in sections if s["key"].startswith(key)],
            [r for r in siblings if key in r["answers"]],
        )
        for key, text in QUESTIONS.items()
    }
    return env.get_template(TEMPLATE).render(
        title=title,
        claims=CLAIMS,
        verdicts=verdict_table(analysis.sections),
        questions=questions,
        definitions=DEFINITIONS,
        sections=sections,
        provenance=provenance,
        command=command,
        siblings=siblings,
        mteb=mteb or [],
        studies_yaml=yaml.safe_dump(provenance.studies, sort_keys=False, allow_unicode=True),
        benchmarks_html=_frame_html(benchmarks),
        benchmarks=benchmarks,
        n_runs=len(analysis.collection.runs),
        skipped=[
            line.replace(str(analysis.collection.root), "<results>")
            for line in analysis.collection.skipped
        ],
    )


def _frame_html(frame: pd.DataFrame) -> Markup:
    """A provenance table: values escaped, numbers in shortest form (0.05 stays 0.05)."""
    return Markup(
        frame.to_html(index=False, border=0, na_rep="–", float_format=lambda v: f"{v:.6g}")
    )


def studies_spec(studies: list[Study]) -> dict[str, Any]:
    return {s.name: s.model_dump(exclude={"name"}, exclude_none=True) for s in studies}


def run(args: argparse.Namespace) -> int:
    if args.out.is_dir():
        raise OutputError(f"--out {args.out}: a folder, not an HTML file")
    if args.from_inputs:
        collection, meta, benchmarks = read_inputs(args.from_inputs)
        provenance = Provenance(**meta)
        studies = (
            load_studies(args.studies)
            if args.studies
            else parse_studies(provenance.studies, f"{args.from_inputs}/meta.json")
        )
    else:
        collection = collect(args.results) if args.results else from_tables(args.from_tables)
        studies = load_studies(args.studies)
        folder = args.benchmarks or source_folder(args) / "benchmarks"
        benchmarks = benchmark_table(folder)
        provenance = gather(collection, studies_spec(studies), args.workflow_command, args.data_dir)
    analysis = analyse(args, svg=False, collection=collection, studies=studies)
    html = render(
        analysis,
        provenance,
        args.title,
        regenerate_command(args),
        sibling_reports(args.out),
        benchmarks,
        study_links(args.results, args.out, [s.name for s in studies]) if args.results else [],
    )
    # the report and its inputs are one set: both new, or both as they were
    targets = [args.out] if args.from_inputs else [args.out, inputs_folder(args.out)]
    with staged_set(targets) as staging:
        if not args.from_inputs:  # after the analysis: the inputs carry its CKA values
            meta = provenance.to_meta()
            write_inputs(collection, staging / targets[1].name, meta, benchmarks)
        write_text(staging / args.out.name, html)
    failed = sum(1 for s in analysis.sections if s.error)
    print(
        f"hncse report: {len(analysis.collection.runs)} runs, {len(analysis.sections)} "
        f"sections{f', {failed} failed (shown in the report)' if failed else ''} -> "
        f"{args.out}"
    )
    return 0
