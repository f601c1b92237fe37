"""The ``embedding_space`` analysis (Q3): alignment, uniformity and CKA to the baseline
per run, and their correlation with STS avg.

Runs of different corpora are not pooled (a correlation across corpora measures the
corpora), and runs that share a seed share its data order, so they are not independent:
within each corpus the correlation is over the seed-centred values (each run's value minus
its seed's mean, a seed fixed effect), with its p from t on N − S − 1 degrees of freedom
(N runs, S seeds). A quantity that does not vary across the runs (relative range below
:data:`CONSTANT`, e.g. CKA of 0.9994–0.9998) is left out, with a note."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from hncse.analysis import figures
from hncse.analysis.analyses import StudyData, no_runs
from hncse.analysis.embedding_space import cka_to_reference, references
from hncse.analysis.sections import QUESTIONS, Section
from hncse.analysis.tables import frame_table
from hncse.analysis.tasks import STS_AVG

Q3_METRICS = ("alignment", "uniformity", "cka_to_baseline")
CONSTANT = 1e-3  # (max − min) / |mean| below this: the quantity does not vary


def embedding_space(data: StudyData) -> list[Section]:
    title = f"Q3: {QUESTIONS['Q3']} — {data.study.heading}"
    if data.empty:
        return [no_runs(data, "Q3", title)]
    section = Section("Q3", title, data.study.name)
    space = data.collection.table[(data.collection.table["task"] == "embedding_space")]
    space = space.pivot_table(index="run", columns="metric", values="value")
    per_run = data.scores.set_index("run")
    per_run = per_run.join(space.reindex(columns=["alignment", "uniformity"]))
    per_run["cka_to_baseline"] = _cka(data)
    table = per_run[["variant", "seed", *Q3_METRICS, STS_AVG]].sort_values(STS_AVG)
    section.tables.append(
        frame_table(
            table,
            "q3_runs",
            "Embedding space per run",
            f"CKA: linear CKA with the {data.study.baseline} run "
            "of the same backbone and seed on the STS-B test "
            "sentences (none for the reference itself)",
            digits=3,
        )
    )
    trained = per_run.index.isin(data.collection.trained_runs)
    left_out = ", ".join(sorted(per_run.index[~trained]))
    section.tables.append(
        frame_table(
            _correlations(per_run[trained]),
            "q3_correlations",
            f"Correlation with {STS_AVG} within each corpus, seeds held fixed",
            "r_within: Pearson r of the seed-centred values within one corpus (runs that "
            "share a seed are not independent), p_within from t on runs − seeds − 1 degrees "
            "of freedom (at least 2); a quantity that does not vary is left out (note); "
            "uncorrected"
            + (
                f"; left out, as encoders used as they are rather than points of the "
                f"training studied (one such outlier can make the correlation): {left_out}"
                if left_out
                else ""
            ),
        )
    )
    # the trained runs only, as in the correlations: an encoder used as it is sits far
    # outside them and would squeeze them into a corner (the caption names it)
    with_space = per_run[trained].dropna(subset=["alignment", "uniformity"])
    corpora = per_run.get("corpus", pd.Series(dtype=object)).dropna()
    colour = "corpus" if corpora.nunique() > 1 else "method"
    if with_space.empty:
        section.say("No run's eval.json has alignment/uniformity (evaluate with them).")
    else:
        section.figures.append(
            figures.scatter(
                with_space.reset_index(),
                "uniformity",
                "alignment",
                "alignment_uniformity",
                "Alignment vs uniformity (lower is better for both)",
                colour,
                left_out,
                svg=data.options.svg,
            )
        )
    with_cka = per_run.dropna(subset=["cka_to_baseline", STS_AVG])
    if not with_cka.empty:
        section.figures.append(
            figures.scatter(
                with_cka.reset_index(),
                "cka_to_baseline",
                STS_AVG,
                "cka_sts",
                f"CKA to {data.study.baseline} vs STS avg",
                colour,
                svg=data.options.svg,
            )
        )
    return [section]


def _cka(data: StudyData) -> pd.Series:
    """CKA to the reference run: computed once and kept in the collection (a report's
    inputs carry them), or read back from there when the models are not at hand."""
    collection = data.collection
    refs = references(data.runs, collection.runs, data.study.baseline)
    if not collection.cka_final:
        values = cka_to_reference(
            data.runs, collection.runs, data.study.baseline, data.options.senteval
        )
        collection.cka.update(
            {
                (ref, run): float(values[run])
                for run, ref in refs.items()
                if isinstance(ref, str) and not np.isnan(values[run])
            }
        )
    return pd.Series(
        {
            run: collection.cka.get((ref, run), np.nan) if isinstance(ref, str) else np.nan
            for run, ref in refs.items()
        },
        dtype=float,
    )


def _correlations(per_run: pd.DataFrame) -> pd.DataFrame:
    """Per corpus and metric: the within-seed correlation with STS avg, or why none."""
    rows = []
    corpus = per_run["corpus"] if "corpus" in per_run else pd.Series("", index=per_run.index)
    for name, runs in per_run.groupby(corpus.fillna("unset"), sort=True):
        for metric in Q3_METRICS:
            both = runs[[metric, STS_AVG, "seed"]].dropna()
            rows.append({"corpus": name, "metric": metric, **_within_seed(both, metric)})
    return pd.DataFrame(rows).set_index(["corpus", "metric"])


def _within_seed(both: pd.DataFrame, metric: str) -> dict:
    seeds = both["seed"].nunique()
    row = {"runs": len(both), "seeds": seeds, "r_within": np.nan, "p_within": np.nan, "note": ""}
    values = both[metric]
    spread = values.max() - values.min() if len(values) else 0.0
    df = len(both) - seeds - 1
    if len(values) and spread <= CONSTANT * abs(values.mean()):
        row["note"] = f"left out: does not vary ({values.min():.4g}–{values.max():.4g})"
    elif df < 2:
        row["note"] = f"too few runs beyond their seeds ({len(both)} runs, {seeds} seeds)"
    else:
        centred = both[[metric, STS_AVG]] - both.groupby("seed")[[metric, STS_AVG]].transform(
            "mean"
        )
        r = float(np.corrcoef(centred[metric], centred[STS_AVG])[0, 1])
        t = r * np.sqrt(df / max(1 - r * r, 1e-300))
        row.update(r_within=r, p_within=float(2 * scipy_stats.t.sf(abs(t), df)))
    return row
