"""The ``ablation`` analysis: claims C1–C5 of docs/study.md and training stability."""

from __future__ import annotations

import pandas as pd

from hncse.analysis import claims, figures, mechanisms
from hncse.analysis.analyses import (
    MAX_CURVE_POINTS,
    StudyData,
    in_context,
    long_scores,
    no_runs,
    suffix,
    thin,
)
from hncse.analysis.kinds import analysis_kind
from hncse.analysis.sections import CLAIMS, Section, VerdictRow
from hncse.analysis.studies import describe, varying_columns
from hncse.analysis.tables import frame_table, summary_table
from hncse.analysis.tasks import STS_AVG, STSB, TRANSFER_AVG, sts_columns, transfer_columns
from hncse.analysis.verdicts import NOT_EVALUATED

PM_FRACTIONS = ("pm/frac_clear", "pm/frac_ambiguous", "pm/frac_inverted")
FAMILY_NOTE = ("estimate = mean seed-paired difference; interval: paired t over seeds at "
               "the member's Holm level 1 − α·p/p_Holm within the declared family (level "
               "column), so it excludes 0 exactly when the Holm-adjusted p (p_t_holm) is "
               "below 0.05; with one seed per method, the paired bootstrap over test pairs "
               "(uncorrected). p_wilcoxon: the second test (cannot reject with n ≤ 5). d_z: "
               "standardised mean difference with its 95% interval (none below 3 seeds). "
               "mde: minimum detectable effect, 80% power, α 0.05, from the seed sd and n")
MECHANISM_NOTE = ("per run: C4 over its mixed queries, C5 over its steps with synthetic "
                  "negatives; interval: t over runs' means at the Holm level 1 − α·p/p_Holm "
                  "within the claim's family (C4: at least 3 runs that mixed; else no "
                  "interval); d_z over runs with its 95% interval; mde at 80% power")


@analysis_kind("ablation", section="C1")
def ablation(data: StudyData) -> list[Section]:
    """C1–C5 and training stability, one verdict row per claim and context."""
    title = data.study.heading
    if data.empty:
        sections = [no_runs(data, key, f"{key}: {CLAIMS[key]}") for key in CLAIMS]
        for section in sections:
            section.verdicts.append(VerdictRow(section.key, data.study.name, "",
                                               NOT_EVALUATED, None, "no runs yet"))
        return [*sections, no_runs(data, "stability", f"Training stability — {title}")]
    cache: dict[tuple[str, str, str], claims.Comparison | None] = {}
    sections = {key: _claim_section(data, key) for key in ("C1", "C2", "C3")}
    sections["C1"].tables.append(summary_table(
        data.scores, sts_columns(), "sts",
        "STS (Spearman ×100; STS12–16 'all', STS-B and SICK-R test)"))
    sections["C2"].tables.append(summary_table(data.scores, transfer_columns(), "transfer",
                                               "Transfer tasks (test accuracy, %)"))
    sections["C3"].tables.append(summary_table(data.scores, [STSB, STS_AVG, TRANSFER_AVG],
                                               "ablation", "Ablation"))
    for context, frame in _contexts(data):
        def comparison(a: str, b: str, context: str = context, frame: pd.DataFrame = frame
                       ) -> claims.Comparison | None:
            if (context, a, b) not in cache:
                cache[context, a, b] = claims.compare(frame, a, b, data.collection.pairs,
                                                      data.options.n_resamples, data.rng())
            return cache[context, a, b]

        for key, section in sections.items():
            result = claims.claim_result(key, comparison, data.study.baseline)
            section.verdicts.append(result.verdict_row(key, data.study.name, context))
            if len(result.table):
                section.tables.append(frame_table(
                    result.table.set_index(["family", "comparison", "task"]),
                    f"{key.lower()}_tests{suffix(context)}",
                    f"{key}: tests of its declared families{in_context(context)}",
                    FAMILY_NOTE))
    _figures(data, sections)
    notes = sorted({n for c in cache.values() if c is not None for n in c.notes})
    for note in notes:
        sections["C1"].say(f"Check: {note}")
    return [*sections.values(), _mechanism(data, "C4"), _mechanism(data, "C5"),
            _stability(data)]


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
    context = pd.Series([describe(row, shared) for _, row in runs.iterrows()],
                        index=runs["run"].to_numpy())
    scores = data.scores[data.scores["run"].isin(runs["run"])]
    scores = scores.assign(context=scores["run"].map(context))
    return list(scores.groupby("context", sort=False))


