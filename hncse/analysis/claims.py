"""Verdicts on the comparison claims C1–C3 of docs/study.md, each over its declared family.

Method vs baseline comparisons pair runs by seed; the inference is over the seed-paired
differences of the headline numbers (:func:`stats.seed_test`). Each claim declares its
family of tests once (:data:`FAMILIES`), the same whatever a report evaluated; Holm runs
over the members a report could test, and the members it could not are named.

- C1: HNCSE − baseline on STS-B test (paper: +1.2).
- C2: HNCSE − baseline on each of the 14 tasks.
- C3: HNCSE-PM − baseline, HNCSE-HNM − baseline, HNCSE − HNCSE-PM, HNCSE − HNCSE-HNM: one
  family on STS avg and one on Transfer avg.

Every member's interval is the paired t over seeds at its Holm level, conditional on the
benchmark's fixed test sets (:data:`stats.CONDITIONAL_ON`); beside it, where the runs have
per-pair scores, the two-way interval that also counts test-set sampling
(:func:`stats.two_way_interval`), and a verdict that holds only conditionally is marked.
MDE and seeds needed are at the member's Holm α. Almost stochastic order (ε_min) over the
per-seed scores is the third seed-level test. C1's size is judged only where the runs are
in the paper's setting (:mod:`hncse.analysis.regime`).

With one seed per method there is no seed-level inference: the comparison shows the
paired bootstrap over the test pairs (uncorrected, labelled) and is inconclusive.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hncse.analysis.regime import proxy_reason
from hncse.analysis.sections import VerdictRow
from hncse.analysis.stats import (
    CONDITIONAL_ON,
    SEED_T,
    Interval,
    PairBootstrap,
    SeedTest,
    almost_stochastic_order,
    holm,
    holm_alphas,
    minimum_detectable_effect,
    pair_bootstrap,
    resampled_test_set_means,
    seed_test,
    seeds_needed,
    spearman_rows,
    two_way_interval,
)
from hncse.analysis.tasks import (
    PAIRS_SUBSET,
    STS_AVG,
    STS_TASKS,
    STSB,
    TRANSFER_AVG,
    TRANSFER_TASKS,
    Task,
    sts_columns,
    transfer_columns,
)
from hncse.analysis.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NO_SIZE,
    NOT_EVALUATED,
    REPRODUCED,
    Evidence,
    Outcome,
    combine,
    decide,
    decide_size,
)

FULL, PM, HNM = "hncse", "hncse-pm", "hncse-hnm"
BASELINE = "<baseline>"  # stands for the study's baseline in a declared family
PAPER_STSB_GAIN = 1.2
#: bootstrap replicates of the test-set variance behind a two-way interval
TWO_WAY_RESAMPLES = 200
PairsLoader = Callable[[str], pd.DataFrame | None]


@dataclass(frozen=True)
class Member:
    """One test of a family: ``method − baseline`` on ``task`` (expected > 0), with the
    paper's stated effect where it states one."""

    method: str
    baseline: str
    task: str
    paper_effect: float | None = None

    def resolved(self, baseline: str) -> Member:
        swap = {BASELINE: baseline}
        return Member(
            swap.get(self.method, self.method),
            swap.get(self.baseline, self.baseline),
            self.task,
            self.paper_effect,
        )

    @property
    def comparison(self) -> str:
        return f"{self.method} − {self.baseline}"


@dataclass(frozen=True)
class Family:
    """A claim's declared family of tests: Holm runs over its members."""

    name: str
    members: tuple[Member, ...]


_ALL_TASKS = tuple(t.label for t in (*STS_TASKS, *TRANSFER_TASKS))
_C3_PAIRS = ((PM, BASELINE), (HNM, BASELINE), (FULL, PM), (FULL, HNM))
FAMILIES: dict[str, tuple[Family, ...]] = {
    "C1": (Family("HNCSE − baseline on STS-B", (Member(FULL, BASELINE, STSB, PAPER_STSB_GAIN),)),),
    "C2": (
        Family(
            "HNCSE − baseline on each of the 14 tasks",
            tuple(Member(FULL, BASELINE, task) for task in _ALL_TASKS),
        ),
    ),
    "C3": tuple(
        Family(
            f"the four ablation comparisons on {average}",
            tuple(Member(a, b, average) for a, b in _C3_PAIRS),
        )
        for average in (STS_AVG, TRANSFER_AVG)
    ),
}
#: HNCSE − baseline on STS avg: the number a study is sized for (its minimum detectable
#: effect is the power target of the default study), shown beside C1 but not one of the
#: paper's claims (C1 is STS-B test, C2 each task apart).
MAIN_COMPARISON = Family("HNCSE − baseline on STS avg", (Member(FULL, BASELINE, STS_AVG),))


