"""plots/<stage>.csv has one row per step, so no column is left empty for `dvc plots` to
draw as 0 (the end-of-training summary used to add a second row for the last step)."""

from __future__ import annotations

from types import SimpleNamespace

from r1.training.plots import PlotCallback, to_csv


def _log(cb, step, **logs):
    cb.on_log(None, SimpleNamespace(is_world_process_zero=True, global_step=step, log_history=[]), None, logs=logs)


def test_the_summary_and_evaluation_logs_of_a_step_join_its_row():
    cb = PlotCallback("unused.csv")
    _log(cb, 1, loss=2.0, epoch=0.5)
    _log(cb, 2, loss=1.5, epoch=1.0)
    _log(cb, 2, eval_loss=1.7, epoch=1.0)  # evaluation at the same step
    # What the Trainer logs once training ends: summary keys plus epoch and the token count.
    _log(cb, 2, train_runtime=9.0, train_loss=1.75, epoch=1.0, num_input_tokens_seen=640)
    assert cb.rows == [{"step": 1, "loss": 2.0, "epoch": 0.5},
                       {"step": 2, "loss": 1.5, "epoch": 1.0, "eval_loss": 1.7, "num_input_tokens_seen": 640}]
    lines = to_csv(cb.rows).splitlines()
    assert lines[0] == "step,epoch,eval_loss,loss,num_input_tokens_seen"
    assert lines[-1] == "2,1,1.7,1.5,640" and len(lines) == 3


def test_a_resumed_run_rebuilds_one_row_per_step_from_the_checkpoint_history():
    history = [{"step": 2, "loss": 1.5, "epoch": 1.0}, {"step": 2, "eval_loss": 1.7, "epoch": 1.0}]
    cb = PlotCallback("unused.csv")
    cb.on_train_begin(None, SimpleNamespace(global_step=2, log_history=history), None)
    assert cb.rows == [{"step": 2, "loss": 1.5, "epoch": 1.0, "eval_loss": 1.7}]
