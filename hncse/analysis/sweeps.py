"""The sweep analyses (k × m grid, τ, θ) and the questions answered along a swept
setting: Q1 (β) and Q2 (corpus size and domain, each method's gain over the baseline)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hncse.analysis import claims, figures
from hncse.analysis.analyses import StudyData, in_context, no_runs
from hncse.analysis.kinds import analysis_kind
from hncse.analysis.sections import QUESTIONS, Section
from hncse.analysis.stats import SEED_T, holm, holm_levels, seed_test
from hncse.analysis.tables import frame_table, grid_table, show_value, summary_table
from hncse.analysis.tasks import STS_AVG, STSB, TRANSFER_AVG
from hncse.analysis.verdicts import ALPHA


@analysis_kind("grid_km", section="grid_km", axes=("k", "m"))
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


def _sweep(data: StudyData, key: str, title: str, logx: bool = False) -> Section:
    """Summary table and STS curves along the study's swept setting."""
    x = data.study.swept[0]
    section = Section(key, title, data.study.name)
    if note := data.seed_note():
        section.say(note)
    scores = data.scores
    columns = [STSB, STS_AVG, *([TRANSFER_AVG] if scores[TRANSFER_AVG].notna().any() else [])]
    section.tables.append(
        summary_table(scores.sort_values(x), columns, f"{key}_table", f"Scores per setting of {x}")
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


@analysis_kind("tau", section="tau", axes=("temperature",))
def tau(data: StudyData) -> list[Section]:
    title = f"Temperature τ — {data.study.heading}"
    return [no_runs(data, "tau", title)] if data.empty else [_sweep(data, "tau", title, True)]


@analysis_kind("theta", section="theta", axes=("theta",))
def theta(data: StudyData) -> list[Section]:
    title = f"PM threshold θ and weights — {data.study.heading}"
    return [no_runs(data, "theta", title)] if data.empty else [_sweep(data, "theta", title)]


@analysis_kind("beta", section="Q1", axes=("beta",))
def beta(data: StudyData) -> list[Section]:
    title = f"Q1: {QUESTIONS['Q1']} — {data.study.heading}"
    if data.empty:
        return [no_runs(data, "Q1", title)]
    section = _sweep(data, "Q1", title)
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
    means = scores.groupby(["series", x])[STS_AVG].agg(["mean", "count"]).dropna()
    for series, part in means.groupby(level="series"):
        best = part["mean"].idxmax()[1]
        section.say(
            f"{series}: highest mean STS avg at {x} = {show_value(best)} "
            f"({part['mean'].max():.2f}, n = {int(part['count'].max())}); compare "
            "the spreads in the table before reading a trend into it."
        )


def _gains(data: StudyData, x: str) -> pd.DataFrame:
    """Each method − baseline on STS avg at every value of ``x`` (and context): the mean
    seed-paired difference, its t interval over seeds at the Holm level 1 − α·p/p_Holm
    within the table (one declared family: every gain of the question), the Holm p and
    the minimum detectable effect; with one seed per method, the pair bootstrap
    (uncorrected)."""
    scores = data.scores
    rows, tests, base = [], [], data.study.baseline
    for (context, value), frame in scores.groupby(["context", x], sort=True, dropna=False):
        for method in frame["method"].unique():
            if method == base:
                continue
            comparison = claims.compare(
                frame, method, base, data.collection.pairs, data.options.n_resamples, data.rng()
            )
            test = comparison.test(STS_AVG) if comparison else seed_test(np.array([]))
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
                    "mde": test.mde,
                }
            )
            tests.append(test)
    gains = pd.DataFrame(rows)
    if gains.empty:
        return gains
    gains["p_t_holm"] = holm(gains["p_t"])
    levels = holm_levels(gains["p_t"])
    for index, test in enumerate(tests):
        if not np.isnan(levels[index]):
            gains.loc[index, ["low", "high"]] = test.interval(levels[index])
    return gains


def _gain_section(data: StudyData, key: str, title: str, logx: bool) -> list[Section]:
    if data.empty:
        return [no_runs(data, key, title)]
    x = data.study.swept[0]
    section = _sweep(data, key, title, logx)
    gains = _gains(data, x)
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
            "adjusted; mde: minimum detectable effect (80% power, "
            "α 0.05)",
        )
    )
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


@analysis_kind("scaling", section="Q2-scaling", axes=("max_sentences",))
def scaling(data: StudyData) -> list[Section]:
    return _gain_section(data, "Q2-scaling", f"Q2: corpus size — {data.study.heading}", logx=True)


@analysis_kind("domain", section="Q2-domain", axes=("corpus",))
def domain(data: StudyData) -> list[Section]:
    return _gain_section(data, "Q2-domain", f"Q2: domain — {data.study.heading}", logx=False)
