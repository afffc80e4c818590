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
from r1.training import checkpoints, vllm_server
from r1.training.grpo_data import to_prompts
from r1.training.models import load_tokenizer, model_init_kwargs, require_model_dir
from r1.training.plots import PlotCallback
from r1.training.save import save_final

log = logging.getLogger("r1.grpo")

DATA = "data/decontaminated/train.parquet"
MODEL = "models/sft"
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
    ckpt = checkpoints.checkpoint_dir("grpo", checkpoints.run_key(resolved, [DATA, MODEL]))
    trainer_kwargs.update(vllm_server.from_env(trainer_kwargs))  # after the key: where, not what
    try:
        args = GRPOConfig(output_dir=str(ckpt), report_to=trainer_kwargs.pop("report_to", "none"),
                          model_init_kwargs=model_init_kwargs(model_cfg), **trainer_kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"stage 'grpo': params.yaml section 'grpo' is not a valid GRPOConfig: {exc}") from exc

    require_model_dir(MODEL, "sft")
    tokenizer = load_tokenizer(MODEL, model_cfg, stage="grpo", need_system=bool(cfg.system_prompt))
    ds = load(DATA)
    require_rows(ds, DATA)
    train = to_prompts(ds, prompt_column=cfg.prompt_column, system_prompt=cfg.system_prompt)

    from trl import GRPOTrainer

    reward_funcs = rewards.build_all(cfg.reward_funcs, cfg.reward_kwargs)
    plots = PlotCallback("plots/grpo.csv")
    trainer = GRPOTrainer(model=MODEL, reward_funcs=reward_funcs, args=args, train_dataset=train,
                          processing_class=tokenizer, callbacks=[plots])
    if trainer.is_world_process_zero():
        checkpoints.clear_others(ckpt)
    resume = checkpoints.last_checkpoint(ckpt)
    if resume:
        log.info("resuming from %s", resume)
    result = trainer.train(resume_from_checkpoint=resume)
    save_final(trainer, tokenizer, OUT, "grpo", resolved)
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
    stage.write_metrics("grpo", metrics)


if __name__ == "__main__":
    stage.run("grpo", main)
