"""The README's result lines, written from the committed tables so that the prose can
never claim more than the tables do (tests/test_readme_verdicts.py checks the README).

``python -m hncse.analysis.summary README.md`` rewrites the block between the markers
``<!-- verdicts:begin -->`` and ``<!-- verdicts:end -->`` from ``reports/cpu-default`` and
``reports/cpu-questions``. Each claim line carries the verdict word of the table; a
question line states what was measured and, where nothing was significant, says that no
difference was detectable — never a finding.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from hncse.analysis.stats import format_effect, format_interval
from hncse.analysis.verdicts import ALPHA

BEGIN, END = "<!-- verdicts:begin -->", "<!-- verdicts:end -->"
DEFAULT, QUESTIONS = Path("reports/cpu-default"), Path("reports/cpu-questions")


def _interval(
    row: pd.Series, low: str = "ci_low", high: str = "ci_high", estimate: str = "estimate"
) -> str:
    if pd.isna(row[low]):
        if pd.isna(row[estimate]):
            return "–"
        return f"{format_effect(row[estimate])} (no interval)"
    return format_interval(row[estimate], row[low], row[high])


#: parts of a verdict's detail left to the table: the deciding member's numbers (the line
#: leads with them) and the per-run listing
_TABLE_ONLY = ("deciding:", "per run:")


def account(detail: str) -> list[str]:
    """A verdict's detail without the parts left to the table (its ``'; '``-parts)."""
    return [part for part in str(detail).split("; ") if not part.startswith(_TABLE_ONLY)]


def claim_line(row: pd.Series) -> str:
    """'- **C1** HNCSE beats ... — *not reproduced*: +0.09 [−0.20, +0.39] (paired t over
    seeds, Holm-corrected; n = 3; Holm p 0.31; MDE 0.39); …' — the claim, the verdict word
    of the table, the deciding member's evidence and the rest of the table's account."""
    evidence = [str(row["interval"])] if row["interval"] else []
    if evidence and not pd.isna(row["n"]):
        evidence.append(f"n = {int(row['n'])}")
    if not pd.isna(row["p_holm"]):
        evidence.append(f"Holm p {row['p_holm']:.2g}")
    if not pd.isna(row["mde"]):
        evidence.append(f"MDE {format_effect(row['mde'], sign='')}")
    part = row.get("part", "")
    part = f"[{part}] " if isinstance(part, str) and part else ""
    line = f"- **{row['claim']}** {part}{row['statement']} — *{row['verdict']}*"
    size = row.get("size", "")
    if isinstance(size, str) and size:
        line += f", size *{size}*"
    if (numbers := _interval(row)) != "–":
        line += f": {numbers}"
    if evidence:
        line += f" ({'; '.join(evidence)})"
    return f"{line}; {'; '.join(account(row['detail']))}."


def main_comparison_line(row: pd.Series) -> str:
    """'- **Main comparison** hncse − simcse on STS avg … — *inconclusive*: +0.21 [...]
    (…; n = 7; p 0.02; MDE 0.25).' — the number the default study's seeds are sized for."""
    evidence = [str(row["interval"]), f"n = {int(row['n'])}", f"p {row['p_t_holm']:.2g}"]
    if not pd.isna(row["mde"]):
        evidence.append(f"MDE {format_effect(row['mde'], sign='')}")
    return (
        f"- **Main comparison** {row['comparison']} on STS avg, the number the study's "
        f"seeds are sized for (not one of C1–C5) — *{row['verdict']}*: {_interval(row)} "
        f"({'; '.join(evidence)})."
    )


def _spread(sd: float) -> str:
    return "" if pd.isna(sd) else f" ± {sd:.2f}"  # one seed: no spread


def q1_line(table: pd.DataFrame) -> str:
    rows = table[table["column"] == "STS avg"]
    values = ", ".join(
        f"{r['mean']:.2f}{_spread(r['sd'])} ({r['variant']}, n = {int(r['n'])})"
        for _, r in rows.iterrows()
    )
    return (
        f"- **Q1** (β): STS avg {values}. A β is called best only where the report's "
        "seed-paired tests (Holm) separate it from every other; no trend is claimed."
    )


