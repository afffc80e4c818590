"""Throughput figures (r1.training.throughput): the interval math, the run summary, the callback."""

from types import SimpleNamespace

import pytest

from r1.training import throughput
from r1.training.throughput import ThroughputCallback, interval_metrics, summarize


def test_interval_metrics_on_cpu_have_no_mfu():
    m = interval_metrics(seconds=4.0, steps=2, tokens=1000)
    assert m == {"step_seconds": 2.0, "training_tokens_per_second": 250.0}


def test_mfu_is_six_n_tokens_over_time_and_the_peak_of_every_process():
    m = interval_metrics(seconds=2.0, steps=1, tokens=10_000, flops_per_token=6 * 1e9, peak_flops=989e12,
                         world_size=8)
    assert m["mfu"] == pytest.approx(6e9 * 10_000 / 2.0 / (989e12 * 8))


def test_generation_share_and_generated_tokens_per_second():
    m = interval_metrics(seconds=10.0, steps=1, tokens=3000, generation_seconds=7.5, generated_tokens=2000)
    assert (m["generation_share"], m["generated_tokens_per_second"]) == (0.75, 200.0)


def test_the_summary_weights_each_interval_by_its_time():
    rows = [{"step": 1, "loss": 1.0},  # a row without throughput (e.g. an eval) is left out
            {"step": 2, "step_seconds": 1.0, "training_tokens_per_second": 100.0, "peak_memory_gb": 1.0},
            {"step": 4, "step_seconds": 3.0, "training_tokens_per_second": 50.0, "peak_memory_gb": 2.5}]
    s = summarize(rows, "process_max_rss")
    # 2 s at 100 tokens/s, then 6 s at 50: 500 tokens in 8 s over 4 steps.
    assert s == {"step_seconds": 2.0, "training_tokens_per_second": 62.5, "peak_memory_gb": 2.5,
                 "memory_kind": "process_max_rss"}
    assert summarize([{"step": 1, "loss": 1.0}], None) == {}


def test_flops_params_leave_out_the_embedding_lookup_but_count_a_tied_head():
    from torch import nn

    class LM(nn.Module):
        def __init__(self, tied):
            super().__init__()
            self.embed, self.body = nn.Embedding(100, 8), nn.Linear(8, 8, bias=False)
            self.head = nn.Linear(8, 100, bias=False)
            if tied:
                self.head.weight = self.embed.weight

        def get_input_embeddings(self):
            return self.embed

        def get_output_embeddings(self):
            return self.head

    assert throughput.flops_params(LM(tied=False)) == 64 + 800
    assert throughput.flops_params(LM(tied=True)) == 64 + 800


def test_the_callback_adds_its_figures_to_the_logs_and_to_the_saved_history():
    clock = iter([100.0, 104.0, 110.0]).__next__
    state = SimpleNamespace(global_step=0, num_input_tokens_seen=0, log_history=[])
    args = SimpleNamespace(world_size=1)
    cb = ThroughputCallback(clock=clock)
    cb.on_train_begin(args, state, None)
    state.global_step, state.num_input_tokens_seen = 2, 800
    logs = {"loss": 1.0}
    state.log_history.append({**logs, "step": 2})  # the Trainer appends before on_log
    cb.on_log(args, state, None, logs=logs)
    assert logs["step_seconds"] == 2.0 and logs["training_tokens_per_second"] == 200.0
    assert state.log_history[-1]["training_tokens_per_second"] == 200.0 and "peak_memory_gb" in state.log_history[-1]
    assert cb.memory_kind == "process_max_rss"
    summary = {"train_loss": 1.0}  # the end-of-training summary is no step
    cb.on_log(args, state, None, logs=summary)
    assert summary == {"train_loss": 1.0}


