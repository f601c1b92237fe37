"""Where the suite finds its data: one root laid out like ``../shared/data``.

    <root>/senteval/downstream/   SentEval's prepared evaluation data (STS, SICK, MR, ...)
    <root>/corpora/               training corpora, one sentence a line

The root is, in order: an explicit argument (config key ``data_dir``), the
``HNCSE_DATA_DIR`` environment variable, or ``~/.cache/hncse/data``. Online users fill the
default root with ``hncse download``; offline machines point ``HNCSE_DATA_DIR`` at a copy.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hncse import HncseError
from hncse.files import write_bytes

ENV_VAR = "HNCSE_DATA_DIR"
DEFAULT_ROOT = Path.home() / ".cache" / "hncse" / "data"
HUB_DATASET_REPO = "princeton-nlp/datasets-for-simcse"
WIKI1M_FILE = "wiki1m_for_simcse.txt"
# The CPU studies' corpus: the first lines of wiki1m, derived from it after the download.
WIKI1M_HEAD_FILE = "wiki1m_head.txt"
WIKI1M_HEAD_LINES = 11_913
WIKI1M_HEAD_SHA256 = "626175d8bf7d77e323f6d74bed023563abe2123b1b7990ccfcd958880ea71f5b"
SENTEVAL_ARCHIVE = "senteval.tar"


class DataNotFoundError(HncseError, FileNotFoundError):
    """A data file or folder is missing; the message says how to get it."""


def resolve_data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``explicit`` if given, else ``$HNCSE_DATA_DIR``, else the default cache."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser().resolve()
    return DEFAULT_ROOT


def senteval_dir(root: Path) -> Path:
    """SentEval's ``data/downstream`` folder under ``root``; a clear error if it is absent."""
    path = root / "senteval" / "downstream"
    if not path.is_dir():
        raise DataNotFoundError(
            f"SentEval data not found at {path}. Set {ENV_VAR} to a data root that has "
            f"senteval/downstream/ (e.g. ../shared/data), or run `hncse download senteval` "
            f"(online) to fetch it into {root}."
        )
    return path


def corpus_candidates(corpus: str, root: Path) -> list[Path]:
    """Where a corpus may be, in the order they are tried.

    ``corpus`` is a path to a text file, a file name under ``<root>/corpora/`` (for example
    ``wiki1m_head.txt`` or ``brown/news.txt``), or ``wiki1m`` for SimCSE's full
    ``wiki1m_for_simcse.txt`` under ``corpora/``.
    """
    candidates = [Path(corpus).expanduser(), root / "corpora" / corpus]
    if corpus == "wiki1m":
        candidates.insert(0, root / "corpora" / WIKI1M_FILE)
    return candidates


def corpus_location(corpus: str, root: Path) -> Path:
    """The file :func:`corpus_path` will read, without downloading anything: the first
    candidate that exists, else where it must appear (wiki1m: where it is downloaded to;
    a name: under ``<root>/corpora/``). The workflow plans its train jobs' inputs with it."""
    candidates = corpus_candidates(corpus, root)
    return next(
        (path for path in candidates if path.is_file()),
        candidates[0] if corpus == "wiki1m" else candidates[-1],
    )


def corpus_path(corpus: str, root: Path) -> Path:
    """Resolve a corpus name or path (:func:`corpus_candidates`) to an existing file;
    ``wiki1m`` and ``wiki1m_head.txt`` are downloaded when missing (online users only)."""
    path = corpus_location(corpus, root)
    if path.is_file():
        return path.resolve()
    if corpus == "wiki1m":
        return download_wiki1m(root)
    if corpus == WIKI1M_HEAD_FILE:
        return derive_wiki1m_head(root)
    tried = ", ".join(str(c) for c in corpus_candidates(corpus, root))
    raise DataNotFoundError(f"training corpus {corpus!r} not found (looked at: {tried})")


# ``corpus: hf:...``: a Hugging Face dataset, read by hncse.hf_corpus.
HF_PREFIX = "hf:"
HF_FORM = "hf:<dataset>[:<config>]:<split>:<column>"


@dataclass(frozen=True)
class HFCorpusSpec:
    dataset: str
    config: str | None
    split: str
    column: str

    def __str__(self) -> str:
        parts = [self.dataset, self.config, self.split, self.column]
        return HF_PREFIX + ":".join(part for part in parts if part is not None)


def is_hf_corpus(corpus: str) -> bool:
    return corpus.startswith(HF_PREFIX)


def parse_hf_corpus(corpus: str) -> HFCorpusSpec:
    """``hf:wikitext:wikitext-2-raw-v1:train:text`` -> its four parts (config optional)."""
    parts = corpus.removeprefix(HF_PREFIX).split(":")
    if len(parts) not in (3, 4) or not all(parts):
        raise ValueError(f"a Hugging Face corpus is written {HF_FORM}, got {corpus!r}")
    if len(parts) == 3:
        return HFCorpusSpec(parts[0], None, parts[1], parts[2])
    return HFCorpusSpec(*parts)


def _hub_download(filename: str) -> Path:
    """Download one file of SimCSE's dataset repository into the Hugging Face cache."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(HUB_DATASET_REPO, filename, repo_type="dataset"))
    except Exception as error:  # the hub raises many types; all mean "could not fetch"
        raise DataNotFoundError(
            f"could not download {filename} from the dataset repo {HUB_DATASET_REPO} "
            f"({type(error).__name__}: {error}). Offline? Point {ENV_VAR} at a data root "
            "that already holds it."
        ) from error


def download_wiki1m(root: Path) -> Path:
    """Fetch SimCSE's 1M Wikipedia sentences into ``<root>/corpora/`` and return the path."""
    target = root / "corpora" / WIKI1M_FILE
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        cached = _hub_download(WIKI1M_FILE)
        tmp = target.with_suffix(".part")
        shutil.copyfile(cached, tmp)
        tmp.replace(target)
    return target


def derive_wiki1m_head(root: Path) -> Path:
    """``<root>/corpora/wiki1m_head.txt``: the first 11,913 lines of wiki1m (downloaded
    first when missing), checked against their SHA-256 before anything is written."""
    target = root / "corpora" / WIKI1M_HEAD_FILE
    if target.is_file():
        return target
    source = download_wiki1m(root)
    with source.open("rb") as lines:
        head = b"".join(itertools.islice(lines, WIKI1M_HEAD_LINES))
    digest = hashlib.sha256(head).hexdigest()
    if digest != WIKI1M_HEAD_SHA256:
        raise DataNotFoundError(
            f"{source}: its first {WIKI1M_HEAD_LINES} lines have SHA-256 {digest}, not "
            f"{WIKI1M_HEAD_FILE}'s {WIKI1M_HEAD_SHA256}: not SimCSE's {WIKI1M_FILE}? Delete "
            "it and download again."
        )
    write_bytes(target, head)
    return target


def download_senteval(root: Path) -> Path:
    """Fetch and unpack SimCSE's ``senteval.tar`` into ``<root>/senteval/downstream``."""
    target = root / "senteval" / "downstream"
    if target.is_dir():
        return target
    archive = _hub_download(SENTEVAL_ARCHIVE)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as staging, tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
        unpacked = next(Path(staging).rglob("downstream"), None)
        if unpacked is None:
            raise DataNotFoundError(f"{archive} has no downstream/ folder; not SentEval data")
        target.parent.mkdir(parents=True, exist_ok=True)
        unpacked.replace(target)
    return target
