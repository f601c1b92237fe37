"""One trainer per run folder: an advisory lock (``flock``) on ``<run>/.train.lock``, which
holds the pid of the process training there.

Two trainers writing into one folder would interleave their logs and collide in the export.
The kernel drops the lock when its process ends, however it ends (kill -9 included), so a
crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hncse import HncseError
from hncse.files import OutputError

LOCK_FILE = ".train.lock"


class RunFolderBusyError(HncseError, RuntimeError):
    """Another process trains in the run folder."""


@contextmanager
def run_folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock for the ``with`` block; refuse at once if another holds it,
    and in one line when the folder cannot be written (read-only, full disk)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK_FILE).open("a+")
    except OSError as error:
        raise OutputError(
            f"output_dir {folder}: cannot write there ({error.strerror or error}); "
            "choose a writable output_dir"
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RunFolderBusyError(
                f"run folder {folder} is in use by process {holder}, which trains there; "
                "wait for it to end, or choose another output_dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
