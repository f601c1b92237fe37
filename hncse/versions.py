"""The package versions a result records: one list for every layer (an evaluation's
eval.json, a report's provenance), so that both name the same packages."""

from __future__ import annotations

import platform
from importlib import metadata

#: the packages whose versions results record, in the order shown
PACKAGES = (
    "hncse",
    "torch",
    "transformers",
    "sentence-transformers",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "scikit-learn",
    "matplotlib",
    "seaborn",
    "jinja2",
    "snakemake",
)


def package_versions() -> dict[str, str]:
    """Python's version and each of :data:`PACKAGES`' ("not installed" where it is not)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