def _seed_tests(row: pd.Series) -> str:
    """'n = 3, Holm p 0.2, MDE 0.41'; one seed has no t test and no MDE."""
    tests = [f"n = {int(row['seeds'])}"]
    tests += [] if pd.isna(row["p_t_holm"]) else [f"Holm p {row['p_t_holm']:.2g}"]
    tests += [] if pd.isna(row["mde"]) else [f"MDE {row['mde']:.2f}"]
    return ", ".join(tests)


def q2_line(gains: pd.DataFrame, differences: pd.DataFrame) -> str:
    parts = [
        f"{_interval(r, 'low', 'high')} on {r['corpus']} ({_seed_tests(r)})"
        for _, r in gains.iterrows()
    ]
    significant = gains[gains["p_t_holm"] < ALPHA]
    verdict = (
        f"significant (Holm p < {ALPHA}) on {', '.join(significant['corpus'])}"
        if len(significant)
        else "no gain is detectable at this number of seeds on either corpus"
    )
    question = "; ".join(
        f"{r['comparison']}: {_interval(r, 'low', 'high')} ({_seed_tests(r)})"
        for _, r in differences.iterrows()
    )
    changed = (differences["p_t_holm"] < ALPHA).any()
    return (
        f"- **Q2** (domain): {gains['comparison'].iloc[0]} on STS avg, "
        f"{'; '.join(parts)}: {verdict}. Does the gain change with the corpus? {question}: "
        + ("it does" if changed else "no change is detectable at this number of seeds")
        + ". Corpus size is not swept at this scale."
    )


def q3_line(correlations: pd.DataFrame) -> str:
    correlations = correlations[correlations["runs"] > 0]  # a metric no run has
    parts = [
        f"{r['metric']} on {r['corpus']} "
        + (
            str(r["note"])
            if pd.isna(r["r_within"])
            else f"r = {r['r_within']:+.2f} (p = {r['p_within']:.2g}, {int(r['runs'])} runs, "
            f"{int(r['seeds'])} seeds)"
        )
        for _, r in correlations.iterrows()
    ]
    hit = correlations[correlations["p_within"] < ALPHA]
    significant = [f"{r['metric']} on {r['corpus']}" for _, r in hit.iterrows()]
    verdict = (
        f"significant (p < {ALPHA}, uncorrected): {', '.join(significant)}"
        if significant
        else "no correlation with STS avg is detectable at this number of runs"
    )
    return (
        f"- **Q3** (Pearson with STS avg within each corpus, seeds held fixed): "
        f"{'; '.join(parts)}: {verdict}."
    )


def block(root: Path = Path(".")) -> str:
    """The README's result block from the committed tables under ``root``."""
    verdicts = pd.read_csv(root / DEFAULT / "verdicts.csv", keep_default_na=False, na_values=[""])
    verdicts["interval"] = verdicts["interval"].fillna("")
    questions = root / QUESTIONS
    main_comparison = pd.read_csv(root / DEFAULT / "main" / "main_comparison.csv")
    lines = [
        main_comparison_line(main_comparison.iloc[0]),
        *map(claim_line, (r for _, r in verdicts.iterrows())),
        "",
        q1_line(pd.read_csv(questions / "q1-diversity" / "Q1_table.csv")),
        q2_line(
            pd.read_csv(questions / "q2-domain" / "Q2-domain_gains.csv"),
            pd.read_csv(questions / "q2-domain" / "Q2-domain_gain_differences.csv"),
        ),
        q3_line(pd.read_csv(questions / "q3-embedding-space" / "q3_correlations.csv")),
    ]
    return "\n".join([BEGIN, *lines, END])


def current_block(readme: str) -> str:
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[start:end]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path("README.md")
    readme = path.read_text(encoding="utf-8")
    path.write_text(readme.replace(current_block(readme), block(path.parent)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
