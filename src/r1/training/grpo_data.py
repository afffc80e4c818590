"""Turning decontaminated problems into GRPO prompts.

TRL's GRPOTrainer takes a conversational `prompt` column; every other column (`solution`,
`verification_info`, ...) reaches the reward functions as a keyword argument.
"""

from __future__ import annotations

from r1.data import DataError


def to_prompts(ds, *, prompt_column: str, system_prompt: str | None):
    """The data set with a `prompt` column of chat turns; the distillation columns dropped.

    The generations are dropped because GRPO samples its own completions; keeping a column
    named `prompt` from an earlier stage would be ambiguous, so it is replaced.
    """
    if prompt_column not in ds.column_names:
        raise DataError(f"grpo: prompt column '{prompt_column}' not in the data ({ds.column_names})")
    head = [{"role": "system", "content": system_prompt}] if system_prompt else []
    drop = [c for c in ("prompt", "generations", "finish_reasons", "completion_tokens", "prompt_tokens", "model_name")
            if c in ds.column_names]
    ds = ds.remove_columns(drop)
    return ds.map(lambda row: {"prompt": head + [{"role": "user", "content": row[prompt_column]}]})
