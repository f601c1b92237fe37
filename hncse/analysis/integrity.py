"""Is each result what it claims to be? An ``eval.json`` belongs to its run folder when its
recorded model fingerprint (:mod:`hncse.fingerprint`) is the one of the folder's ``model/``
(a trained run) or of the backbone its ``run.json`` names (an encoder evaluated as it is)
and the training it records (method, seed, settings) is the folder's; no two run folders
claim the same method × backbone × seed × settings. A copied, foreign or stale
``eval.json`` and a duplicated run are refused by name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from hncse import HncseError
from hncse.fingerprint import backbone_folder, hf_settings, model_fingerprint


class ForeignResultError(HncseError, ValueError):
    """A result file that its run folder did not produce; never skipped, always refused."""


def _expected_fingerprint(model: dict[str, Any], run_dir: Path, backbone: str) -> str | None:
    """The fingerprint the run folder's own model gives with the evaluation's settings;
    None where the run has nothing to compare with (a trained run whose model is gone)."""
    settings = hf_settings(model.get("pooler"), model.get("max_length"))
    if (run_dir / "model").is_dir():
        return model_fingerprint("hf", backbone, str(run_dir / "model"), settings)
    if (run_dir / "train_summary.json").is_file():
        return None
    folder = backbone_folder(backbone)
    return model_fingerprint("hf", backbone, str(folder) if folder else None, settings)


def check_evaluation(evaluation: dict[str, Any], run_dir: Path, claimed: dict[str, Any]) -> None:
    """Refuse ``run_dir/eval.json`` (validated: :func:`hncse.analysis.collect.read_evaluation`)
    unless its model is the run's and the training it records (``model.training``) is the
    one the run folder ``claimed`` (method, backbone, seed, settings; keys one of the two
    lacks are not compared). Only Hugging Face encoders are checked (GloVe and callables
    have no folder to compare)."""
    model, source = evaluation["model"], run_dir / "eval.json"
    if model["kind"] != "hf":
        return
    expected = _expected_fingerprint(model, run_dir, claimed["backbone"])
    if expected is None:
        raise ForeignResultError(f"{source}: its run has no model/ folder to check it against")
    if model["fingerprint"] != expected:
        raise ForeignResultError(
            f"{source}: evaluated another model ({model.get('path') or model.get('name')}) "
            f"than this run's {'model/' if (run_dir / 'model').is_dir() else claimed['backbone']}; "
            "evaluate the run again (hncse evaluate, or rerun the workflow)"
        )
    training = model.get("training") or {}
    for key, value in claimed.items():
        if key in training and training[key] != value:
            raise ForeignResultError(
                f"{source}: evaluated a model trained with {key} = {training[key]!r}, but "
                f"this run has {key} = {value!r}; evaluate the run again"
            )


def check_unique(runs: pd.DataFrame) -> None:
    """Refuse two run folders that claim the same method, backbone, seed and settings."""
    identity = [c for c in runs.columns if c not in ("run", "path")]
    if runs.empty:
        return
    keys = runs[identity].map(lambda v: json.dumps(v, default=str, sort_keys=True))
    duplicated = runs[keys.duplicated(keep=False)]
    if len(duplicated):
        first = duplicated.iloc[0]
        same = duplicated[(keys.loc[duplicated.index] == keys.loc[first.name]).all(axis=1)]
        raise ForeignResultError(
            f"runs {', '.join(same['run'])} claim the same method {first['method']!r}, "
            f"backbone, seed {first['seed']} and settings; keep one of them"
        )
