"""Good and bad cases for every reward, including each case where open-r1 was wrong."""

from __future__ import annotations

import math

import pytest

import r1.rewards as R
from r1.rewards import build

THINK = "<think>\nreasoning\n</think>\n"
GOOD_FORMAT = THINK + "<answer>\n42\n</answer>"


def chat(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def call(name: str, completions, **columns):
    """Call a reward the way TRL 1.16 does, extra keyword arguments included."""
    return build(name, **columns.pop("_kwargs", {}))(
        prompts=columns.pop("prompts", ["p"] * len(completions)),
        completions=completions,
        completion_ids=columns.pop("completion_ids", None),
        trainer_state=object(),
        some_unused_column=[0] * len(completions),
        **columns,
    )


# -- accuracy -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("completion", "gold", "expected"),
    [
        ("The answer is $\\boxed{12}$.", "$12$", 1.0),
        ("\\boxed{12}", "\\boxed{12}", 1.0),
        ("\\boxed{\\frac{1}{2}}", "0.5", 1.0),
        ("first $3$ then \\boxed{12}", "12", 1.0),  # boxed has priority over earlier math
        ("\\boxed{13}", "$12$", 0.0),
        ("I have no idea", "12", 0.0),
        ("", "12", 0.0),
        # open-r1 gave 1.0 for an unparseable gold; it must be "no signal".
        ("\\boxed{12}", "no number in this gold", None),
        # open-r1 called verify(answer, gold): an interval answer to an inequality gold then
        # failed. verify(gold, answer) accepts it.
        ("\\boxed{(1, \\infty)}", "$x > 1$", 1.0),
    ],
)
def test_accuracy(completion, gold, expected):
    assert call("accuracy", [completion], solution=[gold]) == [expected]
    assert call("accuracy", [chat(completion)], solution=[gold]) == [expected]


def test_accuracy_needs_solution_column():
    with pytest.raises(ValueError, match="solution"):
        build("accuracy")(completions=["x"])


# -- format and friends ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (GOOD_FORMAT, 1.0),
        (GOOD_FORMAT + "\n", 1.0),
        (GOOD_FORMAT + "\nand some text after the answer", 0.0),  # open-r1's MULTILINE accepted it
        (GOOD_FORMAT + "\n" + GOOD_FORMAT, 0.0),  # repeated blocks
        ("<think>\na\n</think>\n<answer>\n1\n</answer>\n<answer>\n2\n</answer>", 0.0),
        ("preamble\n" + GOOD_FORMAT, 0.0),
        ("<think>reasoning</think><answer>42</answer>", 0.0),  # newlines are part of the shape
        ("<answer>\n42\n</answer>", 0.0),
    ],
)
def test_format(completion, expected):
    assert call("format", [completion]) == [expected]
    assert call("format", [chat(completion)]) == [expected]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("<think>\nx = 2\n</think>\n\nSo the answer is $\\boxed{2}$.", 1.0),
        ("x = 2 because...\n</think>\n\\boxed{2}", 1.0),  # template pre-filled <think>
        ("<think>\nx\n</think>\nthe answer is 2", 0.0),  # no boxed answer
        ("<think>\n\n</think>\n\\boxed{2}", 0.0),  # empty reasoning
        ("<think>a</think>\\boxed{1}<think>b</think>\\boxed{2}", 0.0),
        ("\\boxed{2}", 0.0),
        ("x <think> y </think> \\boxed{2}", 0.0),  # <think> not first
    ],
)
def test_think_format(completion, expected):
    assert call("think_format", [completion]) == [expected]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (GOOD_FORMAT, 1.0),
        (THINK, 0.5),
        ("<think>\n<think>\n", 0.0),
        ("", 0.0),
    ],
)
def test_tag_count(completion, expected):
    assert call("tag_count", [completion]) == [expected]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("Step 1: a\nStep 2: b\nStep 3: c", 1.0),
        (
            "We start.\n1. add\n2. carry\n3. done",
            1.0,
        ),  # numbered lines (open-r1 saw only the first)
        ("First, x. Next, y.", 2 / 3),
        ("just the answer", 0.0),
    ],
)
def test_reasoning_steps(completion, expected):
    assert call("reasoning_steps", [completion]) == [pytest.approx(expected)]


