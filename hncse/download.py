"""``hncse download senteval|wiki1m``: fetch data for online users into the data root.

Data already there is not fetched again but checked against the root's MANIFEST.sha256
(if it has one). ``--marker FILE`` then records that the data is ready: the workflow's
download rules declare that marker, outside the data root, as their output, so a forced
rerun (``snakemake -F``) deletes and rewrites the marker, never the data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hncse.data_root import (
    ENV_VAR,
    derive_wiki1m_head,
    download_senteval,
    download_wiki1m,
    resolve_data_root,
)
from hncse.files import write_text
from hncse.manifest import check_tree

TARGETS = {
    "senteval": download_senteval,
    "wiki1m": download_wiki1m,
    "wiki1m_head": derive_wiki1m_head,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        choices=sorted(TARGETS),
        help="senteval: SentEval's evaluation data; wiki1m: SimCSE's corpus; wiki1m_head: "
        "its first 11,913 lines (the CPU studies' corpus), derived from it",
    )
    parser.add_argument(
        "--data-dir", help=f"data root (default: ${ENV_VAR} or ~/.cache/hncse/data)"
    )
    parser.add_argument(
        "--marker", type=Path, help="write this file once the data is present and checked"
    )


def run(args: argparse.Namespace) -> int:
    root = resolve_data_root(args.data_dir)
    path = TARGETS[args.what](root)
    checked = check_tree(root, path)
    if args.marker:
        write_text(args.marker, f"{path}\n{checked} files checked against the manifest\n")
    print(path)
    return 0
