"""One function per analysis of the study spec, turning a study's runs into report sections.

Every analysis copes with missing data: a study with no runs yet gets its sections with a
"no runs yet" line (and ``not tested`` verdicts); single-seed variants are labelled; a
statistic that cannot be computed says why. :func:`run_studies` also catches an analysis
that fails outright and shows the error in its section rather than dropping it.
"""

from __future__ import annotations

import math
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from hncse.analysis import claims, figures
from hncse.analysis.collect import Collection
from hncse.analysis.embedding_space import cka_to_reference
from hncse.analysis.sections import CLAIMS, QUESTIONS, Section, VerdictRow, order_key
from hncse.analysis.stats import NOT_TESTED, Interval
from hncse.analysis.studies import Study, describe, label_runs, select_runs, varying_columns
from hncse.analysis.tables import frame_table, grid_table, show_value, summary_table
from hncse.analysis.tasks import (
    STS_AVG,
    STS_TASKS,
    STSB,
    TRANSFER_AVG,
    TRANSFER_TASKS,
    headline_scores,
    sts_columns,
    transfer_columns,
)

MAX_CURVE_POINTS = 200
PM_FRACTIONS = ("pm/frac_clear", "pm/frac_ambiguous", "pm/frac_inverted")


@dataclass(frozen=True)
class Options:
    """``n_resamples`` bootstrap replicates (``rng_seed`` seeds them); ``senteval`` is the
    SentEval data folder for CKA's sentences (None: no CKA); ``svg``: also draw SVGs."""

    n_resamples: int = 1000
    rng_seed: int = 0
    senteval: Path | None = None
    svg: bool = True  # figures as SVG too (files for Snakemake); the HTML needs PNG only


@dataclass
class StudyData:
    """A study's runs (with ``variant``/``series``/``context`` labels), their headline
    scores, training summaries and logged steps."""

    study: Study
    collection: Collection
    runs: pd.DataFrame
    scores: pd.DataFrame
    training: pd.DataFrame
    steps: pd.DataFrame
    options: Options

    @property
    def empty(self) -> bool:
        return self.runs.empty

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.options.rng_seed)

    def seed_note(self) -> str | None:
        """A sentence labelling single-seed variants, None when all have several."""
        counts = self.runs.groupby("variant").size()
        single = counts[counts == 1].index.tolist()
        if not single:
            return None
        if len(single) == len(counts):
            return ("Single-seed: every variant has one run, so there are no spreads or seed "
                    "tests; intervals come from the bootstrap over test pairs only.")
        return f"Single-seed variants (no spread): {', '.join(single)}."


def study_data(collection: Collection, study: Study, options: Options) -> StudyData:
    runs = label_runs(select_runs(collection.runs, study), study.swept)
    labels = runs[["run", "variant", "series", "context"]]
    scores = headline_scores(collection.table, runs.drop(columns="path"))
    training_rows = collection.table[(collection.table["task"] == "training")
                                     & collection.table["run"].isin(runs["run"])]
    training = training_rows.pivot_table(index="run", columns="metric", values="value")
    training = runs.merge(training, left_on="run", right_index=True, how="left")
    steps = collection.steps[collection.steps["run"].isin(runs["run"])].merge(labels, on="run")
    return StudyData(study, collection, runs, scores, training, steps, options)


def _no_runs(data: StudyData, key: str, title: str) -> Section:
    section = Section(key, title, data.study.name)
    section.say(f"No runs yet for study {data.study.name!r} (its filter matched none of "
                f"the {len(data.collection.runs)} collected runs).")
    return section


