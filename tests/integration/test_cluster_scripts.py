"""The multi-node sbatch scripts, run as bash outside Slurm with stand-ins for what cannot
run on this machine: srun (runs its command here), scontrol (names three loopback "nodes",
127.0.0.1-3), dvc (records what it was asked and with which environment) and
`trl vllm-serve` (a health endpoint that answers, never answers, or dies; vLLM has no CPU
build). Ray is real: generate.sbatch starts a Ray head on loopback and waits for it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_helpers import ROOT, one_ray_cluster_at_a_time

pytestmark = pytest.mark.integration

NODES = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]

STUBS = {
    "scontrol": """#!/bin/bash
[ "$1 $2" = "show hostnames" ] && printf '%s\\n' $STUB_NODES
""",
    "srun": """#!/bin/bash
echo "srun $*" >> "$STUB_LOG"
while [ "$#" -gt 0 ] && [ "${1#--}" != "$1" ]; do
  case "$1" in --nodelist=*) export STUB_NODE=${1#--nodelist=} ;; esac
  shift
done
[ "$1" = hostname ] && { echo "${STUB_NODE%%,*}"; exit 0; }
exec "$@"
""",
    "dvc": """#!/bin/bash
{ echo "dvc $*"; env | grep -E '^(R1_TRAIN_LAUNCHER|R1_VLLM_SERVER_HOST|R1_VLLM_SERVER_PORT|R1_RAY_ADDRESS)=' | sort; } >> "$STUB_LOG"
""",
    "accelerate": """#!/bin/bash
echo "accelerate $*" >> "$STUB_LOG"
""",
    "trl": f"""#!{sys.executable}
import http.server, os, sys, time
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as fh:
    fh.write("trl " + " ".join(args) + "\\n")
mode = os.environ.get("FAKE_VLLM", "ok")
if mode == "dead":
    sys.exit(1)
if mode == "silent":
    time.sleep(600)
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path.rstrip("/") == "/health" else 404)
        self.end_headers()
    def log_message(self, *a):
        pass
port = int(args[args.index("--port") + 1])
http.server.HTTPServer((os.environ["STUB_NODE"], port), Health).serve_forever()
""",
}


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """A project folder with the scripts, the stubs on PATH and a fake job's environment."""
    project = tmp_path / "project"
    for d in ("slurm", "src", "recipes", "scripts"):
        shutil.copytree(ROOT / d, project / d, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "params.yaml", project / "params.yaml")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(stat.S_IRWXU)
    # The scripts put R1_PYTHON's folder first on PATH (for accelerate, trl, ray): make it the
    # stubs' folder, with a python that runs this environment's.
    (stubs / "python").write_text(f'#!/bin/bash\nexec {sys.executable} "$@"\n')
    (stubs / "python").chmod(stat.S_IRWXU)
    (stubs / "ray").write_text(f'#!/bin/bash\nexec {Path(sys.executable).parent / "ray"} "$@"\n')
    (stubs / "ray").chmod(stat.S_IRWXU)
    log = tmp_path / "calls.log"
    log.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "R1_", "MASTER_"))}
    env.update(PATH=os.pathsep.join([str(stubs), env["PATH"]]),
               STUB_LOG=str(log), STUB_NODES=" ".join(NODES), SLURM_JOB_ID="4242", SLURM_SUBMIT_DIR=str(project),
               SLURM_JOB_NODELIST="stub[1-3]", R1_SKIP_SETUP="1", R1_PYTHON=str(stubs / "python"), GPUS_PER_NODE="8")
    return {"project": project, "env": env, "log": log}


def run_script(cluster, *args, timeout=120, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", *args], cwd=cluster["project"], env={**cluster["env"], **env},
                          capture_output=True, text=True, timeout=timeout)


def calls(cluster, prefix: str) -> list[str]:
    return [c for c in cluster["log"].read_text().splitlines() if c.startswith(prefix)]


def test_train_sbatch_serves_vllm_on_the_last_node_and_points_grpo_at_it(cluster):
    port = _free_port(NODES[2])
    proc = run_script(cluster, "slurm/train.sbatch", "grpo", R1_VLLM_NODES="1", R1_VLLM_PORT=str(port),
                      R1_VLLM_WAIT_S="60")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls(cluster, "trl") == [f"trl vllm-serve --model models/sft --tensor-parallel-size 8 "
                                     f"--data-parallel-size 1 --host 0.0.0.0 --port {port}"]
    assert any("--nodelist=127.0.0.3" in c and "trl vllm-serve" in c for c in calls(cluster, "srun"))
    recorded = cluster["log"].read_text()
    assert "dvc repro --single-item grpo" in recorded
    assert f"R1_VLLM_SERVER_HOST={NODES[2]}\nR1_VLLM_SERVER_PORT={port}" in recorded
    assert ("R1_TRAIN_LAUNCHER=srun --kill-on-bad-exit=1 --nodes=2 --ntasks=2 --nodelist=127.0.0.1,127.0.0.2 "
            "slurm/accelerate_node.sh") in recorded
    with socket.socket() as s:  # the job's end stopped the server
        assert s.connect_ex((NODES[2], port)) != 0


