"""Shape rewards: ``format``, ``think_format``, ``tag_count``, ``reasoning_steps``, ``code_format``."""

from __future__ import annotations

import re

from r1.rewards._completions import completion_texts
from r1.rewards.registry import register

# Text that contains none of the four tags: blocks cannot repeat or nest inside a match.
_NO_TAG = r"(?:(?!</?(?:think|answer)>).)"

# open-r1's shape, anchored at both ends of the whole string (open-r1 used re.MULTILINE, so
# its ``$`` matched at any line end and accepted text after ``</answer>``). Only trailing
# whitespace may follow the closing tag.
FORMAT_RE = re.compile(
    rf"<think>\n{_NO_TAG}*?\n</think>\n<answer>\n{_NO_TAG}*?\n</answer>\s*", re.DOTALL
)


def _turn_texts(completions, prefill: str) -> list[str]:
    """The assistant's whole turn per completion: ``prefill`` (what the chat template's
    generation prompt already wrote into the turn, e.g. DeepSeek-R1's ``<think>\\n``) and the
    generated text that continues it. TRL hands the rewards the generated text only."""
    return [prefill + t for t in completion_texts(completions)]


@register("format")
def make_format(*, prefill: str = ""):
    """``format``: 1.0 if the whole completion is ``<think>\\n...\\n</think>\\n<answer>\\n...\\n</answer>``.

    Nothing but whitespace may follow ``</answer>``, and no tag may repeat. ``prefill`` is the
    start of the assistant turn that the chat template writes (a template that prefills
    ``<think>\\n``): the completion is judged as its continuation.

    >>> f = make_format()
    >>> f(["<think>\\nhm\\n</think>\\n<answer>\\n4\\n</answer>",
    ...    "<think>\\nhm\\n</think>\\n<answer>\\n4\\n</answer>\\nP.S. more text",
    ...    "<think>\\na\\n</think>\\n<answer>\\n1\\n</answer>\\n<think>\\nb\\n</think>\\n<answer>\\n2\\n</answer>"])
    [1.0, 0.0, 0.0]
    >>> make_format(prefill="<think>\\n")(["hm\\n</think>\\n<answer>\\n4\\n</answer>"])
    [1.0]
    """

    def format(completions, **kwargs) -> list[float]:
        return [1.0 if FORMAT_RE.fullmatch(t) else 0.0 for t in _turn_texts(completions, prefill)]

    return format


@register("think_format")
def make_think_format():
    """``think_format``: 1.0 for a real R1 trace: reasoning, ``</think>``, then an answer with ``\\boxed{}``.

    The opening ``<think>`` is optional (templates that pre-fill it leave it out of the
    completion); if present it must come first. Exactly one ``</think>``, non-empty
    reasoning, and a ``\\boxed{...}`` after it.

    >>> f = make_think_format()
    >>> f(["<think>\\nso x=2\\n</think>\\n\\nThe answer is $\\\\boxed{2}$.", "so x=2\\n</think>\\n\\\\boxed{2}",
    ...    "<think>x</think> the answer is 2", "\\\\boxed{2}", "a</think>b</think>\\\\boxed{2}"])
    [1.0, 1.0, 0.0, 0.0, 0.0]
    """

    def think_format(completions, **kwargs) -> list[float]:
        return [1.0 if _is_think_shape(t) else 0.0 for t in completion_texts(completions)]

    return think_format


def _is_think_shape(text: str) -> bool:
    text = text.lstrip()
    if text.startswith("<think>"):
        text = text[len("<think>") :]
    if "<think>" in text or text.count("</think>") != 1:
        return False
    reasoning, answer = text.split("</think>")
    return bool(reasoning.strip()) and re.search(r"\\boxed\{.+?\}", answer, re.DOTALL) is not None


@register("tag_count")
def make_tag_count(*, prefill: str = ""):
    """``tag_count``: 0.25 for each of the four ``format`` tags that appears exactly once
    (in ``prefill`` + the completion, as ``format`` judges it).

    >>> make_tag_count()(["<think>\\nx\\n</think>\\n<answer>\\ny\\n</answer>", "<think>\\nx\\n</think>\\n"])
    [1.0, 0.5]
    """

    def tag_count(completions, **kwargs) -> list[float]:
        out = []
        for text in _turn_texts(completions, prefill):
            out.append(
                0.25
                * sum(
                    text.count(tag) == 1
                    for tag in ("<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>")
                )
            )
        return out

    return tag_count


# "Step 1:", a numbered line "1.", a bullet "- " or "* " at a line start, or a transition word.
# open-r1 left out re.MULTILINE, so "^\d+\." only matched at the very start of the text.
STEP_RE = re.compile(r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)", re.MULTILINE)


@register("reasoning_steps")
def make_reasoning_steps(*, min_steps: int = 3):
    """``reasoning_steps``: ``min(1, steps / min_steps)``, counting step markers.

    >>> make_reasoning_steps()(["First, add.\\n2. Then carry.\\nFinally, done.", "just 4", "Step 1: a"])
    [1.0, 0.0, 0.3333333333333333]
    """
    if min_steps < 1:
        raise ValueError("min_steps must be >= 1")

    def reasoning_steps(completions, **kwargs) -> list[float]:
        return [
            min(1.0, len(STEP_RE.findall(t)) / min_steps) for t in completion_texts(completions)
        ]

    return reasoning_steps


FENCE_LANGS = {"python": "python|py|python3", "cpp": r"cpp|c\+\+|cxx"}


def _check_code_format(*, language: str = "python", prefill: str = "") -> None:
    if language not in FENCE_LANGS:
        raise ValueError(f"language must be one of {sorted(FENCE_LANGS)}, got {language!r}")


@register("code_format", check=_check_code_format)
def make_code_format(*, language: str = "python", prefill: str = ""):
    """``code_format``: ``format``'s shape whose answer holds a fenced ``language`` code block
    (``prefill`` as for ``format``).

    >>> f = make_code_format()
    >>> f(["<think>\\nplan\\n</think>\\n<answer>\\n```python\\nprint(1)\\n```\\n</answer>",
    ...    "<think>\\nplan\\n</think>\\n<answer>\\nprint(1)\\n</answer>",
    ...    "<think>\\nplan\\n</think>\\n<answer>\\n```python\\nprint(1)\\n```\\n</answer>\\nextra"])
    [1.0, 0.0, 0.0]
    """
    _check_code_format(language=language)
    pattern = re.compile(
        rf"<think>\n{_NO_TAG}*?\n</think>\n<answer>\n{_NO_TAG}*?```(?:{FENCE_LANGS[language]})\n"
        rf"{_NO_TAG}*?```{_NO_TAG}*?\n</answer>\s*",
        re.DOTALL,
    )

    def code_format(completions, **kwargs) -> list[float]:
        return [1.0 if pattern.fullmatch(t) else 0.0 for t in _turn_texts(completions, prefill)]

    return code_format
