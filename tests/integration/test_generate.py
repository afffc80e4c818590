"""Integration tests of the generate stage with the transformers backend, on the embedded
default: the stage's outputs, resuming after a hard kill, bad input, and a local Ray cluster.

Runs happen in a temporary workspace (params.yaml, links to the embedded model and data), so
the repository's own outputs are never touched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from pipeline_helpers import one_ray_cluster_at_a_time

# distilabel 1.5.3 trips pydantic 2.11 deprecations tens of thousands of times per run.
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STAGE = REPO / "stages" / "generate.py"
SYSTEM = ("You are a helpful assistant. Think step by step inside <think> </think> tags, "
          "then give the final answer in \\boxed{}.")
EMBEDDED_DEFAULT = {
    "model": "models/embedded", "dataset": "data/embedded/train.jsonl", "backend": "transformers",
    "prompt_column": "problem", "temperature": 0.7, "top_p": 0.95, "max_new_tokens": 48,
    "num_generations": 2, "input_batch_size": 16, "seed": 0, "system_prompt": SYSTEM,
}
OUTPUT_COLUMNS = ["prompt", "generations", "finish_reasons", "prompt_tokens", "completion_tokens", "model_name"]


def embedded_inputs(tmp_path_factory) -> Path:
    """A folder with the embedded model and data: the repository's, or built from its params."""
    if (REPO / "models/embedded/config.json").exists() and (REPO / "data/embedded/train.jsonl").exists():
        return REPO
    root = tmp_path_factory.mktemp("embedded")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    (root / "params.yaml").write_text(yaml.safe_dump({"embedded": params["embedded"]}))
    subprocess.run([PYTHON, str(REPO / "stages/embedded.py")], cwd=root, check=True)
    return root


@pytest.fixture(scope="session")
def embedded(tmp_path_factory) -> Path:
    return embedded_inputs(tmp_path_factory)


def workspace(root: Path, embedded: Path, **generate) -> Path:
    """A run folder: params.yaml with a `generate` section and links to the embedded inputs."""
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("models/embedded", "data/embedded"):
        (root / sub).parent.mkdir(parents=True, exist_ok=True)
        if not (root / sub).exists():
            (root / sub).symlink_to(embedded / sub)
    (root / "params.yaml").write_text(yaml.safe_dump({"generate": {**EMBEDDED_DEFAULT, **generate}}))
    return root


def small_dataset(root: Path, n: int) -> str:
    """The first ``n`` embedded problems as a local file (fast runs)."""
    lines = (root / "data/embedded/train.jsonl").read_text().splitlines()[:n]
    (root / "data/small").mkdir(parents=True, exist_ok=True)
    (root / "data/small/train.jsonl").write_text("\n".join(lines) + "\n")
    return "data/small/train.jsonl"


