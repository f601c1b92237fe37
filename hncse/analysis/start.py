"""The untrained start (baseline ``start``, baselines/start.smk): does training improve the
encoder at all? Each trained variant's gain over the start it was trained from, and the
reference values the figures draw.

The start is one deterministic run per backbone (the backbone as training gets it, evaluated
with the recipe's eval pooler), so a variant's gain over it is ``run − start`` per seed: its
interval is a t interval over the seeds (95%, uncorrected: a check that training moved the
encoder, not a claim of the paper), conditional on the benchmark's fixed test sets.
"""

from __future__ import annotations

import pandas as pd

from hncse.analysis.stats import seed_test
from hncse.analysis.tables import Table, frame_table
from hncse.analysis.tasks import STS_AVG, STSB
from hncse.workflow.runs import START

#: the columns whose gain over the start the report shows
GAIN_COLUMNS = (STS_AVG, STSB)
GAIN_NOTE = (
    "gain = mean over seeds of (trained run − untrained start); the start is one "
    "deterministic run (the backbone as training gets it, the recipe's eval pooler). "
    "Interval: 95% t over seeds, uncorrected, conditional on the benchmark's fixed test sets"
)


def start_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The untrained start's row per backbone (indexed by backbone)."""
    return scores[scores["method"] == START].drop_duplicates("backbone").set_index("backbone")


def start_gains(scores: pd.DataFrame, columns: tuple[str, ...] = GAIN_COLUMNS) -> pd.DataFrame:
    """Per trained variant and column: the start's score, the trained runs' mean, the gain
    with its interval over seeds and n; empty without a start run."""
    starts = start_scores(scores)
    trained = scores[scores["seed"].notna() & scores["backbone"].isin(starts.index)]
    rows = []
    for (backbone, variant), runs in trained.groupby(["backbone", "variant"], sort=False):
        for column in columns:
            start = float(starts.at[backbone, column])
            test = seed_test((runs[column] - start).to_numpy(float))
            if not test.n:
                continue
            low, high = test.interval()
            rows.append(
                {
                    "variant": variant,
                    "task": column,
                    "start": start,
                    "trained": float(runs[column].mean()),
                    "estimate": test.mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": test.n,
                }
            )
    return pd.DataFrame(rows)


def gains_table(scores: pd.DataFrame) -> Table | None:
    """:func:`start_gains` as the report's table ``start_gains``; None without a start."""
    gains = start_gains(scores)
    if gains.empty:
        return None
    return frame_table(
        gains.astype({"n": "Int64"}).set_index(["variant", "task"]),
        "start_gains",
        "Gain over the untrained start (Spearman ×100)",
        GAIN_NOTE,
    )


def start_offsets(scores: pd.DataFrame, frame: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """For forest rows ("A − B" on a task, B's runs in ``frame``): where the untrained start
    of ``scores`` would sit, start − mean of B; NaN where there is no start or no B."""
    starts = start_scores(scores)
    values = []
    for _, row in rows.iterrows():
        runs = frame[frame["method"] == row["comparison"].split(" − ")[1]]
        backbones = runs["backbone"].unique()
        known = len(backbones) == 1 and backbones[0] in starts.index
        values.append(
            float(starts.at[backbones[0], row["task"]]) - float(runs[row["task"]].mean())
            if known
            else float("nan")
        )
    return pd.Series(values, index=rows.index, dtype=float)
