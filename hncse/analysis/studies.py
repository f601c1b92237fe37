"""The study spec: which runs answer which claim or question, and with which analysis.

A YAML mapping ``study name -> study``, or any YAML file (the workflow's config) holding
that mapping under a top-level ``studies:`` key::

    ablation:                     # C1–C5
      analysis: ablation
      title: SimCSE vs HNCSE and its components
      runs:                       # a filter: column -> value or list of values
        method: [simcse, hncse-pm, hncse-hnm, hncse]
        max_sentences: 10000      # null matches an unset setting
      baseline: simcse            # default
    lambda:
      analysis: theta
      x: [pm_w1]                  # the swept setting(s), when not the analysis' default
    grid-km:
      analysis: grid_km
      runs: ["runs/minilm/hncse-k*-m*/seed*"]   # or run ids / glob patterns under the root

Filter keys are the columns of the collected runs: ``run``, ``method``, ``backbone``,
``seed`` and every key of the runs' configs (``k``, ``m``, ``temperature``, ``corpus``,
...). An empty or absent ``runs`` takes every run. Analyses: :func:`analysis_names`.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hncse import HncseError
from hncse.analysis.kinds import KINDS
from hncse.config import read_yaml


def analysis_names() -> tuple[str, ...]:
    """The analyses a study may name (declared in :mod:`hncse.analysis.kinds`)."""
    return tuple(KINDS)


SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


class StudyError(HncseError, ValueError):
    """A study spec that cannot be used; the message names the study and key."""


class Study(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    analysis: str
    title: str | None = None
    description: str | None = None
    runs: dict[str, Any] | list[str] = Field(default_factory=dict)
    baseline: str = Field("simcse", description="method every other method is compared with")
    x: list[str] | None = Field(None, description="swept setting(s); default per analysis")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        # the name is a folder under aggregate's --out: one plain path component
        if not SAFE_NAME.fullmatch(name):
            raise ValueError(
                f"study name {name!r}: letters, digits, '.', '_' and '-' only, "
                "not starting with '.' (it names a folder)"
            )
        return name

    @field_validator("analysis")
    @classmethod
    def _known_analysis(cls, name: str) -> str:
        if name not in KINDS:
            raise ValueError(f"unknown analysis {name!r}")
        return name

    @model_validator(mode="after")
    def _x_fits_the_analysis(self) -> Study:
        wanted = len(KINDS[self.analysis].axes)
        if self.x is not None and len(self.x) != wanted:
            raise ValueError(
                f"x: analysis {self.analysis} sweeps {wanted} setting(s), got {self.x}"
            )
        return self

    @property
    def heading(self) -> str:
        return self.title or self.name

    @property
    def swept(self) -> tuple[str, ...]:
        """The setting(s) the analysis varies along (x axis, grid axes)."""
        return tuple(self.x) if self.x else KINDS[self.analysis].axes


#: used when no spec is given: every run, read as one ablation and one embedding-space study
DEFAULT_STUDIES: dict[str, dict[str, Any]] = {
    "all-runs": {"analysis": "ablation", "title": "All runs: methods compared (C1–C5)"},
    "embedding-space": {
        "analysis": "embedding_space",
        "title": "Embedding space and performance (Q3)",
    },
}


def parse_studies(data: object, source: str) -> list[Study]:
    if isinstance(data, dict) and isinstance(data.get("studies"), dict):
        data = data["studies"]  # a workflow config holding the spec under `studies:`
    if not isinstance(data, dict) or not data:
        raise StudyError(f"{source}: expected a mapping of study name -> study")
    studies = []
    for name, body in data.items():
        if not isinstance(body, dict):
            raise StudyError(f"{source}: study {name!r} must be a mapping")
        try:
            studies.append(Study(name=str(name), **body))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            )
            raise StudyError(
                f"{source}: study {name!r}: {problems} "
                f"(analysis is one of {', '.join(analysis_names())})"
            ) from None
    return studies


def load_studies(path: Path | None) -> list[Study]:
    """The studies of a YAML file, or :data:`DEFAULT_STUDIES` when ``path`` is None."""
    if path is None:
        return parse_studies(DEFAULT_STUDIES, "default studies")
    if not Path(path).is_file():
        raise StudyError(f"study spec not found: {path}")
    return parse_studies(read_yaml(Path(path)), str(path))


def select_studies(studies: list[Study], names: list[str] | None) -> list[Study]:
    """The studies called ``names`` (all when None), in spec order; an unknown name fails."""
    if names is None:
        return studies
    known = [s.name for s in studies]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise StudyError(f"unknown study {', '.join(unknown)}; the spec has {', '.join(known)}")
    return [s for s in studies if s.name in names]


def _matches(column: pd.Series, wanted: object) -> pd.Series:
    values = wanted if isinstance(wanted, list) else [wanted]
    hit = pd.Series(False, index=column.index)
    numeric = pd.api.types.is_numeric_dtype(column)
    for value in values:
        if value is None:
            hit |= column.isna()
        elif numeric and isinstance(value, int | float):
            # floats from YAML and JSON may differ in the last bit
            hit |= pd.Series(
                np.isclose(column.astype(float), float(value), rtol=1e-9, atol=0.0),
                index=column.index,
            )
        else:
            hit |= column.astype(str) == str(value)
    return hit


def unmatched_runs(run_ids: list[str], study: Study) -> list[str]:
    """The run ids or patterns of ``study``'s list that match none of ``run_ids``: runs
    the spec names that do not exist (a filter mapping names none)."""
    if not isinstance(study.runs, list):
        return []
    return [
        pattern
        for pattern in (p.strip("/") for p in study.runs)
        if not any(fnmatch.fnmatchcase(run, pattern) for run in run_ids)
    ]


def select_runs(runs: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The rows of ``runs`` that belong to ``study`` (possibly none: not run yet)."""
    if isinstance(study.runs, list):
        patterns = [p.strip("/") for p in study.runs]
        keep = runs["run"].map(lambda r: any(fnmatch.fnmatchcase(r, p) for p in patterns))
        return runs[keep.astype(bool)]
    keep = pd.Series(True, index=runs.index)
    for key, wanted in study.runs.items():
        if key not in runs.columns:
            if runs.empty:
                return runs
            raise StudyError(
                f"study {study.name!r}: unknown filter key {key!r}; known: "
                f"{', '.join(c for c in runs.columns if c != 'path')}"
            )
        keep &= _matches(runs[key], wanted)
    return runs[keep]


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def varying_columns(
    runs: pd.DataFrame, exclude: tuple[str, ...] = (), ignore_missing: bool = False
) -> list[str]:
    """Backbone and settings columns that take more than one value among ``runs`` (an
    unset setting counts as a value unless ``ignore_missing``)."""
    fixed = {"run", "path", "method", "seed", *exclude}
    shown = runs.drop(columns=[c for c in runs.columns if c in fixed])
    if ignore_missing:
        return [c for c in shown.columns if shown[c].dropna().map(_show).nunique() > 1]
    return [c for c in shown.columns if shown[c].map(_show).nunique() > 1]


