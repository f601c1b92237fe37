"""Training corpora from the Hugging Face ``datasets`` library (docs/training.md, "Corpora").

The config key ``corpus`` names one with ``hf:<dataset>[:<config>]:<split>:<column>``:
``<dataset>`` is a hub name (``wikitext``, ``owner/name``), a local folder of data files, or
a folder written by ``Dataset.save_to_disk``/``DatasetDict.save_to_disk`` (read offline).
The texts stay in the dataset's memory-mapped Arrow files (the hub's are cached in
``~/.cache/huggingface/datasets``); only the row numbers of the non-blank texts are held in
memory, 8 bytes a sentence, as for a text file. With ``corpus_streaming: true`` a hub
dataset is streamed instead and only its first ``max_sentences`` texts are read, into
memory. This module imports ``datasets`` only when a corpus is opened; the name is parsed by
``hncse.data_root.parse_hf_corpus`` (no numpy, no datasets: the workflow planner uses it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hncse.data import CorpusError, CorpusStats
from hncse.data_root import HFCorpusSpec

SCAN_BATCH = 65_536  # rows read at a time while indexing the non-blank texts


def _is_saved_dataset(folder: Path) -> bool:
    """A folder written by ``save_to_disk`` (a Dataset or a DatasetDict)."""
    return (folder / "state.json").is_file() or (folder / "dataset_dict.json").is_file()


def _load_saved(spec: HFCorpusSpec, folder: Path) -> Any:
    from datasets import DatasetDict, load_from_disk

    saved = load_from_disk(str(folder))
    if isinstance(saved, DatasetDict):
        if spec.split not in saved:
            raise CorpusError(
                f"corpus {str(spec)!r}: {folder} has no split {spec.split!r}; "
                f"splits: {', '.join(saved)}"
            )
        return saved[spec.split]
    if saved.split is not None and str(saved.split) != spec.split:
        raise CorpusError(
            f"corpus {str(spec)!r}: {folder} holds the split {str(saved.split)!r} only"
        )
    return saved


def load_hf_dataset(spec: HFCorpusSpec, streaming: bool = False) -> Any:
    """The split as a memory-mapped ``Dataset`` (or an ``IterableDataset`` when streaming).
    Every failure of the library (unknown name, no network, unknown split) is a
    :class:`CorpusError` naming the corpus."""
    folder = Path(spec.dataset).expanduser()
    try:
        if folder.is_dir() and _is_saved_dataset(folder):
            dataset = _load_saved(spec, folder)
            return dataset.to_iterable_dataset() if streaming else dataset
        from datasets import load_dataset

        return load_dataset(spec.dataset, spec.config, split=spec.split, streaming=streaming)
    except CorpusError:
        raise
    except Exception as error:  # the library raises many types; all mean "cannot load"
        problem = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise CorpusError(
            f"corpus {str(spec)!r}: cannot load the dataset ({type(error).__name__}: {problem})"
        ) from None


def _check_text_column(spec: HFCorpusSpec, features: Any) -> None:
    if features is None:  # a streamed dataset may not know its features before reading
        return
    if spec.column not in features:
        raise CorpusError(
            f"corpus {str(spec)!r}: no column {spec.column!r}; columns: {', '.join(features)}"
        )
    dtype = getattr(features[spec.column], "dtype", None)
    if dtype not in ("string", "large_string"):
        raise CorpusError(
            f"corpus {str(spec)!r}: column {spec.column!r} holds {features[spec.column]}, not text"
        )


def _non_blank_rows(dataset: Any, column: str, limit: int | None) -> tuple[np.ndarray, int]:
    """Row numbers of the texts that are not blank (the first ``limit``), and the count of
    blank ones seen, reading the Arrow column a batch at a time."""
    import pyarrow.compute as pc

    kept: list[np.ndarray] = []
    blank = found = 0
    texts = dataset.select_columns([column]).with_format("arrow")
    for start, batch in zip(
        range(0, len(dataset), SCAN_BATCH), texts.iter(batch_size=SCAN_BATCH), strict=True
    ):
        values = batch.column(column)
        has_text = pc.fill_null(
            pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0), False
        ).to_numpy(zero_copy_only=False)
        rows = start + np.flatnonzero(has_text)
        blank += len(has_text) - len(rows)
        kept.append(rows)
        found += len(rows)
        if limit is not None and found >= limit:
            break
    rows = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
    return rows[:limit].astype(np.int64), blank


class HFCorpus:
    """Random access to the non-blank texts of one column of a dataset split; the same
    interface as :class:`hncse.data.LineCorpus` (``len``, ``sentences``, ``stats``)."""

    def __init__(
        self, spec: HFCorpusSpec, max_sentences: int | None = None, streaming: bool = False
    ) -> None:
        self.spec = spec
        dataset = load_hf_dataset(spec, streaming)
        _check_text_column(spec, dataset.features)
        if streaming:
            self._texts: Any = self._first_texts(dataset, max_sentences)
            self._rows = np.arange(len(self._texts))
            blank = 0
        else:
            self._texts = dataset.select_columns([spec.column])
            self._rows, blank = _non_blank_rows(dataset, spec.column, max_sentences)
        if len(self._rows) == 0:
            raise CorpusError(f"corpus {str(spec)!r}: column {spec.column!r} has no non-blank text")
        self.stats = CorpusStats(str(spec), len(self._rows), blank)

    def _first_texts(self, dataset: Any, limit: int | None) -> list[str]:
        if limit is None:
            raise CorpusError(
                f"corpus {str(self.spec)!r}: corpus_streaming reads the first "
                "max_sentences texts; set max_sentences"
            )
        texts: list[str] = []
        for record in dataset:
            text = record.get(self.spec.column)
            if text is None and self.spec.column not in record:
                raise CorpusError(
                    f"corpus {str(self.spec)!r}: no column "
                    f"{self.spec.column!r}; columns: {', '.join(record)}"
                )
            if isinstance(text, str) and text.strip():
                texts.append(text.strip())
                if len(texts) == limit:
                    break
        return texts

    def __len__(self) -> int:
        return len(self._rows)

    def sentences(self, indices: np.ndarray) -> list[str]:
        rows = self._rows[indices]
        if isinstance(self._texts, list):
            return [self._texts[int(row)] for row in rows]
        return [text.strip() for text in self._texts[rows.tolist()][self.spec.column]]
