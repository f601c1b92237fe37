"""The setup section of a study: what was trained and how it was evaluated, in full.

Runs that differ only in their seed form a *run group*. The section lists the resolved
training configuration of every group (the settings shared by all groups once, then the
ones that differ), the encoders used as they are, the evaluation protocol and what it means
for comparability, the seeds, the compute per run and in total, and the hashes (each
group's configuration, the data files, the code commit).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hncse.analysis.collect import Collection
from hncse.analysis.sections import Section
from hncse.analysis.studies import Study, select_runs
from hncse.analysis.tables import Table, frame_table, show_value
from hncse.report.provenance import describe_protocol

#: the settings a reader looks for first, in this order, with their labels; any other
#: setting of the configuration follows under its own name
LABELS: dict[str, str] = {
    "backbone": "backbone",
    "parameters": "backbone parameters",
    "pooler": "pooler (training)",
    "eval_pooler": "pooler (evaluation)",
    "steps_trained": "steps trained",
    "max_steps": "max_steps",
    "num_epochs": "epochs",
    "batch_size": "batch size",
    "learning_rate": "learning rate",
    "temperature": "τ",
    "theta": "θ (PM)",
    "pm_weights": "PM weights",
    "pm_w1": "PM w1",
    "pm_w2": "PM w2",
    "pm_scope": "PM scope",
    "k": "k (HNM)",
    "m": "m (HNM)",
    "alpha": "α (HNM)",
    "beta": "β (HNM)",
    "bank": "bank",
    "bank_size": "bank size (minibatches)",
    "corpus": "corpus",
    "corpus_sentences": "corpus sentences read",
    "max_sentences": "max_sentences",
    "max_seq_length": "max length (tokens)",
    "precision": "precision",
    "reinit_top_layers": "top layers re-drawn",
}
NO_TRAINING = "no further training"
UNSET_TRAINING = "not logged"  # steps trained of a run without training
#: what an unset (None) setting means
UNSET: dict[str, str] = {
    "max_steps": "not set (epochs decide)",
    "max_sentences": "all",
    "max_grad_norm": "no clipping",
    "dropout": "the backbone's own",
    "parameters": "unknown (model not at hand)",
    "steps_trained": UNSET_TRAINING,
    "corpus_sentences": "not logged",
}
#: training settings that are bookkeeping, not part of a recipe
NOT_RECIPE = frozenset(
    {"eval_steps", "eval_batch_size", "save_steps", "log_steps", "output_dir", "data_dir"}
)
PAPER_RECIPE = "paper's recipe"
#: per-run numbers of the tidy table shown in the configuration
RUN_FACTS = {
    ("model", "parameters"): "parameters",
    ("training", "steps"): "steps_trained",
    ("training", "corpus_sentences"): "corpus_sentences",
}


def _show(key: str, value: object) -> str:
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return UNSET.get(key, "not set")
    if key == "parameters":
        return f"{float(value) / 1e6:.1f} M"
    if key in (
        "steps_trained",
        "corpus_sentences",
        "k",
        "m",
        "batch_size",
        "bank_size",
        "max_seq_length",
        "max_steps",
        "max_sentences",
    ) and isinstance(value, float | int | np.floating | np.integer):
        return f"{int(value):,}"
    return show_value(value)


def run_configs(collection: Collection, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its resolved configuration (settings) with the per-run facts
    (parameters, steps trained, corpus sentences), as display strings; ``trained`` says
    whether the run was trained."""
    frame = runs.drop(columns=["path"]).set_index("run")
    for (task, metric), column in RUN_FACTS.items():
        frame[column] = collection.fact(task, metric).reindex(frame.index)
    trained = frame.index.isin(collection.trained_runs)
    keys = [k for k in LABELS if k in frame.columns]
    keys += sorted(c for c in frame.columns if c not in LABELS and c not in ("method", "seed"))
    shown = pd.DataFrame({k: [_show(k, v) for v in frame[k]] for k in keys}, index=frame.index)
    shown.insert(0, "method", frame["method"])
    shown["seed"] = frame["seed"]
    shown["trained"] = trained
    return shown


def paper_deviations(shared: Mapping[str, str]) -> pd.DataFrame:
    """The shared settings whose value is not the paper's recipe: TrainConfig's defaults,
    SimCSE's unsupervised BERT-base recipe with HNCSE's values (docs/method.md). At CPU
    scale each is a proxy the reader must know of before reading a number."""
    from hncse.config import TrainConfig

    rows = {}
    for key, ours in shared.items():
        field = TrainConfig.model_fields.get(key)
        if field is None or key in NOT_RECIPE:
            continue
        paper = _show(key, field.default)
        if paper != ours:
            rows[LABELS.get(key, key)] = {"this study": ours, PAPER_RECIPE: paper}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["this study", PAPER_RECIPE])


