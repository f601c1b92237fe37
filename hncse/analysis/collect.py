"""Collect a results folder into one tidy table (run × task × split × metric).

A run folder is any folder under the results root holding ``eval.json``,
``train_summary.json`` or ``run.json`` (docs/architecture.md). Its metadata come from
``run.json`` when present (baselines without training: ``{"method", "backbone", "seed",
"settings"}``), else from ``train_summary.json``'s ``config`` (the resolved TrainConfig);
paths are never parsed. The run's id is its folder relative to the root.

Rows of the tidy table (``value`` is a float):

- ``eval.json``: one row per task × split × metric; ``split`` is an STS subset or
  aggregation (``all``, ``mean``, ``wmean``), an STS-B/SICK-R split, or ``""`` for the
  classification metrics (``acc``, ``devacc``, ``f1``, ``n``, ``ntest``);
  ``alignment_uniformity`` becomes task ``embedding_space``; ``seconds`` and
  ``sentences_encoded`` task ``evaluation``.
- training: task ``training``, split ``""`` for the numbers of ``train_summary.json``
  (``steps``, ``best_step``, ``best_stsb_dev_spearman``, ``seconds``, ``sentences_per_s``)
  and ``final_loss``; split ``mean`` for the mean over logged steps of every ``pm/*`` and
  ``hnm/*`` statistic of ``train_log.jsonl``; ``corpus_sentences`` (the training
  corpus's sentence count, from ``train_summary.json``).
- model: task ``model``, metric ``parameters``: the parameters of the run's saved model (or
  of its backbone, for a run without training), from the safetensors headers.

Every row also carries the run's ``method``, ``backbone``, ``seed`` and settings columns.
The per-step training log is kept apart (:attr:`Collection.steps`): it is long.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors import SafetensorError, safe_open

from hncse import HncseError
from hncse.analysis.integrity import check_evaluation, check_unique
from hncse.evaluation.results import ResultFileError, load_result
from hncse.fingerprint import backbone_folder

METADATA_FILES = ("run.json", "train_summary.json", "eval.json")
RECORD_COLUMNS = ["task", "family", "split", "metric", "value"]
RUN_COLUMNS = ["run", "path", "method", "backbone", "seed"]
#: config keys that are not settings: identity columns, or paths that differ per run
NOT_SETTINGS = frozenset({"method", "backbone", "seed", "output_dir", "data_dir"})
SUMMARY_METRICS = ("steps", "best_step", "best_stsb_dev_spearman", "seconds", "sentences_per_s")
MECHANISM_PREFIXES = ("pm/", "hnm/")


class ResultsError(HncseError, ValueError):
    """A run folder's file is unreadable or lacks a required key; the message names it."""


@dataclass(frozen=True)
class RunInfo:
    run: str
    path: Path
    method: str
    backbone: str
    seed: int | None
    settings: dict[str, Any]


@dataclass
class Collection:
    """The collected results: ``table`` (tidy), ``runs`` (one row per run: metadata and
    settings), ``steps`` (every ``train_log.jsonl`` line, with its ``run``), ``skipped``
    (folders left out, with the reason), ``protocols`` (run -> its ``eval.json``'s ``mode``
    and ``max_train_samples``)."""

    root: Path
    table: pd.DataFrame
    runs: pd.DataFrame
    steps: pd.DataFrame
    skipped: list[str] = field(default_factory=list)
    #: the run ids of the folders in ``skipped`` (found, not readable)
    unreadable: list[str] = field(default_factory=list)
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: every run's per-pair scores with a ``run`` column, when read back from a report's
    #: inputs (the run folders are not at hand); None: read each run's file on demand
    pairs_table: pd.DataFrame | None = None
    #: (reference run, run) -> linear CKA, filled as the embedding-space analysis computes
    #: them, or read back from a report's inputs (no model at hand)
    cka: dict[tuple[str, str], float] = field(default_factory=dict)
    #: True when the CKA values are final (read back): none is computed again
    cka_final: bool = False
    _pairs: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    @property
    def settings_columns(self) -> list[str]:
        return [c for c in self.runs.columns if c not in RUN_COLUMNS]

    def fact(self, task: str, metric: str) -> pd.Series:
        """One number per run (its first row of ``task``/``metric``), indexed by run: the
        per-run facts such as parameters or steps trained."""
        rows = self.table[(self.table["task"] == task) & (self.table["metric"] == metric)]
        return rows.groupby("run")["value"].first()

    @property
    def trained_runs(self) -> pd.Index:
        """The runs with a training log (steps trained); encoders evaluated as they are
        have none."""
        return self.fact("training", "steps").index

    def pairs(self, run: str) -> pd.DataFrame | None:
        """The run's ``eval.pairs.parquet`` (None when absent), read once."""
        if run not in self._pairs and self.pairs_table is not None:
            part = self.pairs_table[self.pairs_table["run"] == run]
            self._pairs[run] = (
                part.drop(columns="run").reset_index(drop=True) if len(part) else None
            )
        if run not in self._pairs:
            folder = self.runs.set_index("run").at[run, "path"]
            path = Path(folder) / "eval.pairs.parquet"
            self._pairs[run] = pd.read_parquet(path) if folder and path.is_file() else None
        return self._pairs[run]


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: cannot read JSON ({error})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object at the top level")
    return data


