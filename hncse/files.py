"""Atomic file output for every layer: each file is written to a temporary sibling and
renamed into place, so a reader (or a resumed job) never sees a half-written file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

Writer = Callable[[Path], object]


def write_atomic(path: Path, write: Writer) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    write_atomic_group({path: write})
    return path


def write_atomic_group(writes: Mapping[Path, Writer]) -> None:
    """Write every file to its temporary sibling first, then rename them all into place, in
    order: a failure while writing (a full disk) leaves every target as it was."""
    staged: dict[Path, Path] = {}
    try:
        for path, write in writes.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            staged[path] = Path(tmp_name)
            write(staged[path])
            staged[path].chmod(file_mode())  # mkstemp makes it private; give the usual mode
        for path, tmp in staged.items():
            tmp.replace(path)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


def file_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))
