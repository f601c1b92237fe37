"""The sweep analyses (k × m grid, τ, θ) and the questions answered along a swept
setting: Q1 (β) and Q2 (corpus size and domain, each method's gain over the baseline)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hncse.analysis import claims, figures
from hncse.analysis.analyses import StudyData, in_context, no_runs
from hncse.analysis.sections import QUESTIONS, Section
from hncse.analysis.stats import (
    SEED_T,
    SeedTest,
    holm,
    holm_alphas,
    minimum_detectable_effect,
    seed_test,
)
from hncse.analysis.tables import frame_table, grid_table, show_value, summary_table
from hncse.analysis.tasks import STS_AVG, STSB, TRANSFER_AVG
from hncse.analysis.verdicts import ALPHA


def grid_km(data: StudyData) -> list[Section]:
    title = f"k × m grid — {data.study.heading}"
    if data.empty:
        return [no_runs(data, "grid_km", title)]
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
            lambda n: "" if pd.isna(n) else f"\nn={int(n)}"
        )
        section.figures.append(
            figures.heatmap(
                mean,
                labels,
                f"grid_heatmap_{i}",
                f"STS avg over {rows} × {cols}: {series}",
                "cell: mean STS avg over seeds (n seeds)",
                svg=data.options.svg,
            )
        )
    return [section]


def _sweep(
    data: StudyData, key: str, title: str, logx: bool = False, mark_best: bool = True
) -> Section:
    """Summary table and STS curves along the study's swept setting."""
    x = data.study.swept[0]
    section = Section(key, title, data.study.name)
    if note := data.seed_note():
        section.say(note)
    scores = data.scores
    columns = [STSB, STS_AVG, *([TRANSFER_AVG] if scores[TRANSFER_AVG].notna().any() else [])]
    section.tables.append(
        summary_table(
            scores.sort_values(x),
            columns,
            f"{key}_table",
            f"Scores per setting of {x}",
            mark_best=mark_best,
        )
    )
    present = scores.dropna(subset=[STS_AVG])
    if present.empty:
        section.say("No run has all seven STS tasks, so there is no STS avg to plot.")
        return section
    unset = present[x].isna()
    if unset.any():
        section.say(f"{int(unset.sum())} run(s) with {x} unset are in the table, not the curve.")
    section.figures.append(
        figures.curves(
            present[~unset],
            x,
            STS_AVG,
            "series",
            f"{key}_curve",
            f"STS avg over {x}",
            logx=logx,
            svg=data.options.svg,
        )
    )
    return section


def tau(data: StudyData) -> list[Section]:
    title = f"Temperature τ — {data.study.heading}"
    return [no_runs(data, "tau", title)] if data.empty else [_sweep(data, "tau", title, True)]


def theta(data: StudyData) -> list[Section]:
    title = f"PM threshold θ and weights — {data.study.heading}"
    return [no_runs(data, "theta", title)] if data.empty else [_sweep(data, "theta", title)]


def beta(data: StudyData) -> list[Section]:
    title = f"Q1: {QUESTIONS['Q1']} — {data.study.heading}"
    if data.empty:
        return [no_runs(data, "Q1", title)]
    section = _sweep(data, "Q1", title, mark_best=False)  # a best is marked only if tested
    x = data.study.swept[0]
    hardness = data.training.dropna(subset=[x])
    if "hnm/sim_synthetic" in hardness and hardness["hnm/sim_synthetic"].notna().any():
        section.figures.append(
            figures.curves(
                hardness,
                x,
                "hnm/sim_synthetic",
                "series",
                "q1_difficulty",
                f"Difficulty of synthetic negatives over {x}",
                ylabel="mean s(z, h) in training",
                svg=data.options.svg,
            )
        )
    _best_setting(section, data.scores, x)
    return [section]


def _best_setting(section: Section, scores: pd.DataFrame, x: str) -> None:
    """The highest mean STS avg per series, tested against every other setting (seed-paired
    t, Holm over them): it is called the best only when every test separates it."""
    means = scores.groupby(["series", x])[STS_AVG].agg(["mean", "count"]).dropna()
    for series, part in means.groupby(level="series"):
        best = part["mean"].idxmax()[1]
        by_seed = scores[scores["series"] == series].pivot_table(
            index="seed", columns=x, values=STS_AVG
        )
        others = [v for v in by_seed.columns if v != best]
        p_holm = holm(
            pd.Series([seed_test((by_seed[best] - by_seed[v]).to_numpy(float)).p_t for v in others])
        )
        separated = bool(len(others)) and bool((p_holm < ALPHA).all())
        tests = ", ".join(
            f"{show_value(v)}: " + ("untested, < 2 shared seeds" if pd.isna(p) else f"{p:.2g}")
            for v, p in zip(others, p_holm, strict=True)
        )
        verdict = (
            "it is the best: every test separates it"
            if separated
            else "no best is marked: not every test separates it"
        )
        section.say(
            f"{series}: highest mean STS avg at {x} = {show_value(best)} "
            f"({part['mean'].max():.2f}, n = {int(part['count'].max())}); seed-paired t "
            f"against each other {x}, Holm p ({tests or 'none'}): {verdict}."
        )


