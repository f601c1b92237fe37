"""Verdicts on the paper's claims C1–C5 (docs/study.md), each with the interval behind it.

Method vs baseline comparisons pair runs by seed. The interval of a task's difference is
the paired bootstrap over its test pairs (and seeds) where ``eval.pairs.parquet`` exists
(every STS task); else, for the transfer tasks, which have no per-example scores, the
t-interval over seeds (none with one seed). ``STS avg`` uses the bootstrap replicates of its
seven tasks averaged (the test sets are independent; the seed draw is shared).

- C1: HNCSE − SimCSE on STS-B test, expected > 0 (the paper's +1.2 is reported beside it).
- C2: HNCSE − SimCSE on each of the 14 tasks, each expected > 0.
- C3: HNCSE-PM − SimCSE, HNCSE-HNM − SimCSE, HNCSE − HNCSE-PM, HNCSE − HNCSE-HNM on STS
  avg, each expected > 0.
- C4: over training, ``pm/delta_sim_query`` > 0 and ``pm/delta_sim_negative`` < 0.
- C5: over training, ``hnm/sim_synthetic − hnm/sim_inbatch`` > 0.

A claim with several parts is reproduced only when every part is (:func:`stats.combine`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hncse.analysis.stats import (
    NOT_TESTED,
    Interval,
    PairedScores,
    Verdict,
    batch_means_interval,
    bootstrap_replicates,
    combine,
    draw_seeds,
    paired_seed_tests,
    percentile_interval,
    spearman_rows,
    t_interval,
    verdict,
)
from hncse.analysis.tasks import (
    PAIRS_SUBSET,
    STS_AVG,
    STS_TASKS,
    STSB,
    TRANSFER_AVG,
    Task,
    sts_columns,
    transfer_columns,
)

FULL, PM, HNM = "hncse", "hncse-pm", "hncse-hnm"
PAPER_STSB_GAIN = 1.2
HARDNESS_GAP = "hnm/sim_synthetic − hnm/sim_inbatch"
#: C4/C5 parts: (logged statistic, expected sign, what it means)
MECHANISM_PARTS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "C4": (("pm/delta_sim_query", 1, "mixed positive closer to the query: s(z,p̃) − s(z,p)"),
           ("pm/delta_sim_negative", -1,
            "mixed positive farther from the hardest negative: s(p̃,n) − s(p,n)")),
    "C5": ((HARDNESS_GAP, 1, "synthetic negatives harder than in-batch ones"),),
}
#: a statistic every step of a method with the mechanism logs (never NaN)
MECHANISM_MARKER = {"C4": "pm/frac_clear", "C5": "hnm/sim_inbatch"}
PairsLoader = Callable[[str], pd.DataFrame | None]


@dataclass
class Comparison:
    """``method`` − ``baseline`` over their seed-matched runs."""

    method: str
    baseline: str
    seeds: list[object]
    tests: pd.DataFrame  # paired_seed_tests, index = task label
    estimates: dict[str, float] = field(default_factory=dict)
    replicates: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.method} − {self.baseline}"

    def interval(self, label: str) -> Interval | None:
        if label in self.replicates:
            return percentile_interval(self.replicates[label], self.estimates[label],
                                       len(self.seeds))
        if label in self.tests.index and self.tests.at[label, "n"] >= 2:
            row = self.tests.loc[label]
            return Interval(row["mean_diff"], row["ci_low"], row["ci_high"],
                            "paired t over seeds", int(row["n"]))
        return None


def match_runs(scores: pd.DataFrame, method: str, baseline: str) -> pd.DataFrame:
    """Pairs of run ids (``run_a`` of ``method``, ``run_b`` of ``baseline``) with the same
    seed; two single runs without a seed (untrained baselines) also pair."""
    a, b = scores[scores["method"] == method], scores[scores["method"] == baseline]
    if len(a) == 1 and len(b) == 1 and a["seed"].isna().all() and b["seed"].isna().all():
        return pd.DataFrame({"run_a": a["run"].to_list(), "run_b": b["run"].to_list(),
                             "seed": [None]})
    merged = a.dropna(subset=["seed"]).merge(b.dropna(subset=["seed"]), on="seed",
                                             suffixes=("_a", "_b"))
    return merged[["run_a", "run_b", "seed"]]


def task_pairs(frame: pd.DataFrame | None, task: Task) -> pd.DataFrame | None:
    """The rows of a run's per-pair scores that its headline number is computed on."""
    if frame is None:
        return None
    part = frame[frame["task"] == task.key]
    subset = PAIRS_SUBSET.get(task.key)
    if subset is not None:
        part = part[part["subset"] == subset]
    return part.sort_values(["subset", "pair_index"]) if len(part) else None


