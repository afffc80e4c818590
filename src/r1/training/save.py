"""Saving the final model of a training stage atomically, from any number of processes.

Every rank calls `trainer.save_model` (ZeRO-3 and FSDP gather the weights collectively) into
one temporary folder whose name all ranks agree on; rank 0 adds the tokenizer and run record
and renames it into place. A kill before the rename leaves only the hidden temporary folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from r1.runinfo import write_run_info


def save_final(trainer, tokenizer, final_dir: str | Path, stage: str, resolved: dict) -> None:
    final_dir = Path(final_dir)
    tmp = final_dir.with_name(f".{final_dir.name}.tmp")
    old = final_dir.with_name(f".{final_dir.name}.old")
    main = trainer.is_world_process_zero()
    if main:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    model = trainer.accelerator.unwrap_model(trainer.model)
    # Generation must stop at end-of-turn: the tokenizer's eos (params may have replaced it,
    # as open-r1's `eos_token` does) is what the saved generation config stops on.
    # use_cache was only switched off for training.
    align_generation_eos(model, tokenizer)
    model.config.use_cache = True
    if hasattr(model, "merge_and_unload"):
        # A LoRA run: merge the adapter, so that grpo and evaluate load an ordinary model
        # folder. Every rank holds the whole adapter under DDP; rank 0 writes it.
        if main:
            model.merge_and_unload().save_pretrained(tmp)
    else:
        trainer.save_model(str(tmp))
    if main:
        tokenizer.save_pretrained(tmp)
        (tmp / "training_args.bin").unlink(missing_ok=True)  # a pickle; the run record says it all
        write_run_info(tmp, stage, resolved)
        if final_dir.exists():
            final_dir.rename(old)
        tmp.rename(final_dir)
        shutil.rmtree(old, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()


def align_generation_eos(model, tokenizer) -> None:
    """Make the model's generation config (and config) stop on the tokenizer's eos token."""
    eos = tokenizer.eos_token_id
    if eos is None:
        return
    for config in (getattr(model, "generation_config", None), model.config):
        if config is not None:
            config.eos_token_id = eos
            if getattr(config, "pad_token_id", None) is None and tokenizer.pad_token_id is not None:
                config.pad_token_id = tokenizer.pad_token_id
