"""Q3: how each method's embedding space differs from SimCSE's, and whether the space's
geometry tracks STS performance.

Alignment and uniformity (Wang & Isola 2020) are computed by the evaluator and read from
``eval.json``. Here: linear CKA (Kornblith et al. 2019) between a run's embeddings and its
SimCSE reference's on the same sentences — the unique sentences of the STS-B test set in
order of first appearance (2,551 sentences from its 1,379 pairs, as the evaluator reads
them):

    CKA(X, Y) = ‖Ŷᵀ X̂‖²_F / (‖X̂ᵀ X̂‖_F · ‖Ŷᵀ Ŷ‖_F),   X̂, Ŷ = column-centred X, Y

It is 1 for spaces equal up to rotation and isotropic scaling, and near 0 for unrelated ones.

Embeddings (the cheapest honest path): ``<run>/embeddings/stsb_test.npy`` (float32,
sentences × dim) when present, else encoded once from ``<run>/model`` with the run's
``eval_pooler`` (``hncse.model.SentenceEncoder``) and cached there. A run with neither (GloVe,
an untrained backbone without a cached file) gets no CKA. The reference of a run is the
baseline run with the same backbone and seed, preferring the same corpus and corpus size;
the reference itself gets no CKA (it would be 1 by definition).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hncse.files import write_atomic

EMBEDDINGS_FILE = Path("embeddings") / "stsb_test.npy"
STSB_TEST = Path("STS") / "STSBenchmark" / "sts-test.csv"
#: reference matching, most specific first (columns absent from the runs are skipped)
REFERENCE_KEYS: tuple[tuple[str, ...], ...] = (
    ("backbone", "seed", "corpus", "max_sentences"),
    ("backbone", "seed"),
    ("backbone",),
)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA between two representations of the same n items, (n, d1) and (n, d2)."""
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CKA needs the same items: {x.shape[0]} vs {y.shape[0]} rows")
    x = np.asarray(x, np.float64) - np.mean(x, axis=0)
    y = np.asarray(y, np.float64) - np.mean(y, axis=0)
    cross = np.linalg.norm(y.T @ x, "fro") ** 2
    return float(cross / (np.linalg.norm(x.T @ x, "fro") * np.linalg.norm(y.T @ y, "fro")))


def stsb_test_sentences(senteval: Path) -> list[str]:
    """Unique sentences of STS-B test, read and joined exactly as the evaluator reads them
    (first sentences, then second ones, in file order)."""
    from hncse.evaluation.sts_cosine import STSB  # imports torch: only when CKA is computed

    return list(dict.fromkeys(STSB.read(senteval, "test").sentences()))


def run_embeddings(run_path: Path, pooler: str, sentences: list[str]) -> np.ndarray | None:
    """The run's embeddings of ``sentences``: cached file, else encoded from its model and
    cached; None when the run has neither."""
    cached = run_path / EMBEDDINGS_FILE
    if cached.is_file():
        embeddings = np.load(cached)
        if embeddings.shape[0] == len(sentences):
            return embeddings
        print(
            f"hncse analysis: {cached} has {embeddings.shape[0]} rows, not "
            f"{len(sentences)}; re-encoding",
            file=sys.stderr,
        )
    model = run_path / "model"
    if not (model / "config.json").is_file():
        return None
    from hncse.model import SentenceEncoder  # torch only when a model must be run

    encoder = SentenceEncoder.from_pretrained(model, pooler, pooler)
    embeddings = encoder.encode(sentences).numpy().astype(np.float32)

    def save(tmp: Path) -> None:
        with tmp.open("wb") as handle:  # a handle: np.save would append .npy to a path
            np.save(handle, embeddings)

    write_atomic(cached, save)
    return embeddings


def references(runs: pd.DataFrame, all_runs: pd.DataFrame, baseline: str) -> pd.Series:
    """For each run of ``runs``: the id of its baseline reference run among ``all_runs``
    (NaN when there is none, or when the run is its own reference)."""
    pool = all_runs[all_runs["method"] == baseline]
    chosen = {}
    for _, run in runs.iterrows():
        for keys in REFERENCE_KEYS:
            keys = [k for k in keys if k in pool.columns]
            hit = pool
            for key in keys:
                hit = hit[(hit[key] == run[key]) | (hit[key].isna() & pd.isna(run[key]))]
            if len(hit):
                reference = hit["run"].iloc[0]
                chosen[run["run"]] = reference if reference != run["run"] else np.nan
                break
        else:
            chosen[run["run"]] = np.nan
    return pd.Series(chosen, dtype=object)


def cka_to_reference(
    runs: pd.DataFrame, all_runs: pd.DataFrame, baseline: str, senteval: Path | None
) -> pd.Series:
    """Linear CKA of each run's STS-B test embeddings with its reference's (NaN where
    either has no embeddings or the STS-B test file is unavailable)."""
    refs = references(runs, all_runs, baseline)
    if senteval is None or not (senteval / STSB_TEST).is_file() or refs.isna().all():
        return pd.Series(np.nan, index=runs["run"].to_numpy())
    sentences = stsb_test_sentences(senteval)
    paths = all_runs.set_index("run")
    cache: dict[str, np.ndarray | None] = {}

    def embed(run: str) -> np.ndarray | None:
        if run not in cache:
            row = paths.loc[run]
            pooler = row.get("eval_pooler")
            cache[run] = run_embeddings(
                Path(row["path"]),
                pooler if isinstance(pooler, str) else "cls_before_pooler",
                sentences,
            )
        return cache[run]

    values = {}
    for run, reference in refs.items():
        x = embed(run) if isinstance(reference, str) else None
        y = embed(reference) if x is not None else None
        values[run] = linear_cka(x, y) if y is not None else np.nan
    return pd.Series(values, dtype=float)
