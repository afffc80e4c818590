"""The training options both stages share beyond TRL's config: a held-out split and LoRA.

TRL takes an `eval_dataset` and a `peft_config`; what it does not do is carve the eval split
out of the training rows reproducibly, or refuse a LoRA config before the model is loaded,
so those two steps are here.
"""

from __future__ import annotations

from r1.config import ConfigError


def split(ds, test_split_size: float, seed: int, *, stage: str):
    """``(train, eval)`` rows: ``eval`` is None when ``test_split_size`` is 0.

    The split is seeded (`data_seed`, else `seed`), so a rerun holds out the same rows, and
    the two parts are disjoint by construction (`datasets.Dataset.train_test_split`).
    """
    if not test_split_size:
        return ds, None
    held_out = round(len(ds) * test_split_size)
    if held_out < 1 or held_out >= len(ds):
        raise ConfigError(f"stage '{stage}': params.yaml {stage}.test_split_size = {test_split_size} holds out "
                          f"{held_out} of {len(ds)} rows; it must leave at least one row on each side")
    parts = ds.train_test_split(test_size=held_out, seed=seed, shuffle=True)
    return parts["train"], parts["test"]


def peft_config(values: dict | None, *, stage: str):
    """A `peft.LoraConfig` from params (None without LoRA); a clear error before any model loads."""
    if values is None:
        return None
    try:
        from peft import LoraConfig
    except ImportError:
        raise ConfigError(f"stage '{stage}': params.yaml {stage}.peft needs the peft package: "
                          "`uv sync --extra peft` (or R1_SYNC_ARGS=\"--extra peft\" bash scripts/repro.sh)") from None
    values = {"task_type": "CAUSAL_LM", **values}
    try:
        return LoraConfig(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"stage '{stage}': params.yaml {stage}.peft is not a valid peft.LoraConfig: {exc}") from None
