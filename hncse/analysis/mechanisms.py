"""Verdicts on the mechanism claims C4 (positive mixing) and C5 (hard negative mixing),
from each run's training statistics (the ``training`` rows of the tidy table). Each claim is
read in parts (docs/study.md); each part gets its own verdict row.

C4, tested: "the mixed positive is closer to the query", per run the mean over its mixed
queries of s(z, p̃) − s(z, p) (expected > 0), with the counts of mixed and all queries and
the θ the runs mixed at. C4, *decided by construction*: "farther from the hardest negative"
— p̃ = normalize(a·p + (1 − a)·n) with a ∈ [0, 1] is never farther from n than p is, so no
data can support it (:data:`CONSTRUCTED`); it is never tested. A PM variant whose runs
mixed fewer than ``min_fraction`` of their queries or fewer than ``min_queries`` queries is
*untestable at this scale*; runs that mixed no query are left out by name; the interval is
the t over the mixed runs' means and needs at least 3 of them.

C5, two parts free of re-normalisation's bias: (a) each synthetic negative against the
harder of its two parents, (b) against the query's single hardest in-batch negative (the
mean gap tested, the fraction above it shown). A mix can only beat its parents through
re-normalisation (before it, a mix is never above the harder parent), so (b) is the part
that matters for training. Runs that did not log these (logs older than the statistics)
leave C5 *not evaluated*, with the reason.

The family of each claim is its tested parts × the variants having the mechanism; Holm
over it; MDE at each member's Holm level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hncse.analysis.claims import ClaimResult, deciding_row
from hncse.analysis.stats import Interval, holm, holm_alphas, minimum_detectable_effect, seed_test
from hncse.analysis.verdicts import (
    BY_CONSTRUCTION,
    NOT_EVALUATED,
    Evidence,
    combine,
    decide,
)
from hncse.config import TrainConfig

MIXED, QUERIES = "pm/mixed_queries", "pm/queries"
FRACTION_ABOVE = "hnm/frac_above_hardest"
T_OVER_RUNS = "t over runs' means, Holm-corrected"
#: a mechanism statistic is a mean over each run's own training batches: no test set
OVER_RUNS = "the runs' own training batches (t over runs' means; no test set)"
PAPER_THETA = TrainConfig.model_fields["theta"].default  # config/paper.yaml keeps it


@dataclass(frozen=True)
class Part:
    """One tested statistic of a mechanism claim, the sign the paper expects of it and the
    part of the claim it tests."""

    statistic: str
    sign: int
    meaning: str
    label: str


PARTS: dict[str, tuple[Part, ...]] = {
    "C4": (
        Part(
            "pm/delta_sim_query",
            1,
            "mixed positive closer to the query: s(z,p̃) − s(z,p), mixed queries",
            "closer to the query",
        ),
    ),
    "C5": (
        Part(
            "hnm/gap_harder_parent",
            1,
            "(a) synthetic negative vs the harder of its two parents: "
            "s(z,h) − max(s(z,b_a), s(z,b_b))",
            "(a) harder than the harder parent",
        ),
        Part(
            "hnm/gap_hardest_single",
            1,
            "(b) synthetic negatives vs the query's single hardest in-batch negative: "
            "s(z,h) − max_j s(z,p_j)",
            "(b) harder than the hardest in-batch negative",
        ),
    ),
}
#: parts that follow from the method's definition: (part, the one-line reason)
CONSTRUCTED: dict[str, tuple[tuple[str, str], ...]] = {
    "C4": (
        (
            "farther from the hardest negative",
            "p̃ = normalize(a·p + (1 − a)·n) with a ∈ [0, 1] is never farther from n than p "
            "is (docs/method.md), so s(p̃, n) ≥ s(p, n) for every blend: false by "
            "construction, not a test result",
        ),
    ),
    "C5": (),
}
RENORMALISATION = (
    "a mix can only beat its parents through re-normalisation (before it, α·s_a + "
    "(1 − α)·s_b is never above the harder parent), so (b) is the part that matters "
    "for training"
)
#: a statistic every run of a variant having the mechanism logs
MARKER = {"C4": "pm/frac_clear", "C5": "hnm/sim_inbatch"}


@dataclass(frozen=True)
class Thresholds:
    """When PM counts as having acted: at least ``min_fraction`` of the queries and at
    least ``min_queries`` queries mixed (over a variant's runs)."""

    min_fraction: float = 0.01
    min_queries: int = 100


def pm_counts(training: pd.DataFrame) -> pd.DataFrame:
    """Per run: queries, mixed queries and their fraction. Tables written before the sums
    were recorded give them as the mean per logged step × the logged steps."""
    counts = training[["variant", "run"]].copy()
    log_steps = training["log_steps"].fillna(1) if "log_steps" in training else 1
    logged = (training["steps"] // log_steps).astype(float)
    counts["queries"] = (
        training[QUERIES] if QUERIES in training else logged * training["batch_size"]
    )
    counts["mixed"] = (
        training[MIXED] if MIXED in training else (training["pm/num_mixed"] * logged).round()
    )
    counts["fraction"] = counts["mixed"] / counts["queries"]
    return counts.astype({"queries": "Int64", "mixed": "Int64"})


def _part_row(
    variant: str, part: Part, values: pd.Series, weights: pd.Series, min_runs: int
) -> dict:
    values = values.dropna()
    test = seed_test(values.to_numpy(float))
    tested = len(values) >= min_runs
    pooled = (
        float(np.average(values, weights=weights.loc[values.index]))
        if len(values) and weights.loc[values.index].sum() > 0
        else np.nan
    )
    return {
        "variant": variant,
        "statistic": part.statistic,
        "part": part.label,
        "meaning": part.meaning,
        "expected": "> 0" if part.sign > 0 else "< 0",
        "sign": part.sign,
        "runs": len(values),
        "estimate": test.mean if tested else pooled,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "level": np.nan,
        "interval": T_OVER_RUNS if tested else f"none (fewer than {min_runs} runs)",
        "p_t": test.p_t if tested else np.nan,
        "p_t_holm": np.nan,
        "alpha": np.nan,
        "d_z": test.d_z,
        "d_z_low": test.d_z_low,
        "d_z_high": test.d_z_high,
        "mde": np.nan,
        "acted": True,
        "_test": test if tested else None,
    }


def _thetas(runs: pd.DataFrame) -> str:
    """The θ the runs mixed at, e.g. '0.3' (a PM statistic depends on it)."""
    values = sorted(runs["theta"].dropna().unique()) if "theta" in runs else []
    return ", ".join(f"{v:g}" for v in values) or "unknown"


def c4_rows(training: pd.DataFrame, thresholds: Thresholds) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    counts = pm_counts(training).set_index("run")
    for variant, runs in training.groupby("variant", sort=False):
        own = counts.loc[runs["run"]]
        mixed, queries = own["mixed"].sum(), own["queries"].sum()
        acted = mixed >= thresholds.min_queries and mixed >= thresholds.min_fraction * queries
        silent = own.index[own["mixed"] == 0].tolist()
        notes.append(
            f"{variant} (θ = {_thetas(runs)}): PM mixed {int(mixed)} of {int(queries)} queries "
            f"({mixed / queries:.2%}); per run: "
            + ", ".join(f"{run} {int(row.mixed)}/{int(row.queries)}" for run, row in own.iterrows())
            + (f"; left out (no mixed query): {', '.join(silent)}" if silent else "")
        )
        by_run = runs.set_index("run").drop(index=silent)
        for part in PARTS["C4"]:
            values = (
                by_run[part.statistic]
                if part.statistic in by_run
                else pd.Series(np.nan, index=by_run.index)
            )
            row = _part_row(variant, part, values, own["mixed"], min_runs=3)
            row["acted"], row["theta"] = acted, _thetas(runs)
            rows.append(row)
    return rows, notes


def c5_rows(training: pd.DataFrame) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    unlogged: dict[tuple[str, ...], list[str]] = {}  # absent statistics -> variants
    for variant, runs in training.groupby("variant", sort=False):
        by_run = runs.set_index("run")
        absent = tuple(
            p.statistic
            for p in PARTS["C5"]
            if p.statistic not in by_run or by_run[p.statistic].isna().all()
        )
        if absent:
            unlogged.setdefault(absent, []).append(str(variant))
            continue
        for part in PARTS["C5"]:
            row = _part_row(
                variant, part, by_run[part.statistic], pd.Series(1.0, index=by_run.index), 2
            )
            row["acted"] = bool(by_run.get("hnm/num_synthetic", pd.Series(1.0)).gt(0).any())
            row[FRACTION_ABOVE] = (
                by_run[FRACTION_ABOVE].mean() if FRACTION_ABOVE in by_run else np.nan
            )
            rows.append(row)
    notes = [
        f"{', '.join(variants)}: {'its' if len(variants) == 1 else 'their'} runs did not log "
        f"{', '.join(absent)} (logs older than these statistics)"
        for absent, variants in unlogged.items()
    ]
    return rows, notes


def constructed_parts(claim: str) -> list[ClaimResult]:
    """The parts of ``claim`` decided by the method's definition, with their reasons."""
    return [
        ClaimResult(BY_CONSTRUCTION, None, reason, part=part, conditional_on="")
        for part, reason in CONSTRUCTED[claim]
    ]


def _tested_table(rows: list[dict]) -> pd.DataFrame:
    """Holm over the claim's family, the corrected intervals and MDEs at each member's
    level, and each member's word."""
    table = pd.DataFrame(rows)
    table["p_t_holm"] = holm(table["p_t"])
    table["alpha"] = holm_alphas(table["p_t"])
    table["level"] = 1 - table["alpha"]
    for index, row in table.iterrows():
        if row["_test"] is not None and not np.isnan(row["level"]):
            table.loc[index, ["ci_low", "ci_high"]] = row["_test"].interval(row["level"])
            table.at[index, "mde"] = minimum_detectable_effect(
                row["_test"].sd, row["_test"].n, row["alpha"]
            )
    table["verdict"] = [
        decide(
            Evidence(r["estimate"], r["ci_low"], r["ci_high"], r["p_t_holm"], r["mde"]),
            r["sign"],
            r["acted"],
        )
        for _, r in table.iterrows()
    ]
    return table.drop(columns=["_test"])


def mechanism_claim(
    claim: str, training: pd.DataFrame, thresholds: Thresholds
) -> tuple[pd.DataFrame, list[ClaimResult]]:
    """C4 or C5 over every variant whose runs have the mechanism: the table of its tested
    parts (empty when none could be tested) and one result per part of the claim, tested
    or decided by construction."""
    marker = MARKER[claim]
    having = training[training[marker].notna()] if marker in training else training.iloc[0:0]
    rows, notes = [], ["no run of this study has the mechanism"]
    if not having.empty:
        rows, notes = c4_rows(having, thresholds) if claim == "C4" else c5_rows(having)
    if claim == "C5":  # said on the page whether or not C5 could be tested
        notes = [*notes, RENORMALISATION]
    if not rows:
        untested = [
            ClaimResult(NOT_EVALUATED, None, "; ".join(notes), part=p.label, conditional_on="")
            for p in PARTS[claim]
        ]
        return pd.DataFrame(), [*untested, *constructed_parts(claim)]
    table = _tested_table(rows)
    if claim == "C4" and not any(f"{PAPER_THETA:g}" in t.split(", ") for t in table["theta"]):
        notes = [*notes, f"the paper's θ = {PAPER_THETA:g} is not among this study's runs"]
    results = [_part_result(table, part, notes) for part in PARTS[claim]]
    table = table.set_index(["variant", "statistic"]).drop(columns=["sign", "acted"])
    return table, [*results, *constructed_parts(claim)]


def _part_result(table: pd.DataFrame, part: Part, notes: list[str]) -> ClaimResult:
    """One tested part's word over the variants (the weakest), its deciding member."""
    own = table[table["statistic"] == part.statistic]
    word = combine(list(own["verdict"]))
    row = deciding_row(own, word)
    detail = ", ".join(f"{n} {v}" for v, n in own["verdict"].value_counts().items())
    interval = None
    if row is not None:
        detail += f"; deciding: {row['variant']} · {row['statistic']} {_describe(row)}"
        if FRACTION_ABOVE in row and not pd.isna(row[FRACTION_ABOVE]):
            detail += f"; fraction of synthetic negatives above it {row[FRACTION_ABOVE]:.2f}"
        if not np.isnan(row["ci_low"]):
            interval = Interval(
                row["estimate"],
                row["ci_low"],
                row["ci_high"],
                row["interval"],
                int(row["runs"]),
                "runs",
            )
    detail = "; ".join([detail, *notes])
    return ClaimResult(word, interval, detail, own, row, part=part.label, conditional_on=OVER_RUNS)


def _describe(row: pd.Series) -> str:
    if np.isnan(row["estimate"]):  # no run had a value (PM mixed no query)
        return f"no value, no interval ({row['interval']}, {int(row['runs'])} runs)"
    if np.isnan(row["ci_low"]):
        return f"{row['estimate']:+.3f}, no interval ({row['interval']}, {int(row['runs'])} runs)"
    return (
        f"{row['estimate']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}] "
        f"({row['interval']} at {row['level']:.1%}, {int(row['runs'])} runs, "
        f"Holm p {row['p_t_holm']:.2g}, MDE {row['mde']:.3f} at α {row['alpha']:.3g})"
    )
