"""Atomic file output for every layer: each file is written to a temporary sibling and
renamed into place, so a reader (or a resumed job) never sees a half-written file; a set of
outputs (aggregate's folder, a report and its inputs) is written in a staging folder and
swapped into place as a whole (:func:`staged_set`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from hncse import HncseError

Writer = Callable[[Path], object]


class OutputError(HncseError, OSError):
    """An output that could not be written (a full disk, a read-only folder); the
    previous output is kept."""


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
        folders = [str(path) for path in staged if path.is_dir()]
        if folders:  # checked before any rename: no file of the group replaces its old one
            raise IsADirectoryError(f"{', '.join(folders)}: a folder, not a file")
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


STAGING_SUFFIX = ".staging"  # being written: discarded by the next start
SWAP_SUFFIX = ".swap"  # complete: moved into place, also by the next start if killed


def _marker(first: Path, suffix: str) -> Path:
    return first.parent / f".{first.name}{suffix}"


@contextmanager
def staged_set(targets: Sequence[Path]) -> Iterator[Path]:
    """Write a set of outputs (files or folders, all in one folder) as one: yield a staging
    folder, in which the caller writes each target under its own name; when the block ends
    without an error the staging folder is renamed (the commit point) and each target
    swapped into place. A kill or a full disk while writing leaves the previous set; a kill
    during the swap is finished by the next call on the same targets."""
    first = targets[0]
    staging = _marker(first, STAGING_SUFFIX)
    try:
        finish_swap(targets)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        yield staging
        for path in staging.rglob("*"):  # some writers create private (0600) files
            if path.is_file():
                path.chmod(file_mode())
        staging.rename(_marker(first, SWAP_SUFFIX))
        finish_swap(targets)
    except OSError as error:
        raise OutputError(
            f"could not write {', '.join(map(str, targets))}: {error.strerror or error}; "
            "the previous output is kept"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def committed(target: Path) -> Path | None:
    """Where the last committed version of ``target`` (one of a :func:`staged_set`) is, for
    readers that move nothing (every process of a torchrun job reads side by side): its new
    version in a swap a kill interrupted, else ``target``; None when there is none."""
    pending = _marker(target, SWAP_SUFFIX) / target.name
    if pending.exists():
        return pending
    return target if target.exists() else None


def finish_swap(targets: Sequence[Path]) -> None:
    """Move each target of a committed set (``.<first>.swap/<name>``) into place, the
    previous one into the swap folder's ``.old/``; then remove the swap folder."""
    swap = _marker(targets[0], SWAP_SUFFIX)
    if not swap.is_dir():
        return
    old = swap / ".old"
    old.mkdir(exist_ok=True)
    for target in targets:
        new = swap / target.name
        if not new.exists():
            continue  # already in place
        if target.exists() or target.is_symlink():
            target.rename(old / target.name)
        new.rename(target)
    shutil.rmtree(swap)