@dataclass
class Comparison:
    """``method`` − ``baseline`` over their seed-matched runs: the per-seed differences of
    every headline column and, for two single models, the pair bootstraps."""

    method: str
    baseline: str
    seeds: list[object]
    differences: pd.DataFrame  # matched pair × headline column
    scores: tuple[pd.DataFrame, pd.DataFrame]  # method's and baseline's, matched pair × column
    proxy: str = ""  # why the runs are not in the paper's setting; "" when they are
    bootstraps: dict[str, PairBootstrap] = field(default_factory=dict)
    test_set: dict[str, np.ndarray] = field(default_factory=dict)  # two-way replicates
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.method} − {self.baseline}"

    def test(self, label: str) -> SeedTest:
        values = self.differences[label] if label in self.differences else pd.Series(dtype=float)
        return seed_test(values.to_numpy(float))


def match_runs(scores: pd.DataFrame, method: str, baseline: str) -> pd.DataFrame:
    """Pairs of run ids (``run_a`` of ``method``, ``run_b`` of ``baseline``) with the same
    seed; two single runs without a seed (untrained baselines) also pair."""
    a, b = scores[scores["method"] == method], scores[scores["method"] == baseline]
    if len(a) == 1 and len(b) == 1 and a["seed"].isna().all() and b["seed"].isna().all():
        return pd.DataFrame(
            {"run_a": a["run"].to_list(), "run_b": b["run"].to_list(), "seed": [None]}
        )
    merged = a.dropna(subset=["seed"]).merge(
        b.dropna(subset=["seed"]), on="seed", suffixes=("_a", "_b")
    )
    return merged[["run_a", "run_b", "seed"]]


def task_pairs(frame: pd.DataFrame | None, task: Task) -> pd.DataFrame | None:
    """The rows of a run's per-pair scores that its headline number is computed on."""
    if frame is None:
        return None
    part = frame[frame["task"] == task.name]
    subset = PAIRS_SUBSET.get(task.name)
    if subset is not None:
        part = part[part["subset"] == subset]
    return part.sort_values(["subset", "pair_index"]) if len(part) else None


def compare(
    scores: pd.DataFrame,
    method: str,
    baseline: str,
    pairs: PairsLoader,
    n_resamples: int,
    rng: np.random.Generator,
) -> Comparison | None:
    """Seed-paired differences on every headline column; for one matched pair of single
    models, the pair bootstrap of every STS task with per-pair scores (and of STS avg when
    all seven have one). None when no run pairs up."""
    matched = match_runs(scores, method, baseline)
    if matched.empty:
        return None
    by_run = scores.set_index("run")
    columns = [*sts_columns(), *transfer_columns()]
    a = by_run.loc[matched["run_a"], columns].reset_index(drop=True)
    b = by_run.loc[matched["run_b"], columns].reset_index(drop=True)
    runs = scores[scores["run"].isin([*matched["run_a"], *matched["run_b"]])]
    comparison = Comparison(
        method, baseline, matched["seed"].to_list(), a - b, (a, b), proxy_reason(runs)
    )
    if len(matched) == 1:
        _bootstrap_single_models(comparison, matched.iloc[0], pairs, n_resamples, rng)
    else:
        _test_set_replicates(comparison, matched, pairs, rng)
    return comparison


def _aligned_pairs(
    runs: list[str], pairs: PairsLoader, task: Task
) -> tuple[np.ndarray, np.ndarray] | None:
    """Gold (pairs,) and scores (runs × pairs) of ``task`` when every run scored the same
    pairs against the same gold; None otherwise."""
    frames = [task_pairs(pairs(run), task) for run in runs]
    if any(f is None for f in frames):
        return None
    first = frames[0]
    keys = first[["subset", "pair_index"]].to_numpy()
    for frame in frames[1:]:
        if len(frame) != len(first) or not (
            (frame[["subset", "pair_index"]].to_numpy() == keys).all()
            and np.allclose(frame["gold"], first["gold"])
        ):
            return None
    return first["gold"].to_numpy(float), np.stack([f["score"].to_numpy(float) for f in frames])