def paired_scores(frames_a: list[pd.DataFrame], frames_b: list[pd.DataFrame]
                  ) -> PairedScores | None:
    """Stack the per-seed scores; None unless every run scored the same pairs (same gold)."""
    reference = frames_a[0]
    keys = reference[["subset", "pair_index"]].to_numpy()
    for frame in (*frames_a, *frames_b):
        if (len(frame) != len(reference) or not (frame[["subset", "pair_index"]].to_numpy()
                                                 == keys).all()
                or not np.allclose(frame["gold"], reference["gold"])):
            return None
    return PairedScores(reference["gold"].to_numpy(float),
                        np.stack([f["score"].to_numpy(float) for f in frames_a]),
                        np.stack([f["score"].to_numpy(float) for f in frames_b]))


def compare(scores: pd.DataFrame, method: str, baseline: str, pairs: PairsLoader,
            n_resamples: int, rng: np.random.Generator) -> Comparison | None:
    """Paired seed tests on every headline column and, per STS task with per-pair scores
    for all matched runs, the bootstrap replicates. None when no run pairs up."""
    matched = match_runs(scores, method, baseline)
    if matched.empty:
        return None
    by_run = scores.set_index("run")
    columns = [*sts_columns(), *transfer_columns()]
    a = by_run.loc[matched["run_a"], columns].set_axis(range(len(matched)))
    b = by_run.loc[matched["run_b"], columns].set_axis(range(len(matched)))
    averages = [STS_AVG, TRANSFER_AVG]  # tested apart: not part of the Holm family of tasks
    task_labels = [c for c in columns if c not in averages]
    tests = paired_seed_tests(a[task_labels], b[task_labels])
    avg_tests = paired_seed_tests(a[averages], b[averages])
    comparison = Comparison(method, baseline, matched["seed"].to_list(),
                            pd.concat([tests, avg_tests]))
    seeds = draw_seeds(len(matched), n_resamples, rng)
    for task in STS_TASKS:
        frames_a = [task_pairs(pairs(r), task) for r in matched["run_a"]]
        frames_b = [task_pairs(pairs(r), task) for r in matched["run_b"]]
        if any(f is None for f in (*frames_a, *frames_b)):
            continue
        paired = paired_scores(frames_a, frames_b)
        if paired is None:
            comparison.notes.append(f"{task.label}: the runs' per-pair files differ in their "
                                    "pairs or gold scores; no bootstrap")
            continue
        _check_against_eval(paired, a[task.label], b[task.label], task, comparison)
        comparison.estimates[task.label] = paired.difference()
        comparison.replicates[task.label] = bootstrap_replicates(paired, seeds, rng)
    sts_labels = [t.label for t in STS_TASKS]
    if all(label in comparison.replicates for label in sts_labels):
        comparison.replicates[STS_AVG] = np.mean(
            [comparison.replicates[label] for label in sts_labels], axis=0)
        comparison.estimates[STS_AVG] = float(np.mean(
            [comparison.estimates[label] for label in sts_labels]))
    return comparison


def _check_against_eval(paired: PairedScores, eval_a: pd.Series, eval_b: pd.Series,
                        task: Task, comparison: Comparison) -> None:
    """The per-pair scores must reproduce eval.json's Spearman; say so when they do not."""
    from_pairs = 100 * np.concatenate([spearman_rows(paired.a, paired.gold),
                                       spearman_rows(paired.b, paired.gold)])
    from_eval = np.concatenate([eval_a.to_numpy(float), eval_b.to_numpy(float)])
    if not np.allclose(from_pairs, from_eval, atol=0.05, equal_nan=True):
        comparison.notes.append(
            f"{task.label}: Spearman from eval.pairs.parquet {np.round(from_pairs, 2)} differs "
            f"from eval.json {np.round(from_eval, 2)}")


def _describe(interval: Interval | None) -> str:
    if interval is None:
        return "no interval (one seed and no per-pair scores)"
    return f"{interval} ({interval.method}, {interval.n_seeds} seed(s))"


def comparison_rows(comparison: Comparison, labels: list[str]) -> pd.DataFrame:
    """Per label: the interval, its verdict (expected sign +), and the Holm-corrected
    seed tests."""
    rows = []
    for label in labels:
        interval = comparison.interval(label)
        test = (comparison.tests.loc[label] if label in comparison.tests.index
                else pd.Series(dtype=float))
        rows.append({
            "task": label,
            "difference": interval.estimate if interval else np.nan,
            "ci_low": interval.low if interval else np.nan,
            "ci_high": interval.high if interval else np.nan,
            "interval": interval.method if interval else "none",
            "seeds": len(comparison.seeds),
            "d_z": test.get("d_z", np.nan),
            "p_t_holm": test.get("p_t_holm", np.nan),
            "p_wilcoxon_holm": test.get("p_wilcoxon_holm", np.nan),
            "verdict": verdict(interval, 1),
        })
    return pd.DataFrame(rows).set_index("task")


