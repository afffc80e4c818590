"""What the gpu tests share: a clean skip on a machine without CUDA.

Every test in tests/gpu is marked `gpu` and skipped without CUDA. Run them on a GPU node with
`pytest tests/gpu -m gpu`. They need the ML environment (torch, transformers, trl, datasets,
math-verify) but no network and no DVC.
"""

from __future__ import annotations

import pytest


def cuda_or_skip():
    """torch, when it is installed and sees a CUDA device; otherwise skip the calling module."""
    torch = pytest.importorskip("torch", reason="the gpu tests need torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (torch.cuda.is_available() is False); run on a GPU node",
                    allow_module_level=True)
    return torch


# A sitecustomize that a stage process imports at start-up (through PYTHONPATH): at exit it
# records whether the process used CUDA and how much GPU memory it allocated. The stages are
# not changed and log nothing about their device, so this is how a test sees where they ran.
_PROBE = '''
import atexit, json, os, sys

_out = os.environ.get("R1_TEST_CUDA_PROBE")
if _out:
    def _record():
        torch = sys.modules.get("torch")
        info = {"argv": sys.argv, "torch_imported": torch is not None, "cuda_initialized": False}
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            info.update(cuda_initialized=True, device_name=torch.cuda.get_device_name(0),
                        max_memory_allocated=int(torch.cuda.max_memory_allocated()))
        with open(os.path.join(_out, "probe-%d.json" % os.getpid()), "w") as f:
            json.dump(info, f)
    atexit.register(_record)

# Chain to any sitecustomize that this one shadows.
_here = os.path.dirname(os.path.abspath(__file__))
_saved = list(sys.path)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
_me = sys.modules.pop("sitecustomize", None)
try:
    import sitecustomize  # noqa: F401
except ImportError:
    pass
finally:
    sys.path[:] = _saved
    if _me is not None:
        sys.modules["sitecustomize"] = _me
'''


def write_cuda_probe(folder):
    """Put the probing sitecustomize in `folder`; prepend `folder` to a stage's PYTHONPATH."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_PROBE, encoding="utf-8")
    return folder


def read_cuda_probes(folder) -> list[dict]:
    import json
    from pathlib import Path

    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("probe-*.json"))]


# --- a throwaway copy of the project, ready for the training stages -------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
PROJECT_FILES = ("stages", "src", "params.yaml", "dvc.yaml", "recipes")


def copy_project(dest):
    """The code and config a stage needs (no outputs, no .venv), as a fresh project folder."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def override_params(project, overrides: dict[str, dict]) -> None:
    """Set `section.key: value` in the copy's params.yaml."""
    import yaml

    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section, values in overrides.items():
        params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def stage_env(project, probe_dir=None) -> dict:
    """The environment a stage runs in: this interpreter, the copy's `r1` first on the path,
    offline. Whatever PYTHONPATH already holds (e.g. extra site folders) is kept after it."""
    import os
    import sys

    env = dict(os.environ)
    env.pop("R1_TRAIN_LAUNCHER", None)
    env["R1_PYTHON"] = sys.executable
    paths = [str(project / "src")]
    if probe_dir is not None:
        paths.insert(0, str(probe_dir))
        env["R1_TEST_CUDA_PROBE"] = str(probe_dir)
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(project / ".hf-home"))
    return env


def run_stage(project, name: str, env: dict, timeout: float = 600):
    import subprocess

    proc = subprocess.run([str(project / "stages" / "run"), name], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (f"stages/run {name} exited {proc.returncode}:\n"
                                  f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def wrong_and_right_generations(solution) -> list[str]:
    """Two handmade distilled answers: one fixed (usually wrong), one with the gold answer."""
    fixed = "<think>\nadd them\n</think>\nThe answer is $\\boxed{12}$."
    if isinstance(solution, str) and solution.strip():
        gold = solution.strip().strip("$")
        return [fixed, f"<think>\nwork it out step by step\n</think>\nThe answer is $\\boxed{{{gold}}}$."]
    return [fixed, "<think>\nread n, then print\n</think>\n```python\nprint(int(input()))\n```"]


def write_training_data(project) -> int:
    """data/train/sft and data/train/grpo from the embedded problems, in the schemas the
    training data stage writes (r1.trainsets.build): two conversations per problem for sft,
    the user turn plus the reward columns for grpo. Returns the number of problems."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = (project / "data" / "embedded" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    sft, grpo = [], []
    for line in filter(str.strip, lines):
        row = json.loads(line)
        user = [{"role": "user", "content": row["problem"]}]
        sft += [{"messages": user + [{"role": "assistant", "content": g}]}
                for g in wrong_and_right_generations(row.get("solution"))]
        grpo.append({"prompt": user, "solution": row.get("solution"), "verification_info": row.get("verification_info")})
    for name, rows in (("sft", sft), ("grpo", grpo)):
        out = project / "data" / "train" / name / "train.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), out)
    return len(grpo)


def safetensors_dtypes(path) -> dict[str, str]:
    """Each tensor's dtype as the file's header states it (e.g. "BF16"), without loading it."""
    import json
    import struct

    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    return {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}


def read_csv_rows(path) -> list[dict]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
