"""Per-step training curves as a CSV that `dvc plots show` renders.

TRL logs through the Trainer's `on_log` hook (loss, learning rate, and for GRPO each reward
function's mean and the completion length). The callback keeps every row and writes the
file once, atomically, when training ends, so a killed run never leaves a partial plot that
DVC would take as the stage's output.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from transformers import TrainerCallback

from r1.atomic import write_text_atomic

# Trainer summary keys (logged once at the end) that are not per-step curves.
_SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss"}


class PlotCallback(TrainerCallback):
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        row = {k: v for k, v in logs.items() if k not in _SUMMARY_KEYS and isinstance(v, int | float)}
        if row:
            self.rows.append({"step": state.global_step, **row})

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            write_text_atomic(self.path, to_csv(self.rows))


def to_csv(rows: list[dict]) -> str:
    columns = ["step"] + sorted({k for r in rows for k in r} - {"step"})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()
