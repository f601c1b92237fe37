"""A study's eval.json files as tables, until `hncse aggregate` / `hncse report` (issue 5).

Run by Snakemake (``script:``) from two rules:

- ``aggregate``: every run's eval.json flattened to one long table
  ``results.csv`` (run, study, method, backbone, seed, settings, task, family, metric,
  value; one row per number; ``metric`` is the path inside the task, e.g. ``all.spearman``
  or ``splits.test.spearman``), ``runs.csv`` (one row per run, its directory and
  metadata) and ``results.md``, the per-run Markdown table of the headline numbers.
- ``report``: the per-run table as HTML, ``<study>/report/index.html``, for
  ``snakemake --report``.

The headline number of a task follows its family (docs/evaluation.md): STS12–16 the
'all' Spearman, STS-B and SICK-R the test-split Spearman, transfer tasks the test
accuracy; correlations and accuracies are percentages.
"""

import json
import os
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

HEADLINE = {"sts": "all.spearman", "sts_cosine": "splits.test.spearman", "classification": "acc"}
AVERAGES = {"STS avg": ("sts", "sts_cosine"), "transfer avg": ("classification",)}
RUN_COLUMNS = ["run", "study", "method", "backbone", "seed", "settings"]


def flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    """``{"all": {"spearman": 76.2}}`` -> ``("all.spearman", 76.2)``; non-numbers skipped."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{path}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield path, float(value)


def eval_rows(evaluation: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Rows (task, family, metric, value) of one eval.json (schema_version 1)."""
    for task, result in evaluation["tasks"].items():
        family = result.get("family", "")
        for metric, value in flatten({k: v for k, v in result.items() if k != "family"}):
            yield {"task": task, "family": family, "metric": metric, "value": value}
    for metric, value in flatten(evaluation.get("alignment_uniformity") or {}):
        yield {"task": "alignment_uniformity", "family": "embedding_space", "metric": metric,
               "value": value}


def run_metadata(run: Mapping[str, Any], study: str) -> dict[str, Any]:
    return {
        "run": run["run"], "study": study, "method": run["method"],
        "backbone": run["backbone"], "seed": run["seed"],
        "settings": json.dumps(run["settings"], sort_keys=True),
    }


def collect(runs: list[Mapping[str, Any]], study: str) -> pd.DataFrame:
    """The long results table of ``runs`` (dicts with run, method, backbone, seed, settings
    and eval, the path of the run's eval.json)."""
    rows = []
    for run in runs:
        path = Path(run["eval"])
        try:
            evaluation = json.loads(path.read_text())
            records = list(eval_rows(evaluation))
        except (OSError, ValueError, KeyError, AttributeError) as error:
            raise ValueError(f"{path}: not a readable eval.json ({error!r})") from error
        rows += [run_metadata(run, study) | record for record in records]
    table = pd.DataFrame(rows, columns=[*RUN_COLUMNS, "task", "family", "metric", "value"])
    return table.astype({"seed": "Int64"})


def per_run_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per run, one column per task's headline number, then the family averages."""
    families = results["family"].map(HEADLINE)
    headline = results[families.notna() & (results["metric"] == families)]
    wide = headline.pivot_table(index="run", columns="task", values="value", sort=False)
    for name, members in AVERAGES.items():
        tasks = headline.loc[headline["family"].isin(members), "task"].unique()
        if len(tasks):
            wide[name] = wide[list(tasks)].mean(axis=1)
    runs = results.drop_duplicates("run").set_index("run")[RUN_COLUMNS[2:]]
    return runs.join(wide.round(2)).reset_index()


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def aggregate(runs: list[Mapping[str, Any]], study: str, outputs: Mapping[str, str]) -> None:
    results = collect(runs, study)
    runs_table = pd.DataFrame(
        [run_metadata(run, study) | {"dir": str(Path(run["eval"]).parent),
                                     "trained": run["trained"]} for run in runs]
    ).astype({"seed": "Int64"})
    write_atomically(Path(outputs["runs"]), runs_table.to_csv(index=False))
    write_atomically(Path(outputs["markdown"]),
                     f"# {study}\n\n{per_run_table(results).to_markdown(index=False)}\n")
    write_atomically(Path(outputs["table"]), results.to_csv(index=False))


def html_page(results_csv: Path, study: str, output: Path) -> None:
    results = pd.read_csv(results_csv, dtype={"settings": str})
    table = per_run_table(results).to_html(index=False, na_rep="", border=0)
    write_atomically(output, f"<h2>{study}: per-run results</h2>\n{table}\n")


def main(smk: Any) -> None:
    """Entry under Snakemake's ``script:`` directive, by rule; errors go to the rule's log."""
    study = smk.wildcards.study
    with open(smk.log[0], "w") as log:
        try:
            if smk.rule == "aggregate":
                aggregate(smk.params.runs, study, dict(smk.output.items()))
            else:
                html_page(Path(smk.input[0]), study, Path(smk.output[0], "index.html"))
        except Exception:
            traceback.print_exc(file=log)
            raise
        print(f"{smk.rule} {study}: wrote {', '.join(smk.output)}", file=log)


if "snakemake" in globals():
    main(snakemake)  # noqa: F821 (injected by Snakemake)