def _long(scores: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Scores in long form (run, variant, task, value) for bar charts."""
    present = [c for c in columns if scores[c].notna().any()]
    return scores.melt(id_vars=["run", "variant"], value_vars=present, var_name="task",
                       value_name="value").dropna(subset=["value"])


def _thin(steps: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Training lines averaged within at most MAX_CURVE_POINTS step bins (same bins for
    every run), so that curves over 15k steps stay light and seeds line up."""
    train = steps[steps["kind"] == "train"].dropna(subset=keys, how="all")
    if train.empty:
        return train
    width = max(1, math.ceil(train["step"].max() / MAX_CURVE_POINTS))
    binned = train.assign(step=(train["step"] // width) * width)
    return binned.groupby(["run", "variant", "step"], as_index=False)[keys].mean()


def _verdict_rows(data: StudyData, claim: str, results: list[tuple[str, claims.ClaimResult]]
                  ) -> list[VerdictRow]:
    return [VerdictRow(claim, data.study.name, context, r.verdict, r.interval, r.detail)
            for context, r in results]


# ---------------------------------------------------------------------------- ablation


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


def ablation(data: StudyData) -> list[Section]:
    """C1–C5 and training stability."""
    title = data.study.heading
    if data.empty:
        sections = [_no_runs(data, key, f"{key}: {CLAIMS[key]}") for key in CLAIMS]
        for section in sections:
            section.verdicts.append(VerdictRow(section.key, data.study.name, "", NOT_TESTED,
                                               None, "no runs yet"))
        return [*sections, _no_runs(data, "stability", f"Training stability — {title}")]
    scores = data.scores
    cache: dict[tuple[str, str, str], claims.Comparison | None] = {}

    def comparison(context: str, ctx: pd.DataFrame, a: str, b: str) -> claims.Comparison | None:
        if (context, a, b) not in cache:
            cache[context, a, b] = claims.compare(ctx, a, b, data.collection.pairs,
                                                  data.options.n_resamples, data.rng())
        return cache[context, a, b]

    base, contexts = data.study.baseline, _contexts(data)
    sections = [
        _c1(data, scores, contexts, comparison, base),
        _c2(data, scores, contexts, comparison, base),
        _c3(data, scores, contexts, comparison, base),
        _mechanism(data, "C4"),
        _mechanism(data, "C5"),
        _stability(data),
    ]
    notes = sorted({n for c in cache.values() if c is not None for n in c.notes})
    for note in notes:
        sections[0].say(f"Check: {note}")
    return sections


Compare = Callable[[str, pd.DataFrame, str, str], claims.Comparison | None]


def _claim_section(data: StudyData, key: str) -> Section:
    section = Section(key, f"{key}: {CLAIMS[key]}", data.study.name)
    if note := data.seed_note():
        section.say(note)
    return section


def _c1(data: StudyData, scores: pd.DataFrame, contexts: list, comparison: Compare,
        base: str) -> Section:
    section = _claim_section(data, "C1")
    section.tables.append(summary_table(scores, sts_columns(), "sts",
                                        "STS (Spearman ×100; STS12–16 'all', STS-B and SICK-R "
                                        "test)"))
    if not (bars := _long(scores, sts_columns())).empty:
        section.figures.append(figures.task_bars(bars, "sts_bars", "STS tasks",
                                                 "Spearman ×100", svg=data.options.svg))
    results = [(ctx, claims.claim_c1(comparison(ctx, frame, claims.FULL, base)))
               for ctx, frame in contexts]
    section.verdicts += _verdict_rows(data, "C1", results)
    return section


def _c2(data: StudyData, scores: pd.DataFrame, contexts: list, comparison: Compare,
        base: str) -> Section:
    section = _claim_section(data, "C2")
    section.tables.append(summary_table(scores, transfer_columns(), "transfer",
                                        "Transfer tasks (test accuracy, %)"))
    labels = [t.label for t in (*STS_TASKS, *TRANSFER_TASKS)]
    results = []
    for ctx, frame in contexts:
        result = claims.claim_parts(
            [(comparison(ctx, frame, claims.FULL, base), f"{claims.FULL} − {base}")],
            labels, "tasks")
        results.append((ctx, result))
        if len(result.table):
            section.tables.append(frame_table(
                result.table.drop(columns="comparison").rename_axis("task"),
                f"c2_tests{_suffix(ctx)}", f"{claims.FULL} − {base} per task{_in(ctx)}",
                TEST_NOTE))
        for method in frame["method"].unique():
            if method in (base, claims.FULL):
                continue
            other = comparison(ctx, frame, method, base)
            if other is not None:
                section.tables.append(frame_table(
                    claims.comparison_rows(other, labels), f"tests_{method}{_suffix(ctx)}",
                    f"{method} − {base} per task{_in(ctx)}", TEST_NOTE))
    section.verdicts += _verdict_rows(data, "C2", results)
    if not (bars := _long(scores, transfer_columns())).empty:
        section.figures.append(figures.task_bars(bars, "transfer_bars", "Transfer tasks",
                                                 "accuracy (%)", svg=data.options.svg))
    return section


TEST_NOTE = ("difference with its 95% interval (bootstrap over test pairs and seeds where "
             "per-pair scores exist, else t over seeds); d_z = Cohen's d of the seed-paired "
             "differences; p-values Holm-corrected across the tasks of the comparison")


def _suffix(context: str) -> str:
    return "" if not context else "_" + "".join(c if c.isalnum() else "-" for c in context)


def _in(context: str) -> str:
    return f" ({context})" if context else ""


def _c3(data: StudyData, scores: pd.DataFrame, contexts: list, comparison: Compare,
        base: str) -> Section:
    section = _claim_section(data, "C3")
    section.tables.append(summary_table(scores, [STSB, STS_AVG, TRANSFER_AVG], "ablation",
                                        "Ablation"))
    pairs = [(claims.PM, base), (claims.HNM, base), (claims.FULL, claims.PM),
             (claims.FULL, claims.HNM)]
    results = []
    for ctx, frame in contexts:
        result = claims.claim_parts(
            [(comparison(ctx, frame, a, b), f"{a} − {b}") for a, b in pairs], [STS_AVG],
            "comparisons on STS avg")
        results.append((ctx, result))
        if len(result.table):
            section.tables.append(frame_table(result.table.set_index("comparison"),
                                              f"c3_tests{_suffix(ctx)}",
                                              f"Ablation comparisons on STS avg{_in(ctx)}",
                                              TEST_NOTE))
    section.verdicts += _verdict_rows(data, "C3", results)
    return section


def _mechanism(data: StudyData, claim: str) -> Section:
    section = _claim_section(data, claim)
    steps = data.steps
    if {"hnm/sim_synthetic", "hnm/sim_inbatch"} <= set(steps.columns):
        steps = steps.assign(**{claims.HARDNESS_GAP: steps["hnm/sim_synthetic"]
                                - steps["hnm/sim_inbatch"]})
    result = claims.mechanism_claim(claim, steps, data.runs)
    section.verdicts += _verdict_rows(data, claim, [("", result)])
    table = result.table
    if table.empty:
        section.say("No run of this study logged the statistics (they are logged only by "
                    "methods with the mechanism).")
        return section
    if claim == "C4" and table["mean"].isna().any():
        section.say("Some PM runs never mixed a query in a logged step, so their deltas are "
                    "undefined (NaN) and those parts are not tested; see the case fractions.")
    section.tables.append(frame_table(table, f"{claim.lower()}_mechanism",
                                      f"{claim}: mechanism statistics over training",
                                      MECHANISM_NOTE, digits=4))
    keys = [k for k, _, _ in claims.MECHANISM_PARTS[claim]]
    if claim == "C4":
        keys_present = [k for k in PM_FRACTIONS if k in steps]
        fractions = data.training.groupby("variant", sort=False)[
            [k for k in keys_present if k in data.training]].mean().dropna(how="all")
        section.tables.append(frame_table(
            fractions, "c4_fractions",
            "Fraction of queries per PM case (mean over steps and runs)", digits=3))
        section.figures.append(_step_curves(steps, keys_present, "c4_fractions_curve",
                                            "PM cases over training", data.options.svg))
    else:
        keys = ["hnm/sim_synthetic", "hnm/sim_inbatch", *keys]
        section.figures.append(_step_curves(steps, keys[:2], "c5_similarity_curve",
                                            "Similarity of negatives to the query",
                                            data.options.svg))
    long = steps[steps["kind"] == "train"].melt(
        id_vars=["variant"], value_vars=[k for k in keys if k in steps],
        var_name="statistic", value_name="value").dropna()
    if not long.empty:
        section.figures.insert(0, figures.histograms(
            long, f"{claim.lower()}_histograms", f"{claim}: per-step statistics",
            "distribution over logged training steps (all runs of a variant); line at 0",
            svg=data.options.svg))
    return section


MECHANISM_NOTE = ("mean over training steps with its 95% interval: t over runs' means when "
                  "several runs, else batch means over the single run's steps")


def _step_curves(steps: pd.DataFrame, keys: list[str], name: str, title: str, svg: bool
                 ) -> figures.Figure:
    thinned = _thin(steps, keys).melt(id_vars=["run", "variant", "step"], value_vars=keys,
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


# ------------------------------------------------------------------------------ sweeps


def grid_km(data: StudyData) -> list[Section]:
    title = f"k × m grid — {data.study.heading}"
    if data.empty:
        return [_no_runs(data, "grid_km", title)]
    rows, cols = data.study.swept
    section = Section("grid_km", title, data.study.name)
    if note := data.seed_note():
        section.say(note)
    scores = data.scores
    for i, (series, part) in enumerate(scores.groupby("series", sort=False)):
        table = grid_table(part, STS_AVG, rows, cols, f"grid_{i}", f"STS avg: {series}")
        section.tables.append(table)
        mean = table.data.pivot(index=rows, columns=cols, values="mean")
        count = table.data.pivot(index=rows, columns=cols, values="count")
        mean.index, mean.columns = mean.index.map(show_value), mean.columns.map(show_value)
        count.index, count.columns = mean.index, mean.columns
        labels = mean.map(lambda v: "" if pd.isna(v) else f"{v:.1f}") + count.map(
            lambda n: "" if pd.isna(n) else f"\nn={int(n)}")
        section.figures.append(figures.heatmap(mean, labels, f"grid_heatmap_{i}",
                                               f"STS avg over {rows} × {cols}: {series}",
                                               "cell: mean STS avg over seeds (n seeds)",
                                               svg=data.options.svg))
    return [section]


def _sweep(data: StudyData, key: str, title: str, logx: bool = False) -> Section:
    """Summary table and STS curves along the study's swept setting."""
    x = data.study.swept[0]
    section = Section(key, title, data.study.name)
    if note := data.seed_note():
        section.say(note)
    scores = data.scores
    columns = [STSB, STS_AVG, *([TRANSFER_AVG] if scores[TRANSFER_AVG].notna().any() else [])]
    section.tables.append(summary_table(scores.sort_values(x), columns, f"{key}_table",
                                        f"Scores per setting of {x}"))
    present = scores.dropna(subset=[STS_AVG])
    if present.empty:
        section.say("No run has all seven STS tasks, so there is no STS avg to plot.")
        return section
    unset = present[x].isna()
    if unset.any():
        section.say(f"{int(unset.sum())} run(s) with {x} unset are in the table, not the curve.")
    section.figures.append(figures.curves(present[~unset], x, STS_AVG, "series",
                                          f"{key}_curve", f"STS avg over {x}", logx=logx,
                                          svg=data.options.svg))
    return section


def tau(data: StudyData) -> list[Section]:
    title = f"Temperature τ — {data.study.heading}"
    return [_no_runs(data, "tau", title)] if data.empty else [_sweep(data, "tau", title, True)]


def theta(data: StudyData) -> list[Section]:
    title = f"PM threshold θ and weights — {data.study.heading}"
    return [_no_runs(data, "theta", title)] if data.empty else [_sweep(data, "theta", title)]


def beta(data: StudyData) -> list[Section]:
    title = f"Q1: {QUESTIONS['Q1']} — {data.study.heading}"
    if data.empty:
        return [_no_runs(data, "Q1", title)]
    section = _sweep(data, "Q1", title)
    x = data.study.swept[0]
    hardness = data.training.dropna(subset=[x])
    if "hnm/sim_synthetic" in hardness and hardness["hnm/sim_synthetic"].notna().any():
        section.figures.append(figures.curves(
            hardness, x, "hnm/sim_synthetic", "series", "q1_difficulty",
            f"Difficulty of synthetic negatives over {x}", ylabel="mean s(z, h) in training",
            svg=data.options.svg))
    _best_setting(section, data.scores, x)
    return [section]


def _best_setting(section: Section, scores: pd.DataFrame, x: str) -> None:
    means = scores.groupby(["series", x])[STS_AVG].agg(["mean", "count"]).dropna()
    for series, part in means.groupby(level="series"):
        best = part["mean"].idxmax()[1]
        section.say(f"{series}: highest mean STS avg at {x} = {show_value(best)} "
                    f"({part['mean'].max():.2f}, n = {int(part['count'].max())}); compare "
                    "the spreads in the table before reading a trend into it.")


def _gains(data: StudyData, x: str) -> pd.DataFrame:
    """Each method − baseline on STS avg at every value of ``x`` (and context), with its
    interval (bootstrap over test pairs and seeds, else t over seeds)."""
    scores = data.scores
    rows, base = [], data.study.baseline
    for (context, value), frame in scores.groupby(["context", x], sort=True, dropna=False):
        for method in frame["method"].unique():
            if method == base:
                continue
            comparison = claims.compare(frame, method, base, data.collection.pairs,
                                        data.options.n_resamples, data.rng())
            interval: Interval | None = comparison.interval(STS_AVG) if comparison else None
            rows.append({"context": context, x: value, "comparison": f"{method} − {base}",
                         "seeds": len(comparison.seeds) if comparison else 0,
                         "estimate": interval.estimate if interval else np.nan,
                         "low": interval.low if interval else np.nan,
                         "high": interval.high if interval else np.nan,
                         "interval": interval.method if interval else "none"})
    return pd.DataFrame(rows)


def _gain_section(data: StudyData, key: str, title: str, logx: bool) -> list[Section]:
    if data.empty:
        return [_no_runs(data, key, title)]
    x = data.study.swept[0]
    section = _sweep(data, key, title, logx)
    gains = _gains(data, x)
    if gains.empty or gains["estimate"].isna().all():
        section.say(f"No gain to show: no {data.study.baseline} run shares a {x} and seed "
                    "with another method's, or the runs lack the seven STS tasks of STS avg.")
        return [section]
    gains["hue"] = gains["comparison"] + gains["context"].map(_in)
    section.tables.append(frame_table(gains.drop(columns="hue").set_index([x, "comparison"]),
                                      f"{key}_gains",
                                      f"Gain over {data.study.baseline} on STS avg by {x}",
                                      "95% interval: bootstrap over test pairs and seeds, "
                                      "else t over seeds"))
    tested = gains.dropna(subset=["estimate"])
    section.figures.append(figures.intervals(tested, x, "hue", f"{key}_gains",
                                             f"Gain over {data.study.baseline} by {x}", x,
                                             logx, svg=data.options.svg))
    for hue, part in tested.groupby("hue", sort=False):
        excludes = part[(part["low"] > 0) | (part["high"] < 0)][x].tolist()
        section.say(f"{hue}: the interval excludes 0 at {x} = "
                    f"{', '.join(map(show_value, excludes)) or 'no value'} of "
                    f"{', '.join(map(show_value, part[x]))}.")
    return [section]


def scaling(data: StudyData) -> list[Section]:
    return _gain_section(data, "Q2-scaling",
                         f"Q2: corpus size — {data.study.heading}", logx=True)


def domain(data: StudyData) -> list[Section]:
    return _gain_section(data, "Q2-domain", f"Q2: domain — {data.study.heading}", logx=False)


# ---------------------------------------------------------------------- embedding space

Q3_METRICS = ("alignment", "uniformity", "cka_to_baseline")


def embedding_space(data: StudyData) -> list[Section]:
    title = f"Q3: {QUESTIONS['Q3']} — {data.study.heading}"
    if data.empty:
        return [_no_runs(data, "Q3", title)]
    section = Section("Q3", title, data.study.name)
    space = data.collection.table[(data.collection.table["task"] == "embedding_space")]
    space = space.pivot_table(index="run", columns="metric", values="value")
    per_run = data.scores.set_index("run")
    per_run = per_run.join(space.reindex(columns=["alignment", "uniformity"]))
    per_run["cka_to_baseline"] = cka_to_reference(
        data.runs, data.collection.runs, data.study.baseline, data.options.senteval)
    table = per_run[["variant", "seed", *Q3_METRICS, STS_AVG]].sort_values(STS_AVG)
    section.tables.append(frame_table(table, "q3_runs", "Embedding space per run",
                                      f"CKA: linear CKA with the {data.study.baseline} run "
                                      "of the same backbone and seed on the STS-B test "
                                      "sentences (none for the reference itself)", digits=3))
    section.tables.append(frame_table(_correlations(per_run), "q3_correlations",
                                      f"Correlation with {STS_AVG} across runs",
                                      "Pearson r and Spearman ρ with two-sided p; at least "
                                      "3 runs with both values"))
    with_space = per_run.dropna(subset=["alignment", "uniformity"])
    if with_space.empty:
        section.say("No run's eval.json has alignment/uniformity (evaluate with them).")
    else:
        section.figures.append(figures.scatter(
            with_space.reset_index(), "uniformity", "alignment", STS_AVG, "method",
            "alignment_uniformity", "Alignment vs uniformity (lower is better for both)",
            "one point per run; colour: STS avg", svg=data.options.svg))
    with_cka = per_run.dropna(subset=["cka_to_baseline", STS_AVG])
    if not with_cka.empty:
        section.figures.append(figures.scatter(
            with_cka.reset_index(), "cka_to_baseline", STS_AVG, "method", "method",
            "cka_sts", f"CKA to {data.study.baseline} vs STS avg", "one point per run",
            svg=data.options.svg))
    return [section]


def _correlations(per_run: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for metric in Q3_METRICS:
        both = per_run[[metric, STS_AVG]].dropna()
        row = {"runs": len(both), "pearson_r": np.nan, "p_pearson": np.nan,
               "spearman_rho": np.nan, "p_spearman": np.nan}
        if len(both) >= 3 and both[metric].nunique() > 1 and both[STS_AVG].nunique() > 1:
            pearson = scipy_stats.pearsonr(both[metric], both[STS_AVG])
            spearman = scipy_stats.spearmanr(both[metric], both[STS_AVG])
            row.update(pearson_r=pearson.statistic, p_pearson=pearson.pvalue,
                       spearman_rho=spearman.statistic, p_spearman=spearman.pvalue)
        rows[metric] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


# --------------------------------------------------------------------------- dispatch

ANALYZERS: dict[str, Callable[[StudyData], list[Section]]] = {
    "ablation": ablation, "grid_km": grid_km, "tau": tau, "theta": theta, "beta": beta,
    "scaling": scaling, "domain": domain, "embedding_space": embedding_space,
}


def run_studies(collection: Collection, studies: list[Study], options: Options
                ) -> list[Section]:
    """Every study's sections in report order. An analysis that raises is reported in a
    section carrying its error (and on stderr), so one bad study never hides the rest."""
    sections: list[Section] = []
    for study in studies:
        try:
            sections += ANALYZERS[study.analysis](study_data(collection, study, options))
        except Exception as error:  # shown in the report, not swallowed
            traceback.print_exc(file=sys.stderr)
            sections.append(Section(_error_key(study), study.heading, study.name,
                                    error=f"{type(error).__name__}: {error}"))
    return sorted(sections, key=order_key)


def _error_key(study: Study) -> str:
    return {"ablation": "C1", "beta": "Q1", "scaling": "Q2-scaling", "domain": "Q2-domain",
            "embedding_space": "Q3"}.get(study.analysis, study.analysis)


def verdicts(sections: list[Section]) -> list[VerdictRow]:
    return [row for section in sections for row in section.verdicts]
