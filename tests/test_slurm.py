"""The smoke study through a real Slurm scheduler (marked ``slurm``; 17 min measured on a
busy 2-core machine, see docs/workflow.md): a single-node cluster from the Debian packages
(tests/slurm_cluster.py) runs `snakemake --profile workflow/profiles/slurm --configfile
config/smoke.yaml`; then a training job cancelled with scancel mid-way is resubmitted by
the profile's retries and resumes from its checkpoint to the uninterrupted run's weights.

The command line adds to the real profile only what this cluster needs: `squeue` for job
status (no accounting database, so no `sacct`), status checks every few seconds instead of
every 40 (short jobs), and kept Slurm logs (to check them). The cluster's partition is the
profile's own (`gpu`), so the profile's `default-resources` apply unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import torch
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
)
from safetensors.torch import load_file
from slurm_cluster import LocalSlurm, missing_programs, node_hardware

# also `workflow` (it runs Snakemake end to end): `-m "not workflow"` leaves it out too
pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

PROFILE = ("--profile", "workflow/profiles/slurm")
# the test cluster's one partition is the profile's, so its default-resources apply as they are
PARTITION = yaml.safe_load((REPO / PROFILE[1] / "config.yaml").read_text())["default-resources"][
    "slurm_partition"
]
# What this test cluster needs on top of the profile (see the module docstring).
TEST_CLUSTER_ARGS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "5",
    "--slurm-keep-successful-logs",
)
SMOKE = ("--configfile", "config/smoke.yaml")
TRAIN_RUN = "minilm/simcse/seed1"
SAVED_STEP = load_yaml("smoke.yaml")["train"]["save_steps"]  # the first checkpoint's step


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> LocalSlurm:
    """One cluster for the module; stopped (jobs cancelled, daemons ended) at its end.

    CI installs Slurm (scripts/setup.sh): there a cluster that cannot start is a failure,
    not a skip."""
    missing = missing_programs()
    if not os.environ.get("CI"):
        if missing:
            pytest.skip(
                f"Slurm not installed ({', '.join(missing)} missing): "
                "apt-get install slurmctld slurmd slurm-client munge"
            )
        if os.geteuid() != 0:
            pytest.skip("the test cluster's daemons run as root (SlurmUser=root)")
    assert not missing, f"Slurm programs missing in CI: {missing}"
    local = LocalSlurm(tmp_path_factory.mktemp("slurm"), partition=PARTITION)
    # Snakemake, sbatch, squeue and the jobs find the cluster through SLURM_CONF.
    with pytest.MonkeyPatch.context() as patch, local:
        patch.setenv("SLURM_CONF", local.env["SLURM_CONF"])
        patch.setenv("PATH", local.env["PATH"])  # bin/srun (see LocalSlurm._write_srun)
        yield local


def snakemake_on_slurm(
    workdir: Path, *args: str, data_root: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return snakemake(
        workdir, *PROFILE, *TEST_CLUSTER_ARGS, *args, data_root=data_root, timeout=timeout
    )


def slurm_job_ids(workdir: Path, rule: str, run: str) -> list[str]:
    """The Slurm jobs of one rule's job, from the plugin's log files
    .snakemake/slurm_logs/rule_<rule>/<wildcards, '/' as '_'>/<Slurm job id>.log."""
    folder = workdir / ".snakemake" / "slurm_logs" / f"rule_{rule}" / run.replace("/", "_")
    return sorted(log.stem for log in folder.glob("*.log"))


@pytest.fixture(scope="module")
def smoke_on_slurm(
    cluster: LocalSlurm, tmp_path_factory: pytest.TempPathFactory, data_root: Path
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    # a job larger than the node would wait in the queue until the timeout
    node, asked = node_hardware(), load_yaml("smoke.yaml")["resources"].values()
    assert node["RealMemory"] >= max(r["mem_mb"] for r in asked), node
    assert node["CPUs"] >= max(r["threads"] for r in asked), node
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke-slurm"))
    started = time.perf_counter()
    result = snakemake_on_slurm(workdir, *SMOKE, data_root=data_root, timeout=2400)
    print(f"smoke study on Slurm: {time.perf_counter() - started:.0f} s")
    assert result.returncode == 0, output_of(result)[-5000:] + "\n" + cluster.logs()
    return workdir, result


def test_smoke_study_runs_every_job_through_sbatch_with_its_resources(
    cluster: LocalSlurm, smoke_on_slurm, data_root: Path
) -> None:
    workdir, result = smoke_on_slurm
    config = load_yaml("smoke.yaml")
    runs = smoke_runs(config)
    trained = [run for run in runs if "/seed" in run]
    for run in runs:
        assert (workdir / "results" / "runs" / run / "eval.json").is_file(), run
    assert (workdir / config["report"]).is_file()

    # Every rule job is one Slurm job (the plugin's log names it) with the resources the
    # config asks for (the job completion log says what Slurm gave it).
    finished = {job["JobId"]: job for job in cluster.finished_jobs()}
    submitted = [
        (rule, run)
        for rule in ("train", "evaluate")
        for run in (trained if rule == "train" else runs)
    ]
    job_ids = set()
    for rule, run in submitted:
        [job_id] = slurm_job_ids(workdir, rule, run)
        job_ids.add(job_id)
        job, asked = finished[job_id], config["resources"][rule]
        assert job["JobState"] == "COMPLETED", (rule, run, job)
        assert job["Partition"] == PARTITION  # the profile's default-resources
        assert int(job["TimeLimit"]) == asked["runtime"], job  # minutes
        assert int(job["ProcCnt"]) == asked["threads"], job
        tres = dict(item.split("=") for item in job["Tres"].split(","))
        assert tres["mem"] == f"{asked['mem_mb']}M", job
        assert "gres/gpu" not in tres  # the smoke config asks for no GPU
        assert job["WorkDir"] == str(workdir)
        # the rule's own log where docs/workflow.md says, and the job's Slurm log
        assert (workdir / "logs" / rule / f"{run}.log").stat().st_size > 0, (rule, run)
        slurm_log = (
            workdir
            / ".snakemake"
            / "slurm_logs"
            / f"rule_{rule}"
            / run.replace("/", "_")
            / f"{job_id}.log"
        )
        assert f"rule {rule}:" in slurm_log.read_text(), slurm_log
    assert job_ids == set(finished)  # and no other job went to Slurm
    # the local rules ran where Snakemake runs, not as Slurm jobs
    assert "localrule report:" in result.stdout + result.stderr

    again = snakemake_on_slurm(workdir, *SMOKE, data_root=data_root, timeout=300)
    assert again.returncode == 0 and "Nothing to be done" in output_of(again), output_of(again)[
        -3000:
    ]
    assert len(cluster.finished_jobs()) == len(finished)  # nothing was submitted


def running_jobs(cluster: LocalSlurm) -> list[str]:
    return cluster.run("squeue", "-h", "-t", "RUNNING", "-o", "%i").split()


def test_cancelled_training_job_is_resubmitted_and_resumes_to_the_same_weights(
    cluster: LocalSlurm, smoke_on_slurm, tmp_path: Path, data_root: Path
) -> None:
    """scancel the smoke's SimCSE training after its first checkpoint (step 2 of 4)."""
    reference = smoke_on_slurm[0] / "results" / "runs" / TRAIN_RUN / "model"
    workdir = copy_workflow(tmp_path)
    run_dir = workdir / "results" / "runs" / TRAIN_RUN
    target = str((run_dir / "train_summary.json").relative_to(workdir))
    known_jobs = {job["JobId"] for job in cluster.finished_jobs()}
    # the target first: --configfile takes every argument after it
    command = [str(BIN / "snakemake"), target, *PROFILE, *TEST_CLUSTER_ARGS, *SMOKE]
    with subprocess.Popen(
        command,
        cwd=workdir,
        env=snakemake_env(data_root),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as snakemake_process:
        try:
            deadline = time.monotonic() + 600
            while not (run_dir / "checkpoint").is_dir():
                assert snakemake_process.poll() is None, snakemake_process.stdout.read()
                assert time.monotonic() < deadline, "no checkpoint"
                time.sleep(0.2)
            cancelled = running_jobs(cluster)
            assert len(cancelled) == 1, cancelled
            cluster.run("scancel", cancelled[0])
            saved_lines = [
                line
                for line in (run_dir / "train_log.jsonl").read_text().splitlines()
                if logged_step(line) <= SAVED_STEP
            ]
            output, _ = snakemake_process.communicate(timeout=900)
        except BaseException:
            kill_tree(snakemake_process)
            raise
    assert snakemake_process.returncode == 0, output[-5000:]

    jobs = [job for job in cluster.finished_jobs() if job["JobId"] not in known_jobs]
    assert [(job["JobId"], job["JobState"]) for job in jobs] == [
        (cancelled[0], "CANCELLED"),
        (jobs[-1]["JobId"], "COMPLETED"),
    ]
    assert "Trying to restart job" in output  # the profile's retries, not a new invocation
    summary = json.loads((run_dir / "train_summary.json").read_text())
    assert summary["steps"] == load_yaml("smoke.yaml")["train"]["max_steps"]
    assert not (run_dir / "checkpoint").exists()
    # The resumed run kept the log lines of its checkpoint's steps byte for byte (a fresh
    # start would have rewritten them with new timings), and ends with the weights of the
    # smoke's uninterrupted run.
    final_log = (run_dir / "train_log.jsonl").read_text().splitlines()
    assert len(saved_lines) == SAVED_STEP and final_log[:SAVED_STEP] == saved_lines
    steps = [json.loads(line)["step"] for line in final_log if json.loads(line)["kind"] == "train"]
    assert steps == list(range(1, summary["steps"] + 1))
    weights = sorted(path.relative_to(reference) for path in reference.rglob("*.safetensors"))
    assert weights
    for name in weights:
        ours, theirs = load_file(run_dir / "model" / name), load_file(reference / name)
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[key], theirs[key]) for key in ours), name
