"""Every documentation reference resolves in a fresh clone: relative Markdown links (and
their heading anchors) in the READMEs and docs/, and every docs path the code, workflow,
configs and tests cite. The specifications live in docs/, never in a sibling checkout."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[1]
MARKDOWN = sorted(
    [
        REPO / "README.md",
        REPO / "reports" / "README.md",
        REPO / "results" / "README.md",
        *(REPO / "docs").glob("*.md"),
    ]
)
CITING = ("hncse", "workflow", "config", "tests", "baselines", "benchmarks", "scripts")
CITING_SUFFIXES = {".py", ".smk", ".yaml", ".yml", ".rst", ".md", ".sh", ".toml", ".j2", ".html"}
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DOCS_PATH = re.compile(r"(?<![\w./-])docs/[\w.-]+\.md\b")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The Markdown without code blocks and code spans, where brackets are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    """Every heading anchor of a file, with GitHub's -1, -2 ... for repeated headings."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", markdown.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = counts.get(base, 0)
        found.add(f"{base}-{count}" if count else base)
        counts[base] = count + 1
    return found


def relative_links(markdown: Path) -> list[str]:
    """Link targets that point into the repository (not URLs, not mail)."""
    targets = LINK.findall(prose(markdown.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def broken_link(markdown: Path, target: str) -> str | None:
    """Why ``target`` (as written in ``markdown``) does not resolve, or None."""
    path_part, _, anchor = target.partition("#")
    path = (markdown.parent / unquote(path_part)).resolve() if path_part else markdown
    if not path.exists():
        return f"{path_part}: no such file"
    if REPO not in (path, *path.parents):
        return f"{path_part}: outside the repository ({path})"
    if anchor and path.suffix == ".md" and unquote(anchor).lower() not in anchors(path):
        return f"#{anchor}: no such heading in {path.relative_to(REPO)}"
    return None


@pytest.mark.parametrize("markdown", MARKDOWN, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(markdown: Path) -> None:
    problems = [
        f"{target} -> {why}"
        for target in relative_links(markdown)
        if (why := broken_link(markdown, target))
    ]
    assert not problems, f"{markdown.relative_to(REPO)}: " + "; ".join(problems)


def citing_files() -> list[Path]:
    """Files that may cite docs; this test itself names the forbidden path, so not it."""
    files = [REPO / "Snakefile", *MARKDOWN]
    for folder in CITING:
        files += [
            p
            for p in (REPO / folder).rglob("*")
            if p.is_file() and p.suffix in CITING_SUFFIXES and "__pycache__" not in p.parts
        ]
    return [path for path in files if path != Path(__file__).resolve()]


def test_cited_docs_exist() -> None:
    missing = sorted(
        {
            f"{path.relative_to(REPO)}: {cited}"
            for path in citing_files()
            for cited in DOCS_PATH.findall(path.read_text(encoding="utf-8"))
            if not (REPO / cited).is_file()
        }
    )
    assert not missing, "cited docs that do not exist: " + "; ".join(missing)


def test_no_reference_outside_the_clone() -> None:
    """A user who clones the project has no ../shared/docs: the specifications are in docs/."""
    outside = sorted(
        str(path.relative_to(REPO))
        for path in citing_files()
        if "shared/docs" in path.read_text(encoding="utf-8")
    )
    assert not outside, f"files citing ../shared/docs instead of docs/: {outside}"


def test_the_specifications_are_in_the_repository() -> None:
    for name in ("method", "protocol", "study"):
        spec = REPO / "docs" / f"{name}.md"
        assert spec.is_file(), spec
        assert "## Known deviations" in spec.read_text(encoding="utf-8"), spec


def test_slug_matches_github() -> None:
    assert slug("HNCSE-PM: positive mixing") == "hncse-pm-positive-mixing"
    assert slug("C5: compare like with like") == "c5-compare-like-with-like"
    assert slug("Evaluation (`hncse evaluate`, `hncse.evaluation`)") == (
        "evaluation-hncse-evaluate-hncseevaluation"
    )
