"""Allowed values of numeric params, declared once per field, and the cross-field rules.

A value of the right type can still be nonsense (a negative learning rate, top_p 2.0, a
generation longer than the context). TRL, transformers, distilabel and lighteval find such
values late or never: after the model has loaded, with a library traceback, or not at all
(0 epochs trains nothing and exits 0). Their checks are scattered through their __post_init__
methods and trainers, so the loader declares the ranges itself, here, and
`r1.config.load_section` checks them before any stage loads a model.

Where each declaration lives:
- the project's dataclasses (r1.configs) name theirs in a ``RANGES`` class attribute and
  inherit `Checked`, so direct construction is checked too;
- TRL's SFTConfig/GRPOConfig fields are in `TRAINER_RANGES`, keyed by TRL's field name;
- rules that relate two fields are in `CROSS_FIELD_RULES`, keyed by the class name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar


class OutOfRange(ValueError):
    """A field's value outside what it allows; ``str`` is ``key = value is out of range: ...``."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key} = {value!r} is out of range: {allowed}")


@dataclass(frozen=True)
class Range:
    """An interval of numbers, plus sentinel values allowed outside it (e.g. -1 = unset)."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    sentinels: tuple[tuple[Any, str], ...] = ()

    def contains(self, value: Any) -> bool:
        if any(value == s for s, _ in self.sentinels):
            return True
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        if self.high == math.inf:
            text = f"must be {'>' if self.low_open else '>='} {_num(self.low)}"
        elif self.low == -math.inf:
            text = f"must be {'<' if self.high_open else '<='} {_num(self.high)}"
        else:
            text = (f"must be in {'(' if self.low_open else '['}{_num(self.low)}, "
                    f"{_num(self.high)}{')' if self.high_open else ']'}")
        return text + "".join(f" or {s!r} ({meaning})" for s, meaning in self.sentinels)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


POSITIVE = Range(0, low_open=True)
NON_NEGATIVE = Range(0)
AT_LEAST_1 = Range(1)
AT_LEAST_2 = Range(2)
PROBABILITY = Range(0, 1, low_open=True)  # top_p and other (0, 1] shares
FRACTION = Range(0, 1)

# TRL's SFTConfig / GRPOConfig (and transformers' TrainingArguments) fields, by TRL's own name.
# A key applies to every trainer class that has the field; tests check each key exists.
TRAINER_RANGES: dict[str, Range] = {
    "learning_rate": POSITIVE,
    "num_train_epochs": NON_NEGATIVE,  # 0 only with max_steps set: see CROSS_FIELD_RULES
    "max_steps": Range(1, sentinels=((-1, "unset: train num_train_epochs epochs"),)),
    "per_device_train_batch_size": AT_LEAST_1,
    "per_device_eval_batch_size": AT_LEAST_1,
    "gradient_accumulation_steps": AT_LEAST_1,
    "eval_accumulation_steps": AT_LEAST_1,
    "max_length": AT_LEAST_1,
    "max_completion_length": AT_LEAST_1,
    # transformers reads a value below 1 as a fraction of the total steps
    "warmup_steps": NON_NEGATIVE,
    "save_steps": POSITIVE,
    "logging_steps": POSITIVE,
    "eval_steps": POSITIVE,
    "save_total_limit": AT_LEAST_1,
    "weight_decay": NON_NEGATIVE,
    "max_grad_norm": NON_NEGATIVE,
    "adam_beta1": Range(0, 1, high_open=True),
    "adam_beta2": Range(0, 1, high_open=True),
    "adam_epsilon": POSITIVE,
    "dataloader_num_workers": NON_NEGATIVE,
    # GRPO: advantages are relative within a group, so a group needs two completions, and
    # sampling that makes them differ.
    "num_generations": AT_LEAST_2,
    "num_iterations": AT_LEAST_1,
    "generation_batch_size": AT_LEAST_1,
    "steps_per_generation": AT_LEAST_1,
    "temperature": POSITIVE,
    "top_p": PROBABILITY,
    "top_k": NON_NEGATIVE,  # 0 disables top-k
    "min_p": FRACTION,
    "repetition_penalty": POSITIVE,
    "beta": NON_NEGATIVE,
    "epsilon": NON_NEGATIVE,
    "epsilon_high": NON_NEGATIVE,
    "vllm_gpu_memory_utilization": PROBABILITY,
}


@dataclass(frozen=True)
class Rule:
    """A relation between fields: ``ok(values)`` is false when ``key`` must change."""

    key: str
    ok: Callable[[dict], bool]
    allowed: Callable[[dict], str]


CROSS_FIELD_RULES: dict[str, tuple[Rule, ...]] = {
    # transformers' TrainingArguments: the base of TRL's SFTConfig and GRPOConfig
    "TrainingArguments": (
        Rule("num_train_epochs",
             lambda v: v["num_train_epochs"] > 0 or v["max_steps"] > 0,
             lambda v: f"must be > 0 while max_steps is {v['max_steps']!r} (unset): 0 epochs trains nothing"),
        # transformers raises this only when training starts, after the model has loaded
        Rule("lr_scheduler_type",
             lambda v: str(v["lr_scheduler_type"]) not in ("cosine_with_min_lr", "SchedulerType.COSINE_WITH_MIN_LR")
             or bool({"min_lr", "min_lr_rate"} & set(v.get("lr_scheduler_kwargs") or {})),
             lambda v: "cosine_with_min_lr needs min_lr or min_lr_rate in lr_scheduler_kwargs "
                       f"(got {v.get('lr_scheduler_kwargs') or {}!r}), e.g. {{min_lr_rate: 0.1}}"),
    ),
    "EmbeddedConfig": (
        Rule("planted_contamination",
             lambda v: v["planted_contamination"] <= v["benchmark_size"],
             lambda v: f"cannot exceed benchmark_size ({v['benchmark_size']})"),
    ),
    "EvaluateConfig": (
        # Equal is allowed: open-r1 evaluates with both at 32768, and lighteval then keeps the
        # whole prompt (it truncates prompts to max_model_length - max_new_tokens, and a
        # slice [-0:] is the whole prompt). A larger value leaves it fewer than 0 tokens.
        Rule("max_new_tokens",
             lambda v: v["max_model_length"] is None or v["max_new_tokens"] <= v["max_model_length"],
             lambda v: f"must be <= max_model_length ({v['max_model_length']}), the context that holds "
                       "prompt and generation"),
        Rule("temperature",
             lambda v: (v["num_generations"] or 1) == 1 or v["temperature"] > 0,
             lambda v: f"must be > 0: num_generations > 1 needs temperature > 0 "
                       f"(num_generations is {v['num_generations']}; greedy samples are all the same)"),
    ),
    "FilterConfig": (
        Rule("pass_rate_min",
             lambda v: v["pass_rate_min"] <= v["pass_rate_max"],
             lambda v: f"must not exceed pass_rate_max ({v['pass_rate_max']})"),
        Rule("pass_rate_min",
             lambda v: v["pass_rate_min"] < v["pass_rate_max"] or (v["include_min"] and v["include_max"]),
             lambda v: f"the pass-rate range is empty: min = max = {v['pass_rate_min']} with an excluded "
                       "bound (set include_min and include_max true)"),
    ),
}


def rules_for(cls: type) -> tuple[Rule, ...]:
    return tuple(rule for base in cls.__mro__ for rule in CROSS_FIELD_RULES.get(base.__name__, ()))


def check_value(key: str, value: Any, allowed: Range | None) -> None:
    """Raise OutOfRange for a number outside ``allowed``; None (an unset Optional) passes."""
    if allowed is None or value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return  # the type check, not this one, reports a value that is not a number
    if not allowed.contains(value):
        raise OutOfRange(key, value, str(allowed))


def check_rules(cls: type, values: dict) -> None:
    for rule in rules_for(cls):
        if not rule.ok(values):
            raise OutOfRange(rule.key, values[rule.key], rule.allowed(values))


def with_defaults(cls: type, given: dict) -> dict:
    """``given`` over the dataclass ``cls``'s defaults: what a cross-field rule sees."""
    values = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
    return {**values, **given}


class Checked:
    """Base of the project's params dataclasses: construction checks ``RANGES`` and the
    class's cross-field rules, raising OutOfRange (a ValueError) naming the field."""

    RANGES: ClassVar[dict[str, Range]] = {}

    def __post_init__(self):
        for key, allowed in self.RANGES.items():
            check_value(key, getattr(self, key), allowed)
        check_rules(type(self), {f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
