"""Is a committed study in the regime the paper is about? Read from a report's inputs.

    python scripts/regime_check.py reports/report_inputs

Prints, from ``train_log.parquet``: per method the STS-B dev at step 0 and at the end of
each run (and the gain), the number of dev evaluations a run, the share of queries PM mixed
over the run (pm/num_mixed over pm/num_queries) and the first step with HNM's synthetic
negatives; from ``results.parquet`` nothing (the report's own tables hold the STS gains and
the main comparison's MDE). These are the figures docs/study.md's regime asks for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from hncse.analysis.studies import label_runs


def dev_gains(steps: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per run: its variant (the method and the settings that vary among its runs, as the
    report labels it), STS-B dev at its first and last evaluation, the gain and the points."""
    evals = steps[steps["kind"] == "eval"].dropna(subset=["stsb_dev_spearman"])
    per_run = evals.sort_values("step").groupby("run")["stsb_dev_spearman"]
    frame = pd.DataFrame(
        {"start": per_run.first(), "end": per_run.last(), "points": per_run.count()}
    )
    frame["gain"] = frame["end"] - frame["start"]
    frame["variant"] = label_runs(runs).set_index("run")["variant"].reindex(frame.index)
    return frame


def mechanism_activity(steps: pd.DataFrame) -> pd.DataFrame:
    """Per run: % of queries PM mixed over the run, first step with synthetic negatives."""
    train = steps[steps["kind"] == "train"]
    rows = []
    for run, log in train.groupby("run"):
        row: dict[str, object] = {"run": run}
        if "pm/num_mixed" in log and log["pm/num_mixed"].notna().any():
            row["pm_mixed_%"] = 100 * log["pm/num_mixed"].sum() / log["pm/num_queries"].sum()
        if "hnm/num_synthetic" in log and log["hnm/num_synthetic"].notna().any():
            made = log[log["hnm/num_synthetic"] > 0]
            row["hnm_first_step"] = int(made["step"].min()) if len(made) else None
        rows.append(row)
    return pd.DataFrame(rows).set_index("run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path, help="a report's inputs folder")
    args = parser.parse_args()
    steps = pd.read_parquet(args.inputs / "train_log.parquet")
    gains = dev_gains(steps, pd.read_parquet(args.inputs / "runs.parquet"))
    pd.set_option("display.width", 160)
    print("STS-B dev per run (Spearman x100):")
    print(gains.round(2).to_string())
    print("\nper variant: mean start, end, gain (sd), min gain, runs above their start")
    summary = gains.groupby("variant").agg(
        start=("start", "mean"),
        end=("end", "mean"),
        gain=("gain", "mean"),
        gain_sd=("gain", "std"),
        min_gain=("gain", "min"),
        above=("gain", lambda g: f"{int((g > 0).sum())}/{len(g)}"),
        points=("points", "min"),
    )
    print(summary.round(2).to_string())
    activity = mechanism_activity(steps)
    print("\nmechanisms per run:")
    print(activity.round(2).to_string())


if __name__ == "__main__":
    main()
