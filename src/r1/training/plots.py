"""Per-step training curves as a CSV that `dvc plots show` renders, and the run's mean loss.

TRL logs through the Trainer's `on_log` hook (loss, learning rate, and for GRPO each reward
function's mean and the completion length). The callback keeps every row and writes the
file once, atomically, when training ends, so a killed run never leaves a partial plot that
DVC would take as the stage's output.

A run resumed from a checkpoint must report the same curve and metrics as an uninterrupted
one. The Trainer restores `state.log_history` from the checkpoint before `on_train_begin`,
but a callback starts empty and `TrainOutput.training_loss` sums only the resumed steps
(divided by all of them), so both are rebuilt here from the restored history.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from transformers import TrainerCallback

from r1.atomic import write_text_atomic

log = logging.getLogger(__name__)

# Trainer summary keys (logged once at the end) that are not per-step curves. With
# include_num_input_tokens_seen the Trainer adds train_runtime and train_tokens_per_second
# (since the session began) to every log: wall clock that r1.training.throughput reports per step.
_SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss",
                 "train_tokens_per_second"}


def _row(step: int, logs: dict) -> dict | None:
    row = {k: v for k, v in logs.items()
           if k not in _SUMMARY_KEYS and k != "step" and isinstance(v, int | float) and not isinstance(v, bool)}
    return {"step": step, **row} if row else None


def _add(rows: list[dict], row: dict | None) -> None:
    """One row per step: the Trainer logs a step's training figures, its evaluation and the
    end-of-training summary as separate logs, and a second row for a step would leave the
    first one's columns empty, which `dvc plots` draws as 0 (a loss curve ending at 0)."""
    if row is None:
        return
    if rows and rows[-1]["step"] == row["step"]:
        rows[-1].update(row)
    else:
        rows.append(row)


class PlotCallback(TrainerCallback):
    def __init__(self, path: str | Path, token_count_restarts: bool = False):
        self.path = Path(path)
        self.token_count_restarts = token_count_restarts
        self.rows: list[dict] = []
        self.resumed_step = 0
        # Sum over the steps trained before the resume of (mean loss x steps), from the
        # checkpoint's history: what `training_loss` leaves out.
        self._loss_before_resume = 0.0
        self._tokens_before_resume = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self.resumed_step = state.global_step
        self.rows = []
        for entry in state.log_history:
            if "step" in entry:
                _add(self.rows, _row(entry["step"], entry))
        last, total = 0, 0.0
        for r in self.rows:
            if "loss" in r:
                total += r["loss"] * (r["step"] - last)
                last = r["step"]
        self._loss_before_resume = total
        # TRL's SFTTrainer counts `num_tokens` in an attribute its checkpoints do not save, so
        # a resumed run starts it from 0 again (GRPOTrainer's count lives in the saved state
        # and goes on; the stage says which with `token_count_restarts`): add what the
        # restored history had reached.
        counted = [r["num_tokens"] for r in self.rows if "num_tokens" in r]
        resumed = self.resumed_step and counted and self.token_count_restarts
        self._tokens_before_resume = counted[-1] if resumed else 0
        if self.resumed_step and last != self.resumed_step:
            # Steps between the last logged loss and the checkpoint were never logged, so
            # their loss is lost: the stage's train_loss then covers the logged steps only.
            log.warning("checkpoint at step %d is not on a logging step (last loss logged at %d): "
                        "train_loss misses the steps in between; make save_steps a multiple of logging_steps",
                        self.resumed_step, last)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs:
            return
        if self._tokens_before_resume and "num_tokens" in logs:
            logs["num_tokens"] += self._tokens_before_resume
            if state.log_history and state.log_history[-1].get("step") == state.global_step:
                state.log_history[-1]["num_tokens"] = logs["num_tokens"]  # what the next checkpoint saves
        if not state.is_world_process_zero:
            return
        _add(self.rows, _row(state.global_step, logs))

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            write_text_atomic(self.path, to_csv(self.rows))

    def train_loss(self, result) -> float:
        """The mean training loss over every step, resumed or not (cf. `TrainOutput.training_loss`)."""
        steps = max(result.global_step, 1)
        return result.training_loss + self._loss_before_resume / steps

    def mean(self, column: str) -> float | None:
        """The mean of a per-step column over the whole run (None when it was never logged)."""
        values = [r[column] for r in self.rows if column in r]
        return sum(values) / len(values) if values else None


def to_csv(rows: list[dict]) -> str:
    columns = ["step"] + sorted({k for r in rows for k in r} - {"step"})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()
