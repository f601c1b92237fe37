"""A data root's checksum manifest: ``MANIFEST.sha256`` (``sha256sum`` format, paths relative
to the root) lists every file with its SHA-256. Where a root ships one, the files the suite
reads are checked against it before use, so a damaged or edited copy fails with the file
named instead of giving silently different numbers. A root without a manifest (a fresh
download) is used as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from hncse import HncseError

MANIFEST_FILE = "MANIFEST.sha256"


class DataIntegrityError(HncseError, ValueError):
    """A data file is missing or differs from the data root's manifest."""


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@cache
def read_manifest(root: Path) -> dict[str, str] | None:
    """``{path relative to root: sha256}`` of ``root``'s manifest, or None without one."""
    path = root / MANIFEST_FILE
    if not path.is_file():
        return None
    entries = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise DataIntegrityError(f"{path}, line {number}: expected '<sha256>  <path>'")
        entries[name.removeprefix("./")] = digest
    return entries


def _relative(root: Path, path: Path) -> str | None:
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None


def check_digests(root: Path, digests: Mapping[Path, str]) -> None:
    """Check already computed ``{file: sha256}`` against ``root``'s manifest (files it does
    not list, or outside the root, pass)."""
    root = root.resolve()
    manifest = read_manifest(root)
    if manifest is None:
        return
    for path, digest in digests.items():
        name = _relative(root, path)
        if name in manifest and manifest[name] != digest:
            raise DataIntegrityError(
                f"{path} differs from {root / MANIFEST_FILE} (sha256 {digest[:12]}…, listed "
                f"{manifest[name][:12]}…): a damaged or edited copy; restore the file from "
                "the original data"
            )


def check_files(root: Path, *paths: Path) -> None:
    """Hash ``paths`` and check them against ``root``'s manifest (if it has one)."""
    root = root.resolve()
    manifest = read_manifest(root)
    if manifest is None:
        return
    listed = [path for path in paths if _relative(root, path) in manifest]
    check_digests(root, {path: sha256_file(path) for path in listed})


def check_tree(root: Path, folder: Path) -> int:
    """Check every manifest entry under ``folder`` (all present, all equal); the count."""
    root = root.resolve()
    manifest = read_manifest(root)
    prefix = _relative(root, folder)
    if manifest is None or prefix is None:
        return 0
    names = [name for name in manifest if name == prefix or name.startswith(f"{prefix}/")]
    missing = [name for name in names if not (root / name).is_file()]
    if missing:
        raise DataIntegrityError(
            f"{root / missing[0]} is listed in {root / MANIFEST_FILE} but missing "
            f"({len(missing)} file(s) missing); restore them from the original data"
        )
    check_files(root, *(root / name for name in names))
    return len(names)
