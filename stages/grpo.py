"""Stage `grpo`: reinforcement learning with verifiable rewards, from the SFT model.

TRL's GRPOTrainer with the reward functions named in params (`grpo.reward_funcs`,
`grpo.reward_weights`, `grpo.reward_kwargs`), validated before any model is loaded. Writes
models/grpo, metrics/grpo.json and plots/grpo.csv (loss, learning rate, each reward's mean,
completion length per step).
"""

from __future__ import annotations

import logging

from r1 import rewards, stage
from r1.config import ConfigError, load_section
from r1.configs import GRPOStageConfig, ModelConfig
from r1.data import load, require_rows
from r1.training import checkpoints, options, performance, publish, vllm_server
from r1.training.grpo_data import to_prompts
from r1.training.models import (
    load_tokenizer,
    model_init_kwargs,
    one_thread_for_tiny_cpu_model,
    require_model_dir,
)
from r1.training.plots import PlotCallback
from r1.training.save import save_final
from r1.training.throughput import ThroughputCallback, summarize

log = logging.getLogger("r1.grpo")

DATA = "data/train/grpo/train.parquet"
OUT = "models/grpo"


def main(params: dict) -> None:
    from trl import GRPOConfig

    model_cfg, _ = load_section(params, "model", "grpo", ModelConfig)
    cfg, trainer_kwargs = load_section(params, "grpo", "grpo", GRPOStageConfig, GRPOConfig, forbidden=checkpoints.stage_owned_keys("grpo"))
    try:
        rewards.validate(cfg.reward_funcs, cfg.reward_kwargs)
    except ValueError as exc:
        raise ConfigError(f"stage 'grpo': params.yaml grpo.reward_funcs/reward_kwargs: {exc}") from exc
    weights = trainer_kwargs.get("reward_weights")
    if weights is not None and len(weights) != len(cfg.reward_funcs):
        raise ConfigError(f"stage 'grpo': params.yaml grpo.reward_weights has {len(weights)} values "
                          f"for {len(cfg.reward_funcs)} reward_funcs")
    resolved = {"model": model_cfg, "grpo": {**vars(cfg), **trainer_kwargs}}
    model_dir = f"models/{cfg.init_model}"  # dvc.yaml's deps template the same param
    peft_config = options.peft_config(cfg.peft, stage="grpo")
    ckpt = checkpoints.checkpoint_dir("grpo", checkpoints.run_key(resolved, [DATA, model_dir]))
    # After the checkpoint key: the machine's speed choices and where a vLLM server runs never
    # change what is trained.
    model_kwargs = model_init_kwargs(model_cfg)
    choices = performance.configure("grpo", cfg.performance, GRPOConfig, model_dir, model_cfg, trainer_kwargs, model_kwargs)
    trainer_kwargs.update(vllm_server.from_env(trainer_kwargs))
    try:
        args = GRPOConfig(output_dir=str(ckpt), report_to=trainer_kwargs.pop("report_to", "none"),
                          model_init_kwargs=model_kwargs, **trainer_kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"stage 'grpo': params.yaml section 'grpo' is not a valid GRPOConfig: {exc}") from exc

    require_model_dir(model_dir, cfg.init_model)
    tokenizer = load_tokenizer(model_dir, model_cfg, stage="grpo", need_system=bool(cfg.system_prompt))
    ds = load(DATA)
    require_rows(ds, DATA)
    prompts = to_prompts(ds, system_prompt=cfg.system_prompt)
    train, held_out = options.split(prompts, cfg.test_split_size, args.data_seed or args.seed, stage="grpo")

    from trl import GRPOTrainer

    reward_funcs = rewards.build_all(cfg.reward_funcs, cfg.reward_kwargs)
    plots = PlotCallback("plots/grpo.csv")
    throughput = ThroughputCallback(performance.peak_flops(choices.device))
    trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_funcs, args=args, train_dataset=train,
                          eval_dataset=held_out, processing_class=tokenizer, callbacks=[throughput, plots],
                          peft_config=peft_config)
    one_thread_for_tiny_cpu_model(trainer.model)
    throughput.time_generation(trainer)
    performance.compile_generation(trainer, choices)
    if trainer.is_world_process_zero():
        checkpoints.clear_others(ckpt)
    resume = checkpoints.last_checkpoint(ckpt)
    if resume:
        log.info("resuming from %s", resume)
    cut_short_before = rewards.verdict_counts()
    result = trainer.train(resume_from_checkpoint=resume)
    cut_short = {k: v - cut_short_before[k] for k, v in rewards.verdict_counts().items()}
    save_final(trainer, tokenizer, OUT, "grpo", {**resolved, "performance": choices.record()})
    if trainer.is_world_process_zero():
        checkpoints.remove(ckpt)

    def mean_of(column: str):
        value = plots.mean(column)
        return round(value, 6) if value is not None else None

    metrics = {"train_loss": round(plots.train_loss(result), 6), "steps": result.global_step,
               "prompts": len(train), "world_size": args.world_size,
               "reward_mean": mean_of("reward"), "completion_length_mean": mean_of("completions/mean_length")}
    for name in cfg.reward_funcs:
        metrics[f"rewards/{name}"] = mean_of(f"rewards/{name}/mean")
    # Math verdicts cut short (scored 0 without a full verify), in this run's steps (rank 0's
    # share under several processes): a count that is not 0 means rewards were noisy.
    metrics["math_timeouts"] = cut_short["timeout"] + cut_short["hard_timeout"]
    metrics["math_too_complex"] = cut_short["too_complex"]
    metrics.update(summarize(plots.rows, throughput.memory_kind))
    stage.write_metrics("grpo", metrics)
    if cfg.push_to_hub and trainer.is_world_process_zero():
        publish.push(OUT, repo_id=cfg.hub_model_id, revision=cfg.hub_revision, private=cfg.hub_private_repo,
                     card=publish.model_card("grpo", resolved, model_cfg.name_or_path))


if __name__ == "__main__":
    stage.run("grpo", main)
