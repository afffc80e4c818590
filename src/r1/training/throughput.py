"""Per-step throughput in the Trainer's logs, and the run's summary for metrics/<stage>.json.

At each training log (every `logging_steps`), the callback adds, for the steps since the last
log: seconds per step, training tokens per second (the Trainer's `num_input_tokens_seen`,
summed over processes), for GRPO the generated tokens per second and the share of the time
spent generating, the peak memory so far, and the MFU where the device's peak is known.

The Trainer appends a log to `state.log_history` before it calls `on_log`, so the callback
adds its keys to that entry as well as to `logs`: checkpoints save the history, so a resumed
run's plots and metrics keep the curve of the steps before the kill (see r1.training.plots).
It must come before PlotCallback in the trainer's callbacks, which reads `logs`.

TRL times generation (`profiling_context`) only for wandb/mlflow/trackio, never into the
logs, hence the small timer around `GRPOTrainer._generate`.
"""

from __future__ import annotations

import resource
import time

from transformers import TrainerCallback

# Values that depend on the machine and its load, not on the run's inputs: reproducibility
# checks skip them (as they skip names ending in "seconds" or "_per_second").
MACHINE_DEPENDENT = ("step_seconds", "training_tokens_per_second", "generated_tokens_per_second",
                     "generation_share", "mfu", "peak_memory_gb")


def flops_params(model) -> int:
    """Parameters that do a multiply-add per token: all but the input embedding (a lookup),
    with the LM head counted once even when it shares the embedding's weights. MFU uses
    6 x this x tokens (forward 2, backward 4), leaving out attention's seq^2 term."""
    def numel(p):
        return getattr(p, "ds_numel", None) or p.numel()  # ZeRO-3 leaves local shards empty

    total = sum(numel(p) for p in model.parameters())
    embedding = model.get_input_embeddings()
    embed = sum(numel(p) for p in embedding.parameters()) if embedding is not None else 0
    head = model.get_output_embeddings()
    tied = head is not None and embedding is not None and head.weight is embedding.weight
    return total - embed + (embed if tied else 0)


def peak_memory() -> tuple[float, str]:
    """This process's peak memory in GiB, and what was measured."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.max_memory_allocated() / 2**30, "cuda_max_allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "process_max_rss"  # Linux: KiB


def interval_metrics(*, seconds: float, steps: int, tokens: int, generation_seconds: float | None = None,
                     generated_tokens: int | None = None, flops_per_token: float | None = None,
                     peak_flops: float | None = None, world_size: int = 1) -> dict:
    """Throughput over one logging interval of ``steps`` optimizer steps and ``seconds``."""
    seconds = max(seconds, 1e-9)
    out = {"step_seconds": seconds / max(steps, 1), "training_tokens_per_second": tokens / seconds}
    if generation_seconds is not None:
        out["generation_share"] = min(generation_seconds / seconds, 1.0)
        out["generated_tokens_per_second"] = (generated_tokens or 0) / seconds
    if flops_per_token and peak_flops:
        out["mfu"] = flops_per_token * tokens / seconds / (peak_flops * world_size)
    return out


def summarize(rows: list[dict], memory_kind: str | None) -> dict:
    """The run's figures from the per-step rows (a resumed run's included): rates are totals
    over total time, each interval's time being step_seconds x its steps."""
    rows = [r for r in rows if "step_seconds" in r]
    if not rows:
        return {}
    prev, total, weighted = 0, 0.0, {k: 0.0 for k in ("training_tokens_per_second", "generated_tokens_per_second",
                                                      "generation_share", "mfu")}
    present = set()
    for r in rows:
        dt = r["step_seconds"] * max(r["step"] - prev, 1)
        prev = r["step"]
        total += dt
        for k in weighted:
            if k in r:
                weighted[k] += r[k] * dt
                present.add(k)
    out = {"step_seconds": round(total / max(rows[-1]["step"], 1), 6)}
    out.update({k: round(weighted[k] / total, 6) for k in weighted if k in present})
    memory = [r["peak_memory_gb"] for r in rows if "peak_memory_gb" in r]
    if memory:
        out.update(peak_memory_gb=round(max(memory), 4), memory_kind=memory_kind)
    return out


class ThroughputCallback(TrainerCallback):
    def __init__(self, peak_flops: float | None = None, clock=time.perf_counter):
        self.peak_flops = peak_flops
        self.clock = clock
        self.memory_kind: str | None = None
        self._flops_per_token: float | None = None
        self._generation_seconds: float | None = None  # None: the trainer does not generate
        self._generated_tokens = 0

    def time_generation(self, trainer) -> None:
        """Time GRPOTrainer._generate (its rollouts) and count the tokens it generates."""
        generate = trainer._generate
        processes = trainer.accelerator.num_processes
        self._generation_seconds = 0.0

        def timed(prompts):
            start = self.clock()
            out = generate(prompts)
            self._generation_seconds += self.clock() - start
            # out[1]: this process's completion ids; every process generates as many.
            self._generated_tokens += sum(len(ids) for ids in out[1]) * processes
            return out

        trainer._generate = timed

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if model is not None and self.peak_flops:
            self._flops_per_token = 6 * flops_params(model)
        self._mark(state, self.clock())

    def _mark(self, state, now: float):
        self._time, self._step, self._tokens = now, state.global_step, state.num_input_tokens_seen
        if self._generation_seconds is not None:
            self._generation_seconds, self._generated_tokens = 0.0, 0

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:  # eval logs and the end-of-training summary
            return
        now = self.clock()
        new = interval_metrics(
            seconds=now - self._time, steps=state.global_step - self._step,
            tokens=state.num_input_tokens_seen - self._tokens, generation_seconds=self._generation_seconds,
            generated_tokens=self._generated_tokens, flops_per_token=self._flops_per_token,
            peak_flops=self.peak_flops, world_size=args.world_size)
        new["peak_memory_gb"], self.memory_kind = peak_memory()
        logs.update(new)
        if state.log_history and state.log_history[-1].get("step") == state.global_step:
            state.log_history[-1].update(new)
        self._mark(state, now)