def load_stage():
    spec = importlib.util.spec_from_file_location("r1_stage_generate", STAGE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_in_process(root: Path, monkeypatch) -> None:
    """Run the stage's `main` here (imports are paid once per test session)."""
    monkeypatch.chdir(root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    load_stage().main(params)


def run_subprocess(root: Path, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, str(STAGE)], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300, **kw)


def outputs(root: Path) -> tuple[bytes, dict]:
    return (root / "data/generated/train.parquet").read_bytes(), json.loads((root / "metrics/generate.json").read_text())


def test_embedded_default_run(tmp_path, embedded):
    """The stage as dvc runs it, on the embedded default: contract columns, one row per prompt,
    metrics, run info, nothing written to ~/.cache (its time is printed, not asserted)."""
    root = workspace(tmp_path / "ws", embedded)
    home = tmp_path / "home"
    home.mkdir()
    start = time.perf_counter()
    proc = run_subprocess(root, env={**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pq.read_table(root / "data/generated/train.parquet")
    inputs = [json.loads(line) for line in (root / "data/embedded/train.jsonl").read_text().splitlines()]
    assert table.num_rows == len(inputs)
    assert table.column_names == ["problem", "solution", "source", "verification_info", *OUTPUT_COLUMNS]
    rows = table.to_pylist()
    assert [r["problem"] for r in rows] == [r["problem"] for r in inputs]
    for row in rows:
        assert row["prompt"] == row["problem"]  # the default template is "{{ instruction }}"
        assert len(row["generations"]) == len(row["finish_reasons"]) == len(row["completion_tokens"]) == 2
        assert set(row["finish_reasons"]) <= {"stop", "length"}
        assert all(1 <= n <= 48 for n in row["completion_tokens"])
        assert all(n == 48 for n, f in zip(row["completion_tokens"], row["finish_reasons"], strict=True) if f == "length")
        assert row["prompt_tokens"] > 0 and row["model_name"] == "models/embedded"
    assert any(g[0] != g[1] for g in (r["generations"] for r in rows))  # sampled, two different draws
    metrics = json.loads((root / "metrics/generate.json").read_text())
    assert metrics["prompts"] == len(inputs) and metrics["generations"] == 2 * len(inputs)
    assert sum(metrics["finish_reasons"].values()) == 2 * len(inputs)
    assert metrics["max_completion_tokens"] <= 48 and metrics["resumed_prompts"] == 0
    run_info = json.loads((root / "data/generated/r1_run.json").read_text())
    assert run_info["config"]["generate"]["max_new_tokens"] == 48
    assert not (home / ".cache").exists(), list((home / ".cache").rglob("*"))[:5]
    assert sorted(p.name for p in (root / "data/generated").iterdir()) == ["r1_run.json", "train.parquet"]
    assert not list((root / ".r1-cache/generate/rows").glob("*/part-*"))  # store cleared on success
    print(f"\n[figure] generate stage on the embedded default: {seconds:.1f} s")


@pytest.fixture(scope="module")
def reference(tmp_path_factory, embedded):
    """An uninterrupted run on 24 problems, in process: (workspace, parquet bytes, metrics)."""
    mp = pytest.MonkeyPatch()
    root = workspace(tmp_path_factory.mktemp("reference"), embedded)
    params = {"dataset": small_dataset(root, 24), "input_batch_size": 4, "max_new_tokens": 16}
    workspace(root, embedded, **params)
    try:
        run_in_process(root, mp)
    finally:
        mp.undo()
    data, metrics = outputs(root)
    return params, data, metrics


def test_killed_run_resumes_to_the_same_output(tmp_path, embedded, reference, monkeypatch):
    """SIGKILL a run once some batches are saved; the rerun does only the rest and writes the
    same bytes as the uninterrupted run."""
    params, ref_data, _ = reference
    root = workspace(tmp_path / "ws", embedded)
    workspace(root, embedded, **{**params, "dataset": small_dataset(root, 24)})
    proc = subprocess.Popen([PYTHON, str(STAGE)], cwd=root, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = root / ".r1-cache/generate/rows"
    try:
        deadline = time.monotonic() + 240
        while not list(store.glob("*/part-*.jsonl")):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no batch was saved in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the stage and the distilabel processes it forked
        proc.wait()
    assert not (root / "data/generated").exists()  # a killed run leaves no output behind
    saved = sum(len(p.read_text().splitlines()) for p in store.glob("*/part-*.jsonl"))
    assert 0 < saved < 24

    run_in_process(root, monkeypatch)
    data, metrics = outputs(root)
    assert metrics["resumed_prompts"] == saved
    assert data == ref_data


@pytest.mark.parametrize("change, message", [
    ({"prompt_column": "question"}, "no prompt column 'question'"),
    ({"prompt_template": "{{ instruction }} Hint: {{ hint }}"}, r"refers to field\(s\) \['hint'\]"),
    ({"prompt_template": "{{ instruction "}, "not valid Jinja"),
    ({"dataset": "data/empty.jsonl"}, "empty"),
    ({"dataset": "data/nope.jsonl"}, "does not exist"),
])
def test_bad_input_fails_fast_with_a_clear_message(tmp_path, embedded, change, message, monkeypatch):
    """Checked before any model is loaded; nothing is written."""
    from r1.config import ConfigError

    root = workspace(tmp_path / "ws", embedded, **change)
    (root / "data/empty.jsonl").write_text("")
    with pytest.raises(ConfigError, match=message):
        run_in_process(root, monkeypatch)
    assert not (root / "data/generated").exists() and not (root / "metrics").exists()


def test_bad_input_exits_with_status_2(tmp_path, embedded):
    """As dvc runs it: one clear line and exit status 2, no traceback."""
    root = workspace(tmp_path / "ws", embedded, prompt_column="question")
    proc = run_subprocess(root)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "no prompt column 'question'" in proc.stderr and "Traceback" not in proc.stderr


# -- Ray -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids_using(marker: str) -> list[int]:
    """Processes whose command line contains ``marker`` (our cluster's own temp dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.fixture
def ray_cluster():
    """A one-node Ray cluster on 127.0.0.1 with its own temp dir; every process stopped after."""
    ray = Path(PYTHON).with_name("ray")
    if not ray.exists():
        pytest.skip("ray is not installed (the `ray` extra)")
    lock = one_ray_cluster_at_a_time()
    lock.acquire()
    temp = tempfile.mkdtemp(prefix="r1ray", dir="/tmp")  # short: Ray's socket paths are limited
    port = _free_port()
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [str(ray), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
         "--num-cpus=4", "--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats",
         f"--temp-dir={temp}"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert head.poll() is None, "ray start exited"
            assert time.monotonic() < deadline, "the Ray head did not come up"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        for pid in _pids_using(temp):  # workers that left the process group
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(temp, ignore_errors=True)
        lock.release()
        assert not _pids_using(temp)


def test_ray_cluster_gives_the_same_output(tmp_path, embedded, reference, ray_cluster):
    """The pipeline on a local Ray cluster (distilabel's RayPipeline, 2 replicas) writes the
    same bytes as the local run: samples depend on per-row seeds, not on where rows ran."""
    address, env = ray_cluster
    params, ref_data, _ = reference
    root = workspace(tmp_path / "ws", embedded)
    workspace(root, embedded, **{**params, "dataset": small_dataset(root, 24),
                                 "client_replicas": 2})
    proc = run_subprocess(root, env={**env, "R1_RAY_ADDRESS": address})
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"running on the Ray cluster at {address}" in proc.stderr
    data, metrics = outputs(root)
    assert metrics["prompts"] == 24
    assert data == ref_data
