"""Whether runs are in the paper's setting, computed from their settings, not declared.

The paper's setting is config/paper.yaml: one of its backbones' models, trained with the
recipe of its ``train`` section merged with that backbone's ``train`` (corpus, sequence
length, epochs, τ, pooler, batch size, learning rate), on the whole corpus (no
``max_sentences``, no ``max_steps``) and without the CPU proxy's re-initialised layers. A
size claim (C1's "by about 1.2") is judged only on runs in that setting; anywhere else the
size is not comparable (docs/study.md).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

PAPER_CONFIG = Path(__file__).resolve().parents[2] / "config" / "paper.yaml"
#: recipe keys that do not change what is trained (checkpointing, GPU arithmetic)
NOT_RECIPE = frozenset({"eval_steps", "save_steps", "precision", "log_steps"})
#: the CPU proxy's knobs: the paper's setting leaves them unset (or 0)
PROXY_KNOBS = ("max_sentences", "max_steps", "reinit_top_layers")


@functools.cache
def paper_recipes(path: Path = PAPER_CONFIG) -> dict[str, dict[str, Any]]:
    """Backbone model -> the training settings the paper's setting fixes."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    shared = {k: v for k, v in config["train"].items() if k not in NOT_RECIPE}
    return {
        spec["model"]: shared
        | {k: v for k, v in spec.get("train", {}).items() if k not in NOT_RECIPE}
        for spec in config["backbones"].values()
    }


def _same(value: object, wanted: object) -> bool:
    """Settings compare as numbers where both are (the runs' table holds 64 as 64.0)."""
    try:
        return float(value) == float(wanted)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value) == str(wanted)


def _unset(value: object) -> bool:
    return value is None or pd.isna(value) or value == 0


def why_not_paper(run: pd.Series, recipes: dict[str, dict[str, Any]]) -> str:
    """Why one run (backbone and settings) is not in the paper's setting; '' when it is."""
    recipe = recipes.get(run.get("backbone"))
    if recipe is None:
        return f"backbone {run.get('backbone')} is not one of config/paper.yaml's"
    knobs = [k for k in PROXY_KNOBS if not _unset(run.get(k))]
    if knobs:
        return "proxy settings " + ", ".join(f"{k}={run[k]:g}" for k in knobs)
    differ = [k for k, v in recipe.items() if k not in run or not _same(run[k], v)]
    return f"recipe differs from config/paper.yaml in {', '.join(differ)}" if differ else ""


def proxy_reason(runs: pd.DataFrame, path: Path = PAPER_CONFIG) -> str:
    """Why the runs are not in the paper's setting (the first run that is not); '' when
    every run is. An empty set of runs is not in any setting."""
    if runs.empty:
        return "no runs"
    recipes = paper_recipes(path)
    return next((r for _, run in runs.iterrows() if (r := why_not_paper(run, recipes))), "")