@pytest.mark.parametrize(
    ("completion", "kwargs", "expected"),
    [
        ("the cat sat on the mat today", {}, 0.0),
        ("go go go go go go", {"ngram_size": 2, "max_penalty": -2.0}, -2.0 * (1 - 1 / 5)),
        ("a b", {}, 0.0),
        ("", {}, 0.0),
    ],
)
def test_repetition_penalty(completion, kwargs, expected):
    assert call("repetition_penalty", [completion], _kwargs=kwargs) == [pytest.approx(expected)]


@pytest.mark.parametrize(
    ("completion", "language", "expected"),
    [
        (THINK + "<answer>\n```python\nprint(1)\n```\n</answer>", "python", 1.0),
        (THINK + "<answer>\nHere:\n```cpp\nint main(){}\n```\n</answer>", "cpp", 1.0),
        (THINK + "<answer>\n```cpp\nint main(){}\n```\n</answer>", "python", 0.0),
        (THINK + "<answer>\nprint(1)\n</answer>", "python", 0.0),
        (THINK + "<answer>\n```python\nprint(1)\n```\n</answer>\ntrailing", "python", 0.0),
    ],
)
def test_code_format(completion, language, expected):
    assert call("code_format", [completion], _kwargs={"language": language}) == [expected]


# -- length-shaped rewards ------------------------------------------------------------------
COSINE = {
    "min_value_wrong": -1.0,
    "max_value_wrong": -0.5,
    "min_value_correct": 0.5,
    "max_value_correct": 1.0,
    "max_len": 100,
}


def test_cosine_direction_and_clamp():
    right_short, right_long, right_huge = (
        "\\boxed{7}",
        "\\boxed{7}" + "x" * 91,
        "\\boxed{7}" + "x" * 500,
    )
    wrong_short, wrong_long, wrong_huge = (
        "\\boxed{8}",
        "\\boxed{8}" + "x" * 91,
        "\\boxed{8}" + "x" * 500,
    )
    r = call(
        "cosine",
        [right_short, right_long, right_huge, wrong_short, wrong_long, wrong_huge],
        solution=["7"] * 6,
        _kwargs=COSINE,
    )
    # Correct: shorter is better, from max_value_correct down to min_value_correct.
    assert r[0] > r[1] and r[0] == pytest.approx(1.0, abs=0.02) and r[1] == pytest.approx(0.5)
    # Wrong: a quick wrong guess is punished most; long thought less (open-r1's defaults
    # inverted this).
    assert r[3] < r[4] and r[3] == pytest.approx(-1.0, abs=0.02) and r[4] == pytest.approx(-0.5)
    # Clamped at max_len (open-r1's cosine turned back up past max_len).
    assert r[2] == pytest.approx(0.5) and r[5] == pytest.approx(-0.5)
    assert all(x > 0 for x in r[:3]) and all(x < 0 for x in r[3:])


def test_cosine_uses_tokens_when_given():
    completions = ["\\boxed{7}" + "x" * 500] * 2
    r = call(
        "cosine",
        completions,
        solution=["7"] * 2,
        completion_ids=[[1] * 0, [1] * 100],
        _kwargs=COSINE,
    )
    assert r == [pytest.approx(1.0), pytest.approx(0.5)]


def test_cosine_unparseable_gold_is_none():
    assert call("cosine", ["\\boxed{7}"], solution=["???"], _kwargs=COSINE) == [None]


@pytest.mark.parametrize(
    "bad",
    [
        {"min_value_wrong": 0.0, "max_value_wrong": -0.5},  # open-r1's config defaults
        {"min_value_correct": 1.0, "max_value_correct": 0.5},
        {"max_len": 0},
    ],
)
def test_cosine_rejects_inverted_bounds(bad):
    with pytest.raises(ValueError, match="cosine"):
        R.validate(["cosine"], {"cosine": bad})
    with pytest.raises(ValueError):
        build("cosine", **bad)


