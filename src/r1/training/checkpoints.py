"""Resumable training: checkpoints live outside the declared outs, keyed by what they train.

DVC deletes a stage's outs before running it, so checkpoints cannot be outs. They go to
`checkpoints/<stage>/<key>/`, where the key hashes the resolved config and the inputs'
sizes and mtimes: a rerun after a kill resumes from the last checkpoint, while a changed
param or input starts afresh instead of resuming someone else's run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint


def stage_owned_keys(stage: str) -> dict[str, str]:
    """Trainer fields the training stages set themselves, with the reason (for load_section)."""
    return {
        "output_dir": f"the stage saves to models/{stage} and checkpoints under checkpoints/{stage}",
        "resume_from_checkpoint": "the stage resumes automatically from its own checkpoints",
    }


def run_key(config: dict, inputs: list[str | Path]) -> str:
    stats = []
    for root in inputs:
        root = Path(root)
        if not root.exists():
            stats.append([str(root), None])
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for p in files:
            st = p.stat()
            stats.append([str(p), st.st_size, st.st_mtime_ns])
    blob = json.dumps({"config": config, "inputs": stats}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def checkpoint_dir(stage: str, key: str) -> Path:
    return Path(os.environ.get("R1_CHECKPOINTS", "checkpoints")) / stage / key


def clear_others(path: Path) -> list[Path]:
    """Remove the stage's checkpoints of other runs (changed params or inputs, or a run whose
    outputs DVC restored from its run-cache): nothing will resume from them, and a 7B model's
    optimizer states take tens of GB."""
    removed = []
    if path.parent.is_dir():
        for other in path.parent.iterdir():
            if other.name != path.name:
                shutil.rmtree(other, ignore_errors=True)
                removed.append(other)
    return removed


def last_checkpoint(path: Path) -> str | None:
    return get_last_checkpoint(str(path)) if path.is_dir() else None


def remove(path: Path) -> None:
    """Drop a finished run's checkpoints: the model is saved, and optimizer states of a 7B
    model take tens of GB that nothing will resume from."""
    shutil.rmtree(path, ignore_errors=True)
