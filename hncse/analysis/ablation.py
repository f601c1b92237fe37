"""The ``ablation`` analysis: claims C1–C5 of docs/study.md and training stability."""

from __future__ import annotations

import dataclasses

import pandas as pd

from hncse.analysis import claims, figures, mechanisms, published, start
from hncse.analysis.analyses import (
    MAX_CURVE_POINTS,
    StudyData,
    in_context,
    no_runs,
    suffix,
    thin,
)
from hncse.analysis.sections import CLAIMS, Section, VerdictRow
from hncse.analysis.studies import describe, varying_columns
from hncse.analysis.tables import Table, frame_table, summary_table
from hncse.analysis.tasks import STS_AVG, STSB, TRANSFER_AVG, sts_columns, transfer_columns
from hncse.analysis.verdicts import NOT_EVALUATED

#: what 0 means on each mechanism claim's per-step statistics
ZERO = {
    "C4": "mixing did not move the positive",
    "C5": "the synthetic negatives are no harder than the negatives they are compared with",
}
MIN_DISTRIBUTION = 30  # fewer values than this are listed, not drawn as a distribution
PM_FRACTIONS = ("pm/frac_clear", "pm/frac_ambiguous", "pm/frac_inverted")
FAMILY_NOTE = (
    "estimate = mean seed-paired difference; interval: paired t over seeds at "
    "the member's Holm level 1 − α·p/p_Holm within the declared family (level "
    "column), so it excludes 0 exactly when the Holm-adjusted p (p_t_holm) is "
    "below 0.05; with one seed per method, the paired bootstrap over test pairs "
    "(uncorrected). Conditional on the benchmark's fixed test sets; two_way_low/high: the "
    "interval at the same level that also counts test-set sampling (test pairs resampled "
    "jointly for all runs); conditional_only: the verdict holds only conditionally. "
    "alpha: the member's Holm α. p_wilcoxon_holm: the second test (cannot reject with "
    "n ≤ 5). eps_min: almost stochastic order (A better below 0.5). d_z: standardised "
    "mean difference (its 95% interval in the CSV; none below 3 seeds). mde: minimum "
    "detectable effect, 80% power at alpha, from the seed sd and n. The CSV also holds "
    "sd, uncorrected p_t and p_wilcoxon, the d_z interval and the paper's effect"
)
MECHANISM_NOTE = (
    "per run: C4 over its mixed queries, C5 over its steps with synthetic "
    "negatives; interval: t over runs' means at the Holm level 1 − α·p/p_Holm "
    "(level column) within the claim's family (C4: at least 3 runs that mixed; else no "
    "interval); mde at 80% power and the member's Holm α (alpha column); no d_z: a run's "
    "mean over hundreds of steps varies little across runs, so a standardised effect "
    "says nothing about the mechanism; the CSV also holds each statistic's meaning and "
    "the uncorrected p_t"
)


def ablation(data: StudyData) -> list[Section]:
    """C1–C5 and training stability, one verdict row per claim and context."""
    title = data.study.heading
    if data.empty:
        sections = [no_runs(data, key, f"{key}: {CLAIMS[key]}") for key in CLAIMS]
        for section in sections:
            section.verdicts.append(
                VerdictRow(section.key, data.study.name, "", NOT_EVALUATED, None, "no runs yet")
            )
        return [*sections, no_runs(data, "stability", f"Training stability — {title}")]
    cache: dict[tuple[str, str, str], claims.Comparison | None] = {}
    sections = {key: _claim_section(data, key) for key in ("C1", "C2", "C3")}
    if (gains := start.gains_table(data.scores)) is not None:  # first: did training help?
        sections["C1"].tables.append(gains)
    sections["C1"].tables.append(
        summary_table(
            data.scores,
            sts_columns(),
            "sts",
            "STS (Spearman ×100; STS12–16 'all', STS-B and SICK-R test)",
        )
    )
    if data.scores[transfer_columns()].notna().any().any():  # an STS-only study has none
        sections["C2"].tables.append(
            summary_table(
                data.scores, transfer_columns(), "transfer", "Transfer tasks (test accuracy, %)"
            )
        )
    sections["C3"].tables.append(
        summary_table(data.scores, [STSB, STS_AVG, TRANSFER_AVG], "ablation", "Ablation")
    )
    for context, frame in _contexts(data):

        def comparison(
            a: str, b: str, context: str = context, frame: pd.DataFrame = frame
        ) -> claims.Comparison | None:
            if (context, a, b) not in cache:
                cache[context, a, b] = claims.compare(
                    frame, a, b, data.collection.pairs, data.options.n_resamples, data.rng()
                )
            return cache[context, a, b]

        _main_comparison(sections["C1"], context, comparison, data.study.baseline)
        for key, section in sections.items():
            result = claims.claim_result(key, comparison, data.study.baseline)
            section.verdicts.append(result.verdict_row(key, data.study.name, context))
            if len(result.table):
                section.tables.append(
                    tests_table(
                        result.table.set_index(["family", "comparison", "task"]),
                        f"{key.lower()}_tests{suffix(context)}",
                        f"{key}: tests of its declared families{in_context(context)}",
                    )
                )
                rows = result.table.assign(
                    start=start.start_offsets(data.scores, frame, result.table)
                )
                section.figures.append(_forest(key, context, rows, comparison, data.options.svg))
    _published_tables(data, sections)
    notes = sorted({n for c in cache.values() if c is not None for n in c.notes})
    for note in notes:
        sections["C1"].say(f"Check: {note}")
    return [*sections.values(), _mechanism(data, "C4"), _mechanism(data, "C5"), _stability(data)]


