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
    # Generation must stop at end-of-turn and sample like the recipe; save_model keeps the
    # model's generation_config, and use_cache was only switched off for training.
    trainer.model.config.use_cache = True
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