def describe(row: pd.Series, columns: list[str]) -> str:
    return ", ".join(f"{c}={_show(row[c])}" for c in columns)


def label_runs(runs: pd.DataFrame, swept: tuple[str, ...] = ()) -> pd.DataFrame:
    """Add label columns to a study's runs:

    - ``variant``: the method and the settings that vary among that method's runs (one
      row of a summary table),
    - ``series``: the same without the ``swept`` settings (one curve),
    - ``context``: the settings other than ``swept`` that vary across all the study's
      runs, ignoring unset ones (runs compared with each other share it; "" when
      nothing else varies).
    """
    runs = runs.copy()
    for column in ("variant", "series", "context"):
        runs[column] = pd.Series("", index=runs.index, dtype=object)
    shared = varying_columns(runs, swept, ignore_missing=True)
    for method, own in runs.groupby("method", sort=False):
        every = varying_columns(own)
        rest = [c for c in every if c not in swept]
        for index, row in own.iterrows():
            runs.at[index, "variant"] = _with_method(method, describe(row, every))
            runs.at[index, "series"] = _with_method(method, describe(row, rest))
            runs.at[index, "context"] = describe(row, shared)
    return runs


def _with_method(method: object, detail: str) -> str:
    return f"{method} ({detail})" if detail else str(method)
