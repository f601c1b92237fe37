"""The training loop: SimCSE's recipe, with the method named by the config (docs/methods.md).

One step: the method makes the batch's two views (by default the same sentences twice, as
SimCSE does), both are encoded in one forward pass and gathered across workers, the
method's loss gives the loss and its mechanism statistics, AdamW with linear decay updates
the encoder, the detached positives enter the negative bank and the method updates its
own state. STS-B dev is evaluated every ``eval_steps`` and the best
model exported; the full training state is saved every ``save_steps`` so a killed run resumes
and ends with the same weights.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import math
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm
from transformers import get_linear_schedule_with_warmup

from hncse import HncseError, checkpoint, run_folder
from hncse.bank import NegativeBank
from hncse.config import (
    ConfigError,
    TrainConfig,
    add_config_arguments,
    load_config,
    parse_overrides,
)
from hncse.data import BatchSchedule, LineCorpus, total_steps
from hncse.data_root import (
    DataNotFoundError,
    corpus_path,
    is_hf_corpus,
    parse_hf_corpus,
    resolve_data_root,
    senteval_dir,
)
from hncse.distributed import (
    DistContext,
    barrier,
    gather_with_grad,
    init_from_env,
    shutdown,
)
from hncse.hf_corpus import HFCorpus
from hncse.manifest import check_files
from hncse.model import (
    SentenceEncoder,
    fresh_parameters,
    reinitialise_top_layers,
    resolve_model_path,
)
from hncse.model_card import write_training_card
from hncse.objectives import ObjectiveInputs, ObjectiveOutput, StepResult, build_method
from hncse.objectives.method import TokenBatch
from hncse.run_folder import (
    CONFIG_FILE,
    LOG_FILE,
    MODEL_DIR,
    STATE_DIR,
    SUMMARY_FILE,
    training_settings,
)
from hncse.run_lock import run_folder_lock


class NonFiniteLossError(HncseError, RuntimeError):
    """The loss became NaN or infinite; the run stops and keeps its last good checkpoint."""


@dataclass
class RunState:
    """What changes during training besides the weights and optimiser."""

    step: int = 0
    best_score: float = -math.inf
    best_step: int = -1
    seconds: float = 0.0


def _device(context: DistContext) -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", context.local_rank)
    return torch.device("cpu")


def _autocast(config: TrainConfig, device: torch.device) -> contextlib.AbstractContextManager:
    if config.precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if config.precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _check_precision(config: TrainConfig, device: torch.device) -> None:
    if config.precision == "fp16" and device.type != "cuda":
        raise ConfigError("precision = 'fp16': needs a CUDA GPU; use 'fp32' or 'bf16' on CPU")


def _check_data_root(config: TrainConfig, root: Path) -> None:
    """The STS-B dev evaluation (at the end at least) needs SentEval's data: say so now,
    before any step, and name the key that chose the root."""
    try:
        senteval_dir(root)
    except DataNotFoundError:
        if config.data_dir is None:
            raise
        raise DataNotFoundError(
            f"data_dir = {config.data_dir!r}: no SentEval data at {root}/senteval/downstream "
            "(the STS-B dev evaluation needs it); point data_dir at a data root with "
            "senteval/downstream/ and corpora/ (e.g. ../shared/data)"
        ) from None


def _load_encoder(config: TrainConfig, model_path: str) -> SentenceEncoder:
    overrides: dict[str, Any] = {}
    if config.dropout is not None:
        overrides = {
            "hidden_dropout_prob": config.dropout,
            "attention_probs_dropout_prob": config.dropout,
        }
    encoder = SentenceEncoder.from_pretrained(
        model_path, config.pooler, config.eval_pooler, **overrides
    )
    reinitialise_top_layers(encoder.backbone, config.reinit_top_layers)
    return encoder


def _parameter_groups(encoder: SentenceEncoder, config: TrainConfig) -> list[dict[str, Any]]:
    """One AdamW group at ``learning_rate``; with ``fresh_learning_rate`` set, the fresh parts
    in a group of their own (a fresh layer wants a higher rate than a pretrained one). The
    backbone's group comes first: its rate is the one logged."""
    if config.fresh_learning_rate is None:
        return [{"params": list(encoder.parameters())}]
    fresh = fresh_parameters(encoder, config.reinit_top_layers)
    fresh_ids = {id(parameter) for parameter in fresh}
    rest = [parameter for parameter in encoder.parameters() if id(parameter) not in fresh_ids]
    return [{"params": rest}, {"params": fresh, "lr": config.fresh_learning_rate}]


