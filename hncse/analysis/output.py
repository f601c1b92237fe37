"""Atomic file output: every file is written to a temporary sibling and renamed into place,
so a reader never sees a half-written table, figure or report."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it private; give it the usual mode
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_frame(frame: pd.DataFrame, stem: Path, formats: tuple[str, ...] = ("csv", "parquet")
                ) -> list[Path]:
    """Write ``frame`` as ``<stem>.csv`` and/or ``<stem>.parquet`` (no index)."""
    writers: dict[str, Callable[[Path], object]] = {
        "csv": lambda tmp: frame.to_csv(tmp, index=False),
        "parquet": lambda tmp: frame.to_parquet(tmp, index=False),
    }
    return [write_atomic(stem.parent / f"{stem.name}.{fmt}", writers[fmt]) for fmt in formats]