@dataclass
class ClaimResult:
    """A verdict with the interval behind it: the claim's own, or for a claim made of
    parts the deciding part's (the one whose interval is weakest in the expected
    direction), plus the table of all parts."""

    verdict: Verdict
    interval: Interval | None
    detail: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def claim_c1(comparison: Comparison | None) -> ClaimResult:
    if comparison is None:
        return ClaimResult(NOT_TESTED, None, f"no seed-matched {FULL} and baseline runs")
    interval = comparison.interval(STSB)
    inside = (interval is not None and interval.low <= PAPER_STSB_GAIN <= interval.high)
    detail = (f"{comparison.name} on STS-B test: {_describe(interval)}; the paper's "
              f"+{PAPER_STSB_GAIN} is {'inside' if inside else 'outside'} the interval")
    return ClaimResult(verdict(interval, 1), interval, detail)


def _deciding_part(table: pd.DataFrame, estimate: str, signs: pd.Series
                   ) -> tuple[str, Interval] | None:
    """The part whose interval reaches furthest against its expected sign."""
    tested = table.dropna(subset=["ci_low", "ci_high"])
    if tested.empty:
        return None
    sign = signs.loc[tested.index]
    against = (sign * tested["ci_low"]).where(sign > 0, -tested["ci_high"])
    position = int(np.argmin(against.to_numpy()))
    row, label = tested.iloc[position], tested.index[position]
    name = " · ".join(map(str, label)) if isinstance(label, tuple) else str(label)
    seeds = row["seeds"] if "seeds" in row else row["runs"]
    return name, Interval(row[estimate], row["ci_low"], row["ci_high"], row["interval"],
                          int(seeds))


def _summary(what: str, verdicts: list[str], deciding: tuple[str, Interval] | None) -> str:
    counts = pd.Series(verdicts, dtype=object).value_counts()
    detail = f"{what}: " + (", ".join(f"{n} {v}" for v, n in counts.items()) or "nothing")
    if deciding is not None:
        detail += f"; deciding part: {deciding[0]}"
    return detail


def claim_parts(comparisons: list[tuple[Comparison | None, str]], labels: list[str],
                what: str) -> ClaimResult:
    """Several comparisons × labels, each expected > 0; the combined verdict."""
    tables, missing = [], []
    for comparison, name in comparisons:
        if comparison is None:
            missing.append(name)
            continue
        rows = comparison_rows(comparison, labels)
        rows.index = [f"{comparison.name} · {label}" if len(comparisons) > 1 else label
                      for label in rows.index]
        tables.append(rows.assign(comparison=comparison.name))
    table = pd.concat(tables) if tables else pd.DataFrame()
    verdicts = [*table["verdict"]] if len(table) else []
    deciding = (_deciding_part(table, "difference", pd.Series(1, index=table.index))
                if len(table) else None)
    detail = _summary(what, verdicts, deciding)
    if missing:
        detail += f"; not tested (no seed-matched runs): {', '.join(missing)}"
        verdicts += [NOT_TESTED] * len(missing)
    return ClaimResult(combine(verdicts), deciding[1] if deciding else None, detail, table)


def mechanism_interval(steps: pd.DataFrame, key: str) -> Interval | None:
    """Mean of a logged statistic over training: t over the runs' means (≥ 2 runs), else
    batch means over the one run's steps."""
    train = steps[(steps["kind"] == "train")] if "kind" in steps else steps
    if key not in train:
        return None
    per_run = train.groupby("run")[key].mean().dropna()
    if len(per_run) >= 2:
        return t_interval(per_run.to_numpy(), "t over runs' means")
    if len(per_run) == 1:
        return batch_means_interval(train.loc[train["run"] == per_run.index[0], key].to_numpy())
    return None


def mechanism_claim(claim: str, steps: pd.DataFrame, variants: pd.DataFrame) -> ClaimResult:
    """C4 or C5 over every variant whose runs logged the statistics."""
    rows = []
    for variant, runs in variants.groupby("variant", sort=False)["run"]:
        part_steps = steps[steps["run"].isin(runs)]
        marker = MECHANISM_MARKER[claim]
        if marker not in part_steps or part_steps[marker].isna().all():
            continue  # this variant's method has no such mechanism
        for key, sign, meaning in MECHANISM_PARTS[claim]:
            # all NaN (e.g. PM never mixed a query): a row without interval, not tested
            interval = mechanism_interval(part_steps, key) if key in part_steps else None
            rows.append({"variant": variant, "statistic": key, "sign": sign,
                         "expected": "> 0" if sign > 0 else "< 0", "meaning": meaning,
                         "runs": part_steps["run"].nunique(),
                         "mean": interval.estimate if interval else np.nan,
                         "ci_low": interval.low if interval else np.nan,
                         "ci_high": interval.high if interval else np.nan,
                         "interval": interval.method if interval else "none",
                         "verdict": verdict(interval, sign)})
    if not rows:
        return ClaimResult(NOT_TESTED, None, "no run logged the statistics")
    table = pd.DataFrame(rows).set_index(["variant", "statistic"])
    deciding = _deciding_part(table, "mean", table["sign"])
    return ClaimResult(combine(list(table["verdict"])), deciding[1] if deciding else None,
                       _summary("parts", list(table["verdict"]), deciding),
                       table.drop(columns="sign"))