def _open_corpus(config: TrainConfig, root: Path) -> LineCorpus | HFCorpus:
    """A text file (checked against the data root's manifest) or an hf: dataset."""
    if is_hf_corpus(config.corpus):
        return HFCorpus(
            parse_hf_corpus(config.corpus), config.max_sentences, config.corpus_streaming
        )
    corpus_file = corpus_path(config.corpus, root)
    check_files(root, corpus_file)
    return LineCorpus(corpus_file, config.max_sentences)


class Trainer:
    """Trains one model as ``config`` says, writing into ``config.output_dir``."""

    def __init__(
        self, config: TrainConfig, context: DistContext | None = None, replace: bool = False
    ) -> None:
        self.config = config
        self.replace = replace  # remove another run's outputs in output_dir (--replace)
        self.context = context or DistContext()
        if config.batch_size % self.context.world_size:
            raise ConfigError(
                f"batch_size = {config.batch_size}: must divide evenly over "
                f"{self.context.world_size} workers"
            )
        self.device = _device(self.context)
        _check_precision(config, self.device)
        self.method = build_method(config)
        # Every check before the model loads: data root, corpus (and its manifest), model.
        self.data_root = resolve_data_root(config.data_dir)
        _check_data_root(config, self.data_root)
        self.corpus = _open_corpus(config, self.data_root)
        self.schedule = BatchSchedule(len(self.corpus), config.batch_size, config.seed)
        self.total_steps = total_steps(self.schedule, config.num_epochs, config.max_steps)
        self.output_dir = Path(config.output_dir)
        model_path = resolve_model_path(config.backbone)

        torch.manual_seed(config.seed + self.context.rank)
        np.random.seed(config.seed)
        self.encoder = _load_encoder(config, model_path).to(self.device)
        self.method.setup(self.encoder)
        self.model: torch.nn.Module = self.encoder
        if self.context.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.encoder, device_ids=ids)
        if config.compile:  # opt-in: measured in docs/training.md
            self.model = torch.compile(self.model)
        self.optimizer = torch.optim.AdamW(
            _parameter_groups(self.encoder, config),
            lr=config.learning_rate,
            weight_decay=config.weight_decay,
        )
        self.scheduler = get_linear_schedule_with_warmup(
            self.optimizer, config.warmup_steps, self.total_steps
        )
        self.scaler = torch.amp.GradScaler(enabled=config.precision == "fp16")
        self.bank = NegativeBank(config.bank_size)
        # Drives the objective's random draws; identical on every worker.
        self.generator = torch.Generator(device=self.device).manual_seed(config.seed)
        self.state = RunState()

    # ----------------------------------------------------------------- one step
    def _local_sentences(self, step: int) -> list[str]:
        _, indices = self.schedule.batch(step)
        share = len(indices) // self.context.world_size
        mine = indices[self.context.rank * share : (self.context.rank + 1) * share]
        return self.corpus.sentences(mine)

    def _views(self, sentences: list[str]) -> tuple[torch.Tensor, torch.Tensor, StepResult]:
        """The method's two views of the local batch (tokenised once), encoded in one
        forward pass of 2n rows; the step so far, for the method's after_step."""
        batch = self.encoder.tokenize(sentences, self.config.max_seq_length)
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        anchor, positive = self.method.views(batch, self.generator)
        with _autocast(self.config, self.device):
            embeddings = self.model(_stack_views(anchor, positive))
        n = len(sentences)
        h, h_pos = embeddings[:n].float(), embeddings[n:].float()
        gather = partial(gather_with_grad, context=self.context)
        return h, h_pos, StepResult(self.encoder, anchor, positive, h_pos, gather)

    def step_loss(self, step: int) -> tuple[ObjectiveOutput, StepResult]:
        """The method's loss on the global batch of ``step``, and the step's views."""
        h, h_pos, result = self._views(self._local_sentences(step))
        h_all = gather_with_grad(h, self.context)
        result.h_pos = gather_with_grad(h_pos, self.context)
        output = self.method.loss(
            ObjectiveInputs(h_all, result.h_pos, self.bank.vectors(), self.generator)
        )
        return output, result

    def backward(self, loss: torch.Tensor) -> None:
        # DDP averages gradients over workers, and each worker computed the whole global
        # loss: scaling by W makes the result the gradient of the single-process loss.
        self.scaler.scale(loss * self.context.world_size).backward()

    def train_step(self, step: int) -> dict[str, float]:
        output, result = self.step_loss(step)
        loss = output.loss
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"loss is {loss.item()} at step {step + 1}; stopping. The last good model is in "
                f"{self.output_dir / MODEL_DIR} and the last saved state in "
                f"{self.output_dir / STATE_DIR}. Try a lower learning_rate or higher temperature."
            )
        self.backward(loss)
        # The norm before clipping is logged; max_grad_norm None clips at ∞ (measures only).
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(
            self.encoder.parameters(), self.config.max_grad_norm or math.inf
        )
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.bank.push(F.normalize(result.h_pos.detach(), dim=-1))
        self.method.after_step(result)
        return {"loss": loss.item(), "grad_norm": grad_norm.item(), **output.stats}

    # ----------------------------------------------------------------- evaluation
    def evaluate_dev(self) -> float:
        """STS-B dev cosine Spearman (×100) of the evaluation pooler's embeddings."""
        from hncse.evaluation import stsb_dev_spearman

        def encode(sentences: list[str]) -> torch.Tensor:
            return self.encoder.encode(sentences, batch_size=self.config.eval_batch_size)

        return stsb_dev_spearman(encode, self.data_root)

    def _evaluate_and_keep_best(self, log: Any, keep: bool = True) -> None:
        """Rank 0 evaluates and exports (``keep``: may become the best checkpoint); the
        others wait (only rank 0's RunState is saved)."""
        if self.context.is_main:
            score = self.evaluate_dev()
            is_best = keep and score > self.state.best_score
            if is_best:
                self.state.best_score, self.state.best_step = score, self.state.step
                checkpoint.export_model(self.encoder, self.output_dir / MODEL_DIR)
            record = {
                "kind": "eval",
                "step": self.state.step,
                "stsb_dev_spearman": score,
                "best": is_best,
            }
            log.write(_json_line(record))
            log.flush()
        barrier(self.context)

    # ----------------------------------------------------------------- state
    def _save_state(self) -> None:
        rng = checkpoint.rng_state()
        if self.context.enabled:
            gathered: list[Any] = [None] * self.context.world_size
            torch.distributed.all_gather_object(gathered, rng)
            rng_all = gathered
        else:
            rng_all = [rng]
        if self.context.is_main:
            checkpoint.save_training_state(
                self.output_dir / STATE_DIR,
                {
                    "model": self.encoder.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "scaler": self.scaler.state_dict(),
                    "bank": self.bank.state_dict(),
                    "method": self.method.state_dict(),
                    "generator": self.generator.get_state(),
                    "rng": rng_all,
                    "run": asdict(self.state),
                    "config": self.config.model_dump(mode="json"),
                },
            )
        barrier(self.context)

    def _resume(self) -> bool:
        saved = checkpoint.load_training_state(self.output_dir / STATE_DIR)
        if saved is None:
            return False
        if training_settings(saved["config"]) != training_settings(
            self.config.model_dump(mode="json")
        ):
            raise ConfigError(
                f"{self.output_dir / STATE_DIR} was saved by a run with another config; "
                "use a new output_dir or delete the checkpoint folder"
            )
        try:
            self._restore(saved)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
            # a state of another shape: one line, not ~100 lines of missing keys
            first = (str(error).strip().splitlines() or [""])[0][:200]
            raise checkpoint.CheckpointError(
                f"{self.output_dir / STATE_DIR}: a training state this run cannot take "
                f"({type(error).__name__}: {first}); delete the folder to start the run over"
            ) from None
        return True

    def _restore(self, saved: dict[str, Any]) -> None:
        self.encoder.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        self.bank.load_state_dict(saved["bank"], device=self.device)
        self.method.load_state_dict(saved["method"])
        self.generator.set_state(saved["generator"])
        checkpoint.set_rng_state(saved["rng"][self.context.rank])
        self.state = RunState(**saved["run"])

    # ----------------------------------------------------------------- the loop
    def _open_log(self, resumed: bool) -> Any:
        """The JSONL log, cut back to the resumed step so no line is duplicated."""
        path = self.output_dir / LOG_FILE
        if not self.context.is_main:
            return contextlib.nullcontext(_NullLog())
        if resumed and path.is_file():
            kept = [
                line
                for line in path.read_text().splitlines()
                if _logged_step(line) <= self.state.step
            ]
            path.write_text("".join(line + "\n" for line in kept))
        elif path.exists():
            path.unlink()
        return path.open("a")

    def fit(self) -> dict[str, Any]:
        """Train to the end (resuming if a saved state exists); returns the summary. The
        main process holds the run folder's lock throughout."""
        run_folder.check_folder(self.output_dir)
        lock = (
            run_folder_lock(self.output_dir) if self.context.is_main else contextlib.nullcontext()
        )
        with lock:
            return self._fit()

    def _fit(self) -> dict[str, Any]:
        config = self.config
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if self.replace and self.context.is_main:
            run_folder.replace_run(self.output_dir)
        barrier(self.context)
        resumed = self._resume()  # before anything is written: a refused resume changes nothing
        if not resumed and self.context.is_main:  # no other run's files, no stale eval.json
            settings = config.model_dump(mode="json")
            run_folder.claim_fresh_start(
                self.output_dir,
                settings,
                lambda owner: training_settings(owner) == training_settings(settings),
            )
        if self.context.is_main:
            (self.output_dir / CONFIG_FILE).write_text(config.to_yaml())
            (self.output_dir / SUMMARY_FILE).unlink(missing_ok=True)
        self.encoder.train()
        with self._open_log(resumed) as log:
            started = time.perf_counter() - self.state.seconds
            interval_start, interval_sentences = time.perf_counter(), 0
            bar = tqdm(
                range(self.state.step, self.total_steps),
                initial=self.state.step,
                total=self.total_steps,
                desc=f"train {config.method}",
                disable=not self.context.is_main,
                dynamic_ncols=True,
            )
            if self.state.step == 0 and config.eval_steps:  # the dev curve starts untrained
                self._evaluate_and_keep_best(log, keep=False)
            for step in bar:
                stats = self.train_step(step)
                self.state.step = step + 1
                interval_sentences += config.batch_size
                if self.state.step % config.log_steps == 0:
                    now = time.perf_counter()
                    record = {
                        "kind": "train",
                        "step": self.state.step,
                        "epoch": step // self.schedule.steps_per_epoch,
                        "lr": self.scheduler.get_last_lr()[0],
                        "sentences_per_s": interval_sentences / (now - interval_start),
                        **stats,
                    }
                    log.write(_json_line(record))
                    bar.set_postfix(loss=f"{stats['loss']:.4f}")
                    interval_start, interval_sentences = now, 0
                at_end = self.state.step == self.total_steps
                if (config.eval_steps and self.state.step % config.eval_steps == 0) or at_end:
                    self._evaluate_and_keep_best(log)
                self.state.seconds = time.perf_counter() - started
                if config.save_steps and self.state.step % config.save_steps == 0 and not at_end:
                    log.flush()
                    self._save_state()
        return self._finish()

    def _finish(self) -> dict[str, Any]:
        config = self.config
        summary = {
            "method": config.method,
            "backbone": config.backbone,
            "seed": config.seed,
            "steps": self.state.step,
            "best_step": self.state.best_step,
            "best_stsb_dev_spearman": self.state.best_score,
            "seconds": self.state.seconds,
            "sentences_per_s": self.state.step * config.batch_size / max(self.state.seconds, 1e-9),
            "corpus": {
                "path": str(self.corpus.stats.path),
                "sentences": self.corpus.stats.sentences,
                "empty_lines_skipped": self.corpus.stats.empty_lines_skipped,
            },
            "world_size": self.context.world_size,
            "config": config.model_dump(mode="json"),
        }
        if self.context.is_main:
            shutil.rmtree(self.output_dir / STATE_DIR, ignore_errors=True)

            write_training_card(self.output_dir / MODEL_DIR, config, summary)
            checkpoint.write_json_atomically(self.output_dir / SUMMARY_FILE, summary)
        barrier(self.context)
        return summary


