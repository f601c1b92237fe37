"""Reading SentEval's files strictly: every check names the file, the line and the expectation.

SentEval's own readers (facebookresearch/SentEval, ``senteval/*.py``) assume well-formed
files and fail with an ``IndexError`` or ``ValueError`` deep inside, or not at all on a
truncated file. These helpers read the same way (same encodings, same line splitting) but
check column counts, numbers, label sets and the protocol's expected counts.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from hncse.data_root import DataNotFoundError
from hncse.evaluation.errors import DataFormatError


def require_file(path: Path, task: str) -> Path:
    """``path`` if it is a file, else a clear error saying how to get SentEval's data."""
    if not path.is_file():
        folder = path.parent
        what = "folder" if not folder.is_dir() else "file"
        missing = folder if what == "folder" else path
        raise DataNotFoundError(
            f"{task}: {what} {missing} not found. It is part of SentEval's data "
            "(data/downstream/get_transfer_data.bash); point --data-dir or HNCSE_DATA_DIR at a "
            "root with senteval/downstream/, or run `hncse download senteval` (online)."
        )
    return path


def read_lines(path: Path, encoding: str = "utf-8", task: str = "") -> list[str]:
    """The file's lines as SentEval splits them (``str.splitlines``: also on \\x85, \\x0c...).

    The split matters for parity: latin-1 files (MR, CR, SUBJ, MPQA) hold bytes that
    ``splitlines`` treats as line breaks, and SentEval counts samples that way.
    """
    require_file(path, task or path.parent.name)
    try:
        return path.read_text(encoding=encoding).splitlines()
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise DataFormatError(path, line, f"not valid {encoding} ({error.reason})") from None


def columns(line: str, path: Path, number: int, expected: int, at_least: bool = False) -> list[str]:
    """Tab-separated fields of a stripped line (SentEval: ``line.strip().split('\\t')``)."""
    fields = line.strip().split("\t")
    wrong = len(fields) < expected if at_least else len(fields) != expected
    if wrong:
        need = f"at least {expected}" if at_least else str(expected)
        raise DataFormatError(
            path, number, f"expected {need} tab-separated columns, found {len(fields)}: {line!r}"
        )
    return fields


def number(text: str, path: Path, line: int, low: float, high: float, what: str) -> float:
    """A float in ``[low, high]``, or an error naming the file, line and value."""
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(path, line, f"{what} {text!r} is not a number") from None
    if not low <= value <= high:
        raise DataFormatError(path, line, f"{what} {value} is outside [{low}, {high}]")
    return value


def label(text: str, path: Path, line: int, allowed: Collection[str]) -> str:
    """``text`` if it is one of the ``allowed`` labels, else an error naming file and line."""
    if text not in allowed:
        raise DataFormatError(
            path, line, f"label {text!r} is not one of {', '.join(sorted(allowed))}"
        )
    return text


def check_count(found: int, expected: int, path: Path, what: str) -> None:
    """The protocol's sample counts: a short file is a truncated download, not new data."""
    if found != expected:
        hint = "truncated?" if found < expected else "extra lines?"
        raise DataFormatError(
            path,
            found + 1 if found < expected else expected + 1,
            f"expected {expected} {what}, found {found} ({hint})",
        )


def join_tokens(text: str) -> str:
    """A sentence as SimCSE's batcher sees it: SentEval's tokens joined by single spaces."""
    return " ".join(text.split())
