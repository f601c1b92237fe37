"""Corpora through the ``datasets`` library (``corpus: hf:...``), offline, on datasets built
here and saved with ``save_to_disk``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset, DatasetDict

from hncse.config import ConfigError, load_config
from hncse.data import CorpusError
from hncse.data_root import HFCorpusSpec, parse_hf_corpus
from hncse.hf_corpus import HFCorpus
from hncse.trainer import Trainer

TEXTS = ["The first sentence.", "   ", "A second one.", "", None, "  Third, padded.  ", "Fourth."]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DatasetDict (train, validation) with a text and a label column, saved to disk."""
    folder = tmp_path_factory.mktemp("hf") / "corpus"
    train = Dataset.from_dict({"text": TEXTS, "label": list(range(len(TEXTS)))})
    DatasetDict({"train": train, "validation": train.select([0, 2])}).save_to_disk(folder)
    return folder


def test_parse_the_corpus_name() -> None:
    assert parse_hf_corpus("hf:wikitext:wikitext-2-raw-v1:train:text") == HFCorpusSpec(
        "wikitext", "wikitext-2-raw-v1", "train", "text"
    )
    assert parse_hf_corpus("hf:/data/saved:train:text") == HFCorpusSpec(
        "/data/saved", None, "train", "text"
    )
    with pytest.raises(ValueError, match="hf:<dataset>"):
        parse_hf_corpus("hf:wikitext:train")


def test_saved_dataset_dict_reads_the_non_blank_texts(saved: Path) -> None:
    corpus = HFCorpus(parse_hf_corpus(f"hf:{saved}:train:text"))
    assert len(corpus) == 4
    assert corpus.stats.empty_lines_skipped == 3  # "   ", "" and None
    assert corpus.sentences(np.array([3, 0, 2])) == [
        "Fourth.",
        "The first sentence.",
        "Third, padded.",
    ]
    assert len(HFCorpus(parse_hf_corpus(f"hf:{saved}:train:text"), max_sentences=2)) == 2
    assert len(HFCorpus(parse_hf_corpus(f"hf:{saved}:validation:text"))) == 2


def test_saved_dataset_streams_its_first_texts(saved: Path) -> None:
    corpus = HFCorpus(parse_hf_corpus(f"hf:{saved}:train:text"), max_sentences=3, streaming=True)
    assert corpus.sentences(np.arange(3)) == [
        "The first sentence.",
        "A second one.",
        "Third, padded.",
    ]


def test_single_saved_dataset(tmp_path: Path) -> None:
    Dataset.from_dict({"sentence": ["one", "two"]}).save_to_disk(tmp_path / "single")
    corpus = HFCorpus(parse_hf_corpus(f"hf:{tmp_path / 'single'}:train:sentence"))
    assert corpus.sentences(np.array([1, 0])) == ["two", "one"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("hf:{saved}:test:text", "has no split 'test'; splits: train, validation"),
        ("hf:{saved}:train:body", "no column 'body'; columns: text, label"),
        ("hf:{saved}:train:label", "column 'label' holds Value('int64'), not text"),
        ("hf:{saved}-missing:train:text", "cannot load the dataset"),
    ],
)
def test_unusable_corpora_are_named(saved: Path, name: str, message: str) -> None:
    with pytest.raises(CorpusError, match=message.replace("(", r"\(").replace(")", r"\)")):
        HFCorpus(parse_hf_corpus(name.format(saved=saved)))


def test_config_checks_the_form_and_streaming() -> None:
    with pytest.raises(ConfigError, match=r"corpus = 'hf:x:train'.*hf:<dataset>"):
        load_config(overrides={"corpus": "hf:x:train"})
    with pytest.raises(ConfigError, match="set max_sentences"):
        load_config(overrides={"corpus": "hf:x:train:text", "corpus_streaming": True})
    with pytest.raises(ConfigError, match="only an hf: corpus streams"):
        load_config(overrides={"corpus": "wiki1m", "corpus_streaming": True, "max_sentences": 5})


def test_trainer_trains_on_a_saved_dataset(
    saved: Path, tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    trainer = Trainer(
        load_config(
            overrides={
                "method": "hncse",
                "backbone": str(tiny_backbone),
                "corpus": f"hf:{saved}:train:text",
                "data_dir": str(data_root),
                "batch_size": 2,
                "k": 2,
                "m": 2,
                "output_dir": str(tmp_path),
            }
        )
    )
    assert trainer.total_steps == 2  # 4 texts, batch 2, 1 epoch
    assert np.isfinite(trainer.train_step(0)["loss"])


@pytest.mark.parametrize("hub", [False, True])
def test_workflow_plans_an_hf_corpus(
    saved: Path, data_root: Path, workflow_config, hub: bool
) -> None:
    """A saved folder is the train job's input; a hub dataset has none (the library
    fetches it)."""
    from hncse.workflow.plan import Planner

    corpus = "hf:wikitext:wikitext-2-raw-v1:train:text" if hub else f"hf:{saved}:train:text"
    config = workflow_config("smoke.yaml", lambda c: c["train"].update(corpus=corpus))
    plan = Planner(config, data_root).plan()
    trained = [run for run in plan.runs.values() if run.train is not None]
    assert trained and all(run.corpus == (None if hub else saved) for run in trained)
