"""The paragraph that opens a report: what the study found, in a few sentences computed from
the analysis' own tables (never typed in), so that the first screen answers.

It says whether training moved the encoder and by how much (each trained method's STS avg
gain over its untrained start, else its STS avg beside the encoders evaluated as they are),
the main comparison with its interval, and what the intervals are conditional on; the
verdict table follows it. One line per question a study of the report answers (the
README's question lines, :mod:`hncse.analysis.summary`) feeds the questions table.
"""

from __future__ import annotations

from collections.abc import Callable

from hncse.analysis.collect import Collection
from hncse.analysis.sections import Section
from hncse.analysis.summary import q1_line, q2_line, q3_line
from hncse.analysis.tables import Table, format_interval_shown

STS_AVG = "STS avg"
#: per question, the README's line for it and the tables it reads
QUESTION_LINES: dict[str, tuple[Callable[..., str], tuple[str, ...]]] = {
    "Q1": (q1_line, ("Q1_table",)),
    "Q2": (q2_line, ("Q2-domain_gains", "Q2-domain_gain_differences")),
    "Q3": (q3_line, ("q3_correlations",)),
}


def _table(sections: list[Section], name: str) -> Table | None:
    return next((t for s in sections for t in s.tables if t.name == name), None)


def training_sentence(sections: list[Section], collection: Collection) -> str | None:
    """'The trained methods reach STS avg 55.95–56.36 (…), below the 78.87 of
    pretrained-avg evaluated as it is' — None without an untrained encoder to compare."""
    table = _table(sections, "ablation")
    if table is None:
        return None
    untrained = collection.runs[~collection.runs["run"].isin(collection.trained_runs)]
    rows = table.data[table.data["column"] == STS_AVG].dropna(subset=["mean"])
    before = rows[rows[table.index_name].isin(set(untrained["method"]))]
    after = rows[~rows.index.isin(before.index)]
    if before.empty or after.empty:
        return None
    start = before.iloc[0]
    low, high = after["mean"].min(), after["mean"].max()
    side = "above" if low > start["mean"] else "below" if high < start["mean"] else "around"
    return (
        f"The trained methods reach STS avg (Spearman ×100) {low:.2f}–{high:.2f} "
        f"({', '.join(after[table.index_name])}; means over {int(after['n'].max())} seeds), "
        f"{side} the {start['mean']:.2f} of {start[table.index_name]} evaluated as it is "
        "(no training)."
    )


def start_sentence(sections: list[Section]) -> str | None:
    """'Training improves the encoder over its untrained start (STS avg 72.10, Spearman ×100)
    for every method: simcse +3.20 [+2.90, +3.50]; …' from the ``start_gains`` table, each
    gain with its interval over seeds — None without an untrained start run."""
    table = _table(sections, "start_gains")
    if table is None:
        return None
    rows = table.data[table.data["task"] == STS_AVG]
    if rows.empty:
        return None
    if (rows["ci_low"] > 0).all():
        lead = "Training improves the encoder over its untrained start"
        scope = "for every method"
    elif (rows["ci_high"] < 0).all():
        lead = "Training makes the encoder worse than its untrained start"
        scope = "for every method"
    else:
        lead = "Training does not move every method's encoder detectably from its untrained start"
        scope = "gains"
    starts = ", ".join(f"{v:.2f}" for v in rows["start"].unique())
    gains = "; ".join(
        f"{r['variant']} {format_interval_shown(r['estimate'], r['ci_low'], r['ci_high'])}"
        for _, r in rows.sort_values("estimate", ascending=False).iterrows()
    )
    return f"{lead} (STS avg {starts}, Spearman ×100) {scope}: {gains}."


def main_comparison_sentence(sections: list[Section]) -> str | None:
    """The main comparison's estimate [interval] with its method, n and verdict word, and
    what the interval is conditional on."""
    table = next(
        (t for s in sections for t in s.tables if t.name.startswith("main_comparison")), None
    )
    if table is None or table.data.empty:
        return None
    row = table.data.iloc[0]
    numbers = format_interval_shown(row["estimate"], row["ci_low"], row["ci_high"])
    return (
        f"Main comparison, {row['comparison']} on {row['task']}: {numbers} points "
        f"({row['interval']}, n = {int(row['n'])} seeds) — {row['verdict']}."
    )


#: what every interval of the opening paragraph is conditional on
CONDITIONAL = (
    "Intervals are 95% over seeds, conditional on these test sets and this recipe (setup below)."
)


def question_answers(sections: list[Section]) -> dict[str, str]:
    """Question key -> the README's line for it (without its leading label), for each
    question a study of the report answers."""
    answers = {}
    for key, (line, names) in QUESTION_LINES.items():
        tables = [_table(sections, name) for name in names]
        if all(t is not None and not t.data.empty for t in tables):
            text = line(*(t.data for t in tables if t is not None))
            answers[key] = text.removeprefix("- ").replace("**", "").split(" ", 1)[1]
    return answers


def headline(sections: list[Section], collection: Collection) -> list[str]:
    """The opening paragraph's sentences, in reading order; the verdict table follows it."""
    start = start_sentence(sections)
    main = main_comparison_sentence(sections)
    parts = [start or training_sentence(sections, collection), main]
    if start or main:
        parts.append(CONDITIONAL)
    return [p for p in parts if p]
