"""``hncse download senteval|wiki1m``: fetch data for online users into the data root."""

from __future__ import annotations

import argparse
import sys

from hncse.data_root import (
    ENV_VAR,
    DataNotFoundError,
    download_senteval,
    download_wiki1m,
    resolve_data_root,
)

TARGETS = {"senteval": download_senteval, "wiki1m": download_wiki1m}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=sorted(TARGETS),
                        help="senteval: SentEval's evaluation data; wiki1m: SimCSE's corpus")
    parser.add_argument("--data-dir", help=f"data root (default: ${ENV_VAR} or "
                        "~/.cache/hncse/data)")


def run(args: argparse.Namespace) -> int:
    root = resolve_data_root(args.data_dir)
    try:
        path = TARGETS[args.what](root)
    except DataNotFoundError as error:
        print(f"hncse download: error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0
