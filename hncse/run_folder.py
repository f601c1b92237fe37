"""Whose run a run folder holds. ``hncse train`` starting afresh in a folder that holds the
outputs of a run with other training settings (another method, seed, backbone...) refuses,
unless told ``--replace``, which removes that run whole first; starting afresh over its own
run it drops the old ``eval.json`` (it scored the model about to be replaced). So no folder
ever mixes two runs' files (docs/failure-modes.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from hncse import HncseError

# The files and folders of a run folder (docs/architecture.md)
CONFIG_FILE = "config.yaml"  # the run's settings
MODEL_DIR = "model"  # the exported best checkpoint
STATE_DIR = "checkpoint"  # the training state for resuming
LOG_FILE = "train_log.jsonl"
SUMMARY_FILE = "train_summary.json"
#: the config keys that say where a run reads and writes, not what it trains
LOCATION_KEYS = ("data_dir", "output_dir")
#: what a run folder holds
RUN_OUTPUTS = (
    CONFIG_FILE,
    MODEL_DIR,
    STATE_DIR,
    LOG_FILE,
    SUMMARY_FILE,
    "run.json",
    "eval.json",
    "eval.pairs.parquet",
)
EVALUATION_OUTPUTS = ("eval.json", "eval.pairs.parquet")


class RunFolderError(HncseError, ValueError):
    """The output folder holds another run's outputs, or is not a folder."""


def check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"output_dir {folder}: a file, not a folder")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def replace_run(folder: Path) -> None:
    """Remove every output of the run in ``folder`` (``--replace``)."""
    for name in RUN_OUTPUTS:
        _remove(folder / name)


def _owner(folder: Path) -> dict[str, Any] | None:
    """The settings in the folder's config.yaml; None when unreadable."""
    try:
        owner = yaml.safe_load((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return owner if isinstance(owner, dict) else None


def training_settings(config: dict[str, Any]) -> dict[str, Any]:
    """A run's config without where it reads and writes: what it trains."""
    return {key: value for key, value in config.items() if key not in LOCATION_KEYS}


def training_of(model_folder: Path) -> dict[str, Any] | None:
    """The settings that trained ``model_folder`` (method, backbone, seed and the rest)
    when it is a run's ``model/``; None for any other model (a backbone as it ships)."""
    if model_folder.name != MODEL_DIR:
        return None
    owner = _owner(model_folder.parent)
    return training_settings(owner) if owner is not None else None


def claim_fresh_start(
    folder: Path, settings: dict[str, Any], same_run: Callable[[dict[str, Any]], bool]
) -> None:
    """Before a run starts afresh in ``folder``: refuse another run's outputs (naming
    them); over this run's own, remove its stale evaluation."""
    present = [name for name in RUN_OUTPUTS if (folder / name).exists()]
    if not present:
        return
    owner = _owner(folder)
    if owner is None or not same_run(owner):
        who = (
            f"method {owner.get('method')!r}, seed {owner.get('seed')}"
            if owner
            else "an unknown run"
        )
        raise RunFolderError(
            f"output_dir {folder} holds another run's outputs ({who}: {', '.join(present)}); "
            f"use another output_dir, or --replace to remove that run first "
            f"(this run: method {settings.get('method')!r}, seed {settings.get('seed')})"
        )
    for name in EVALUATION_OUTPUTS:
        _remove(folder / name)