GainsBySeed = dict[tuple[str, object, str], pd.Series]


def _gains(data: StudyData, x: str, by_seed: GainsBySeed) -> pd.DataFrame:
    """Each method − baseline on STS avg at every value of ``x`` (and context): the mean
    seed-paired difference, its t interval over seeds at the Holm level 1 − α·p/p_Holm
    within the table (one declared family: every gain of the question), the Holm p and
    the minimum detectable effect; with one seed per method, the pair bootstrap
    (uncorrected). ``by_seed`` receives each gain's per-seed values (for
    :func:`_gain_differences`)."""
    scores = data.scores[data.scores["seed"].notna()]  # the untrained start is no method
    rows, tests, base = [], [], data.study.baseline
    for (context, value), frame in scores.groupby(["context", x], sort=True, dropna=False):
        for method in frame["method"].unique():
            if method == base:
                continue
            comparison = claims.compare(
                frame, method, base, data.collection.pairs, data.options.n_resamples, data.rng()
            )
            test = comparison.test(STS_AVG) if comparison else seed_test(np.array([]))
            if comparison is not None:
                values = comparison.differences[STS_AVG].set_axis(comparison.seeds)
                by_seed[context, value, method] = values.dropna()
            bootstrap = comparison.bootstraps.get(STS_AVG) if comparison else None
            single = bootstrap.interval() if bootstrap is not None and test.n == 1 else None
            rows.append(
                {
                    "context": context,
                    x: value,
                    "comparison": f"{method} − {base}",
                    "seeds": test.n,
                    "estimate": single.estimate if single else test.mean,
                    "low": single.low if single else np.nan,
                    "high": single.high if single else np.nan,
                    "interval": single.method
                    if single
                    else (f"{SEED_T}, Holm-corrected" if test.n >= 2 else "none"),
                    "p_t": test.p_t,
                    "p_t_holm": np.nan,
                    "alpha": np.nan,
                    "mde": np.nan,
                }
            )
            tests.append(test)
    gains = pd.DataFrame(rows)
    if gains.empty:
        return gains
    _correct(gains, tests)
    return gains


def _correct(table: pd.DataFrame, tests: list[SeedTest]) -> None:
    """Holm over the table (one family): adjusted p, each member's α, its t interval at
    that level and its minimum detectable effect at that α."""
    table["p_t_holm"] = holm(table["p_t"])
    table["alpha"] = holm_alphas(table["p_t"])
    for index, test in enumerate(tests):
        alpha = table.at[index, "alpha"]
        if not np.isnan(alpha):
            table.loc[index, ["low", "high"]] = test.interval(1 - alpha)
            table.at[index, "mde"] = minimum_detectable_effect(test.sd, test.n, alpha)


def _gain_differences(by_seed: GainsBySeed, x: str) -> pd.DataFrame:
    """Q2's question, an interaction: does a method's gain change with ``x``? The
    seed-paired difference of its gains at each value of ``x`` and at the first one (same
    seeds), t over seeds, Holm over the table."""
    rows, tests = [], []
    keys = sorted({(c, m) for c, _, m in by_seed})
    for context, method in keys:
        values = [v for c, v, m in by_seed if (c, m) == (context, method)]
        reference = values[0]
        for value in values[1:]:
            a, b = by_seed[context, value, method], by_seed[context, reference, method]
            seeds = a.index.intersection(b.index)
            test = seed_test((a[seeds] - b[seeds]).to_numpy(float))
            rows.append(
                {
                    "context": context,
                    "comparison": f"gain of {method} at {x} = {show_value(value)} − at "
                    f"{show_value(reference)}",
                    "seeds": test.n,
                    "estimate": test.mean,
                    "low": np.nan,
                    "high": np.nan,
                    "p_t": test.p_t,
                    "p_t_holm": np.nan,
                    "alpha": np.nan,
                    "mde": np.nan,
                }
            )
            tests.append(test)
    table = pd.DataFrame(rows)
    if not table.empty:
        _correct(table, tests)
    return table


