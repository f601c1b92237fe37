"""Verdicts on the mechanism claims C4 (positive mixing) and C5 (hard negative mixing),
from each run's training statistics (the ``training`` rows of the tidy table).

C4 is measured on the mixed queries only: per run, the mean change over its mixed queries
of s(z, p̃) − s(z, p) (expected > 0) and s(p̃, n) − s(p, n) (expected < 0), with the counts
of mixed and all queries. A PM variant whose runs mixed fewer than ``min_fraction`` of
their queries or fewer than ``min_queries`` queries is *untestable at this scale*; runs
that mixed no query are left out by name; the interval is the t over the mixed runs' means
and needs at least 3 of them (else the part is inconclusive).

C5 compares like with like (docs/study.md): the synthetic negatives' mean similarity to the
query against the hardest k in-batch negatives' and against the bank vectors they were
mixed from, per run, t over runs. Runs that did not log these similarities (older logs)
leave C5 not evaluated, with the reason.

The family of each claim is its parts × the variants having the mechanism; Holm over it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hncse.analysis.claims import ClaimResult, deciding_row
from hncse.analysis.stats import Interval, holm, holm_levels, seed_test
from hncse.analysis.verdicts import NOT_EVALUATED, Evidence, combine, decide

MIXED, QUERIES = "pm/mixed_queries", "pm/queries"
GAP_HARDEST, GAP_MIXED_FROM = "hnm/gap_hardest_inbatch", "hnm/gap_mixed_from"
T_OVER_RUNS = "t over runs' means, Holm-corrected"


@dataclass(frozen=True)
class Part:
    """One statistic of a mechanism claim and the sign the paper expects of it."""

    statistic: str
    sign: int
    meaning: str


PARTS: dict[str, tuple[Part, ...]] = {
    "C4": (
        Part(
            "pm/delta_sim_query",
            1,
            "mixed positive closer to the query: s(z,p̃) − s(z,p), mixed queries",
        ),
        Part(
            "pm/delta_sim_negative",
            -1,
            "mixed positive farther from the hardest negative: s(p̃,n) − s(p,n), mixed queries",
        ),
    ),
    "C5": (
        Part(
            GAP_HARDEST,
            1,
            "synthetic negatives vs the hardest k in-batch negatives: s(z,h) − s(z,p_j), top k",
        ),
        Part(
            GAP_MIXED_FROM,
            1,
            "synthetic negatives vs the bank vectors they were mixed from: s(z,h) − s(z,b)",
        ),
    ),
}
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
    claim: str, variant: str, part: Part, values: pd.Series, weights: pd.Series, min_runs: int
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
        "meaning": part.meaning,
        "expected": "> 0" if part.sign > 0 else "< 0",
        "sign": part.sign,
        "runs": len(values),
        "estimate": test.mean if tested else pooled,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "interval": T_OVER_RUNS if tested else f"none (fewer than {min_runs} runs)",
        "p_t": test.p_t if tested else np.nan,
        "p_t_holm": np.nan,
        "d_z": test.d_z,
        "d_z_low": test.d_z_low,
        "d_z_high": test.d_z_high,
        "mde": test.mde if tested else np.nan,
        "acted": True,
        "_test": test if tested else None,
    }


def c4_rows(training: pd.DataFrame, thresholds: Thresholds) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    counts = pm_counts(training).set_index("run")
    for variant, runs in training.groupby("variant", sort=False):
        own = counts.loc[runs["run"]]
        mixed, queries = own["mixed"].sum(), own["queries"].sum()
        acted = mixed >= thresholds.min_queries and mixed >= thresholds.min_fraction * queries
        silent = own.index[own["mixed"] == 0].tolist()
        notes.append(
            f"{variant}: PM mixed {int(mixed)} of {int(queries)} queries "
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
            row = _part_row("C4", variant, part, values, own["mixed"], min_runs=3)
            row["acted"] = acted
            rows.append(row)
    return rows, notes


def c5_rows(training: pd.DataFrame) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    for variant, runs in training.groupby("variant", sort=False):
        by_run = runs.set_index("run")
        absent = [
            p.statistic
            for p in PARTS["C5"]
            if p.statistic not in by_run or by_run[p.statistic].isna().all()
        ]
        if absent:
            notes.append(
                f"{variant}: its runs did not log {', '.join(absent)} (the "
                "similarities of the hardest k in-batch negatives and of the bank "
                "vectors mixed; logs older than that statistic)"
            )
            continue
        for part in PARTS["C5"]:
            row = _part_row(
                "C5",
                variant,
                part,
                by_run[part.statistic],
                pd.Series(1.0, index=by_run.index),
                min_runs=2,
            )
            row["acted"] = bool(by_run.get("hnm/num_synthetic", pd.Series(1.0)).gt(0).any())
            rows.append(row)
    return rows, notes


def mechanism_claim(
    claim: str, training: pd.DataFrame, thresholds: Thresholds
) -> tuple[ClaimResult, list[str]]:
    """C4 or C5 over every variant whose runs have the mechanism; also the notes (counts,
    runs left out, statistics not logged)."""
    marker = MARKER[claim]
    having = training[training[marker].notna()] if marker in training else training.iloc[0:0]
    if having.empty:
        return ClaimResult(NOT_EVALUATED, None, "no run of this study has the mechanism"), []
    rows, notes = c4_rows(having, thresholds) if claim == "C4" else c5_rows(having)
    if not rows:
        return ClaimResult(NOT_EVALUATED, None, "; ".join(notes)), notes
    table = pd.DataFrame(rows)
    table["p_t_holm"] = holm(table["p_t"])
    levels = holm_levels(table["p_t"])
    for index, row in table.iterrows():
        if row["_test"] is not None and not np.isnan(levels[index]):
            table.loc[index, ["ci_low", "ci_high"]] = row["_test"].interval(levels[index])
    table["verdict"] = [
        decide(
            Evidence(r["estimate"], r["ci_low"], r["ci_high"], r["p_t_holm"], r["mde"]),
            r["sign"],
            r["acted"],
        )
        for _, r in table.iterrows()
    ]
    table = table.drop(columns=["_test"]).set_index(["variant", "statistic"])
    word = combine(list(table["verdict"]))
    row = deciding_row(table.reset_index(), word)
    detail = ", ".join(f"{n} {v}" for v, n in table["verdict"].value_counts().items())
    interval = None
    if row is not None:
        detail += f"; deciding: {row['variant']} · {row['statistic']} {_describe(row)}"
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
    return ClaimResult(word, interval, detail, table.drop(columns=["sign", "acted"]), row), notes


def _describe(row: pd.Series) -> str:
    if np.isnan(row["estimate"]):  # no run had a value (PM mixed no query)
        return f"no value, no interval ({row['interval']}, {int(row['runs'])} runs)"
    if np.isnan(row["ci_low"]):
        return f"{row['estimate']:+.3f}, no interval ({row['interval']}, {int(row['runs'])} runs)"
    return (
        f"{row['estimate']:+.3f} [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}] "
        f"({row['interval']}, {int(row['runs'])} runs, Holm p {row['p_t_holm']:.2g})"
    )