def _stack_views(anchor: TokenBatch, positive: TokenBatch) -> TokenBatch:
    """The two views as one batch of 2n rows, padded (id 0, mask 0) to the longer one."""
    width = max(anchor["input_ids"].shape[1], positive["input_ids"].shape[1])
    return {
        key: torch.cat(
            [F.pad(view[key], (0, width - view[key].shape[1])) for view in (anchor, positive)]
        )
        for key in anchor
    }


def _json_line(record: dict[str, Any]) -> str:
    """One strict-JSON log line; a statistic with nothing to average (NaN) becomes null."""
    clean = {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in record.items()
    }
    return json.dumps(clean) + "\n"


def _logged_step(line: str) -> float:
    """The step of a log line; a line cut short by a kill counts as never written."""
    try:
        return json.loads(line)["step"]
    except (json.JSONDecodeError, KeyError):
        return math.inf


class _NullLog:
    """Log sink of the non-main workers."""

    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def train(config: TrainConfig, replace: bool = False) -> dict[str, Any]:
    """Train one model (joins a torchrun process group when launched by torchrun);
    ``replace``: remove another run's outputs in its output_dir first."""
    context = init_from_env()
    try:
        return Trainer(config, context, replace).fit()
    finally:
        shutdown(context)


# ------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument("--output-dir", help="where the run writes (overrides output_dir)")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="output_dir holds another run's outputs: remove them and train afresh",
    )
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="end when the launching process ends (Linux; the workflow sets "
        "it so that a killed job leaves no trainer writing into its run)",
    )


def exit_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent ends (prctl PR_SET_PDEATHSIG);
    elsewhere a no-op. A trainer killed this way resumes from its last saved state."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent ended before the request
        sys.exit(1)


def run(args: argparse.Namespace) -> int:
    if args.exit_with_parent:
        exit_with_parent()
    overrides = parse_overrides(args.set)
    if args.output_dir:
        overrides["output_dir"] = args.output_dir
    config = load_config(args.config, overrides)
    summary = train(config, args.replace)
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
    return 0
