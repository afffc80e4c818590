"""Turning distilled rows (a prompt and its generations) into TRL's conversational format."""

from __future__ import annotations

from r1.data import DataError


def to_messages(rows, *, prompt_column: str, system_prompt: str | None, generations: str) -> list[dict]:
    """One `{"messages": [...]}` example per kept generation.

    `generations="all"` keeps every generation of a prompt as its own example (open-r1's
    Mixture-of-Thoughts style); `"first"` keeps one per prompt.
    """
    examples = []
    for row in rows:
        prompt = row.get(prompt_column)
        if not isinstance(prompt, str):
            raise DataError(f"sft: column '{prompt_column}' is missing or not text in a training row")
        gens = [g for g in (row.get("generations") or []) if isinstance(g, str) and g.strip()]
        if generations == "first":
            gens = gens[:1]
        head = [{"role": "system", "content": system_prompt}] if system_prompt else []
        for g in gens:
            examples.append({"messages": head + [{"role": "user", "content": prompt},
                                                 {"role": "assistant", "content": g}]})
    if not examples:
        raise DataError("sft: no training examples (no row has a non-empty generation)")
    return examples
