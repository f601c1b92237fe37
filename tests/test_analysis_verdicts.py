"""Acceptance: synthetic studies with a known truth get the verdict study.md defines.

Each study is a results folder of run folders (eval.json with STS-B test only, run.json)
read by the real pipeline (collect → studies → claims). HNCSE − SimCSE on STS-B is set per
seed as ``effect + N(0, sd)``; SimCSE's own seed effect is shared by both (same seed, same
data order), so the seed-paired differences have sd ``sd``. A study is a CPU proxy (MiniLM,
30 steps) unless written with :data:`PAPER_SETTING`, config/paper.yaml's BERT-base recipe,
the only place where C1's size is judged.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import Run, eval_document, write_results

from hncse.analysis.analyses import Options, verdicts
from hncse.analysis.collect import collect
from hncse.analysis.dispatch import run_studies
from hncse.analysis.sections import VerdictRow
from hncse.analysis.stats import CONDITIONAL_ON
from hncse.analysis.studies import parse_studies
from hncse.analysis.verdicts import (
    ALPHA,
    CONSISTENT,
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_COMPARABLE,
    NOT_REPRODUCED,
    REPRODUCED,
    UNTESTABLE,
)

PAPER_EFFECT = 1.2
PROXY = {"backbone": "minilm", "settings": {"max_steps": 30}}
PAPER_SETTING = {
    "backbone": "bert-base-uncased",
    "settings": {
        "corpus": "wiki1m",
        "max_seq_length": 32,
        "num_epochs": 1,
        "temperature": 0.05,
        "pooler": "cls",
        "eval_pooler": "cls_before_pooler",
        "batch_size": 64,
        "learning_rate": 3e-5,
    },
}


def write_stsb_study(
    root: Path,
    effect: float,
    sd: float,
    seeds: int,
    rng_seed: int = 0,
    setting: dict = PROXY,
) -> Path:
    rng = np.random.default_rng(rng_seed)
    for seed in range(1, seeds + 1):
        simcse = 82.0 + rng.normal(0, 0.5)
        for method, score in (("simcse", simcse), ("hncse", simcse + effect + rng.normal(0, sd))):
            folder = root / "runs" / method / f"seed{seed}"
            folder.mkdir(parents=True)
            (folder / "run.json").write_text(
                json.dumps({"method": method, "seed": seed, **setting})
            )
            document = eval_document(
                {
                    "STSBenchmark": {
                        "family": "sts_cosine",
                        "splits": {"test": {"spearman": score, "pearson": score, "n": 1379}},
                        "seconds": 0.1,
                    }
                }
            )
            (folder / "eval.json").write_text(json.dumps(document))
    return root


def c_row(root: Path, claim: str) -> VerdictRow:
    sections = run_studies(
        collect(root),
        parse_studies({"s": {"analysis": "ablation"}}, "t"),
        Options(n_resamples=100, svg=False),
    )
    return next(row for row in verdicts(sections) if row.claim == claim)


def test_the_papers_effect_over_five_seeds_is_reproduced(tmp_path: Path) -> None:
    row = c_row(write_stsb_study(tmp_path, PAPER_EFFECT, 0.3, 5), "C1")
    assert row.verdict == REPRODUCED
    assert row.p_holm < ALPHA and row.interval is not None and row.interval.low > 0
    assert row.n == 5


def test_the_opposite_effect_is_contradicted(tmp_path: Path) -> None:
    row = c_row(write_stsb_study(tmp_path, -PAPER_EFFECT, 0.3, 5), "C1")
    assert row.verdict == CONTRADICTED
    assert row.p_holm < ALPHA and row.interval is not None and row.interval.high < 0


def test_a_proxys_size_is_not_comparable_whatever_it_measures(tmp_path: Path) -> None:
    """A null method with the power to exclude +1.2: at the proxy no size word but this."""
    row = c_row(write_stsb_study(tmp_path, 0.0, 0.3, 10), "C1")
    assert (row.verdict, row.size) == (INCONCLUSIVE, NOT_COMPARABLE)
    assert row.interval is not None and row.interval.high < PAPER_EFFECT  # it would exclude it
    assert "backbone minilm is not one of config/paper.yaml's" in row.detail


def test_a_null_method_in_the_papers_setting_is_not_reproduced_in_size(tmp_path: Path) -> None:
    row = c_row(write_stsb_study(tmp_path, 0.0, 0.3, 10, setting=PAPER_SETTING), "C1")
    assert (row.verdict, row.size) == (INCONCLUSIVE, NOT_REPRODUCED)
    assert row.p_holm >= ALPHA and row.mde <= PAPER_EFFECT  # it had the power at its α ...
    assert row.interval is not None and row.interval.high < PAPER_EFFECT  # ... and excludes it


def test_the_papers_effect_in_the_papers_setting_is_consistent(tmp_path: Path) -> None:
    row = c_row(write_stsb_study(tmp_path, PAPER_EFFECT, 0.3, 5, setting=PAPER_SETTING), "C1")
    assert (row.verdict, row.size) == (REPRODUCED, CONSISTENT)
    assert row.interval is not None and row.interval.low <= PAPER_EFFECT <= row.interval.high


def test_a_smaller_gain_in_the_papers_setting_is_reproduced_but_not_in_size(
    tmp_path: Path,
) -> None:
    """Direction and size apart: the words the issue found colliding in one vocabulary."""
    row = c_row(write_stsb_study(tmp_path, 0.3, 0.1, 7, setting=PAPER_SETTING), "C1")
    assert (row.verdict, row.size) == (REPRODUCED, NOT_REPRODUCED)


def test_the_recipe_decides_the_setting_not_the_backbone_alone(tmp_path: Path) -> None:
    setting = {**PAPER_SETTING, "settings": {**PAPER_SETTING["settings"], "max_steps": 30}}
    row = c_row(write_stsb_study(tmp_path, 0.0, 0.3, 10, setting=setting), "C1")
    assert row.size == NOT_COMPARABLE and "max_steps=30" in row.detail


@pytest.mark.parametrize("seeds", [2, 3])
def test_a_null_method_with_few_noisy_seeds_is_inconclusive(tmp_path: Path, seeds: int) -> None:
    row = c_row(write_stsb_study(tmp_path, 0.0, 2.0, seeds), "C1")
    assert (row.verdict, row.size) == (INCONCLUSIVE, NOT_COMPARABLE)
    assert row.mde > PAPER_EFFECT and f"MDE {row.mde:.2f} at α" in row.detail
    assert "seeds that detect the paper's +1.2 at 80% power and this α" in row.detail


def test_c1_alone_in_its_family_is_tested_at_alpha_and_says_its_condition(
    tmp_path: Path,
) -> None:
    row = c_row(write_stsb_study(tmp_path, 0.0, 0.3, 5), "C1")
    assert row.alpha == pytest.approx(ALPHA) and row.level == pytest.approx(1 - ALPHA)
    assert row.conditional_on == CONDITIONAL_ON


def test_pm_that_never_mixes_is_untestable(tmp_path: Path) -> None:
    write_results(tmp_path, [Run("hncse-pm", seed, mixes=False) for seed in (1, 2, 3)])
    row = c_row(tmp_path, "C4")
    assert row.verdict == UNTESTABLE
    assert "PM mixed 0 of" in row.detail  # the counts are shown
