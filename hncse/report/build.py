"""``hncse report``: one self-contained HTML file from a results folder.

Layout: the first screen answers — a title naming the studies, a paragraph of what they
found (:mod:`hncse.report.headline`) and the verdict table; then the questions, the verdict
vocabulary, the departures from the paper's recipe as one line, the shared setup once,
each claim, sweep and question with its tables, tests and figures, and provenance (command
to regenerate, code version, package versions, machine, configs, wall times). Claims a
sibling report already decides on a superset of the same runs are one line pointing there.
Figures are embedded as base64 PNG data URIs and the style is inline, so the single file
can be mailed and opened offline.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shlex
from dataclasses import fields
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from hncse.analysis.analyses import verdicts
from hncse.analysis.api import Analysis, analyse, write_tables
from hncse.analysis.cli import add_common_arguments, load, options_of, source_of
from hncse.analysis.collect import Collection, ResultsError
from hncse.analysis.inputs import write_inputs
from hncse.analysis.sections import CLAIMS, QUESTIONS, Section, VerdictRow
from hncse.analysis.stats import format_effect
from hncse.analysis.studies import Study, parse_studies, select_runs
from hncse.analysis.summary import account
from hncse.analysis.tables import format_interval_shown, header, to_html
from hncse.analysis.verdicts import DEFINITIONS, NOT_EVALUATED
from hncse.evaluation.mteb_export import study_links
from hncse.files import OutputError, staged_set, write_text
from hncse.report.headline import headline, question_answers
from hncse.report.provenance import Provenance, benchmark_table, gather
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
    parser.add_argument(
        "--title",
        default=None,
        help="the page's title (default: named after what its studies test)",
    )
    parser.add_argument(
        "--tables",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write `hncse aggregate`'s tables and figures into DIR from the same "
        "analysis (the workflow's one analysis job)",
    )
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
    """The exact ``hncse report`` call that rebuilds this report from its inputs, runnable
    from the project; for a report outside the project, from the report's own folder (a
    first comment line says so: the page never names a folder of the machine)."""
    inputs = Path(args.from_inputs or inputs_folder(args.out)).resolve()
    out = Path(args.out).resolve()
    project = Path.cwd().resolve()
    base = project if out.is_relative_to(project) else out.parent
    argv = [
        "hncse",
        "report",
        "--from-inputs",
        Path(os.path.relpath(inputs, base)).as_posix(),
        "--out",
        Path(os.path.relpath(out, base)).as_posix(),
        "--bootstrap",
        str(args.bootstrap),
        "--bootstrap-seed",
        str(args.bootstrap_seed),
    ]
    for name in args.study or []:
        argv += ["--study", name]
    command = shlex.join([*argv, *(["--title", args.title] if args.title else [])])
    return command if base == project else f"# in the folder of {out.name}:\n{command}"


#: sections that decide the paper's claims (folded when a sibling report decides them)
CLAIM_KEYS = (*CLAIMS, "stability")


def default_title(sections: list[Section], studies: list[Study]) -> str:
    """'HNCSE reproduction: the paper's claims C1–C5 (study main)' — what the report's
    own sections answer, so that two reports of one project never share a title."""
    claims = sorted({s.key for s in sections if s.key in CLAIMS})
    questions = sorted({s.key[:2] for s in sections if s.key[:2] in QUESTIONS})
    topics = []
    if claims:
        topics.append(f"the paper's claims {claims[0]}–{claims[-1]}")
    if questions:
        topics.append(f"open questions {', '.join(questions)}")
    names = ", ".join(s.name for s in studies)
    topic = " and ".join(topics) or "results"
    return f"HNCSE reproduction: {topic} (stud{'ies' if len(studies) > 1 else 'y'} {names})"


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


#: VerdictRow fields with a cell of their own; a field a newer VerdictRow adds gets a
#: column after them under its human header
_PLACED = {
    *("claim", "study", "context", "verdict", "interval", "detail", "n", "mde", "part", "size"),
    *("level", "alpha", "two_way", "conditional_only", "conditional_on", "eps_min", "p_holm"),
}


def _shown(value: object) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _interval_note(row: VerdictRow) -> str:
    """How an interval was made: method, level, n, what it is conditional on, the two-way
    interval that also counts test-set sampling, and ASO's ε_min where computed."""
    iv = row.interval
    if iv is None:
        return ""
    note = [iv.method]
    if row.level == row.level:
        note.append(f"{100 * row.level:.1f}% level")
    note.append(f"n = {iv.n} {iv.unit}")
    if row.conditional_on:
        note.append(f"conditional on {row.conditional_on}")
    low, high = row.two_way
    if low == low and high == high:
        two_way = format_interval_shown(iv.estimate, low, high).split(" ", 1)[1]
        note.append(f"counting test-set sampling too {two_way}")
    if row.eps_min == row.eps_min:
        note.append(f"ASO ε_min {row.eps_min:.2f}")
    return "; ".join(note)


