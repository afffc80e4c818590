"""Turn TRL's ``completions`` argument into plain strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or a list of chat turns (the last turn's content).

    Content given as a list of parts (``[{"type": "text", "text": ...}]``) is joined.

    >>> completion_text("hi"), completion_text([{"role": "assistant", "content": "yo"}])
    ('hi', 'yo')
    >>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "a"}]}])
    'a'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    if not completion:
        return ""
    content = completion[-1].get("content", "")
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def completion_texts(completions: Sequence[Any]) -> list[str]:
    """:func:`completion_text` of each completion."""
    return [completion_text(c) for c in completions]


def column(kwargs: dict, name: str, n: int, reward: str) -> list:
    """Dataset column ``name`` from the reward's kwargs, checked to have ``n`` entries."""
    if name not in kwargs or kwargs[name] is None:
        raise ValueError(f"reward {reward!r} needs the dataset column {name!r}")
    values = list(kwargs[name])
    if len(values) != n:
        raise ValueError(
            f"reward {reward!r}: column {name!r} has {len(values)} rows for {n} completions"
        )
    return values
