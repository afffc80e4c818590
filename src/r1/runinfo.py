"""What a stage ran with: its resolved config and the package versions, written beside its
outputs. No timestamps or host names: the file is part of a hashed output and must be
byte-identical when the same config runs in the same locked environment."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from pathlib import Path
from typing import Any

from r1.atomic import write_json_atomic
from r1.config import to_dict

PACKAGES = (
    "r1-pipeline", "torch", "transformers", "tokenizers", "trl", "accelerate", "datasets",
    "huggingface-hub", "lighteval", "math-verify", "latex2sympy2_extended", "distilabel",
    "vllm", "deepspeed", "liger-kernel", "numpy",
)
RUN_INFO_FILE = "r1_run.json"


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_run_info(out_dir: str | Path, stage: str, config: dict[str, Any]) -> Path:
    path = Path(out_dir) / RUN_INFO_FILE
    write_json_atomic(path, {
        "stage": stage,
        "config": to_dict(config),
        "python": ".".join(map(str, sys.version_info[:3])),
        "implementation": platform.python_implementation(),
        "packages": package_versions(),
    })
    return path
