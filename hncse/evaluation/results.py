"""Typed result records (schema version 1) and their atomic writing.

The JSON layout is the contract of docs/architecture.md ("Evaluation output") and is
documented field by field in docs/evaluation.md. Correlations and accuracies are in
percent (×100), as SentEval tables print them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hncse import HncseError
from hncse.evaluation.catalogue import Task
from hncse.files import write_atomic_group

SCHEMA_VERSION = 1
PAIR_COLUMNS = ("task", "subset", "pair_index", "gold", "score")


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Correlation(Record):
    """Pearson and Spearman ×100 of cosine scores against gold; None where undefined
    (constant scores); ``n`` = pairs."""

    pearson: float | None
    spearman: float | None
    n: int


class STSResult(Record):
    """STS12–STS16: per subset, plus ``all`` (one correlation over the concatenated
    subsets: SimCSE's headline), ``mean`` and ``wmean`` (mean of subsets, weighted by n)."""

    family: Literal["sts"] = "sts"
    subsets: dict[str, Correlation]
    all: Correlation
    mean: Correlation
    wmean: Correlation
    seconds: float


class CosineResult(Record):
    """STS-B and SICK-R as SimCSE evaluates them: cosine, no training; ``test`` is the
    headline, ``dev`` is for model selection."""

    family: Literal["sts_cosine"] = "sts_cosine"
    splits: dict[str, Correlation]
    seconds: float


class ClassificationResult(Record):
    """A transfer task: test accuracy ``acc`` (and ``f1`` for MRPC), ``devacc`` is the
    model-selection score only; ``l2`` the chosen penalties (one per outer fold for nested
    cross-validation); ``n`` / ``ntest`` the train / test sample counts (SentEval's ndev)."""

    family: Literal["classification"] = "classification"
    acc: float
    devacc: float
    f1: float | None = Field(None, exclude_if=lambda value: value is None)  # MRPC only
    n: int
    ntest: int
    l2: list[float]
    seconds: float


TaskResult = Annotated[
    STSResult | CosineResult | ClassificationResult, Field(discriminator="family")
]


class AlignmentUniformity(Record):
    """Wang & Isola (2020) on L2-normalised STS-B embeddings (as in SimCSE, section 5)."""

    alignment: float
    uniformity: float
    positive_pairs: int
    sentences: int


class ModelInfo(Record):
    kind: Literal["hf", "sentence-transformers", "callable", "glove"]
    name: str
    path: str | None = None
    pooler: str | None = None
    max_length: int | None = None
    fingerprint: str
    training: dict[str, Any] | None = Field(
        None,
        exclude_if=lambda value: value is None,
        description="the settings that trained it (method, backbone, seed, ...) when it is "
        "a run's model/ folder; ``hncse aggregate`` checks them against the run folder",
    )


class DataInfo(Record):
    senteval_dir: str
    files: dict[str, str] = Field(description="path under senteval_dir -> sha256")


class EvaluationResult(Record):
    schema_version: Literal[1] = SCHEMA_VERSION
    model: ModelInfo
    data: DataInfo
    mode: Literal["test", "fasttest"]
    classifier: dict[str, float | int | str | list[float]]
    device: str
    seconds: float
    encode_seconds: float
    sentences_encoded: int
    sentences_unique: int
    max_train_samples: int | None = Field(
        None, exclude_if=lambda value: value is None
    )  # only when training sets were cut
    tasks: dict[str, TaskResult]
    alignment_uniformity: AlignmentUniformity | None = Field(
        None, exclude_if=lambda value: value is None
    )  # only when asked for
    versions: dict[str, str]
    created: str

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


def pairs_path(out: Path) -> Path:
    """``eval.json`` -> ``eval.pairs.parquet`` beside it."""
    return out.with_name(f"{out.stem}.pairs.parquet")


def write_result(result: EvaluationResult, pairs: pd.DataFrame, out: Path) -> None:
    """Both files written in full before either replaces its old version, the pairs file
    first, then the JSON: a present JSON means a complete evaluation, and a failed write
    (a full disk) leaves the previous pair of files as it was."""
    missing = set(PAIR_COLUMNS) - set(pairs.columns)
    if missing:
        raise ValueError(f"pair scores lack columns {sorted(missing)}")
    frame = pairs.loc[:, list(PAIR_COLUMNS)]
    write_atomic_group(
        {
            pairs_path(out): lambda tmp: frame.to_parquet(tmp, index=False),
            out: lambda tmp: tmp.write_text(result.to_json() + "\n", encoding="utf-8"),
        }
    )


class ResultFileError(HncseError, ValueError):
    """An ``eval.json`` that cannot be read, or is not the record this version writes."""


def load_result(path: Path) -> EvaluationResult:
    """Read and validate an ``eval.json``; unreadable or of another shape is one error
    naming the file and its first bad field."""
    try:
        return EvaluationResult.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ResultFileError(f"{path}: cannot read it ({error})") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ResultFileError(
            f"{path}: not an eval.json this version reads ({where + ': ' if where else ''}"
            f"{first['msg']})"
        ) from None


def split_correlation(record: TaskResult, split: str) -> Correlation | None:
    """An STS task's correlation at ``split``: an aggregation of STS12–16 (``all``, ``mean``,
    ``wmean``) or a split of STS-B / SICK-R; None where the record has no such number."""
    if isinstance(record, STSResult):
        return getattr(record, split) if split in ("all", "mean", "wmean") else None
    if isinstance(record, CosineResult):
        return record.splits.get(split)
    return None


def headline_value(record: TaskResult, task: Task) -> float | None:
    """``task``'s headline number (the catalogue's split and metric) in ``record``."""
    if isinstance(record, ClassificationResult):
        return getattr(record, task.metric)
    correlation = split_correlation(record, task.split)
    return None if correlation is None else getattr(correlation, task.metric)
