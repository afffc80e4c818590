"""Stage `sft`: supervised fine-tuning of the student (models/base) on data/train/sft (stage sft-data@student).

TRL's SFTTrainer on conversational examples (system?, user prompt, assistant generation),
with packing as params say. Writes models/sft (model, tokenizer, generation config,
r1_run.json), metrics/sft.json and plots/sft.csv. Launch with plain python or any
launcher through R1_TRAIN_LAUNCHER (see stages/run); the launcher is not part of the hash.
"""

from __future__ import annotations

import logging

from r1 import stage
from r1.config import ConfigError, load_section
from r1.configs import ModelConfig, SFTStageConfig
from r1.data import load, require_columns, require_rows
from r1.training import checkpoints, options, performance, publish
from r1.training.models import (
    load_tokenizer,
    model_init_kwargs,
    one_thread_for_tiny_cpu_model,
    require_model_dir,
)
from r1.training.plots import PlotCallback
from r1.training.save import save_final
from r1.training.sft_data import to_messages
from r1.training.throughput import ThroughputCallback, summarize

log = logging.getLogger("r1.sft")

DATA = "data/train/sft/train.parquet"
BASE = "models/base"
OUT = "models/sft"


def main(params: dict) -> None:
    from trl import SFTConfig

    model_cfg, _ = load_section(params, "model", "sft", ModelConfig)
    cfg, trainer_kwargs = load_section(params, "sft", "sft", SFTStageConfig, SFTConfig, forbidden=checkpoints.stage_owned_keys("sft"))
    resolved = {"model": model_cfg, "sft": {**vars(cfg), **trainer_kwargs}}
    peft_config = options.peft_config(cfg.peft, stage="sft")
    ckpt = checkpoints.checkpoint_dir("sft", checkpoints.run_key(resolved, [DATA, BASE]))
    # After the checkpoint key: the machine's speed choices never change what is trained.
    model_kwargs = model_init_kwargs(model_cfg)
    choices = performance.configure("sft", cfg.performance, SFTConfig, BASE, model_cfg, trainer_kwargs, model_kwargs)
    try:
        args = SFTConfig(output_dir=str(ckpt), report_to=trainer_kwargs.pop("report_to", "none"),
                         model_init_kwargs=model_kwargs, **trainer_kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"stage 'sft': params.yaml section 'sft' is not a valid SFTConfig: {exc}") from exc

    require_model_dir(BASE, "base")
    tokenizer = load_tokenizer(BASE, model_cfg, stage="sft", need_system=bool(cfg.system_prompt))
    ds = load(DATA)
    require_rows(ds, DATA)
    require_columns(ds, ["messages"], DATA)

    from datasets import Dataset
    from trl import SFTTrainer

    conversations = Dataset.from_list(to_messages(ds, system_prompt=cfg.system_prompt))
    train, held_out = options.split(conversations, cfg.test_split_size, args.data_seed or args.seed, stage="sft")
    log.info("training on %d of %d conversations%s", len(train), len(ds),
             f", {len(held_out)} held out for evaluation" if held_out is not None else "")
    plots = PlotCallback("plots/sft.csv", token_count_restarts=True)  # TRL: see PlotCallback
    throughput = ThroughputCallback(performance.peak_flops(choices.device))
    trainer = SFTTrainer(model=BASE, args=args, train_dataset=train, eval_dataset=held_out,
                         processing_class=tokenizer, callbacks=[throughput, plots], peft_config=peft_config)
    one_thread_for_tiny_cpu_model(trainer.model)
    if trainer.is_world_process_zero():
        checkpoints.clear_others(ckpt)
    resume = checkpoints.last_checkpoint(ckpt)
    if resume:
        log.info("resuming from %s", resume)
    result = trainer.train(resume_from_checkpoint=resume)
    save_final(trainer, tokenizer, OUT, "sft", {**resolved, "performance": choices.record()})
    if trainer.is_world_process_zero():
        checkpoints.remove(ckpt)
    losses = [r["loss"] for r in plots.rows if "loss" in r]
    metrics = {
        "train_loss": round(plots.train_loss(result), 6),
        "final_loss": round(losses[-1], 6) if losses else None,
        "steps": result.global_step,
        "examples": len(train),
        "world_size": args.world_size,
        **summarize(plots.rows, throughput.memory_kind),
    }
    eval_losses = [r["eval_loss"] for r in plots.rows if "eval_loss" in r]
    if eval_losses:
        metrics.update(eval_loss=round(eval_losses[-1], 6), eval_examples=len(held_out))
    stage.write_metrics("sft", metrics)
    if cfg.push_to_hub and trainer.is_world_process_zero():
        publish.push(OUT, repo_id=cfg.hub_model_id, revision=cfg.hub_revision, private=cfg.hub_private_repo,
                     card=publish.model_card("sft", resolved, model_cfg.name_or_path))


if __name__ == "__main__":
    stage.run("sft", main)