def _gain_section(data: StudyData, key: str, title: str, logx: bool) -> list[Section]:
    if data.empty:
        return [no_runs(data, key, title)]
    x = data.study.swept[0]
    section = _sweep(data, key, title, logx)
    by_seed: GainsBySeed = {}
    gains = _gains(data, x, by_seed)
    if gains.empty or gains["estimate"].isna().all():
        section.say(
            f"No gain to show: no {data.study.baseline} run shares a {x} and seed "
            "with another method's, or the runs lack the seven STS tasks of STS avg."
        )
        return [section]
    gains["hue"] = gains["comparison"] + gains["context"].map(in_context)
    section.tables.append(
        frame_table(
            gains.drop(columns="hue").set_index([x, "comparison"]),
            f"{key}_gains",
            f"Gain over {data.study.baseline} on STS avg by {x}",
            "interval: paired t over seeds at the Holm level "
            "1 − α·p/p_Holm within this table (one family), so it "
            "excludes 0 exactly when p_t_holm < 0.05; p_t_holm: Holm-"
            "adjusted; alpha: the member's Holm α; mde: minimum detectable effect (80% "
            "power at that α); each gain against 0 — the question itself is the next table",
        )
    )
    _interaction(section, key, _gain_differences(by_seed, x), x)
    tested = gains.dropna(subset=["estimate"])
    section.figures.append(
        figures.intervals(
            tested,
            x,
            "hue",
            f"{key}_gains",
            f"Gain over {data.study.baseline} by {x}",
            x,
            logx,
            svg=data.options.svg,
        )
    )
    for hue, part in tested.groupby("hue", sort=False):
        section.say(_gain_sentence(str(hue), part, x))
    return [section]


def _interaction(section: Section, key: str, differences: pd.DataFrame, x: str) -> None:
    """The table and sentence that answer Q2: whether the gain changes with ``x``."""
    if differences.empty:
        section.say(f"The gain is measured at one {x} only: whether it changes is not tested.")
        return
    section.tables.append(
        frame_table(
            differences.set_index(["context", "comparison"]),
            f"{key}_gain_differences",
            f"Does the gain change with {x}? Seed-paired differences of gains",
            "estimate: mean over seeds of (gain at one setting − gain at the other), same "
            "seeds; interval: paired t at the member's Holm level (alpha column) within this "
            "table; mde: minimum detectable effect at 80% power and that α; conditional on "
            "the benchmark's fixed test sets",
        )
    )
    for _, row in differences.iterrows():
        changed = row["p_t_holm"] < ALPHA
        if pd.isna(row["p_t_holm"]):
            section.say(
                f"{row['comparison']}{in_context(row['context'])}: {row['estimate']:+.2f} "
                f"over {row['seeds']} shared seed(s): not tested (a test needs 2)."
            )
            continue
        section.say(
            f"{row['comparison']}{in_context(row['context'])}: "
            f"{row['estimate']:+.2f} [{row['low']:+.2f}, {row['high']:+.2f}] "
            f"(n = {row['seeds']}, Holm p {row['p_t_holm']:.2g}, MDE {row['mde']:.2f} at "
            f"α {row['alpha']:.3g}): "
            + (
                "the gain changes"
                if changed
                else "no change of the gain is detectable at this number of seeds"
            )
            + "."
        )


def _gain_sentence(hue: str, part: pd.DataFrame, x: str) -> str:
    """Where the gain is significant and where nothing is detectable, with the MDEs."""
    hit = part["p_t_holm"] < ALPHA
    detected = ", ".join(map(show_value, part.loc[hit, x]))
    rest = part[~hit]
    mdes = (
        ", ".join(
            f"{show_value(v)}: {m:.2f}"
            for v, m in zip(rest[x], rest["mde"], strict=True)
            if not np.isnan(m)
        )
        or "none"
    )
    undetected = (
        f"no difference is detectable at this number of seeds at {x} = "
        f"{', '.join(map(show_value, rest[x]))} (minimum detectable effect {mdes})"
    )
    if not len(rest):
        return f"{hue}: Holm-adjusted p < {ALPHA} at every {x} tested ({detected})."
    if detected:
        return f"{hue}: Holm-adjusted p < {ALPHA} at {x} = {detected}; {undetected}."
    return f"{hue}: {undetected}."


def scaling(data: StudyData) -> list[Section]:
    return _gain_section(data, "Q2-scaling", f"Q2: corpus size — {data.study.heading}", logx=True)


def domain(data: StudyData) -> list[Section]:
    return _gain_section(data, "Q2-domain", f"Q2: domain — {data.study.heading}", logx=False)
