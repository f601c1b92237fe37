"""``hncse report``: one self-contained HTML file from a results folder.

Layout: the verdict table on the paper's claims first, then each claim, sweep and question
with its tables, tests and figures, then provenance (command to regenerate, code version,
package versions, machine, configs, wall times). Figures are embedded as base64 PNG data
URIs and the style is inline, so the single file can be mailed and opened offline.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import re
import shlex
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from hncse.analysis.analyses import verdicts
from hncse.analysis.cli import Analysis, add_common_arguments, analyse
from hncse.analysis.sections import CLAIMS, QUESTIONS, Section, VerdictRow
from hncse.analysis.tables import to_html
from hncse.analysis.verdicts import DEFINITIONS, NOT_EVALUATED
from hncse.files import write_text
from hncse.report.provenance import Provenance, gather

TEMPLATE = "report.html.j2"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("reports/report.html"),
                        help="the HTML file to write (default reports/report.html)")
    parser.add_argument("--benchmarks", type=Path, default=None,
                        help="folder of Snakemake benchmark TSV files, wall time per rule "
                             "(default <results>/benchmarks when it exists)")
    parser.add_argument("--title", default="HNCSE reproduction report")
    parser.add_argument("--workflow-command", default=None, metavar="CMD",
                        help="the command that produced the results (the workflow passes "
                             "its Snakemake call), shown beside the report's own")


def regenerate_command(args: argparse.Namespace) -> str:
    """The exact ``hncse report`` call that rebuilds this report."""
    source = ["--results", str(args.results)] if args.results else [
        "--from-tables", str(args.from_tables)]
    argv = ["hncse", "report", *source, "--out", str(args.out),
            "--bootstrap", str(args.bootstrap), "--bootstrap-seed", str(args.bootstrap_seed)]
    for flag, value in (("--studies", args.studies), ("--benchmarks", args.benchmarks),
                        ("--data-dir", args.data_dir)):
        if value is not None:
            argv += [flag, str(value)]
    for name in args.study or []:
        argv += ["--study", name]
    if args.no_cka:
        argv.append("--no-cka")
    argv += ["--title", args.title]
    if args.workflow_command:
        argv += ["--workflow-command", args.workflow_command]
    return shlex.join(argv)


def _anchor(section: Section) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{section.key}-{section.study}".lower()).strip("-")


def _section_view(section: Section) -> dict[str, Any]:
    return {
        "anchor": _anchor(section), "key": section.key, "title": section.title,
        "study": section.study, "paragraphs": section.paragraphs, "error": section.error,
        "verdicts": section.verdicts,
        "tables": [{"title": t.title, "html": Markup(to_html(t)), "note": t.note}
                   for t in section.tables],
        "figures": [{"title": f.title, "caption": f.caption,
                     "src": "data:image/png;base64," + base64.b64encode(f.png).decode()}
                    for f in section.figures],
    }


def verdict_table(sections: list[Section]) -> list[VerdictRow]:
    """Every claim's verdict rows in claim order; a claim no study tested gets one
    ``not evaluated`` row, so the table always lists C1–C5."""
    rows = verdicts(sections)
    table = []
    for claim in CLAIMS:
        mine = [r for r in rows if r.claim == claim]
        table += mine or [VerdictRow(claim, "–", "", NOT_EVALUATED, None,
                                     "no ablation study in the study spec")]
    return table


def render(analysis: Analysis, provenance: Provenance, title: str,
           workflow_command: str | None = None) -> str:
    env = Environment(loader=PackageLoader("hncse.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    sections = [_section_view(s) for s in analysis.sections]
    questions = {key: (text, [s for s in sections if s["key"].startswith(key)])
                 for key, text in QUESTIONS.items()}
    return env.get_template(TEMPLATE).render(
        title=title, generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        claims=CLAIMS, verdicts=verdict_table(analysis.sections), questions=questions,
        definitions=DEFINITIONS,
        sections=sections, provenance=provenance, runs_html=_frame_html(provenance.runs),
        benchmarks_html=_frame_html(provenance.benchmarks),
        n_runs=len(analysis.collection.runs), results=str(analysis.collection.root),
        workflow_command=workflow_command,
    )


def _frame_html(frame: pd.DataFrame) -> Markup:
    """A provenance table: values escaped, numbers in shortest form (0.05 stays 0.05)."""
    return Markup(frame.to_html(index=False, border=0, na_rep="–",
                                float_format=lambda v: f"{v:.6g}"))


def studies_yaml(analysis: Analysis) -> str:
    spec = {s.name: s.model_dump(exclude={"name"}, exclude_none=True) for s in analysis.studies}
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def run(args: argparse.Namespace) -> int:
    analysis = analyse(args, svg=False)  # the HTML embeds PNGs only
    benchmarks = args.benchmarks or (args.results or args.from_tables) / "benchmarks"
    provenance = gather(analysis.collection, regenerate_command(args), studies_yaml(analysis),
                        benchmarks)
    write_text(args.out, render(analysis, provenance, args.title, args.workflow_command))
    failed = sum(1 for s in analysis.sections if s.error)
    print(f"hncse report: {len(analysis.collection.runs)} runs, {len(analysis.sections)} "
          f"sections{f', {failed} failed (shown in the report)' if failed else ''} -> "
          f"{args.out}")
    return 0