def verdict_view(rows: list[VerdictRow]) -> dict[str, Any]:
    """The verdict table as the template draws it: a claim's words, estimate [interval] at
    the digits its width needs, n, MDE and any further verdict column; the evidence as
    its account with the deciding comparison and run list folded."""
    extra = [f.name for f in fields(rows[0]) if f.name not in _PLACED] if rows else []
    view = []
    for row in rows:
        iv = row.interval
        view.append(
            {
                "claim": row.claim,
                "statement": CLAIMS.get(row.claim, ""),
                "study": row.study,
                "context": row.context,
                "verdict": row.verdict,
                "part": row.part,
                "size": row.size,
                "conditional_only": row.conditional_only,
                "alpha": "" if row.alpha != row.alpha else f"{row.alpha:.3g}",
                "interval": format_interval_shown(iv.estimate, iv.low, iv.high) if iv else "–",
                "method": _interval_note(row),
                "n": "–" if row.n is None else str(row.n),
                "mde": "–" if row.mde != row.mde else format_effect(row.mde, sign=""),
                "extra": [_shown(getattr(row, name)) for name in extra],
                "account": "; ".join(account(row.detail)),
                "detail": row.detail,
            }
        )
    return {
        "rows": view,
        "extra": [header(name) for name in extra],
        "studies": len({r.study for r in rows if r.study != "–"}) > 1,
        "contexts": any(r.context for r in rows),
    }


def _study_runs(inputs: Path) -> dict[str, tuple[str, set[str]]]:
    """A sibling report's studies (from the meta.json and runs table of its inputs):
    each study's analysis and runs; none when the inputs are not beside it."""
    meta, runs = inputs / "meta.json", inputs / "runs.parquet"
    if not (meta.is_file() and runs.is_file()):
        return {}
    studies = parse_studies(json.loads(meta.read_text(encoding="utf-8"))["studies"], str(meta))
    table = pd.read_parquet(runs)
    return {s.name: (s.analysis, set(select_runs(table, s)["run"])) for s in studies}


class _ReportPage(HTMLParser):
    """What a sibling report's page says of itself: its title, the ids of its elements and
    the (claim, verdict) of each verdict row (``data-claim``/``data-verdict``)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.title, self.ids, self.verdicts = "", set[str](), list[tuple[str, str]]()
        self._in_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._in_title = tag == "title"
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if values.get("data-claim") and values.get("data-verdict"):
            self.verdicts.append((str(values["data-claim"]), str(values["data-verdict"])))

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_title and tag != "title"

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def sibling_reports(out: Path) -> list[dict[str, Any]]:
    """The other reports in ``out``'s folder: title, the questions each answers (its
    sections ``q1``–``q3``), its verdict words (``data-claim``/``data-verdict`` of its
    verdict rows) and its studies' runs, so that a report can point at the one answering a
    question or deciding a claim on a superset of its runs."""
    siblings = []
    for path in sorted(out.parent.glob("*.html")):
        if path.name == out.name or not path.is_file():  # a folder named *.html
            continue
        page = _ReportPage(path.read_text(encoding="utf-8", errors="replace"))
        siblings.append(
            {
                "href": path.name,
                "title": page.title.strip() or path.name,
                "answers": [key for key in QUESTIONS if key.lower() in page.ids],
                "verdicts": page.verdicts,
                "studies": _study_runs(inputs_folder(path)),
            }
        )
    return siblings


def decided_elsewhere(
    sections: list[Section], studies: list[Study], collection: Collection, siblings: list[dict]
) -> dict[str, dict[str, Any]]:
    """Study name -> the sibling report that decides the claims on a superset of the
    study's runs with the same analysis (its claim sections are then one line)."""
    found = {}
    for study in studies:
        runs = set(select_runs(collection.runs, study)["run"])
        for sibling in siblings:
            if runs and any(
                analysis == study.analysis and runs <= theirs and sibling["verdicts"]
                for analysis, theirs in sibling["studies"].values()
            ):
                found[study.name] = sibling
                break
    return {name: r for name, r in found.items() if any(s.study == name for s in sections)}


