"""The model card of an exported model: written by `hncse train`, its results section filled
(once, however often) by `hncse evaluate` on that folder."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import tiny_run

from hncse.cli import main
from hncse.config import load_config
from hncse.manifest import sha256_file
from hncse.model_card import CARD_FILE, RESULTS_START, recipe_rows
from hncse.run_folder import MODEL_DIR
from hncse.trainer import Trainer


def _front_matter(card: str) -> dict:
    _, front, _ = card.split("---\n", 2)
    return yaml.safe_load(front)


def _evaluate(model: Path, out: Path, data_root: Path) -> None:
    options = ["--pooler", "avg", "--tasks", "STS16", "--no-cache", "--no-progress"]
    code = main(
        [
            "evaluate",
            "--model",
            str(model),
            "--data-dir",
            str(data_root),
            *options,
            "--out",
            str(out),
        ]
    )
    assert code == 0


def test_training_writes_the_card_and_evaluate_fills_its_results_once(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    config = load_config(
        overrides=tiny_run(
            tmp_path,
            data_root,
            tiny_backbone,
            **{"method": "simcse", "pooler": "avg", "eval_pooler": "avg", "max_steps": 2},
        )
    )
    summary = Trainer(config).fit()
    model = tmp_path / "run" / MODEL_DIR
    card = (model / CARD_FILE).read_text()
    front = _front_matter(card)
    assert front["base_model"] == tiny_backbone.name  # a local folder: its name, no path
    assert front["library_name"] == "sentence-transformers"
    assert front["pipeline_tag"] == "sentence-similarity"
    assert "sentence-similarity" in front["tags"]
    assert front["datasets"] == ["wiki1m_head.txt"]
    assert front["metrics"] == ["spearmanr"]
    assert front["hncse"]["method"] == "simcse"
    corpus_file = data_root / "corpora" / "wiki1m_head.txt"
    assert front["hncse"]["corpus"]["sha256"] == sha256_file(corpus_file)
    assert "| `max_steps` | 2 | None |" in card  # the recipe names what differs
    score = f"{summary['best_stsb_dev_spearman']:.2f}"
    assert f"| 2 | {score} | yes |" in card  # the dev curve's one (final) point
    assert "gao2021simcse" in card and "2411.12156" in card
    assert str(tmp_path) not in card and str(data_root) not in card

    for _ in range(2):  # a second evaluation replaces the first one's section
        _evaluate(model, tmp_path / "run" / "eval.json", data_root)
        card = (model / CARD_FILE).read_text()
        assert card.count(RESULTS_START) == 1
        assert card.count("| STS16 | spearman, all |") == 1
        assert "Not evaluated yet" not in card
    assert _front_matter(card)["metrics"] == ["spearmanr"]  # no transfer task evaluated


def test_the_recipe_lists_what_differs_from_the_defaults_or_the_paper() -> None:
    paper_backbone = load_config(overrides={"backbone": "bert-base-uncased", "k": 5})
    rows = {row["key"]: row for row in recipe_rows(paper_backbone)}
    assert rows["k"] == {"key": "k", "value": 5, "default": 10, "paper": 10}
    # fp32 is the default but not the paper's fp16 on GPU; batch 64 is both: not listed
    assert rows["precision"]["paper"] == "fp16"
    assert set(rows) == {"k", "precision"}
    other = {row["key"] for row in recipe_rows(load_config(overrides={"backbone": "x/y"}))}
    assert other == {"backbone"}  # no paper recipe for x/y: only the defaults count


def test_a_methods_own_option_is_compared_with_its_options_default() -> None:
    esimcse = load_config(overrides={"backbone": "x/y", "method": "esimcse", "dup_rate": 0.2})
    rows = {row["key"]: row for row in recipe_rows(esimcse)}
    assert rows["dup_rate"]["value"] == 0.2 and rows["dup_rate"]["default"] != 0.2
    assert "momentum" not in rows  # ESimCSE's own key at its default: not listed