def config_hash(config: Mapping[str, Any]) -> str:
    """A short SHA-256 of a run group's configuration (every setting but the seed)."""
    text = json.dumps({k: str(v) for k, v in config.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _group_label(row: pd.Series, differing: list[str]) -> str:
    parts = [f"{LABELS.get(k, k)} = {row[k]}" for k in differing if k != "method"]
    return f"{row['method']} ({', '.join(parts)})" if parts else str(row["method"])


def _groups(configs: pd.DataFrame) -> pd.DataFrame:
    """One row per run group: its configuration, the group's label, seeds and runs."""
    settings = [c for c in configs.columns if c not in ("seed", "trained", "steps_trained")]
    grouped = configs.groupby(settings, sort=False, dropna=False)
    rows = []
    for _, part in grouped:
        first = part.iloc[0]
        seeds = sorted(int(s) for s in part["seed"].dropna())
        steps = sorted(set(part["steps_trained"]))
        rows.append(
            {
                **first[settings].to_dict(),
                "steps_trained": ", ".join(steps),
                "seeds": ", ".join(map(str, seeds)) or "none (deterministic)",
                "runs": list(part.index),
            }
        )
    groups = pd.DataFrame(rows)
    trained = groups["steps_trained"] != UNSET_TRAINING
    differing = [c for c in settings if groups.loc[trained, c].nunique() > 1]
    groups["group"] = [
        _group_label(r, differing)
        if is_trained
        else f"{r['method']} ({r['backbone']}, {NO_TRAINING})"
        for is_trained, (_, r) in zip(trained, groups.iterrows(), strict=True)
    ]
    groups["config_sha256"] = [config_hash(r[settings].to_dict()) for _, r in groups.iterrows()]
    return groups


def _evaluation(collection: Collection, runs: list[str]) -> dict[str, str]:
    rows = collection.table[collection.table["run"].isin(runs) & (collection.table["family"] != "")]
    protocols = sorted(
        {describe_protocol(collection.protocols[r]) for r in runs if r in collection.protocols}
    )
    return {
        "tasks": ", ".join(dict.fromkeys(rows["task"])) or "none",
        "protocol": "; ".join(protocols) or "unknown (no eval.json)",
    }


def _seconds(collection: Collection, runs: pd.DataFrame) -> pd.DataFrame:
    table = collection.table[
        (collection.table["metric"] == "seconds")
        & collection.table["task"].isin(["training", "evaluation"])
    ]
    seconds = table.pivot_table(index="run", columns="task", values="value")
    seconds = seconds.reindex(index=runs["run"], columns=["training", "evaluation"])
    return seconds


def setup_section(collection: Collection, study: Study, provenance: Mapping[str, Any]) -> Section:
    """The ``setup`` section of ``study`` (``provenance``: the report's ``code`` and
    ``data`` digests)."""
    section = Section("setup", f"Setup — {study.heading}", study.name)
    runs = select_runs(collection.runs, study)
    if runs.empty:
        section.say("No runs yet.")
        return section
    configs = run_configs(collection, runs)
    trained, as_is = configs[configs["trained"]], configs[~configs["trained"]]
    if len(trained):
        _trained_tables(section, trained)
    else:
        section.say(
            f"No training: {len(as_is)} encoder(s) evaluated as they are "
            f"({', '.join(sorted(set(as_is['backbone'])))}, {NO_TRAINING})."
        )
    if len(as_is):
        keys = [k for k in ("method", "backbone", "parameters", "pooler") if k in as_is]
        encoders = as_is.groupby(keys, sort=False).size().rename("runs").to_frame()
        encoders["training"] = NO_TRAINING
        section.tables.append(
            frame_table(encoders, "setup_as_is", "Encoders evaluated as they are")
        )
    groups = _groups(configs)
    section.tables += [
        _evaluation_table(collection, groups),
        _compute_table(collection, runs, configs, groups),
        _hashes_table(groups),
        _digests_table(runs, provenance),
    ]
    return section


def _evaluation_table(collection: Collection, groups: pd.DataFrame) -> Table:
    """Each evaluation protocol and the run groups evaluated with it."""
    evaluation = pd.DataFrame(
        [
            {"run group": g["group"], **_evaluation(collection, g["runs"])}
            for _, g in groups.iterrows()
        ]
    )
    evaluation = evaluation.groupby(["tasks", "protocol"], sort=False)["run group"].agg(
        lambda names: f"all {len(names)}" if len(names) == len(groups) else "; ".join(names)
    )
    return frame_table(
        evaluation.reset_index().set_index("run group"),
        "setup_evaluation",
        "Evaluation",
        "max_train_samples cuts the transfer classifiers' "
        "training data: such accuracies compare only with "
        "runs cut the same way, not with published SentEval "
        "numbers; STS numbers are unaffected",
    )


def _compute_table(
    collection: Collection, runs: pd.DataFrame, configs: pd.DataFrame, groups: pd.DataFrame
) -> Table:
    """Training and evaluation wall time per run, with the study's total."""
    seconds = _seconds(collection, runs)
    group_of = {run: g["group"] for _, g in groups.iterrows() for run in g["runs"]}
    compute = pd.DataFrame(
        {
            "run group": [group_of[r] for r in seconds.index],
            "seed": [
                show_value(configs.at[r, "seed"]) if pd.notna(configs.at[r, "seed"]) else "none"
                for r in seconds.index
            ],
            "train s": [NO_TRAINING if np.isnan(v) else f"{v:,.0f}" for v in seconds["training"]],
            "eval s": ["–" if np.isnan(v) else f"{v:,.0f}" for v in seconds["evaluation"]],
        },
        index=seconds.index,
    ).rename_axis("run")
    total = np.nansum(seconds.to_numpy(float))
    return frame_table(
        compute,
        "setup_compute",
        "Compute per run",
        f"study total: {total:,.0f} s ({total / 3600:.2f} h) "
        "of training and evaluation, wall clock",
    )


def _hashes_table(groups: pd.DataFrame) -> Table:
    hashes = groups.set_index("group")[["config_sha256", "seeds"]].rename_axis("run group")
    return frame_table(
        hashes,
        "setup_hashes",
        "Seeds and configuration hashes",
        "config_sha256: the first 12 hex digits of the SHA-256 "
        "of the group's settings (all but the seed)",
    )


def _digests_table(runs: pd.DataFrame, provenance: Mapping[str, Any]) -> Table:
    """The code's commit and the digests of the data the study's runs used."""
    corpora = {f"corpus {c}" for c in runs.get("corpus", pd.Series(dtype=object)).dropna()}
    digests = {"code commit": provenance.get("git", "unknown")}
    digests |= {
        name: digest
        for name, digest in provenance.get("data", {}).items()
        if name in corpora or not name.startswith("corpus ")
    }
    return frame_table(
        pd.DataFrame({"SHA-256 or commit": digests}).rename_axis("what"),
        "setup_digests",
        "Code and data",
        "'+ uncommitted changes': the analysing code's tree was dirty",
    )


def _trained_tables(section: Section, trained: pd.DataFrame) -> None:
    groups = _groups(trained)
    settings = [
        c for c in groups.columns if c not in ("group", "runs", "seeds", "config_sha256", "trained")
    ]
    shared = [c for c in settings if groups[c].nunique() == 1]
    differing = [c for c in settings if c not in shared]
    first = groups.iloc[0]
    steps = first["steps_trained"] if "steps_trained" in shared else "varies"
    batch = first["batch_size"] if "batch_size" in shared else "varies"
    seeds = sorted({int(s) for s in trained["seed"].dropna()})
    deviations = paper_deviations({c: first[c] for c in shared})
    summary = (
        f"Trained: {first['backbone']} ({first['parameters']} parameters), "
        f"{steps} steps × batch {batch}, seeds {', '.join(map(str, seeds))}; "
        f"{len(groups)} run group{'s' if len(groups) > 1 else ''}, {len(trained)} runs."
    )
    departures = [
        f"{label} {row['this study']} (paper: {row[PAPER_RECIPE]})"
        for label, row in deviations.iterrows()
        if label != LABELS.get("backbone", "backbone")
    ]
    if departures:  # on the first screen: a reader must know the proxies before a number
        summary += f" Departures from the paper's recipe: {'; '.join(departures)}."
    section.say(summary)
    table = pd.DataFrame(
        {"value": [first[c] for c in shared]}, index=[LABELS.get(c, c) for c in shared]
    ).rename_axis("setting")
    section.tables.append(
        frame_table(table, "setup_shared", "Training configuration shared by every run group")
    )
    if len(deviations):
        section.tables.append(
            frame_table(
                deviations.rename_axis("setting"),
                "setup_deviations",
                "Where this study departs from the paper's recipe",
                "the paper's recipe: SimCSE's unsupervised BERT-base recipe (1 epoch of "
                "1M Wikipedia sentences) with HNCSE's values; at CPU scale each departure "
                "is a proxy, and numbers compare with the paper's only where it says so",
            )
        )
    if differing:
        frame = (
            groups.set_index("group")[differing]
            .rename(columns=lambda c: LABELS.get(c, c))
            .rename_axis("run group")
        )
        section.tables.append(
            frame_table(frame, "setup_differing", "Settings that differ between run groups")
        )
