"""A single-node Slurm cluster on loopback for the tests: Debian's slurmctld and slurmd (the
`slurm-wlm` package), started by hand in a private folder with their own ports.

Authentication uses munge with a key of its own when munged starts, else `auth/none`. The
configuration follows what works in a container: one node named localhost (`slurmd -N
localhost`), process tracking by /proc (`proctrack/linuxproc`, no cgroups), no task
plugin, and `MinJobAge=5` so that `sbatch --wait` returns soon after a job ends.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


def missing_programs() -> list[str]:
    return [p for p in DAEMONS if shutil.which(p) is None]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class LocalSlurm:
    def __init__(self, root: Path, cpus: int | None = None):
        self.root = root
        self.cpus = cpus or os.cpu_count() or 1
        self.procs: list[subprocess.Popen] = []
        self.auth = "none"
        self.env: dict[str, str] = {}

    # -- munge -------------------------------------------------------------------------
    def _start_munge(self) -> dict[str, str] | None:
        """munged with a fresh key and socket of its own, or None when it will not start."""
        if not (shutil.which("munged") and shutil.which("mungekey")):
            return None
        d = self.root / "munge"
        d.mkdir(mode=0o700)
        key, sock = d / "munge.key", d / "munge.socket"
        if subprocess.run(["mungekey", "--create", "--keyfile", str(key)], capture_output=True).returncode != 0:
            return None
        key.chmod(0o600)
        proc = subprocess.run(["munged", "--force", f"--key-file={key}", f"--socket={sock}",
                               f"--pid-file={d / 'munged.pid'}", f"--log-file={d / 'munged.log'}",
                               f"--seed-file={d / 'munged.seed'}"], capture_output=True, text=True)
        if proc.returncode != 0 or not sock.exists():
            return None
        self.munge_pid_file = d / "munged.pid"
        return {"AuthType": "auth/munge", "CredType": "cred/munge", "AuthInfo": f"socket={sock}"}

    def _stop_munge(self) -> None:
        pid_file = getattr(self, "munge_pid_file", None)
        if pid_file and pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), 15)
            except (ValueError, ProcessLookupError):
                pass

    # -- slurm -------------------------------------------------------------------------
    def write_conf(self, auth: dict[str, str]) -> Path:
        ctld_port, slurmd_port = _free_ports(2)
        user = getpass.getuser()
        for sub in ("state", "spool", "logs"):
            (self.root / sub).mkdir(exist_ok=True)
        lines = {
            "ClusterName": "r1test",
            "SlurmctldHost": "localhost(127.0.0.1)",
            "SlurmctldPort": ctld_port,
            "SlurmdPort": slurmd_port,
            "SlurmUser": user,
            "SlurmdUser": user,
            "StateSaveLocation": self.root / "state",
            "SlurmdSpoolDir": self.root / "spool",
            "SlurmctldPidFile": self.root / "slurmctld.pid",
            "SlurmdPidFile": self.root / "slurmd.pid",
            "SlurmctldLogFile": self.root / "logs" / "slurmctld.log",
            "SlurmdLogFile": self.root / "logs" / "slurmd.log",
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/none",
            "MpiDefault": "none",
            "SchedulerType": "sched/backfill",
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core",
            "ReturnToService": 2,
            "MinJobAge": 5,
            "AccountingStorageType": "accounting_storage/none",
            "JobCompType": "jobcomp/none",
            "JobAcctGatherType": "jobacct_gather/none",
            "SlurmctldTimeout": 30,
            "SlurmdTimeout": 30,
            **auth,
        }
        text = "".join(f"{k}={v}\n" for k, v in lines.items())
        text += f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={self.cpus} State=UNKNOWN\n"
        text += "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO\n"
        conf = self.root / "slurm.conf"
        conf.write_text(text)
        return conf

    def start(self, timeout: float = 60) -> LocalSlurm:
        auth = self._start_munge()
        self.auth = "munge" if auth else "none"
        conf = self.write_conf(auth or {"AuthType": "auth/none", "CredType": "cred/none"})
        self.env = {"SLURM_CONF": str(conf)}
        env = {**os.environ, **self.env}
        log = open(self.root / "logs" / "daemons.out", "w")
        self.procs.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], env=env,
                                           stdout=log, stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(["slurmd", "-D", "-N", "localhost", "-f", str(conf)], env=env,
                                           stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout
        while True:
            out = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], env=env, capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip() in ("idle", "mix", "alloc"):
                return self
            for p in self.procs:
                if p.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"a Slurm daemon exited ({p.args[0]}, status {p.returncode}):\n{self.logs()}")
            if time.monotonic() > deadline:
                state = out.stdout.strip() or out.stderr.strip()
                self.stop()
                raise RuntimeError(f"the local Slurm node is not idle after {timeout:.0f} s ({state}):\n{self.logs()}")
            time.sleep(0.5)

    def logs(self, tail: int = 3000) -> str:
        parts = []
        for f in sorted((self.root / "logs").glob("*")):
            parts.append(f"--- {f.name}\n{f.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()
        self._stop_munge()