def shared_setup(collection: Collection, studies: list[Study], meta: dict[str, Any]) -> Section:
    """One setup section over the runs of every study: the shared settings once, the
    settings that differ per run group."""
    if len(studies) == 1:
        return setup_section(collection, studies[0], meta)
    runs = dict.fromkeys(r for s in studies for r in select_runs(collection.runs, s)["run"])
    union = Study(
        name="all-studies",
        analysis=studies[0].analysis,
        title=f"the runs of {len(studies)} studies",
        runs=list(runs),
    )
    return setup_section(collection, union, meta)


def departures(setup: Section) -> list[str]:
    """The settings where the setup departs from the paper's recipe (its table's rows)."""
    table = next((t for t in setup.tables if t.name == "setup_deviations"), None)
    return [] if table is None else list(table.text.index)


def render(
    analysis: Analysis,
    provenance: Provenance,
    title: str | None,
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
    setup = shared_setup(analysis.collection, analysis.studies, provenance.to_meta())
    elsewhere = decided_elsewhere(
        analysis.sections, analysis.studies, analysis.collection, siblings
    )
    own = [s for s in analysis.sections if not (s.study in elsewhere and s.key in CLAIM_KEYS)]
    sections = [_section_view(s) for s in [setup, *own]]
    # a report whose claims all lie in a sibling shows that sibling's words, not C1–C5 as
    # "not evaluated"
    rows = [] if elsewhere and not any(s.key in CLAIMS for s in own) else verdict_table(own)
    questions = {
        key: (
            text,
            [s for s in sections if s["key"].startswith(key)],
            [r for r in siblings if key in r["answers"]],
        )
        for key, text in QUESTIONS.items()
    }
    return env.get_template(TEMPLATE).render(
        title=title or default_title(own, [s for s in analysis.studies if s.name not in elsewhere]),
        headline=headline(own, analysis.collection),
        answers=question_answers(own),
        verdicts=verdict_view(rows),
        claims_tested=any(s.key in CLAIMS for s in own),
        elsewhere=elsewhere,
        questions=questions,
        definitions=DEFINITIONS,
        sections=sections,
        setup=sections[0],
        departures=departures(setup),
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
    loaded = load(args)
    if loaded.meta is not None:  # a report's inputs: their provenance and wall times
        try:
            provenance = Provenance(**loaded.meta)
        except TypeError as error:  # a key missing or unknown
            raise ResultsError(f"{args.from_inputs}/meta.json: {error}") from None
        benchmarks = loaded.benchmarks
    else:
        benchmarks = benchmark_table(args.benchmarks or source_of(args).folder / "benchmarks")
        provenance = gather(
            loaded.collection, studies_spec(loaded.studies), args.workflow_command, args.data_dir
        )
    analysis = analyse(loaded, options_of(args, svg=args.tables is not None))
    if args.tables is not None:
        write_tables(analysis, args.tables)
    html = render(
        analysis,
        provenance,
        args.title,
        regenerate_command(args),
        sibling_reports(args.out),
        benchmarks,
        study_links(args.results, args.out, [s.name for s in analysis.studies])
        if args.results
        else [],
    )
    write_report(html, args.out, None if args.from_inputs else (analysis, provenance, benchmarks))
    failed = sum(1 for s in analysis.sections if s.error)
    print(
        f"hncse report: {len(analysis.collection.runs)} runs, {len(analysis.sections)} "
        f"sections{f', {failed} failed (shown in the report)' if failed else ''} -> "
        f"{args.out}"
    )
    return 0


def write_report(
    html: str, out: Path, inputs: tuple[Analysis, Provenance, pd.DataFrame] | None
) -> None:
    """The report, and (``inputs``: from run folders) the compact inputs it rebuilds from,
    as one set: both new, or both as they were."""
    targets = [out] if inputs is None else [out, inputs_folder(out)]
    with staged_set(targets) as staging:
        if inputs is not None:  # after the analysis: the inputs carry its CKA values
            analysis, provenance, benchmarks = inputs
            write_inputs(
                analysis.collection, staging / targets[1].name, provenance.to_meta(), benchmarks
            )
        write_text(staging / out.name, html)
