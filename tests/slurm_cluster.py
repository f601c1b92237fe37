"""A real single-node Slurm cluster on this machine, for tests: munged, slurmctld and slurmd
from the Debian packages (scripts/setup.sh installs them), each in the foreground as a child
of the test, with every file (key, config, state, logs, sockets, a `bin/srun`) under one
private folder.

    with LocalSlurm(folder, partition="gpu") as cluster:
        subprocess.run(["sbatch", "--wrap", "hostname"], env=cluster.env)

No accounting database: snakemake-executor-plugin-slurm falls back to `squeue` for job
status when `MinJobAge` keeps finished jobs long enough (here 30 min), and the job
completion log (`jobcomp/filetxt`) records every finished or cancelled job with the
resources it was given, which is what the tests read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psutil

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "srun", "sinfo")


def _find(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def missing_programs() -> list[str]:
    """The Slurm and munge programs this machine lacks (empty: a cluster can start)."""
    return [name for name in (*DAEMONS, *CLIENTS) if _find(name) is None]


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now, all different (the probes stay open until all bound)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def node_hardware() -> dict[str, int]:
    """This machine's CPUs and memory as slurmd sees them (`slurmd -C`)."""
    line = subprocess.run(
        [_program("slurmd"), "-C"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    fields = dict(item.split("=", 1) for item in line.split())
    return {"CPUs": int(fields["CPUs"]), "RealMemory": int(fields["RealMemory"])}


def _program(name: str) -> str:
    path = _find(name)
    if path is None:
        raise FileNotFoundError(f"{name} not found (apt-get install slurmctld slurmd munge)")
    return path


class LocalSlurm:
    """Start the cluster on enter, stop it (jobs cancelled, daemons ended) on exit."""

    def __init__(self, folder: Path, partition: str = "debug", min_job_age: int = 1800) -> None:
        self.folder = folder
        self.partition = partition
        self.min_job_age = min_job_age
        self.node = socket.gethostname().split(".")[0]
        self.conf = folder / "slurm.conf"
        self.jobcomp = folder / "jobcomp.log"
        self.munge_socket = folder / "munge" / "munge.socket"
        self.env = os.environ | {
            "SLURM_CONF": str(self.conf),
            "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self._daemons: list[subprocess.Popen] = []

    # ------------------------------------------------------------------- set-up
    def _write_munge_key(self) -> None:
        key_dir = self.folder / "munge"
        key_dir.mkdir(mode=0o700, parents=True)
        key = key_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)

    def _write_conf(self) -> None:
        hardware = node_hardware()
        for name in ("state", "spool", "logs"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        f = self.folder
        slurmctld_port, slurmd_port = free_ports(2)
        self.conf.write_text(f"""\
ClusterName=hncse-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={slurmctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={f / "state"}
SlurmdSpoolDir={f / "spool"}
SlurmctldPidFile={f / "slurmctld.pid"}
SlurmdPidFile={f / "slurmd.pid"}
SlurmctldLogFile={f / "logs" / "slurmctld.log"}
SlurmdLogFile={f / "logs" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge={self.min_job_age}
KillWait=5
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={hardware["CPUs"]} \
RealMemory={hardware["RealMemory"]} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
""")

    def _write_srun(self) -> None:
        """bin/srun: the real srun, told where the configuration is. Jobs need it:
        snakemake-executor-plugin-slurm's job step drops every SLURM_* variable but the
        job's identity (SLURM_CONF too) before its `srun`, which then finds no configuration
        on a machine without /etc/slurm/slurm.conf."""
        srun = self.folder / "bin" / "srun"
        srun.parent.mkdir()
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {_program("srun")} "$@"\n')
        srun.chmod(0o755)

    def _start(self, *command: str) -> None:
        log = (self.folder / "logs" / f"{Path(command[0]).name}.out").open("w")
        self._daemons.append(
            subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.folder
            )
        )

    def _wait_for(self, what: str, ready, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for daemon in self._daemons:
                if daemon.poll() is not None:
                    raise RuntimeError(
                        f"{daemon.args[0]} exited with {daemon.returncode}; "
                        f"see {self.folder / 'logs'}:\n{self.logs()}"
                    )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{self.logs()}")
            time.sleep(0.5)

    def _node_idle(self) -> bool:
        result = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"],
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
        )
        return result.returncode == 0 and result.stdout.strip() == "idle"

    def start(self) -> LocalSlurm:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_munge_key()
        self._write_conf()
        self._write_srun()
        munge = self.folder / "munge"
        # --force: munged refuses to run as root otherwise; the folder is private (0700).
        self._start(
            _program("munged"),
            "--foreground",
            "--force",
            f"--socket={self.munge_socket}",
            f"--key-file={munge / 'munge.key'}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'seed'}",
            f"--log-file={self.folder / 'logs' / 'munged.log'}",
        )
        self._wait_for("munged", self.munge_socket.exists, timeout=20)
        self._start(_program("slurmctld"), "-D", "-i", "-f", str(self.conf))
        self._start(_program("slurmd"), "-D", "-f", str(self.conf), "-N", self.node)
        self._wait_for("the node", self._node_idle)
        return self

    # ------------------------------------------------------------------- use
    def logs(self) -> str:
        """The tail of every daemon log (for failure messages)."""
        parts = []
        for log in sorted((self.folder / "logs").glob("*")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def finished_jobs(self) -> list[dict[str, str]]:
        """The job completion log: one dict per finished, failed or cancelled job (JobId,
        JobName, JobState, Partition, TimeLimit, ProcCnt, Tres, WorkDir, ...)."""
        if not self.jobcomp.exists():
            return []
        jobs = []
        for line in self.jobcomp.read_text().splitlines():
            fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
            jobs.append(fields)
        return jobs

    def _active_jobs(self) -> list[str]:
        return self.run("squeue", "-h", "-t", "PENDING,RUNNING,COMPLETING", "-o", "%i").split()

    def run(self, *command: str) -> str:
        return subprocess.run(
            command, capture_output=True, text=True, env=self.env, check=True
        ).stdout

    # ------------------------------------------------------------------- shut-down
    def stop(self) -> None:
        """Cancel every job, end the daemons (SIGTERM, then SIGKILL) and their children."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(
                ["scancel", "--full", "--user", str(os.getuid())],
                env=self.env,
                timeout=30,
                check=False,
                capture_output=True,
            )
            deadline = time.monotonic() + 30
            while self._active_jobs() and time.monotonic() < deadline:
                time.sleep(0.5)
        for daemon in reversed(self._daemons):
            children = []
            with contextlib.suppress(psutil.NoSuchProcess):
                children = psutil.Process(daemon.pid).children(recursive=True)
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
        self._daemons.clear()

    def __enter__(self) -> LocalSlurm:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
