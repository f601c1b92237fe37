"""``hncse encode``: embed the lines of a text file with a trained (or any) model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from hncse.cli import positive_int
from hncse.files import write_atomic
from hncse.model import POOLERS, SentenceEncoder, resolve_model_path


def encode_file(
    model: str, pooler: str, input_path: Path, batch_size: int, max_length: int | None
) -> np.ndarray:
    sentences = [line.strip() for line in input_path.read_text(encoding="utf-8").splitlines()]
    encoder = SentenceEncoder.from_pretrained(resolve_model_path(model), pooler, pooler)
    if torch.cuda.is_available():
        encoder.cuda()
    return encoder.encode(sentences, batch_size=batch_size, max_length=max_length).numpy()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model dir, hub name or pypi:<module>")
    parser.add_argument("--pooler", default="cls_before_pooler", choices=POOLERS)
    parser.add_argument("--input", type=Path, required=True, help="text file, one sentence a line")
    parser.add_argument("--out", type=Path, required=True, help="output .npy (n × d, float32)")
    parser.add_argument("--batch-size", type=positive_int, default=128)
    parser.add_argument("--max-length", type=positive_int, default=None)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as file:  # a file object: np.save adds no ".npy" to the name
        np.save(file, array)


def run(args: argparse.Namespace) -> int:
    if not args.input.is_file():
        print(f"hncse encode: input file not found: {args.input}", file=sys.stderr)
        return 2
    embeddings = encode_file(args.model, args.pooler, args.input, args.batch_size, args.max_length)
    array = embeddings.astype(np.float32)
    write_atomic(args.out, lambda tmp: _save_npy(tmp, array))
    print(f"wrote {embeddings.shape[0]} × {embeddings.shape[1]} embeddings to {args.out}")
    return 0
