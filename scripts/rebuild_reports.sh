#!/usr/bin/env bash
# Rebuild every committed report artefact from the inputs committed beside it, after a
# change of the analysis or the report code (no training, no evaluation):
#   reports/<name>.html          <- reports/<name>_inputs/
#   reports/<tables>/**.{csv,md,tex}  (hncse aggregate --from-inputs; studies.yaml is kept)
#   README.md's verdict block    (python -m hncse.analysis.summary)
# A report links its siblings as they exist when it is built, so the first one is built
# twice. Run from the repository root: bash scripts/rebuild_reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
bootstrap=(--bootstrap 1000 --bootstrap-seed 0)

report() {  # report NAME
    "$python" -m hncse.cli report --from-inputs "reports/$1_inputs" --out "reports/$1.html" \
        "${bootstrap[@]}"
}

tables() {  # tables INPUTS FOLDER: the aggregate's text tables into reports/FOLDER
    local scratch
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' RETURN
    "$python" -m hncse.cli aggregate --from-inputs "reports/$1" --out "$scratch/tables" \
        "${bootstrap[@]}"
    find "reports/$2" -type f \( -name '*.csv' -o -name '*.md' -o -name '*.tex' \) -delete
    (cd "$scratch/tables" && find . -type f \( -name '*.csv' -o -name '*.md' -o -name '*.tex' \) \
        -exec install -D -m 644 {} "$OLDPWD/reports/$2/{}" \;)
    find "reports/$2" -type d -empty -delete
}

report report
report cpu-questions
report report
tables report_inputs cpu-default
tables cpu-questions_inputs cpu-questions
"$python" -m hncse.analysis.summary README.md
