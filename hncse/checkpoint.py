"""What a run leaves on disk: the exported model and the resumable training state.

Both are written into a temporary sibling folder and renamed into place, so a crash never
leaves a half-written model or state behind. The training state holds tensors and plain
values only (RNG states as tensors), so it is read back with ``torch.load(weights_only=True)``:
a planted or damaged file is refused, never unpickled into running code.
"""

from __future__ import annotations

import json
import pickle
import random
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from hncse import HncseError
from hncse.files import committed, staged_set, write_text
from hncse.model import MLP_FILE, SentenceEncoder

STATE_FILE = "training_state.pt"
# Evaluation pooler -> sentence-transformers Pooling mode. SentenceTransformers has no
# mode for the multi-layer averages, so those models load with transformers only.
ST_POOLING_MODES = {"cls": "cls", "cls_before_pooler": "cls", "avg": "mean"}
# What writing a model or state raises on a full disk or a failing file system.
WRITE_ERRORS = (OSError, RuntimeError, SafetensorError)


class CheckpointError(HncseError, RuntimeError):
    """A model or training state that cannot be written or safely read back."""


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(folder)`` on a staging folder that then replaces ``target`` whole
    (:func:`hncse.files.staged_set`): a kill or a full disk leaves the previous version."""
    with staged_set([target]) as staging:
        folder = staging / target.name
        folder.mkdir()
        try:
            write(folder)
        except WRITE_ERRORS as error:
            raise CheckpointError(
                f"could not write {target}: {error}; the previous version, "
                "if any, is kept (free disk space and rerun)"
            ) from error


def export_model(encoder: SentenceEncoder, target: Path) -> None:
    """Save ``encoder`` so that ``AutoModel.from_pretrained(target)`` gives its backbone and
    ``SentenceTransformer(target)`` gives its evaluation embeddings (same pooler, and no
    truncation below the model's own limit, as in evaluation)."""

    def write(folder: Path) -> None:
        encoder.backbone.save_pretrained(folder, safe_serialization=True)
        encoder.tokenizer.save_pretrained(folder)
        if encoder.mlp is not None:
            save_file(
                {k: v.detach().cpu().contiguous() for k, v in encoder.mlp.state_dict().items()},
                folder / MLP_FILE,
            )
        _write_sentence_transformers_config(encoder, folder)

    write_atomically(target, write)


def _write_sentence_transformers_config(encoder: SentenceEncoder, folder: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as models

    mode = ST_POOLING_MODES.get(encoder.eval_pooler)
    if mode is None:
        warnings.warn(
            f"pooler {encoder.eval_pooler!r} has no sentence-transformers equivalent; "
            f"{folder.name} loads with transformers only",
            stacklevel=2,
        )
        return
    transformer = models.Transformer(str(folder))
    modules: list[torch.nn.Module] = [
        transformer,
        models.Pooling(transformer.get_embedding_dimension(), pooling_mode=mode),
    ]
    if encoder.eval_pooler == "cls":
        assert encoder.mlp is not None  # a 'cls' pooler always has its MLP
        size = encoder.mlp.dense.in_features
        dense = models.Dense(size, size, activation_function=torch.nn.Tanh())
        dense.linear.load_state_dict(encoder.mlp.dense.state_dict())
        modules.append(dense)
    SentenceTransformer(modules=modules, device="cpu").save(str(folder))


def rng_state() -> dict[str, Any]:
    """Python's, NumPy's, torch's (and CUDA's) generator states, as tensors and numbers."""
    version, internal, gauss_next = random.getstate()
    _, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state = {
        "python": {
            "version": version,
            "state": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": position,
            "has_gauss": has_gauss,
            "cached_gaussian": cached_gaussian,
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    python, numpy = state["python"], state["numpy"]
    random.setstate((python["version"], tuple(python["state"].tolist()), python["gauss_next"]))
    np.random.set_state(
        (
            "MT19937",
            numpy["keys"].numpy().astype(np.uint32),
            numpy["position"],
            numpy["has_gauss"],
            numpy["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_state(target: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (model, optimiser, scheduler, bank, RNGs, step, ...) atomically."""
    write_atomically(target, lambda folder: torch.save(state, folder / STATE_FILE))


def load_training_state(target: Path) -> dict[str, Any] | None:
    """The saved state, or ``None``. A kill during :func:`write_atomically`'s swap leaves
    the new state in the swap folder, where it is read (nothing is moved: every process
    of a distributed run reads it)."""
    folder = committed(target)
    path = folder / STATE_FILE if folder is not None else None
    if path is None or not path.is_file():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CheckpointError(
            f"{path} is not a training state this version writes (tensors and plain "
            f"values only; {type(error).__name__}: {first}); it was not loaded. "
            f"Delete {folder} to start the run over"
        ) from None


def write_json_atomically(path: Path, payload: dict[str, Any]) -> None:
    write_text(path, json.dumps(payload, indent=2, default=str) + "\n")
