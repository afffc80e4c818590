"""The grpo stage's prompts: data/train/grpo rows (see r1.trainsets.build) plus the system prompt.

TRL's GRPOTrainer takes a conversational `prompt` column; every other column (`solution`,
`verification_info`, ...) reaches the reward functions as a keyword argument.
"""

from __future__ import annotations

from r1.data import DataError


def to_prompts(ds, *, system_prompt: str | None):
    """The data set with `system_prompt` put before each prompt's turns, where given."""
    if "prompt" not in ds.column_names:
        raise DataError(f"grpo: the training data has no 'prompt' column ({ds.column_names})")
    if not system_prompt:
        return ds
    head = [{"role": "system", "content": system_prompt}]
    return ds.map(lambda row: {"prompt": head + list(row["prompt"])})