def _test_set_replicates(
    comparison: Comparison, matched: pd.DataFrame, pairs: PairsLoader, rng: np.random.Generator
) -> None:
    """Per STS task (and STS avg when all seven have them), the test-set replicates of the
    seed-mean difference, the pairs resampled jointly for all runs."""
    n = len(matched)
    for task in STS_TASKS:
        aligned = _aligned_pairs([*matched["run_a"], *matched["run_b"]], pairs, task)
        if aligned is not None:
            gold, scores = aligned
            comparison.test_set[task.label] = resampled_test_set_means(
                gold, scores[:n], scores[n:], TWO_WAY_RESAMPLES, rng
            )
    sts = [t.label for t in STS_TASKS]
    if all(label in comparison.test_set for label in sts):  # independent test sets
        comparison.test_set[STS_AVG] = np.mean([comparison.test_set[s] for s in sts], axis=0)


def _bootstrap_single_models(
    comparison: Comparison,
    match: pd.Series,
    pairs: PairsLoader,
    n_resamples: int,
    rng: np.random.Generator,
) -> None:
    for task in STS_TASKS:
        a, b = task_pairs(pairs(match["run_a"]), task), task_pairs(pairs(match["run_b"]), task)
        if a is None or b is None:
            continue
        if (
            len(a) != len(b)
            or not (
                a[["subset", "pair_index"]].to_numpy() == b[["subset", "pair_index"]].to_numpy()
            ).all()
            or not np.allclose(a["gold"], b["gold"])
        ):
            comparison.notes.append(
                f"{task.label}: the runs' per-pair files differ in their "
                "pairs or gold scores; no bootstrap"
            )
            continue
        gold = a["gold"].to_numpy(float)
        observed = 100 * np.array(
            [
                spearman_rows(a["score"].to_numpy(float), gold),
                spearman_rows(b["score"].to_numpy(float), gold),
            ]
        )
        expected = comparison.differences[task.label].iloc[0]
        if not np.isclose(observed[0] - observed[1], expected, atol=0.05, equal_nan=True):
            comparison.notes.append(
                f"{task.label}: Spearman difference from "
                f"eval.pairs.parquet {observed[0] - observed[1]:+.2f} "
                f"differs from eval.json's {expected:+.2f}"
            )
        comparison.bootstraps[task.label] = pair_bootstrap(
            gold, a["score"].to_numpy(float), b["score"].to_numpy(float), n_resamples, rng
        )
    sts = [t.label for t in STS_TASKS]
    if all(label in comparison.bootstraps for label in sts):
        comparison.bootstraps[STS_AVG] = PairBootstrap.mean_of(
            [comparison.bootstraps[label] for label in sts]
        )


Comparisons = Callable[[str, str], Comparison | None]

FAMILY_COLUMNS = [
    "comparison",
    "task",
    "n",
    "estimate",
    "sd",
    "ci_low",
    "ci_high",
    "level",
    "interval",
    "two_way_low",
    "two_way_high",
    "p_t",
    "p_t_holm",
    "alpha",
    "p_wilcoxon",
    "p_wilcoxon_holm",
    "eps_min",
    "d_z",
    "d_z_low",
    "d_z_high",
    "mde",
    "paper_effect",
    "seeds_for_paper_effect",
    "verdict",
    "conditional_only",
    "size",
]


def family_table(
    family: Family, comparisons: Comparisons, baseline: str
) -> tuple[pd.DataFrame, list[str]]:
    """One row per member the runs can test (Holm over them), and the members they cannot
    (named ``comparison · task``)."""
    rows, tests, missing = [], [], []
    for member in (m.resolved(baseline) for m in family.members):
        comparison = comparisons(member.method, member.baseline)
        test = comparison.test(member.task) if comparison is not None else None
        if comparison is None or test is None or test.n == 0:
            missing.append(f"{member.comparison} · {member.task}")
            continue
        rows.append(_member_row(member, test, comparison))
        tests.append((test, comparison))
    table = pd.DataFrame(rows, columns=FAMILY_COLUMNS)
    if table.empty:
        return table, missing
    table["p_t_holm"] = holm(table["p_t"])
    table["p_wilcoxon_holm"] = holm(table["p_wilcoxon"])
    table["alpha"] = holm_alphas(table["p_t"])
    table["level"] = 1 - table["alpha"]
    for index, (test, comparison) in enumerate(tests):
        _at_holm_level(table, index, test, comparison)
    table["verdict"] = [decide(_evidence(row)) for _, row in table.iterrows()]
    table["conditional_only"] = table["verdict"].isin([REPRODUCED, CONTRADICTED]) & (
        (table["two_way_low"] <= 0) & (table["two_way_high"] >= 0)
    )
    table["size"] = [
        decide_size(_evidence(row), not comparison.proxy)
        for (_, row), (_, comparison) in zip(table.iterrows(), tests, strict=True)
    ]
    return table.astype({"seeds_for_paper_effect": "Int64"}), missing