def test_the_vllm_server_serves_the_model_grpo_starts_from(cluster):
    """R1-Zero style (grpo.init_model: base): the server must hold models/base, not models/sft."""
    params = cluster["project"] / "params.yaml"
    params.write_text(params.read_text().replace("  init_model: sft", "  init_model: base"))
    port = _free_port(NODES[2])
    proc = run_script(cluster, "slurm/train.sbatch", "grpo", R1_VLLM_NODES="1", R1_VLLM_PORT=str(port),
                      R1_VLLM_WAIT_S="60")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls(cluster, "trl")[0].startswith("trl vllm-serve --model models/base "), calls(cluster, "trl")


@pytest.mark.parametrize("behaviour,message", [
    ("silent", "/health did not answer 200 within 3 s"),
    ("dead", "exited before"),
])
def test_a_vllm_server_that_never_gets_ready_fails_the_job_before_training(cluster, behaviour, message):
    port = _free_port(NODES[2])
    started = time.monotonic()
    proc = run_script(cluster, "slurm/train.sbatch", "grpo", R1_VLLM_NODES="1", R1_VLLM_PORT=str(port),
                      R1_VLLM_WAIT_S="3", FAKE_VLLM=behaviour)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("wait_for_server:") == 1, proc.stderr
    assert f"http://{NODES[2]}:{port}/health" in proc.stderr and message in proc.stderr, proc.stderr
    assert "server log: logs/vllm-4242.out" in proc.stderr
    assert calls(cluster, "dvc") == [], "training started without a server"
    assert time.monotonic() - started < 60


def test_train_sbatch_without_a_node_to_train_on_is_refused(cluster):
    proc = run_script(cluster, "slurm/train.sbatch", "grpo", R1_VLLM_NODES="3")
    assert proc.returncode == 2 and "R1_VLLM_NODES=3 leaves no node of 3 to train on" in proc.stderr


def test_each_task_launches_accelerate_with_its_slurm_rank(cluster):
    proc = run_script(cluster, "slurm/accelerate_node.sh", "stages/sft.py", SLURM_PROCID="1", SLURM_NTASKS="2",
                      R1_NODE_GPUS="8", MASTER_PORT="29123", ACCEL="zero3")
    assert proc.returncode == 0, proc.stderr
    assert calls(cluster, "accelerate") == [
        "accelerate launch --config_file recipes/accelerate/zero3.yaml --num_machines 2 --num_processes 16 "
        "--machine_rank 1 --main_process_ip 127.0.0.1 --main_process_port 29123 --rdzv_backend static stages/sft.py"]


def test_generate_sbatch_starts_ray_and_runs_generate_on_it(cluster, tmp_path):
    pytest.importorskip("ray", reason="Ray is the `ray` extra: uv sync --extra ray")
    port = _free_port()
    ray_tmp = Path(f"/tmp/r1-ray-{os.getpid()}-{port}")  # Ray's socket paths must stay short
    env = dict(STUB_NODES=NODES[0], SLURM_JOB_NODELIST="stub1", GPUS_PER_NODE="0", R1_RAY_PORT=str(port),
               R1_RAY_TMPDIR=str(ray_tmp), R1_RAY_WAIT_S="120")
    with one_ray_cluster_at_a_time():
        _generate_on_ray(cluster, env, port, ray_tmp)


def _generate_on_ray(cluster, env, port, ray_tmp):
    try:
        proc = run_script(cluster, "slurm/generate.sbatch", timeout=300, **env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        recorded = cluster["log"].read_text()
        assert "dvc repro --single-item generate" in recorded
        assert f"R1_RAY_ADDRESS={NODES[0]}:{port}" in recorded
        assert "wait_for_ray: 1 node(s) alive" in proc.stderr
        assert any(f"ray start --head --node-ip-address={NODES[0]} --port={port}" in c for c in calls(cluster, "srun"))
    finally:
        _stop_ray(ray_tmp)


def _stop_ray(ray_tmp: Path) -> None:
    """Kill the Ray processes of this test only (those whose command line names its temp dir
    or session), never other people's."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(ray_tmp) in cmd:
            with __import__("contextlib").suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
    shutil.rmtree(ray_tmp, ignore_errors=True)
