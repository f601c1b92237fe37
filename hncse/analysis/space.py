"""The ``embedding_space`` analysis (Q3): alignment, uniformity and CKA to the baseline
per run, and their correlation with STS avg across runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from hncse.analysis import figures
from hncse.analysis.analyses import StudyData, no_runs
from hncse.analysis.embedding_space import cka_to_reference, references
from hncse.analysis.kinds import analysis_kind
from hncse.analysis.sections import QUESTIONS, Section
from hncse.analysis.tables import frame_table
from hncse.analysis.tasks import STS_AVG

Q3_METRICS = ("alignment", "uniformity", "cka_to_baseline")


@analysis_kind("embedding_space", section="Q3")
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
            f"Correlation with {STS_AVG} across the trained runs",
            "Pearson r and Spearman ρ with two-sided p; at least 3 runs with both values"
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
    rows = {}
    for metric in Q3_METRICS:
        both = per_run[[metric, STS_AVG]].dropna()
        row = {
            "runs": len(both),
            "pearson_r": np.nan,
            "p_pearson": np.nan,
            "spearman_rho": np.nan,
            "p_spearman": np.nan,
        }
        if len(both) >= 3 and both[metric].nunique() > 1 and both[STS_AVG].nunique() > 1:
            pearson = scipy_stats.pearsonr(both[metric], both[STS_AVG])
            spearman = scipy_stats.spearmanr(both[metric], both[STS_AVG])
            row.update(
                pearson_r=pearson.statistic,
                p_pearson=pearson.pvalue,
                spearman_rho=spearman.statistic,
                p_spearman=spearman.pvalue,
            )
        rows[metric] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")