def _at_holm_level(table: pd.DataFrame, index: int, test: SeedTest, comparison: Comparison) -> None:
    """The member's corrected intervals (conditional and two-way), MDE and seeds needed at
    its Holm level (nothing to correct with one seed per method)."""
    level, row = table.at[index, "level"], table.loc[index]
    if np.isnan(level):
        return
    table.loc[index, ["ci_low", "ci_high"]] = test.interval(level)
    differences = comparison.differences[row["task"]].dropna().to_numpy(float)
    if row["task"] in comparison.test_set:
        table.loc[index, ["two_way_low", "two_way_high"]] = two_way_interval(
            differences, comparison.test_set[row["task"]], level
        )
    alpha = table.at[index, "alpha"]
    table.at[index, "mde"] = minimum_detectable_effect(test.sd, test.n, alpha)
    if not pd.isna(row["paper_effect"]):
        table.at[index, "seeds_for_paper_effect"] = seeds_needed(
            row["paper_effect"], test.sd, alpha
        )


def _member_row(member: Member, test: SeedTest, comparison: Comparison) -> dict:
    bootstrap = comparison.bootstraps.get(member.task) if test.n == 1 else None
    interval = bootstrap.interval() if bootstrap is not None else None
    return {
        "comparison": member.comparison,
        "task": member.task,
        "n": test.n,
        "estimate": interval.estimate if interval else test.mean,
        "sd": test.sd,
        "ci_low": interval.low if interval else np.nan,
        "ci_high": interval.high if interval else np.nan,
        "level": np.nan,
        "interval": interval.method
        if interval
        else (f"{SEED_T}, Holm-corrected" if test.n >= 2 else "none (one seed per method)"),
        "two_way_low": np.nan,
        "two_way_high": np.nan,
        "p_t": test.p_t,
        "p_t_holm": np.nan,
        "alpha": np.nan,
        "p_wilcoxon": test.p_wilcoxon,
        "p_wilcoxon_holm": np.nan,
        "eps_min": almost_stochastic_order(
            comparison.scores[0][member.task].dropna(), comparison.scores[1][member.task].dropna()
        ),
        "d_z": test.d_z,
        "d_z_low": test.d_z_low,
        "d_z_high": test.d_z_high,
        "mde": np.nan,  # at the member's Holm level, once the family is known
        "paper_effect": np.nan if member.paper_effect is None else member.paper_effect,
        "seeds_for_paper_effect": np.nan,
        "verdict": NOT_EVALUATED,
        "conditional_only": False,
        "size": NO_SIZE,
    }


def _evidence(row: pd.Series) -> Evidence | None:
    if np.isnan(row["p_t_holm"]):
        return Evidence(row["estimate"], np.nan, np.nan, np.nan, np.nan, None)
    effect = row["paper_effect"]
    return Evidence(
        row["estimate"],
        row["ci_low"],
        row["ci_high"],
        row["p_t_holm"],
        row["mde"],
        None if pd.isna(effect) else float(effect),
    )


@dataclass
class ClaimResult:
    """A claim's verdict, the interval of the member that decided it, a one-paragraph
    account, and the table of every member of its families."""

    verdict: Outcome
    interval: Interval | None
    detail: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    deciding: pd.Series | None = None  # the member (table row) that carries the verdict
    size: str = NO_SIZE  # the size word, for a claim that states an effect
    part: str = ""  # which part of the claim, for a claim read in parts (C4, C5)
    conditional_on: str = CONDITIONAL_ON

    def verdict_row(self, claim: str, study: str, context: str) -> VerdictRow:
        row = self.deciding
        base = VerdictRow(
            claim, study, context, self.verdict, self.interval, self.detail, part=self.part
        )
        if row is None:
            return dataclasses.replace(base, size=self.size)
        return dataclasses.replace(
            base,
            n=int(row["n"] if "n" in row else row["runs"]),
            p_holm=float(row["p_t_holm"]),
            mde=float(row["mde"]),
            size=self.size,
            level=float(row["level"]),
            alpha=float(row["alpha"]),
            two_way=(float(row.get("two_way_low", np.nan)), float(row.get("two_way_high", np.nan))),
            conditional_only=bool(row.get("conditional_only", False)),
            eps_min=float(row.get("eps_min", np.nan)),
            conditional_on=self.conditional_on if self.interval is not None else "",
        )