def _main_comparison(
    section: Section, context: str, comparison: claims.Comparisons, baseline: str
) -> None:
    """HNCSE − baseline on STS avg, the comparison a study's seeds are chosen to power."""
    table, _ = claims.family_table(claims.MAIN_COMPARISON, comparison, baseline)
    if table.empty:
        return
    row = table.iloc[0]
    section.say(
        f"Main comparison{in_context(context)}, {row['comparison']} on STS avg (the number "
        f"the study's seeds are sized for; not one of C1–C5): {row['verdict']}, "
        f"{claims.describe_row(row)}."
    )
    section.tables.append(
        tests_table(
            table.set_index(["comparison", "task"]),
            f"main_comparison{suffix(context)}",
            f"Main comparison: HNCSE − {baseline} on STS avg{in_context(context)}",
        )
    )


#: in the CSV only: the page shows the corrected numbers and leaves these to the table file
CSV_ONLY = ["sd", "p_t", "p_wilcoxon", "d_z_low", "d_z_high", "paper_effect", "meaning"]


def tests_table(
    table: pd.DataFrame, name: str, title: str, note: str = FAMILY_NOTE, digits: int = 2
) -> Table:
    """Tests of a family: every column in the CSV, the page without :data:`CSV_ONLY` (the
    page must fit 1280 px)."""
    shown = table.drop(columns=[c for c in CSV_ONLY if c in table])
    return dataclasses.replace(
        frame_table(shown, name, title, note, digits), data=table.reset_index()
    )


def _contexts(data: StudyData) -> list[tuple[str, pd.DataFrame]]:
    """The claims' runs (baseline, HNCSE and its components) grouped by the settings that
    vary among them; other baselines (GloVe, ...) stay in the tables but make no context.
    One empty context when no such run exists."""
    methods = {data.study.baseline, claims.FULL, claims.PM, claims.HNM}
    runs = data.runs[data.runs["method"].isin(methods)]
    if runs.empty:
        return [("", data.scores.iloc[0:0])]
    settings = runs[["backbone", *data.collection.settings_columns]]
    shared = varying_columns(settings, ignore_missing=True)
    context = pd.Series(
        [describe(row, shared) for _, row in runs.iterrows()], index=runs["run"].to_numpy()
    )
    scores = data.scores[data.scores["run"].isin(runs["run"])]
    scores = scores.assign(context=scores["run"].map(context))
    return list(scores.groupby("context", sort=False))


def _claim_section(data: StudyData, key: str) -> Section:
    section = Section(key, f"{key}: {CLAIMS[key]}", data.study.name)
    # once per study, in its first section; the tables' † marks the variants again
    if key == "C1" and (note := data.seed_note()):
        section.say(note)
    return section


def _forest(
    key: str, context: str, table: pd.DataFrame, comparison: claims.Comparisons, svg: bool
) -> figures.Figure:
    """The claim's members as a forest plot: each difference with its interval and the
    per-seed differences behind it."""
    rows = table.assign(
        label=table["comparison"] + " · " + table["task"],
        method=table["comparison"].str.split(" − ").str[0],
    )
    seeds = []
    for _, row in rows.iterrows():
        pair = comparison(*row["comparison"].split(" − "))
        if pair is not None and row["task"] in pair.differences:
            seeds += [
                {"label": row["label"], "value": v} for v in pair.differences[row["task"]].dropna()
            ]
    return figures.forest(
        rows,
        pd.DataFrame(seeds, columns=["label", "value"]),
        f"{key.lower()}_forest{suffix(context)}",
        f"{key}: differences{in_context(context)}",
        "difference ("
        + (
            "points: Spearman ×100 or accuracy %"
            if rows["task"].isin(transfer_columns()).any()
            else "Spearman ×100"
        )
        + ")",
        svg=svg,
    )


