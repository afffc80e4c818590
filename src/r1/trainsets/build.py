"""Building a training stage's data: map each source onto the stage's schema, then mix.

The schemas (what the training stages read from data/train/<stage>/train.parquet):
- sft: `messages`, a conversation of {role, content} turns without a system turn (the stage
  adds `sft.system_prompt`). Built from a `messages` column, or from `prompt` plus
  `completion` (one answer) or `generations` (the distilled rows' list of answers).
- grpo: `prompt`, the user turns (the stage adds `grpo.system_prompt`), and every other
  column the sources share (`solution`, `verification_info`, ...), which TRL passes to the
  reward functions as keyword arguments.

The mixture follows open-r1's `get_dataset`: each dataset is shuffled with the mixture's seed
and its first `weight` share of rows kept; the parts are concatenated and shuffled again.
"""

from __future__ import annotations

from r1.data import DataError
from r1.trainsets.spec import Member, Mixture

# Columns of the distilled rows that describe generations, not the problem: GRPO samples its
# own completions, so they are not passed on as reward arguments.
GENERATION_COLUMNS = ("generations", "finish_reasons", "completion_tokens", "prompt_tokens", "model_name")


def apply_columns(ds, member: Member, where: str):
    """The data set with each mapped column (stage name <- source name) added."""
    missing = {t: s for t, s in member.columns.items() if s not in ds.column_names}
    if missing:
        target, column = next(iter(missing.items()))
        raise DataError(f"{where}.columns.{target}: source '{member.source}' has no column '{column}' "
                        f"(its columns: {', '.join(ds.column_names)})")
    renames = {s: t for t, s in member.columns.items() if s != t}
    if not renames:
        return ds
    columns = dict(member.columns)
    # Targets computed from the row before anything is dropped, so {prompt: problem} replaces
    # an existing `prompt` column and one source column may feed two targets.
    ds = ds.map(lambda row: {t: row[s] for t, s in columns.items()},
                remove_columns=[c for c in ds.column_names if c in columns and columns.get(c) != c])
    return ds


def _turns(value, where: str) -> list[dict]:
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, list) and all(isinstance(t, dict) and "role" in t and "content" in t for t in value):
        return [{"role": str(t["role"]), "content": str(t["content"])} for t in value if t["role"] != "system"]
    raise DataError(f"{where}: a prompt must be text or a list of {{role, content}} turns, got {type(value).__name__}")


def to_sft(ds, where: str, generations: str) -> list[dict]:
    """Rows of the sft schema: one conversation (`messages`) per training example."""
    cols = set(ds.column_names)
    rows = []
    if "messages" in cols:
        for row in ds:
            turns = _turns(row["messages"], f"{where}: column 'messages'")
            if not any(t["role"] == "assistant" and t["content"].strip() for t in turns):
                continue  # nothing to learn from
            rows.append({"messages": turns})
    elif {"prompt", "completion"} <= cols:
        for row in ds:
            if isinstance(row["completion"], str) and row["completion"].strip():
                rows.append({"messages": _turns(row["prompt"], where) +
                             [{"role": "assistant", "content": row["completion"]}]})
    elif {"prompt", "generations"} <= cols:
        for row in ds:
            gens = [g for g in (row["generations"] or []) if isinstance(g, str) and g.strip()]
            for g in gens[:1] if generations == "first" else gens:
                rows.append({"messages": _turns(row["prompt"], where) + [{"role": "assistant", "content": g}]})
    else:
        raise DataError(f"{where}: sft needs a 'messages' column, or 'prompt' with 'completion' or "
                        f"'generations' (map them with columns); the data has {', '.join(ds.column_names)}")
    if not rows:
        raise DataError(f"{where}: no training conversation (no row has a non-empty answer)")
    return rows


def to_grpo(ds, where: str):
    """The data set in the grpo schema: `prompt` as user turns, the other columns kept."""
    if "prompt" not in ds.column_names:
        raise DataError(f"{where}: grpo needs a 'prompt' column (map one with columns, e.g. "
                        f"{{prompt: problem}}); the data has {', '.join(ds.column_names)}")
    ds = ds.remove_columns([c for c in GENERATION_COLUMNS if c in ds.column_names])
    return ds.map(lambda row: {"prompt": _turns(row["prompt"], f"{where}: column 'prompt'")})


def mix(parts: list[tuple[Member, object]], mixture: Mixture, stage: str):
    """open-r1's mixture of the (already mapped) parts; also the rows each part gave."""
    import datasets

    chosen, counts = [], {}
    for i, (member, ds) in enumerate(parts):
        n = int(len(ds) * member.weight)
        if n == 0:
            raise DataError(f"{stage}.dataset_mixture.datasets[{i}]: weight {member.weight} of the "
                            f"{len(ds)} rows of '{member.source}' keeps no row")
        chosen.append(ds.shuffle(seed=mixture.seed).select(range(n)))
        counts[member.source] = {"rows": len(ds), "used": n}
    if stage == "grpo" and len(chosen) > 1:
        shared = set.intersection(*(set(d.column_names) for d in chosen))
        chosen = [d.select_columns([c for c in d.column_names if c in shared]) for d in chosen]
    try:
        mixed = datasets.concatenate_datasets(chosen)
    except ValueError as exc:  # e.g. a column that is text in one source and a number in another
        raise DataError(f"{stage}.dataset_mixture: the datasets' columns do not line up: {exc}") from None
    return mixed.shuffle(seed=mixture.seed), counts


def decontamination_texts(ds, stage: str, check_completions: bool) -> list:
    """Per row, the texts matched against the benchmarks: its user turns (and answers)."""
    column = "messages" if stage == "sft" else "prompt"
    texts = []
    for turns in ds[column]:
        user = "\n".join(t["content"] for t in turns if t["role"] == "user")
        if check_completions:  # a list per row (the decontaminator's form for several texts)
            texts.append([user, *(t["content"] for t in turns if t["role"] == "assistant")])
        else:
            texts.append(user)
    return texts


def duplicate_texts(ds, stage: str) -> list[str]:
    """Per row, what makes two rows the same example: the whole conversation for sft (one
    prompt may come with several answers, each its own example), the prompt for grpo."""
    column = "messages" if stage == "sft" else "prompt"
    return ["\n".join(f"{t['role']}: {t['content']}" for t in turns) for turns in ds[column]]
