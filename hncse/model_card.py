"""The model card (README.md) of an exported model, as the Hugging Face Hub shows it.

``hncse train`` writes it into ``<run>/model/`` when the run finishes: YAML front matter
(huggingface_hub's ``ModelCardData``, the class sentence-transformers' own card data extends),
the recipe's options that differ from the defaults and from the paper's recipe, the STS-B dev
curve, library versions and citations. ``hncse evaluate`` on that folder fills the results
section between two markers, replacing what a previous evaluation put there.

sentence-transformers' ``SentenceTransformerModelCardData`` is filled by its own Trainer's
callbacks and renders by encoding example sentences and asking the Hub about the base model;
this trainer is not that Trainer, so the card is rendered here from the run's own records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from hncse.config import TrainConfig
from hncse.data_root import is_hf_corpus
from hncse.evaluation.catalogue import TASKS
from hncse.evaluation.results import EvaluationResult, headline_value
from hncse.files import write_atomic
from hncse.manifest import sha256_file
from hncse.model import HUB_ID
from hncse.run_folder import LOCATION_KEYS, LOG_FILE

CARD_FILE = "README.md"
TEMPLATE = Path(__file__).with_name("model_card.md.j2")
RESULTS_START = "<!-- hncse:results -->"
RESULTS_END = "<!-- /hncse:results -->"
NOT_EVALUATED = "Not evaluated yet: `hncse evaluate --model <this folder>` fills this section."

# The paper's recipe per backbone (docs/method.md, "Deviations" 6 and 7: SimCSE's
# unsupervised recipes, fp16 on GPU); every other key is TrainConfig's default.
PAPER_RECIPES: dict[str, dict[str, Any]] = {
    "bert-base-uncased": {"batch_size": 64, "learning_rate": 3e-5, "precision": "fp16"},
    "roberta-base": {"batch_size": 512, "learning_rate": 1e-5, "precision": "fp16"},
}

CITATIONS: dict[str, str] = {
    "SimCSE": """@inproceedings{gao2021simcse,
  title = {{SimCSE}: Simple Contrastive Learning of Sentence Embeddings},
  author = {Gao, Tianyu and Yao, Xingcheng and Chen, Danqi},
  booktitle = {Empirical Methods in Natural Language Processing (EMNLP)},
  year = {2021}
}""",
    "HNCSE": """@misc{hncse2024,
  title = {{HNCSE}: Advancing Sentence Embeddings via Hybrid Contrastive Learning
           with Hard Negatives},
  year = {2024},
  eprint = {2411.12156},
  archivePrefix = {arXiv}
}""",
    "MixCSE": """@inproceedings{zhang2022mixcse,
  title = {Unsupervised Sentence Representation via Contrastive Learning
           with Mixing Negatives},
  author = {Zhang, Yanzhao and Zhang, Richong and Mensah, Samuel and Liu, Xudong
            and Mao, Yongyi},
  booktitle = {AAAI Conference on Artificial Intelligence},
  year = {2022}
}""",
}
# A method's own paper, cited besides SimCSE and HNCSE.
METHOD_CITATION = {"mixcse": "MixCSE"}


def base_model(backbone: str) -> str:
    """The backbone as the card names it: a hub id as is; ``pypi:<module>`` as given; a
    local folder by its name only (the card carries no path of this machine)."""
    if backbone.startswith("pypi:") or (HUB_ID.fullmatch(backbone) and not Path(backbone).exists()):
        return backbone
    return Path(backbone).name


def _default(config: TrainConfig, key: str) -> Any:
    """A key's default: TrainConfig's, or for a method's own key its Options model's."""
    if key in TrainConfig.model_fields:
        return TrainConfig.model_fields[key].default
    return type(config.method_options()).model_fields[key].default


def recipe_rows(config: TrainConfig) -> list[dict[str, Any]]:
    """Every option whose value differs from TrainConfig's default or from the paper's
    recipe for this backbone (``None`` where the paper has no recipe for it)."""
    paper = PAPER_RECIPES.get(config.backbone)
    rows = []
    for key, value in config.model_dump(mode="json").items():
        if key in LOCATION_KEYS:
            continue
        default = _default(config, key)
        paper_value = None if paper is None else paper.get(key, default)
        if value != default or (paper is not None and value != paper_value):
            rows.append({"key": key, "value": value, "default": default, "paper": paper_value})
    return rows


def dev_curve(log_path: Path) -> list[dict[str, Any]]:
    """The STS-B dev evaluations of ``train_log.jsonl``, in order."""
    lines = (json.loads(line) for line in log_path.read_text().splitlines() if line.strip())
    return [line for line in lines if line.get("kind") == "eval"]


def corpus_record(config: TrainConfig, summary: Mapping[str, Any]) -> dict[str, Any]:
    """The corpus by name, with the sha256 of its file (an hf: corpus has no file)."""
    corpus = summary["corpus"]
    record = {"name": config.corpus, "sentences": corpus["sentences"]}
    if not is_hf_corpus(config.corpus):
        record["sha256"] = sha256_file(Path(corpus["path"]))
    return record


def _versions() -> dict[str, str]:
    """hncse's version and those sentence-transformers puts in its own cards."""
    from sentence_transformers.base.model_card import get_versions

    return {"hncse": metadata.version("hncse"), **get_versions()}