def deciding_row(table: pd.DataFrame, word: Outcome) -> pd.Series | None:
    """The member that carries the claim's word: of those with it, the weakest evidence
    (largest Holm p)."""
    carrying = table[table["verdict"] == word]
    if carrying.empty:
        return None
    return carrying.loc[carrying["p_t_holm"].fillna(np.inf).idxmax()]


def describe_row(row: pd.Series) -> str:
    """'+0.09 [−0.07, +0.24] (paired t over seeds, Holm-corrected, n = 3, Holm p 0.41,
    MDE 0.40)' for one member."""
    if np.isnan(row["ci_low"]):
        interval = f"{row['estimate']:+.2f}, no interval"
    else:
        interval = f"{row['estimate']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"
    parts = [row["interval"], f"n = {int(row['n'])}"]
    if not np.isnan(row["level"]):
        parts[0] += f", {row['level']:.1%} level, conditional on {CONDITIONAL_ON}"
    if not np.isnan(row["p_t_holm"]):
        parts.append(f"Holm p {row['p_t_holm']:.2g}")
    if not np.isnan(row["mde"]):
        parts.append(f"MDE {row['mde']:.2f} at α {row['alpha']:.3g}")
    if not np.isnan(row.get("two_way_low", np.nan)):
        two_way = f"[{row['two_way_low']:+.2f}, {row['two_way_high']:+.2f}]"
        parts.append(f"counting test-set sampling too {two_way}")
    if row.get("conditional_only", False):
        parts.append("holds only conditionally on the test sets")
    if not np.isnan(row.get("eps_min", np.nan)):
        parts.append(f"ASO ε_min {row['eps_min']:.2f}")
    return f"{interval} ({', '.join(parts)})"


def claim_result(claim: str, comparisons: Comparisons, baseline: str) -> ClaimResult:
    """Every family of ``claim``, Holm within each; the claim's word combines its members'."""
    tables, missing = [], []
    for family in FAMILIES[claim]:
        table, absent = family_table(family, comparisons, baseline)
        if len(table):
            tables.append(table.assign(family=family.name))
        missing += absent
    table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=[*FAMILY_COLUMNS, "family"])
    )
    word = combine(list(table["verdict"]))
    row = deciding_row(table, word)
    counts = table["verdict"].value_counts()
    detail = ", ".join(f"{n} {v}" for v, n in counts.items()) or "no member could be tested"
    if row is not None:
        detail += f"; deciding: {row['comparison']} · {row['task']} {describe_row(row)}"
        if not pd.isna(row["paper_effect"]):
            detail += (
                f"; seeds that detect the paper's {row['paper_effect']:+g} at 80% "
                f"power and this α: {_seeds(row['seeds_for_paper_effect'])}"
            )
        elif word == INCONCLUSIVE and not pd.isna(row["sd"]):
            seeds = seeds_needed(row["estimate"], row["sd"], row["alpha"])
            detail += (
                f"; seeds that would detect the observed {row['estimate']:+.2f} at 80% "
                f"power and this α: {_seeds(seeds)}"
            )
    if missing:
        detail += f"; not evaluated (missing): {', '.join(missing)}"
    interval = None
    if row is not None and not np.isnan(row["ci_low"]):
        interval = Interval(
            row["estimate"], row["ci_low"], row["ci_high"], row["interval"], int(row["n"])
        )
    if word == REPRODUCED and missing:
        detail += "; reproduced on the members evaluated only"
    size, why = _size(claim, table, comparisons, baseline)
    if why:
        detail += f"; size {size}: {why}"
    return ClaimResult(word, interval, detail, table, row, size)


def _size(
    claim: str, table: pd.DataFrame, comparisons: Comparisons, baseline: str
) -> tuple[str, str]:
    """The size word of a claim that states an effect (its member with the paper's effect)
    and, where the runs are not in the paper's setting, why."""
    stated = [m.resolved(baseline) for f in FAMILIES[claim] for m in f.members if m.paper_effect]
    if not stated:
        return NO_SIZE, ""
    member = stated[0]
    rows = table[(table["comparison"] == member.comparison) & (table["task"] == member.task)]
    if rows.empty:
        return NOT_EVALUATED, ""
    comparison = comparisons(member.method, member.baseline)
    return str(rows["size"].iloc[0]), comparison.proxy if comparison is not None else ""


def _seeds(value: float) -> str:
    return "unknown" if pd.isna(value) else f"{int(value)}"