def _ours(data: StudyData, method: str) -> str:
    """Our runs of ``method`` as a label: backbone, parameters, steps × batch."""
    runs = data.training[data.training["method"] == method]
    parts = [str(runs["backbone"].iloc[0])]
    parameters = data.collection.fact("model", "parameters").reindex(runs["run"]).dropna()
    if len(parameters):
        parts.append(f"{parameters.iloc[0] / 1e6:.1f} M parameters")
    if "steps" in runs and runs["steps"].notna().any() and "batch_size" in runs:
        parts.append(f"{runs['steps'].median():.0f} steps × batch {runs['batch_size'].iloc[0]:g}")
    return f"{method}: {', '.join(parts)}"


def _published_tables(data: StudyData, sections: dict[str, Section]) -> None:
    """Our SimCSE beside the published one, after our levels (C1: STS, C2: transfer)."""
    baseline = data.study.baseline
    has_baseline = (
        baseline == published.SIMCSE_BERT_BASE.method
        and (data.training["method"] == baseline).any()
    )
    # levels are tables; the figures draw the differences (forest plots, :func:`_forest`)
    for key, columns, summary, name in (
        ("C1", sts_columns(), "sts", "sts_levels"),
        ("C2", transfer_columns(), "transfer", "transfer_levels"),
    ):
        if not data.scores.reindex(columns=columns).notna().any().any():
            continue
        if key == "C1":
            _peers_table(data, sections[key])
        mine = data.scores[data.scores["method"] == baseline]
        beside = (
            published.beside(mine, columns, _ours(data, baseline))
            if has_baseline
            else (pd.DataFrame())
        )
        if not beside.empty:  # right after our levels, before the tests
            tables = sections[key].tables
            after = next((i + 1 for i, t in enumerate(tables) if t.name == summary), 0)
            tables.insert(
                after,
                frame_table(
                    beside,
                    f"{name}_published",
                    "Our SimCSE beside the published SimCSE",
                    f"{published.SIMCSE_BERT_BASE.source}. A different backbone and scale: the "
                    "published numbers place ours, they are not a target",
                ),
            )


def _peers_table(data: StudyData, section: Section) -> None:
    """The peers' (MixCSE, ESimCSE, ...) STS avg beside the number their papers publish."""
    peers = published.peers_beside(data.scores, STS_AVG, data.study.baseline)
    if not peers.empty:
        section.tables.append(
            frame_table(
                peers,
                "sts_peers_published",
                "Our peers beside their published STS avg",
                "Published numbers as each method declares them (hncse/objectives); their "
                "backbone and scale differ from ours: they place our runs, not a target",
            )
        )


def _mechanism(data: StudyData, claim: str) -> Section:
    section = _claim_section(data, claim)
    table, parts = mechanisms.mechanism_claim(claim, data.training, data.options.thresholds)
    for part in parts:
        section.verdicts.append(part.verdict_row(claim, data.study.name, ""))
    if table.empty:
        return section
    section.tables.append(
        tests_table(
            table.drop(columns=["d_z", "d_z_low", "d_z_high"], errors="ignore"),
            f"{claim.lower()}_mechanism",
            f"{claim}: mechanism statistics per variant",
            MECHANISM_NOTE,
            digits=4,
        )
    )
    keys = _pm_cases(data, section) if claim == "C4" else _negative_similarities(data, section)
    _per_step_statistics(data, claim, section, keys)
    return section


def _pm_cases(data: StudyData, section: Section) -> list[str]:
    """C4's extras: the queries PM mixed per run and its cases over training; returns the
    case statistics the logs hold."""
    counts = mechanisms.pm_counts(data.training[data.training["pm/frac_clear"].notna()])
    section.tables.append(
        frame_table(
            counts.set_index(["variant", "run"]),
            "c4_counts",
            "Queries PM mixed, per run",
            digits=4,
        )
    )
    keys = [k for k in PM_FRACTIONS if k in data.steps]
    if keys:
        section.figures.append(
            _step_curves(
                data.steps, keys, "c4_fractions_curve", "PM cases over training", data.options.svg
            )
        )
    return keys


#: C5's similarities of the negatives to the query, drawn over training
NEGATIVE_SIMILARITIES = (
    "hnm/sim_synthetic",
    "hnm/sim_hardest_inbatch",
    "hnm/sim_mixed_from",
    "hnm/sim_inbatch",
)


