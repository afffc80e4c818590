"""The sft stage's conversations: data/train/sft rows (see r1.trainsets.build) plus the system prompt."""

from __future__ import annotations

from r1.data import DataError


def to_messages(rows, *, system_prompt: str | None) -> list[dict]:
    """One `{"messages": [...]}` example per row, `system_prompt` first where given.

    The data stage keeps no system turn, so the prompt is params' alone and changing it
    reruns sft only, not the data stage.
    """
    head = [{"role": "system", "content": system_prompt}] if system_prompt else []
    examples = []
    for i, row in enumerate(rows):
        turns = row.get("messages")
        if not isinstance(turns, list) or not turns:
            raise DataError(f"sft: training row {i} has no 'messages' conversation")
        examples.append({"messages": head + [{"role": t["role"], "content": t["content"]} for t in turns]})
    if not examples:
        raise DataError("sft: no training examples")
    return examples
