"""The training corpus: one sentence a line, indexed once, read through a memory map.

Only the byte offsets of the non-empty lines are kept in memory (8 bytes a line: 8 MB for
SimCSE's 1M sentences), so the corpus size is bounded by disk, not RAM. The order of an
epoch is a permutation drawn from ``(seed, epoch)``, which makes every batch a pure function
of the step number: resuming needs no sampler state, and every worker of a data-parallel run
knows the global batch without communication.
"""

from __future__ import annotations

import codecs
import functools
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hncse import HncseError


class CorpusError(HncseError, ValueError):
    """The corpus cannot be used (missing, empty, unreadable)."""


@dataclass(frozen=True)
class CorpusStats:
    path: Path | str  # a file, or a Hugging Face corpus name (hncse.hf_corpus)
    sentences: int
    empty_lines_skipped: int


class LineCorpus:
    """Random access to the non-empty lines of a UTF-8 text file."""

    def __init__(self, path: str | Path, max_sentences: int | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise CorpusError(f"training corpus not found: {self.path}")
        if self.path.stat().st_size == 0:
            raise CorpusError(f"training corpus is empty: {self.path}")
        with self.path.open("rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        _check_text(self._map, self.path)
        starts, ends, empty = _index_lines(self._map)
        if len(starts) == 0:
            raise CorpusError(f"training corpus has no non-empty line: {self.path}")
        if max_sentences is not None:
            starts, ends = starts[:max_sentences], ends[:max_sentences]
        self._starts, self._ends = starts, ends
        self.stats = CorpusStats(self.path, len(starts), empty)

    def __len__(self) -> int:
        return len(self._starts)

    def __getitem__(self, index: int) -> str:
        raw = self._map[self._starts[index] : self._ends[index]]
        return raw.decode("utf-8").strip()  # checked to be UTF-8 when opened

    def sentences(self, indices: np.ndarray) -> list[str]:
        return [self[int(i)] for i in indices]


TEXT_CHECK_CHUNK = 1 << 24  # bytes decoded at a time: memory stays flat on large corpora


def _check_text(data: mmap.mmap, path: Path) -> None:
    """A corpus is UTF-8 text: a binary file (NUL bytes) or another encoding would train on
    replacement characters without a word said."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CorpusError(
            f"{path}, line {_line_at(data, nul)}: NUL byte: a binary file, not "
            "a text corpus (UTF-8, one sentence a line)"
        )
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), TEXT_CHECK_CHUNK):
        end = start + TEXT_CHECK_CHUNK
        try:
            decoder.decode(data[start:end], final=end >= len(data))
        except UnicodeDecodeError as error:
            offset = start + max(error.start, 0)
            raise CorpusError(
                f"{path}, line {_line_at(data, offset)}: not UTF-8 (byte "
                f"{offset}); convert it, e.g. iconv -f latin1 -t utf-8"
            ) from None


def _line_at(data: mmap.mmap, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def _index_lines(buffer: mmap.mmap) -> tuple[np.ndarray, np.ndarray, int]:
    """Start/end offsets of the non-blank lines, and the number of blank ones."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    newlines = np.flatnonzero(data == ord("\n"))
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    if starts[-1] == len(data):  # the file ends with a newline: no line after it
        starts, ends = starts[:-1], ends[:-1]
    # A line is blank when it has no byte above ASCII space (covers "", "\r", spaces, tabs)
    # or, where its only such bytes are non-ASCII, when it is Unicode spaces alone (NBSP,
    # U+3000): those few lines are decoded and stripped.
    has_text = _has_byte(data > ord(" "), starts, ends)
    unsure = np.flatnonzero(has_text & ~_has_byte((data > ord(" ")) & (data < 0x80), starts, ends))
    for line in unsure:
        has_text[line] = bool(bytes(buffer[starts[line] : ends[line]]).decode("utf-8").strip())
    return starts[has_text], ends[has_text], int((~has_text).sum())


def _has_byte(mask: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per line (``starts``/``ends``): does it hold a byte where ``mask`` is set?"""
    positions = np.flatnonzero(mask)
    first = np.searchsorted(positions, starts)
    found = first < len(positions)
    found[found] = positions[first[found]] < ends[found]
    return found


@dataclass(frozen=True)
class BatchSchedule:
    """Which sentence indices form the global batch of each step.

    Each epoch is a seeded permutation cut into full batches (the last partial batch of an
    epoch is dropped, as in-batch negatives need equal-sized batches across workers).
    """

    corpus_size: int
    batch_size: int
    seed: int

    def __post_init__(self) -> None:
        if self.corpus_size < self.batch_size:
            raise CorpusError(
                f"the corpus has {self.corpus_size} sentences, fewer than one batch of "
                f"{self.batch_size}; lower batch_size or use a larger corpus"
            )

    @property
    def steps_per_epoch(self) -> int:
        return self.corpus_size // self.batch_size

    def epoch_order(self, epoch: int) -> np.ndarray:
        return _permutation(self.corpus_size, self.seed, epoch)

    def batch(self, step: int) -> tuple[int, np.ndarray]:
        """(epoch, indices of the global batch) of a 0-based step."""
        epoch, position = divmod(step, self.steps_per_epoch)
        start = position * self.batch_size
        return epoch, self.epoch_order(epoch)[start : start + self.batch_size]


@functools.lru_cache(maxsize=2)  # one epoch is read step by step; keep its order
def _permutation(size: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(size)


def total_steps(schedule: BatchSchedule, num_epochs: float, max_steps: int | None) -> int:
    if max_steps is not None:
        return max_steps
    return max(1, round(num_epochs * schedule.steps_per_epoch))
