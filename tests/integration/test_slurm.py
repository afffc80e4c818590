"""The sbatch scripts on a real single-node Slurm (slurmctld + slurmd on loopback).

Skipped, with the reason, where Debian's slurm-wlm is not installed: the tests install
nothing themselves (scripts/test.sh installs slurm-wlm and munge when it runs as root).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import copy_of
from local_slurm import LocalSlurm, missing_programs
from pipeline_helpers import dvc, dvc_bin, env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    missing = missing_programs()
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} not found): install Debian's slurm-wlm "
                    "and munge (scripts/test.sh does it when run as root)")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm")).start()
    print(f"\n[slurm] single-node cluster up, auth: {cluster.auth}")
    yield cluster
    cluster.stop()


def sbatch(cluster: LocalSlurm, project: Path, *args: str, extra_env: dict | None = None,
           timeout: float = 900) -> tuple[int, str]:
    """Submit, wait for the job to end; return its exit status and its log."""
    e = env()
    e.update(cluster.env)
    # The job inherits this environment (sbatch --export=ALL): dvc on PATH, the ML
    # environment as R1_PYTHON, so the script skips installing one.
    e["PATH"] = os.pathsep.join([str(Path(dvc_bin()).parent), e["PATH"]])
    e["R1_SKIP_SETUP"] = "1"
    e.update(extra_env or {})
    proc = subprocess.run(["sbatch", "--wait", "--parsable", *args], cwd=project, env=e, capture_output=True,
                          text=True, timeout=timeout)
    job = proc.stdout.strip().split(";")[0]
    logs = sorted((project / "logs").glob(f"*-{job}.out")) if job else []
    log = logs[0].read_text(errors="replace") if logs else f"(no job log)\n{proc.stderr}\n{cluster.logs()}"
    print(f"\n[slurm] sbatch {' '.join(args)}: job {job}, status {proc.returncode}")
    return proc.returncode, log


@pytest.fixture(scope="module")
def project(prepared_project, tmp_path_factory):
    """One checkout for both jobs: the 2-task sft job first, then repro.sbatch, which runs
    the rest of the pipeline (a whole `dvc repro` when the first test is deselected)."""
    return copy_of(prepared_project, tmp_path_factory.mktemp("slurm-project") / "project")


def test_train_sbatch_two_tasks_rendezvous_through_slurm(slurm, project, trained_project):
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["sft"]["per_device_train_batch_size"] //= 2  # 2 ranks, the single-process global batch
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    rc, log = sbatch(slurm, project, "--nodes=1", "--ntasks-per-node=2", "slurm/train.sbatch", "sft",
                     extra_env={"ACCEL": "cpu_ddp"})
    assert rc == 0, log[-4000:]
    assert "(2 tasks)" in log, log[-3000:]
    metrics = json.loads((project / "metrics" / "sft.json").read_text())
    # The same params and data trained in one process: conftest's trained project.
    single = json.loads((trained_project / "metrics" / "sft.json").read_text())
    # Two srun tasks, each `accelerate launch` as machine SLURM_PROCID of SLURM_NTASKS,
    # joined one group: one run of the single process's length, not two lone ones.
    assert metrics["world_size"] == 2 and metrics["steps"] == single["steps"], metrics
    assert metrics["train_loss"] == pytest.approx(single["train_loss"], rel=0.01)
    assert "sft" not in dvc(project, "status", "sft").stdout.replace("Data and pipelines are up to date.", "")


def test_repro_sbatch_runs_the_whole_pipeline(slurm, project):
    rc, log = sbatch(slurm, project, "slurm/repro.sbatch")
    assert rc == 0, log[-4000:]
    assert "Running stage 'grpo@student'" in log and "Running stage 'evaluate@grpo-embedded_math'" in log, log[-3000:]
    status = dvc(project, "status").stdout
    assert "up to date" in status, status
    # A node without GPUs trains with plain python (no launcher).
    assert json.loads((project / "metrics" / "grpo.json").read_text())["world_size"] == 1