def _negative_similarities(data: StudyData, section: Section) -> list[str]:
    """C5's extra: the negatives' similarity to the query over training; returns the
    similarity statistics the logs hold."""
    keys = [k for k in NEGATIVE_SIMILARITIES if k in data.steps]
    if keys:
        section.figures.append(
            _step_curves(
                data.steps,
                keys,
                "c5_similarity_curve",
                "Similarity of negatives to the query",
                data.options.svg,
            )
        )
    return keys


def _per_step_statistics(data: StudyData, claim: str, section: Section, keys: list[str]) -> None:
    """The claim's per-step statistics (its parts', else ``keys``) as counts per bin, or
    listed when there are too few to draw."""
    steps = data.steps
    parts = [p.statistic for p in mechanisms.PARTS[claim] if p.statistic in steps]
    long = (
        steps[steps["kind"] == "train"]
        .melt(
            id_vars=["variant", "run", "step"],
            value_vars=parts or keys,
            var_name="statistic",
            value_name="value",
        )
        .dropna()
        if keys
        else pd.DataFrame()
    )
    if len(long) >= MIN_DISTRIBUTION:
        section.figures.insert(
            0,
            figures.counts(
                long,
                f"{claim.lower()}_step_counts",
                f"{claim}: per-step statistics",
                {p.statistic: p.meaning for p in mechanisms.PARTS[claim]},
                ZERO[claim],
                svg=data.options.svg,
            ),
        )
    elif not long.empty:  # too few values for a distribution: the values themselves
        section.tables.append(
            frame_table(
                long.set_index(["variant", "run", "step", "statistic"]),
                f"{claim.lower()}_values",
                f"{claim}: per-step statistics (fewer than {MIN_DISTRIBUTION} values, listed)",
                digits=4,
            )
        )


def _step_curves(
    steps: pd.DataFrame, keys: list[str], name: str, title: str, svg: bool, logy: bool = False
) -> figures.Figure:
    thinned = thin(steps, keys).melt(
        id_vars=["run", "variant", "step"],
        value_vars=keys,
        var_name="statistic",
        value_name="value",
    )
    one = len(keys) == 1  # several statistics: one dash pattern each
    band = "range over runs (log axis)" if logy else "sd over runs"
    return figures.curves(
        thinned,
        "step",
        "value",
        "variant",
        name,
        title,
        ylabel=keys[0] if one else "value",
        caption=f"colour: variant; binned to ≤ {MAX_CURVE_POINTS} points; band: {band}",
        logy=logy,
        style=None if one else "statistic",
        svg=svg,
    )


def _stability(data: StudyData) -> Section:
    section = Section("stability", f"Training stability — {data.study.heading}", data.study.name)
    evals = data.steps[data.steps["kind"] == "eval"] if "kind" in data.steps else data.steps
    if "stsb_dev_spearman" in evals and evals["stsb_dev_spearman"].notna().any():
        beginning = (
            "the first point is step 0, before training"
            if (evals["step"] == 0).any()
            else "these logs have no step-0 evaluation"
        )
        first = evals.loc[evals["step"] == 0, "stsb_dev_spearman"].dropna()
        reference = None if first.empty else (float(first.mean()), "untrained start (step 0)")
        section.figures.append(
            figures.curves(
                evals,
                "step",
                "stsb_dev_spearman",
                "variant",
                "dev_curves",
                "STS-B dev Spearman during training",
                ylabel="STS-B dev Spearman",
                caption=f"a marker at every evaluation; line: mean over seeds; band: sd over "
                f"seeds; {beginning}"
                + ("; dotted: the step-0 mean, the untrained start" if reference else ""),
                every_point=True,
                reference=reference,
                svg=data.options.svg,
            )
        )
    if "loss" in data.steps and data.steps["loss"].notna().any():
        section.figures.append(
            _step_curves(
                data.steps, ["loss"], "loss_curves", "Training loss", data.options.svg, logy=True
            )
        )
    metrics = [
        m
        for m in (
            "best_stsb_dev_spearman",
            "best_step",
            "steps",
            "seconds",
            "sentences_per_s",
            "final_loss",
        )
        if m in data.training
    ]
    trained = (
        data.training[data.training["steps"].notna()]
        if "steps" in data.training
        else (data.training.iloc[0:0])
    )  # runs used as they are have no training row
    if metrics and len(trained):
        section.tables.append(
            summary_table(trained, metrics, "training", "Training summary", mark_best=False)
        )
    if not section.figures and not section.tables:
        section.say("No training logs in this study (untrained baselines only).")
    return section