def test_length_is_groupwise():
    # Two prompts; lengths differ wildly between groups, which must not matter.
    completions = [
        "\\boxed{1}",
        "\\boxed{1}" + "x" * 10,
        "\\boxed{9}" + "x" * 1000,
        "\\boxed{2}" + "x" * 1000,
        "\\boxed{2}" + "x" * 1010,
        "\\boxed{3}" + "x" * 1005,
    ]
    prompts = ["p", "p", "p", "q", "q", "q"]
    solution = ["1", "1", "1", "2", "2", "?"]
    r = call("length", completions, prompts=prompts, solution=solution)
    lo, hi = 9, 1009
    assert r[0] == pytest.approx(0.5)  # shortest, correct
    assert r[1] == pytest.approx(0.5 - 10 / (hi - lo))  # correct, a bit longer
    assert r[2] == pytest.approx(min(0.0, 0.5 - 1.0))  # longest, wrong
    # Group q: min and max are q's own lengths, so q's shortest correct earns 0.5 even
    # though p has far shorter completions (open-r1 used the whole batch).
    assert r[3] == pytest.approx(0.5) and r[4] == pytest.approx(-0.5)
    assert r[5] is None  # unparseable gold


def test_length_equal_lengths_give_zero():
    assert call(
        "length", ["\\boxed{1}", "\\boxed{2}"], prompts=["p", "p"], solution=["1", "1"]
    ) == [0.0, 0.0]


@pytest.mark.parametrize(
    ("n_tokens", "expected"),
    [(0, 0.0), (80, 0.0), (81, -1 / 20), (90, -0.5), (100, -1.0), (1000, -1.0)],
)
def test_soft_overlong_punishment(n_tokens, expected):
    r = call(
        "soft_overlong_punishment",
        ["text"],
        completion_ids=[[7] * n_tokens],
        _kwargs={"max_completion_len": 100, "soft_punish_cache": 20},
    )
    assert r == [pytest.approx(expected)]


def test_soft_overlong_needs_token_ids():
    with pytest.raises(ValueError, match="completion_ids"):
        build("soft_overlong_punishment")(completions=["x"])


def test_every_reward_returns_one_value_per_completion():
    completions = [GOOD_FORMAT, "\\boxed{1}"]
    columns = {
        "solution": ["42", "1"],
        "completion_ids": [[1, 2], [3]],
        "verification_info": [
            {
                "language": "python",
                "test_cases": [{"type": "stdin_stdout", "input": "", "output": "1"}],
            }
        ]
        * 2,
        # cf_code and ioi_code read the competition datasets' own columns.
        "official_tests": [[{"input": "", "output": "1"}]] * 2,
        "time_limit": [1.0] * 2,
        "memory_limit": [256] * 2,
        "id": ["p"] * 2,
        "test_names": [["1"]] * 2,
        "test_cases": [{"1": ["", "1"]}] * 2,
    }
    for name in R.available():
        r = call(name, completions, **dict(columns))
        assert len(r) == 2 and all(
            x is None or (isinstance(x, float) and math.isfinite(x)) for x in r
        ), name


# A chat template that prefills "<think>\n" (DeepSeek-R1's) leaves it out of the completion.
PREFILLED = GOOD_FORMAT[len("<think>\n"):]


@pytest.mark.parametrize("name", ["format", "tag_count"])
def test_a_completion_after_a_prefilled_think_passes_the_shape_rewards_given_the_prefill(name):
    assert call(name, [PREFILLED]) != [1.0]  # judged alone, the turn lacks its opening tag
    assert call(name, [PREFILLED, chat(PREFILLED)], _kwargs={"prefill": "<think>\n"}) == [1.0, 1.0]
    # the model repeating the prefilled tag is a malformed turn, not a pass
    assert call(name, [GOOD_FORMAT], _kwargs={"prefill": "<think>\n"}) != [1.0]


def test_code_format_after_a_prefilled_think():
    completion = "plan\n</think>\n<answer>\n```python\nprint(1)\n```\n</answer>"
    assert call("code_format", [completion], _kwargs={"prefill": "<think>\n"}) == [1.0]
    assert call("code_format", [completion]) == [0.0]
