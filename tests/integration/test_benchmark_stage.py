"""The benchmark stage on local files and on the Hub while offline, and evaluation of what it
writes. Nothing here reaches the network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

AIME25_ROWS = [{"problem": "Find the sum of all integer bases $b>9$ for which $17_b$ divides $97_b$.",
                "answer": 70, "id": "0"},
               {"problem": "How many ordered pairs satisfy $12x^2-xy-6y^2=0$ with $-100\\le x,y\\le 100$?",
                "answer": 117, "id": "1"},
               {"problem": "Find the remainder when $N$ is divided by $1000$.", "answer": 16, "id": "2"}]


def _env(project: Path, **extra) -> dict:
    env = dict(os.environ)
    env.update(HOME=str(project / "home"), PYTHONUNBUFFERED="1", R1_PYTHON=sys.executable, **extra)
    for key in ("HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "XDG_CACHE_HOME", "RANK", "R1_PARAMS"):
        env.pop(key, None)
    return env


def _run(project: Path, *args: str, **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "stages" / "run"), *args], cwd=project, env=_env(project, **extra_env),
                          capture_output=True, text=True, timeout=600)


def _project(path: Path, benchmarks: dict) -> Path:
    (path / "home").mkdir(parents=True)
    (path / "params.yaml").write_text(yaml.safe_dump({
        # the embedded model's shape, for a clone where models/embedded must be built first
        "embedded": yaml.safe_load((ROOT / "params.yaml").read_text())["embedded"],
        "model": {"name_or_path": "models/embedded", "torch_dtype": "float32", "attn_implementation": "sdpa"},
        "benchmarks": benchmarks,
        "evaluate": {"backend": "transformers", "max_new_tokens": 8, "temperature": 0.0, "batch_size": 3,
                     "max_samples": None, "seed": 0},
    }))
    return path


def _error_line(proc: subprocess.CompletedProcess) -> str:
    """The stage's one error line; nothing else (no traceback) on stderr after it."""
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, proc.stderr[-3000:]
    return errors[0]


def test_local_aime25_with_integer_answers_is_materialised_and_evaluated(tmp_path):
    project = _project(tmp_path, {"names": ["aime25"], "paths": {"aime25": "aime25.jsonl"}})
    (project / "aime25.jsonl").write_text("".join(json.dumps(r) + "\n" for r in AIME25_ROWS))
    proc = _run(project, "benchmark", "--name", "aime25")
    assert proc.returncode == 0, proc.stderr[-3000:]
    import pyarrow.parquet as pq

    rows = pq.read_table(project / "data/benchmarks/aime25/rows.parquet").to_pylist()
    assert [r["answer"] for r in rows] == ["70", "117", "16"] and [r["id"] for r in rows] == ["0", "1", "2"]
    run = json.loads((project / "data/benchmarks/aime25/r1_run.json").read_text())
    assert run["config"]["benchmark"] == {"name": "aime25", "path": "aime25.jsonl", "rows": 3}

    # The embedded model as `base`; models/embedded is built by the `embedded` stage.
    if (ROOT / "models" / "embedded" / "config.json").is_file():
        shutil.copytree(ROOT / "models" / "embedded", project / "models" / "base")
    else:
        built = _run(project, "embedded")
        assert built.returncode == 0, built.stderr[-3000:]
        shutil.copytree(project / "models" / "embedded", project / "models" / "base")
    # the original file is no longer read: evaluation scores the materialised copy
    (project / "aime25.jsonl").unlink()
    proc = _run(project, "evaluate", "--model", "base", "--benchmark", "aime25")
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((project / "metrics/eval/base-aime25.json").read_text())
    assert (record["benchmark"], record["num_samples"]) == ("aime25", 3) and record["metric"].startswith("pass@k:k=1")
    assert 0.0 <= record["score"] <= 1.0


def test_unusable_local_file_is_one_line_naming_file_column_and_row(tmp_path):
    project = _project(tmp_path, {"names": ["aime25"], "paths": {"aime25": "aime25.jsonl"}})
    rows = [AIME25_ROWS[0], {**AIME25_ROWS[1], "answer": None}]
    (project / "aime25.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    line = _error_line(_run(project, "benchmark", "--name", "aime25"))
    assert "benchmark 'aime25' (aime25.jsonl): column 'answer' row 1: answer None is not a number or text" in line
    assert not (project / "data" / "benchmarks").exists()


def test_a_column_only_lightevals_prompt_needs_is_named(tmp_path):
    # math_500's prompt takes its gold from `solution`, which the registry does not list
    project = _project(tmp_path, {"names": ["math_500"], "paths": {"math_500": "m.jsonl"}})
    (project / "m.jsonl").write_text(json.dumps({"problem": "1+1?", "answer": 2}) + "\n")
    line = _error_line(_run(project, "benchmark", "--name", "math_500"))
    assert "benchmark 'math_500' (m.jsonl): lighteval's prompt for 'math_500' needs column 'solution'" in line
    assert not (project / "data" / "benchmarks").exists()


def test_hub_benchmark_offline_is_one_line_saying_how_to_use_a_local_file(tmp_path):
    project = _project(tmp_path, {"names": ["aime24"], "hub": {"aime24": "main"}})
    line = _error_line(_run(project, "benchmark", "--name", "aime24", HF_HUB_OFFLINE="1"))
    assert ("benchmark 'aime24': cannot load Hub dataset HuggingFaceH4/aime_2024 (revision main): this machine "
            "is offline (HF_HUB_OFFLINE=1); to use a local copy, move it from benchmarks.hub to "
            "benchmarks.paths.aime24: <file or folder>") in line
    assert not (project / "data" / "benchmarks").exists()
    assert not any((project / "home").iterdir())  # no ~/.cache
