"""Q3's embedding-space divergence: linear CKA, and CKA between runs computed end to end
from their model folders on the real STS-B test sentences (cached per run)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import Run, write_results

from hncse.analysis.collect import collect
from hncse.analysis.embedding_space import (
    EMBEDDINGS_FILE,
    cka_to_reference,
    linear_cka,
    stsb_test_sentences,
)


def _hsic_cka(x: np.ndarray, y: np.ndarray) -> float:
    """CKA written with Gram matrices (Kornblith et al. 2019, eq. 4): an independent check."""
    n = x.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    k, l_ = h @ (x @ x.T) @ h, h @ (y @ y.T) @ h
    return float(np.sum(k * l_) / np.sqrt(np.sum(k * k) * np.sum(l_ * l_)))


def test_linear_cka_properties() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16))
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    assert linear_cka(x, 3.0 * x @ rotation + 5.0) == pytest.approx(1.0)
    unrelated = linear_cka(x, rng.normal(size=(300, 8)))
    assert unrelated < 0.15
    partial = x[:, :8] + 0.5 * rng.normal(size=(300, 8))
    assert unrelated < linear_cka(x, partial) < 1.0
    assert linear_cka(x, partial) == pytest.approx(_hsic_cka(x, partial))
    with pytest.raises(ValueError, match="same items"):
        linear_cka(x, x[:10])


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Tiny models on a shared 2-core machine: one thread avoids spin-wait contention
    (13 s instead of 0.6 s to encode STS-B test when the machine is busy)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_torch_thread")
def test_cka_between_runs_from_their_models(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    """Two runs whose model/ is the same network: CKA 1; the SimCSE reference itself has
    none; the embeddings are cached and reused once the model is gone."""
    results = write_results(tmp_path, [Run("simcse", 1), Run("hncse", 1), Run("hncse", 2)])
    for run in ("simcse/seed1", "hncse/seed1"):
        shutil.copytree(tiny_backbone, results / "runs" / "minilm" / run / "model")
    runs = collect(results).runs
    senteval = data_root / "senteval" / "downstream"
    cka = cka_to_reference(runs, runs, "simcse", senteval)
    by_run = dict(zip(runs["run"], runs["path"], strict=True))
    hncse, simcse = "runs/minilm/hncse/seed1", "runs/minilm/simcse/seed1"
    assert cka[hncse] == pytest.approx(1.0)
    assert np.isnan(cka[simcse])  # the reference of itself
    assert np.isnan(cka["runs/minilm/hncse/seed2"])  # no seed-2 reference, no model
    cached = np.load(Path(by_run[hncse]) / EMBEDDINGS_FILE)
    assert cached.shape == (len(stsb_test_sentences(senteval)), 32)
    # a different space for the hncse run: CKA below 1, computed from the cache alone
    rng = np.random.default_rng(0)
    np.save(Path(by_run[hncse]) / EMBEDDINGS_FILE, cached @ rng.normal(size=(32, 32)) ** 3)
    for run in (hncse, simcse):
        shutil.rmtree(Path(by_run[run]) / "model")
    again = cka_to_reference(runs, runs, "simcse", senteval)
    assert 0.0 < again[hncse] < 0.99
    assert np.isnan(cka_to_reference(runs, runs, "simcse", None)).all()  # no data: no CKA
