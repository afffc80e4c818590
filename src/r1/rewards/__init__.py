"""Verifiable rewards for GRPO, as TRL reward callables.

Use :func:`build` (one reward), :func:`build_all` (the ``grpo.reward_funcs`` list with
``grpo.reward_kwargs``), :func:`validate` (at config load, before heavy work) and
:func:`available`. Rewards: ``accuracy``, ``format``, ``think_format``, ``tag_count``,
``reasoning_steps``, ``repetition_penalty``, ``cosine``, ``length``,
``soft_overlong_punishment``, ``code``, ``binary_code``, ``code_format``, ``cf_code``,
``ioi_code``; or a user's own
``package.module:function``. Each reward's docstring states its semantics.

Each reward is called by TRL as ``f(prompts=..., completions=..., completion_ids=...,
trainer_state=..., **dataset_columns)`` and returns one ``float`` or ``None`` (no signal)
per completion.

Math verdicts cut short (a timeout) score 0.0 and are counted: :func:`timeout_count` gives
the running number in this process (take the difference around a step), and
:func:`verdict_counts` the breakdown.
"""

from r1.rewards import (  # noqa: F401  (registers them)
    code,
    competitive,
    format,
    length,
    math,
    repetition,
)
from r1.rewards.math import score_math, timeout_count, verdict_counts
from r1.rewards.registry import available, build, build_all, validate

__all__ = [
    "available",
    "build",
    "build_all",
    "score_math",
    "timeout_count",
    "validate",
    "verdict_counts",
]
