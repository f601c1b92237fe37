"""Tables of the analysis as CSV and Parquet, written atomically (:mod:`hncse.files`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from hncse.files import write_atomic


def write_frame(
    frame: pd.DataFrame, stem: Path, formats: tuple[str, ...] = ("csv", "parquet")
) -> list[Path]:
    """Write ``frame`` as ``<stem>.csv`` and/or ``<stem>.parquet`` (no index)."""
    writers: dict[str, Callable[[Path], object]] = {
        "csv": lambda tmp: frame.to_csv(tmp, index=False),
        "parquet": lambda tmp: frame.to_parquet(tmp, index=False),
    }
    return [write_atomic(stem.parent / f"{stem.name}.{fmt}", writers[fmt]) for fmt in formats]