def read_evaluation(path: Path) -> dict[str, Any]:
    """``eval.json`` read and validated by :func:`hncse.evaluation.results.load_result` (the
    one reader), as plain values; a file it refuses is a run that cannot be read."""
    try:
        return load_result(path).model_dump(mode="json")
    except ResultFileError as error:
        raise ResultsError(str(error)) from None


def _require(data: dict[str, Any], key: str, source: Path) -> Any:
    if key not in data:
        raise ResultsError(f"{source}: missing key {key!r}")
    return data[key]


def read_run_info(run_dir: Path, root: Path) -> RunInfo:
    """Metadata of one run: ``run.json`` wins over ``train_summary.json``'s ``config``."""
    run_json, summary_json = run_dir / "run.json", run_dir / "train_summary.json"
    if run_json.is_file():
        meta = read_json(run_json)
        source, settings = run_json, dict(meta.get("settings") or {})
    elif summary_json.is_file():
        summary = read_json(summary_json)
        source, settings = summary_json, dict(_require(summary, "config", summary_json))
        meta = {key: settings.get(key, summary.get(key)) for key in ("method", "backbone", "seed")}
    else:
        raise ResultsError(
            f"{run_dir}: neither run.json nor train_summary.json; cannot tell its method"
        )
    seed = _require(meta, "seed", source)
    return RunInfo(
        run=run_dir.relative_to(root).as_posix(),
        path=run_dir,
        method=str(_require(meta, "method", source)),
        backbone=str(_require(meta, "backbone", source)),
        seed=None if seed is None else int(seed),
        settings={k: v for k, v in settings.items() if k not in NOT_SETTINGS},
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def eval_records(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a validated ``eval.json`` into task/family/split/metric/value records."""
    records: list[dict[str, Any]] = []

    def add(task: str, family: str, split: str, metrics: dict[str, Any]) -> None:
        records.extend(
            {"task": task, "family": family, "split": split, "metric": name, "value": float(v)}
            for name, v in metrics.items()
            if _is_number(v)
        )

    for task, result in evaluation["tasks"].items():
        family = str(result["family"])
        for key, value in result.items():
            if key in ("subsets", "splits"):
                for split, metrics in value.items():
                    add(task, family, split, metrics)
            elif isinstance(value, dict):
                add(task, family, key, value)
        add(task, family, "", result)
    add("embedding_space", "", "", evaluation.get("alignment_uniformity") or {})
    add("evaluation", "", "", {k: evaluation.get(k) for k in ("seconds", "sentences_encoded")})
    return records


def read_train_log(path: Path) -> pd.DataFrame:
    """``train_log.jsonl`` as a frame (one row a line); an unparsable line is an error
    naming the line, except a truncated last line of a run still writing."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            if number == len(lines):
                break  # the last line of a log being written
            raise ResultsError(f"{path}:{number}: not JSON ({error})") from None
    return pd.DataFrame(rows)


#: per-step counts summed over a run (split ``sum``), under the metric named here
SUMMED = {"pm/num_mixed": "pm/mixed_queries", "pm/num_queries": "pm/queries"}
#: per-step means over the mixed queries: a run's mean weights each step by its count
MIXED_MEANS = ("pm/delta_sim_query", "pm/delta_sim_negative")


def _mechanism_means(train: pd.DataFrame) -> dict[str, float]:
    """Each ``pm/*`` and ``hnm/*`` statistic's mean over the logged steps (the PM deltas
    weighted by the step's mixed queries), and the summed counts."""
    means: dict[str, float] = {}
    for column in train.columns:
        if column.startswith(MECHANISM_PREFIXES) and train[column].notna().any():
            means[column] = float(train[column].mean())
    if "pm/num_mixed" in train:
        for column in MIXED_MEANS:
            present = train[[column, "pm/num_mixed"]].dropna()
            if column in train and present["pm/num_mixed"].sum() > 0:
                means[column] = float(np.average(present[column], weights=present["pm/num_mixed"]))
    return means


def training_records(summary: dict[str, Any] | None, log: pd.DataFrame) -> list[dict[str, Any]]:
    """Summary numbers of training, the mean of each mechanism statistic over steps and
    the summed counts of PM's queries."""
    metrics: dict[str, Any] = {k: (summary or {}).get(k) for k in SUMMARY_METRICS}
    train = log[log["kind"] == "train"] if "kind" in log else log.iloc[0:0]
    corpus = (summary or {}).get("corpus")
    if isinstance(corpus, dict):
        metrics["corpus_sentences"] = corpus.get("sentences")
    if "loss" in train and train["loss"].notna().any():
        metrics["final_loss"] = train["loss"].dropna().iloc[-1]
    records = [
        {"task": "training", "family": "", "split": "", "metric": k, "value": float(v)}
        for k, v in metrics.items()
        if _is_number(v) and not math.isnan(v)
    ]
    records += [
        {"task": "training", "family": "", "split": "mean", "metric": k, "value": v}
        for k, v in _mechanism_means(train).items()
    ]
    records += [
        {
            "task": "training",
            "family": "",
            "split": "sum",
            "metric": name,
            "value": float(train[column].sum()),
        }
        for column, name in SUMMED.items()
        if column in train
    ]
    return records


def from_tables(folder: Path) -> Collection:
    """A collection read back from the ``results.csv`` and ``runs.csv`` that ``hncse
    aggregate`` wrote (e.g. a committed report's tables): no training logs, no per-pair
    scores, so only what the tidy table holds can be analysed."""
    folder = Path(folder)
    try:
        table = pd.read_csv(
            folder / "results.csv",
            keep_default_na=False,
            na_values=[""],
            dtype={"split": str, "family": str},
        )
        runs = pd.read_csv(folder / "runs.csv")
    except (OSError, pd.errors.ParserError) as error:
        raise ResultsError(f"{folder}: cannot read results.csv and runs.csv ({error})") from None
    table[["split", "family"]] = table[["split", "family"]].fillna("")
    runs["seed"] = runs["seed"].astype("Int64")
    runs["path"] = ""  # the run folders are not at hand
    return Collection(
        root=folder, table=table, runs=runs, steps=pd.DataFrame(columns=["run", "kind", "step"])
    )


def find_run_dirs(root: Path) -> list[Path]:
    return sorted({path.parent for name in METADATA_FILES for path in root.rglob(name)})


def _normalise_settings(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Numeric settings stay numeric (for curves); any column mixing numbers and text
    (``alpha`` = 0.5 or ``uniform``) becomes text so that Parquet can store it."""
    for column in columns:
        values = runs[column]
        if values.map(lambda v: isinstance(v, dict | list)).any():
            runs[column] = values.map(lambda v: json.dumps(v) if v is not None else None)
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        if (numeric.notna() | values.isna()).all() and not values.map(
            lambda v: isinstance(v, bool)
        ).any():
            runs[column] = numeric
        else:
            runs[column] = values.map(lambda v: None if pd.isna(v) else str(v)).astype(object)
    return runs


PROTOCOL_KEYS = ("mode", "max_train_samples")


def _read_run(
    run_dir: Path, root: Path
) -> tuple[RunInfo, list[dict], pd.DataFrame, dict[str, Any] | None]:
    info = read_run_info(run_dir, root)
    records: list[dict[str, Any]] = []
    protocol = None
    if (run_dir / "eval.json").is_file():
        evaluation = read_evaluation(run_dir / "eval.json")
        claimed = {"method": info.method, "backbone": info.backbone, "seed": info.seed}
        check_evaluation(evaluation, run_dir, claimed | info.settings)
        records += eval_records(evaluation)
        protocol = {key: evaluation.get(key) for key in PROTOCOL_KEYS}
        protocol["tasks"] = list(evaluation["tasks"])  # the catalogue's order
    log_path, summary_path = run_dir / "train_log.jsonl", run_dir / "train_summary.json"
    log = read_train_log(log_path) if log_path.is_file() else pd.DataFrame()
    summary = read_json(summary_path) if summary_path.is_file() else None
    if summary is not None or not log.empty:
        records += training_records(summary, log)
    parameters = parameter_count(
        run_dir / "model" if (run_dir / "model").is_dir() else backbone_folder(info.backbone)
    )
    if parameters is not None:
        records.append(
            {
                "task": "model",
                "family": "",
                "split": "",
                "metric": "parameters",
                "value": float(parameters),
            }
        )
    return info, records, log, protocol


def parameter_count(folder: Path | None) -> int | None:
    """Parameters of the model saved in ``folder``, from its safetensors headers (no
    weights are read); None when it has none. A truncated or hostile file (a header
    length beyond the file, say) is a :class:`ResultsError` naming it."""
    files = sorted(folder.glob("*.safetensors")) if folder is not None and folder.is_dir() else []
    if not files:
        return None
    total = 0
    for path in files:
        try:
            with safe_open(path, framework="numpy") as weights:
                names = weights.keys()  # safe_open has no __iter__
                total += sum(math.prod(weights.get_slice(n).get_shape()) for n in names)
        except (SafetensorError, OSError) as error:
            raise ResultsError(f"{path}: not a readable safetensors file ({error})") from None
    return total


def collect(root: Path) -> Collection:
    """Read every run folder under ``root``. A folder whose files cannot be read is left
    out with its reason in ``skipped``; ``hncse aggregate`` and ``report`` refuse to go on
    unless told ``--allow-missing``. An ``eval.json`` of another model and two folders of
    one run are refused (:mod:`hncse.analysis.integrity`)."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ResultsError(f"results folder not found: {root}")
    infos, records, logs, skipped, unreadable = [], [], [], [], []
    protocols: dict[str, dict[str, Any]] = {}
    for run_dir in find_run_dirs(root):
        try:
            info, run_records, log, protocol = _read_run(run_dir, root)
        except ResultsError as error:
            skipped.append(str(error))
            unreadable.append(run_dir.relative_to(root).as_posix())
            continue
        infos.append(info)
        if protocol is not None:
            protocols[info.run] = protocol
        records += [{"run": info.run, **r} for r in run_records]
        if not log.empty:
            logs.append(log.assign(run=info.run))
    runs = pd.DataFrame(
        [
            {
                "run": i.run,
                # relative to the working directory: runs.csv is committed beside reports
                "path": os.path.relpath(i.path),
                "method": i.method,
                "backbone": i.backbone,
                "seed": i.seed,
                **i.settings,
            }
            for i in infos
        ],
        columns=RUN_COLUMNS if not infos else None,
    )
    runs["seed"] = runs["seed"].astype("Int64")
    check_unique(runs)
    settings = [c for c in runs.columns if c not in RUN_COLUMNS]
    runs = _normalise_settings(runs, settings)
    facts = pd.DataFrame(records, columns=["run", *RECORD_COLUMNS])
    facts["value"] = facts["value"].astype(float)
    table = runs.drop(columns="path").merge(facts, on="run", how="inner")
    steps = (
        pd.concat(logs, ignore_index=True)
        if logs
        else pd.DataFrame(columns=["run", "kind", "step"])
    )
    return Collection(root, table, runs, steps, skipped, unreadable=unreadable, protocols=protocols)