def training_card(
    config: TrainConfig, summary: Mapping[str, Any], curve: list[dict[str, Any]]
) -> ModelCard:
    """The card of a finished run (``summary`` as ``train_summary.json`` holds it)."""
    corpus = corpus_record(config, summary)
    base = base_model(config.backbone)
    data = ModelCardData(
        base_model=base,
        library_name="sentence-transformers",
        pipeline_tag="sentence-similarity",
        tags=["sentence-transformers", "sentence-similarity", "feature-extraction", "hncse"],
        datasets=[config.corpus],
        metrics=["spearmanr"],
        hncse={"method": config.method, "seed": config.seed, "corpus": corpus},
    )
    cited = ["SimCSE", "HNCSE", *filter(None, [METHOD_CITATION.get(config.method)])]
    return ModelCard.from_template(
        data,
        template_path=str(TEMPLATE),
        base_model=base,
        config=config,
        summary=summary,
        corpus=corpus,
        recipe=recipe_rows(config),
        has_paper_recipe=config.backbone in PAPER_RECIPES,
        curve=curve,
        results=f"{RESULTS_START}\n{NOT_EVALUATED}\n{RESULTS_END}",
        versions=_versions(),
        citations=[CITATIONS[name] for name in cited],
    )


def write_training_card(model_dir: Path, config: TrainConfig, summary: Mapping[str, Any]) -> Path:
    """Write the finished run's card into its exported model folder (atomically)."""
    curve = dev_curve(Path(config.output_dir) / LOG_FILE)
    card = training_card(config, summary, curve)
    return write_atomic(model_dir / CARD_FILE, lambda tmp: tmp.write_text(str(card)))


def results_section(result: EvaluationResult) -> str:
    """The headline numbers of an evaluation as a Markdown table (catalogue order)."""
    rows = ["| task | number | score |", "| --- | --- | --- |"]
    for task in TASKS:
        value = headline_value(result.tasks[task.name], task) if task.name in result.tasks else None
        if value is not None:
            where = f"{task.metric}, {task.split}" if task.split else task.metric
            rows.append(f"| {task.label} | {where} | {value:.2f} |")
    cut = ""
    if result.max_train_samples is not None:  # the report says so too
        cut = f", transfer classifiers trained on {result.max_train_samples} samples per task"
        cut += " (not SentEval's protocol)"
    intro = (
        f"SentEval protocol (`hncse evaluate`, mode `{result.mode}`{cut}), "
        f"pooler `{result.model.pooler}`; scores ×100."
    )
    return "\n".join([intro, "", *rows])


def update_card_results(model_dir: Path, result: EvaluationResult) -> bool:
    """Replace the results section of ``model_dir``'s card with ``result``'s headline table;
    False (nothing written) where the folder holds no card of this suite."""
    path = model_dir / CARD_FILE
    if not path.is_file():
        return False
    card = ModelCard.load(path)
    start, end = card.text.find(RESULTS_START), card.text.find(RESULTS_END)
    if start < 0 or end < start:
        return False
    section = f"{RESULTS_START}\n{results_section(result)}\n"
    card.text = card.text[:start] + section + card.text[end:]
    transfer = any(task.metric == "acc" and task.name in result.tasks for task in TASKS)
    card.data.metrics = ["spearmanr", *(["accuracy"] if transfer else [])]
    write_atomic(path, lambda tmp: tmp.write_text(str(card)))
    return True