def test_generation_is_timed_around_the_trainers_generate():
    clock = iter([0.0, 1.0, 4.0, 10.0]).__next__
    trainer = SimpleNamespace(accelerator=SimpleNamespace(num_processes=2),
                              _generate=lambda prompts: ([[1]], [[5, 6, 7], [8]]))
    cb = ThroughputCallback(clock=clock)
    cb.time_generation(trainer)
    state = SimpleNamespace(global_step=0, num_input_tokens_seen=0, log_history=[])
    cb.on_train_begin(SimpleNamespace(world_size=2), state, None)  # t=0
    trainer._generate(["p"])  # 1 -> 4: 3 s generating 4 tokens here, 8 over both processes
    state.global_step, state.num_input_tokens_seen = 1, 100
    logs = {"loss": 0.5}
    cb.on_log(SimpleNamespace(world_size=2), state, None, logs=logs)  # t=10
    assert logs["generation_share"] == pytest.approx(0.3) and logs["generated_tokens_per_second"] == pytest.approx(0.8)


def test_the_trainers_cumulative_speed_keys_stay_out_of_the_curves():
    from r1.training.plots import PlotCallback

    plots = PlotCallback("unused.csv")
    state = SimpleNamespace(is_world_process_zero=True, global_step=3)
    # What transformers logs per step once it counts input tokens, plus the callback's figure.
    plots.on_log(None, state, None, logs={"loss": 1.0, "train_runtime": 9.0, "train_tokens_per_second": 50.0,
                                          "training_tokens_per_second": 70.0})
    assert plots.rows == [{"step": 3, "loss": 1.0, "training_tokens_per_second": 70.0}]


def test_a_resumed_run_counts_tokens_from_where_the_checkpoint_was():
    """TRL restarts its `num_tokens` counter at 0 on resume; the curve must not."""
    from r1.training.plots import PlotCallback

    history = [{"step": 1, "loss": 2.0, "num_tokens": 100.0}, {"step": 2, "loss": 1.5, "num_tokens": 210.0}]
    state = SimpleNamespace(is_world_process_zero=True, global_step=2, log_history=list(history))
    plots = PlotCallback("unused.csv", token_count_restarts=True)  # as the sft stage makes it
    plots.on_train_begin(None, state, None)
    state.global_step = 3
    state.log_history.append({"step": 3, "loss": 1.2, "num_tokens": 95.0})  # TRL's count since the resume
    logs = {"loss": 1.2, "num_tokens": 95.0}
    plots.on_log(None, state, None, logs=logs)
    assert [r["num_tokens"] for r in plots.rows] == [100.0, 210.0, 305.0]
    assert state.log_history[-1]["num_tokens"] == 305.0  # what the next checkpoint saves
    fresh = PlotCallback("unused.csv", token_count_restarts=True)  # not resumed: nothing added
    fresh.on_train_begin(None, SimpleNamespace(global_step=0, log_history=[]), None)
    fresh.on_log(None, SimpleNamespace(is_world_process_zero=True, global_step=1, log_history=[]), None,
                 logs={"num_tokens": 50.0})
    assert fresh.rows == [{"step": 1, "num_tokens": 50.0}]


def test_a_token_count_that_survives_the_resume_is_left_alone():
    """GRPOTrainer's num_tokens is the saved state's count: it goes on after a resume (the grpo
    stage's PlotCallback is made without token_count_restarts)."""
    from r1.training.plots import PlotCallback

    state = SimpleNamespace(is_world_process_zero=True, global_step=2,
                            log_history=[{"step": 2, "loss": 1.0, "num_tokens": 210.0}])
    plots = PlotCallback("unused.csv")
    plots.on_train_begin(None, state, None)
    state.global_step = 3
    plots.on_log(None, state, None, logs={"loss": 0.9, "num_tokens": 330.0})
    state.global_step = 4
    plots.on_log(None, state, None, logs={"loss": 0.8, "num_tokens": 450.0})
    assert [r["num_tokens"] for r in plots.rows] == [210.0, 330.0, 450.0]