def _claim_section(data: StudyData, key: str) -> Section:
    section = Section(key, f"{key}: {CLAIMS[key]}", data.study.name)
    if note := data.seed_note():
        section.say(note)
    return section


def _figures(data: StudyData, sections: dict[str, Section]) -> None:
    svg = data.options.svg
    if not (bars := long_scores(data.scores, sts_columns())).empty:
        sections["C1"].figures.append(figures.task_bars(bars, "sts_bars", "STS tasks",
                                                        "Spearman ×100", svg=svg))
    if not (bars := long_scores(data.scores, transfer_columns())).empty:
        sections["C2"].figures.append(figures.task_bars(bars, "transfer_bars",
                                                        "Transfer tasks", "accuracy (%)",
                                                        svg=svg))


def _mechanism(data: StudyData, claim: str) -> Section:
    section = _claim_section(data, claim)
    result, _ = mechanisms.mechanism_claim(claim, data.training, data.options.thresholds)
    section.verdicts.append(result.verdict_row(claim, data.study.name, ""))
    if result.table.empty:
        section.say(result.detail)
        return section
    section.tables.append(frame_table(result.table, f"{claim.lower()}_mechanism",
                                      f"{claim}: mechanism statistics per variant",
                                      MECHANISM_NOTE, digits=4))
    steps = data.steps
    if claim == "C4":
        counts = mechanisms.pm_counts(data.training[data.training["pm/frac_clear"].notna()])
        section.tables.append(frame_table(counts.set_index(["variant", "run"]), "c4_counts",
                                          "Queries PM mixed, per run", digits=4))
        keys = [k for k in PM_FRACTIONS if k in steps]
        if keys:
            section.figures.append(_step_curves(steps, keys, "c4_fractions_curve",
                                                "PM cases over training", data.options.svg))
    else:
        keys = [k for k in ("hnm/sim_synthetic", "hnm/sim_hardest_inbatch",
                            "hnm/sim_mixed_from", "hnm/sim_inbatch") if k in steps]
        if keys:
            section.figures.append(_step_curves(steps, keys, "c5_similarity_curve",
                                                "Similarity of negatives to the query",
                                                data.options.svg))
    parts = [p.statistic for p in mechanisms.PARTS[claim] if p.statistic in steps]
    long = steps[steps["kind"] == "train"].melt(
        id_vars=["variant"], value_vars=parts or keys, var_name="statistic",
        value_name="value").dropna() if keys else pd.DataFrame()
    if not long.empty:
        section.figures.insert(0, figures.histograms(
            long, f"{claim.lower()}_histograms", f"{claim}: per-step statistics",
            "distribution over logged training steps (all runs of a variant); line at 0",
            svg=data.options.svg))
    return section


def _step_curves(steps: pd.DataFrame, keys: list[str], name: str, title: str, svg: bool
                 ) -> figures.Figure:
    thinned = thin(steps, keys).melt(id_vars=["run", "variant", "step"], value_vars=keys,
                                     var_name="statistic", value_name="value")
    thinned["series"] = thinned["variant"] + " · " + thinned["statistic"]
    return figures.curves(thinned, "step", "value", "series", name, title,
                          caption=f"binned to ≤ {MAX_CURVE_POINTS} points; band: sd over runs",
                          svg=svg)


def _stability(data: StudyData) -> Section:
    section = Section("stability", f"Training stability — {data.study.heading}",
                      data.study.name)
    evals = data.steps[data.steps["kind"] == "eval"] if "kind" in data.steps else data.steps
    if "stsb_dev_spearman" in evals and evals["stsb_dev_spearman"].notna().any():
        section.figures.append(figures.curves(
            evals, "step", "stsb_dev_spearman", "variant", "dev_curves",
            "STS-B dev Spearman during training", ylabel="STS-B dev Spearman",
            svg=data.options.svg))
    if "loss" in data.steps and data.steps["loss"].notna().any():
        section.figures.append(_step_curves(data.steps, ["loss"], "loss_curves",
                                            "Training loss", data.options.svg))
    metrics = [m for m in ("best_stsb_dev_spearman", "best_step", "steps", "seconds",
                           "sentences_per_s", "final_loss") if m in data.training]
    if metrics:
        section.tables.append(summary_table(data.training, metrics, "training",
                                            "Training summary", mark_best=False))
    if not section.figures and not section.tables:
        section.say("No training logs in this study (untrained baselines only).")
    return section
