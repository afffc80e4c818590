"""The filter library: config checks, the pass-rate range, the keep/drop rules, scoring with
the real verifiers (math-verify and the bubblewrap sandbox) and the arrow output."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from r1 import filtering
from r1.config import ConfigError, load_section
from r1.configs import FilterConfig
from r1.filtering import decide, in_range, row_kind

# --- config -------------------------------------------------------------------------------


def test_config_defaults_and_strict_loading():
    cfg, _ = load_section(
        {"filter": {"pass_rate_min": 0.1, "keep": "all"}}, "filter", "filter", FilterConfig
    )
    assert (cfg.pass_rate_min, cfg.pass_rate_max, cfg.keep, cfg.drop_truncated) == (
        0.1,
        1.0,
        "all",
        True,
    )
    with pytest.raises(
        ConfigError, match="unknown key 'pass_rate_mx'.*did you mean 'pass_rate_max'"
    ):
        load_section({"filter": {"pass_rate_mx": 0.5}}, "filter", "filter", FilterConfig)
    with pytest.raises(ConfigError, match="filter.keep = 'best' .* one of 'correct', 'all'"):
        load_section({"filter": {"keep": "best"}}, "filter", "filter", FilterConfig)
    with pytest.raises(
        ConfigError,
        match="filter.code_scorer = 'codeforces' .* one of 'code', 'cf_code', 'ioi_code'",
    ):
        load_section({"filter": {"code_scorer": "codeforces"}}, "filter", "filter", FilterConfig)
    cfg, _ = load_section(
        {"filter": {"code_scorer": "cf_code", "code_kwargs": {"language": "python"}}},
        "filter",
        "filter",
        FilterConfig,
    )
    assert (cfg.code_scorer, cfg.code_kwargs) == ("cf_code", {"language": "python"})
    assert FilterConfig().code_scorer == "code"  # the embedded default's scorer


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"pass_rate_min": 0.8, "pass_rate_max": 0.2},
            r"pass_rate_min = 0.8 is out of range: must not exceed pass_rate_max \(0.2\)",
        ),
        ({"pass_rate_min": -0.1}, r"pass_rate_min = -0.1 is out of range: must be in \[0, 1\]"),
        ({"pass_rate_max": 1.5}, r"pass_rate_max = 1.5 is out of range: must be in \[0, 1\]"),
        ({"pass_rate_min": 0.5, "pass_rate_max": 0.5, "include_max": False}, "range is empty"),
        ({"solution_column": None, "verification_column": None}, "cannot both be null"),
        ({"math_timeout": 0.0}, "math_timeout = 0.0 is out of range: must be > 0"),
        ({"math_workers": 0}, "math_workers = 0 is out of range: must be >= 1"),
        ({"code_provider": "docker"}, "unknown sandbox provider 'docker'"),
        ({"code_kwargs": {"timeot": 1.0}}, "unknown argument 'timeot'"),
        (
            {"code_scorer": "cf_code", "code_provider": "e2b"},
            "reward 'cf_code': unknown provider 'e2b' for Codeforces problems; known: local, piston",
        ),
        (
            {"code_scorer": "cf_code", "code_kwargs": {"scoring_mode": "partial"}},
            "code_kwargs.scoring_mode cannot be set: the filter counts a generation correct "
            "when it passes every test",
        ),
        (
            {"code_scorer": "cf_code", "code_kwargs": {"timeout": 1.0}},
            "reward 'cf_code': unknown argument 'timeout'",
        ),
        (
            {"code_scorer": "ioi_code", "verification_column": None},
            "code_scorer 'ioi_code' needs verification_column",
        ),
    ],
)
def test_config_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FilterConfig(**kwargs)


def test_config_error_through_load_section_names_section():
    with pytest.raises(
        ConfigError,
        match="stage 'filter': params.yaml filter.pass_rate_min = 0.9 .*must not exceed",
    ):
        load_section(
            {"filter": {"pass_rate_min": 0.9, "pass_rate_max": 0.1}},
            "filter",
            "filter",
            FilterConfig,
        )


def test_point_range_with_both_bounds_included_is_allowed():
    cfg = FilterConfig(pass_rate_min=0.0, pass_rate_max=0.0)
    assert in_range(0.0, cfg) is None and in_range(0.5, cfg) == "pass_rate_above_max"


# --- the range ------------------------------------------------------------------------------


def test_range_inclusive_and_exclusive_bounds():
    closed = FilterConfig(pass_rate_min=0.25, pass_rate_max=0.75)
    assert [in_range(r, closed) for r in (0.0, 0.25, 0.5, 0.75, 1.0)] == [
        "pass_rate_below_min",
        None,
        None,
        None,
        "pass_rate_above_max",
    ]
    open_ = FilterConfig(
        pass_rate_min=0.25, pass_rate_max=0.75, include_min=False, include_max=False
    )
    assert [in_range(r, open_) for r in (0.25, 0.5, 0.75)] == [
        "pass_rate_below_min",
        None,
        "pass_rate_above_max",
    ]
    # open-r1's setting: neither trivially easy nor impossible prompts
    r1 = FilterConfig(include_min=False, include_max=False)
    assert [in_range(r, r1) for r in (0.0, 1 / 16, 15 / 16, 1.0)] == [
        "pass_rate_below_min",
        None,
        None,
        "pass_rate_above_max",
    ]


def test_row_kind():
    assert row_kind("$12$", None) == "math"
    assert row_kind(None, {"language": "python", "test_cases": [{}]}) == "code"
    assert row_kind("$1$", '{"test_cases": []}') == "code"  # tests win over a gold
    assert (
        row_kind(None, None) is None
        and row_kind("  ", {}) is None
        and row_kind(float("nan"), None) is None
    )


# --- the rules (pure) -----------------------------------------------------------------------

STOP, LEN = "stop", "length"


def _totals_add_up(result, scores):
    m = result.metrics()
    assert m["prompts_in"] - m["prompts_kept"] == sum(m["prompts_dropped"].values())
    assert m["generations_in"] == sum(len(s) for s in scores)
    assert m["generations_in"] - m["generations_kept"] == sum(m["generations_dropped"].values())
    for gens, correct in zip(result.generations, result.correct, strict=True):
        assert len(gens) == len(correct) > 0


def test_keep_correct_drops_truncated_and_incorrect():
    kinds = ["math", "math", "math"]
    scores = [[1.0, 0.0, 1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
    reasons = [[STOP, STOP, LEN, STOP], [STOP, STOP], [STOP, STOP]]
    r = decide(kinds, scores, reasons, FilterConfig())
    # Row 0: pass rate counts the truncated generation as scored (2 of 4 correct), but it goes.
    assert r.rows == [0, 1] and r.pass_rates == [0.5, 1.0]
    assert r.generations == [[0], [0, 1]] and r.correct == [[True], [True, True]]
    m = r.metrics()
    assert m["generations_dropped"] == {"truncated": 1, "incorrect": 4, "prompt_dropped": 0}
    assert m["prompts_dropped"]["no_generations_left"] == 1
    _totals_add_up(r, scores)


def test_keep_all_and_no_truncation_keeps_everything_with_real_pass_rates():
    scores = [[0.0, 0.0], [1.0, 0.0]]
    r = decide(
        ["math", "code"],
        scores,
        [[LEN, LEN], [LEN, STOP]],
        FilterConfig(keep="all", drop_truncated=False),
    )
    assert r.rows == [0, 1] and r.pass_rates == [0.0, 0.5]
    assert r.generations == [[0, 1], [0, 1]] and r.correct == [[False, False], [True, False]]
    assert r.metrics()["prompts_by_pass_rate"] == {"zero": 1, "partial": 1, "one": 0}


def test_open_r1_range_drops_trivial_and_impossible_prompts():
    scores = [[1.0, 1.0], [0.0, 0.0], [1.0, 0.0]]
    cfg = FilterConfig(include_min=False, include_max=False, keep="all")
    r = decide(["math"] * 3, scores, [[STOP, STOP]] * 3, cfg)
    assert r.rows == [2]
    m = r.metrics()
    assert (
        m["prompts_dropped"]["pass_rate_above_max"] == 1
        and m["prompts_dropped"]["pass_rate_below_min"] == 1
    )
    assert m["generations_dropped"]["prompt_dropped"] == 4
    _totals_add_up(r, scores)


def test_code_correct_means_every_test_passed():
    r = decide(["code"], [[1.0, 0.5, 0.0]], None, FilterConfig(keep="all"))
    assert r.correct == [[True, False, False]] and r.pass_rates == [pytest.approx(1 / 3)]


def test_unscorable_drop_and_keep():
    # no verifier; an unparseable gold (all None); a sandbox error on one of two generations
    kinds, scores = [None, "math", "code"], [[None, None], [None, None], [None, 1.0]]
    reasons = [[STOP, LEN], [STOP, STOP], [STOP, STOP]]
    dropped = decide(kinds, scores, reasons, FilterConfig())
    assert dropped.rows == [2] and dropped.pass_rates == [1.0] and dropped.generations == [[1]]
    assert dropped.metrics()["prompts_dropped"]["unscorable"] == 2
    assert dropped.metrics()["unscorable_generations"] == 5
    assert dropped.metrics()["prompts_by_verifier"] == {"math": 1, "code": 1, "none": 1}
    _totals_add_up(dropped, scores)

    kept = decide(kinds, scores, reasons, FilterConfig(unscorable="keep"))
    # kept unfiltered (bar truncation): pass rate null, correctness unknown
    assert kept.rows == [0, 1, 2] and kept.pass_rates == [None, None, 1.0]
    assert kept.generations[:2] == [[0], [0, 1]] and kept.correct[:2] == [[None], [None, None]]
    _totals_add_up(kept, scores)


def test_prompt_without_generations_and_missing_finish_reasons():
    r = decide(["math", "math"], [[], [1.0]], None, FilterConfig())
    assert r.rows == [1] and r.metrics()["prompts_dropped"]["no_generations"] == 1
    with pytest.raises(ValueError, match="2 generations but 1 finish_reasons"):
        decide(["math"], [[1.0, 1.0]], [[STOP]], FilterConfig())


def test_pass_rate_drop_counts_truncated_generations_as_truncated():
    r = decide(["math"], [[0.0, 0.0]], [[LEN, STOP]], FilterConfig(pass_rate_min=0.5, keep="all"))
    m = r.metrics()
    assert m["prompts_dropped"]["pass_rate_below_min"] == 1
    assert m["generations_dropped"] == {"truncated": 1, "incorrect": 0, "prompt_dropped": 1}


# --- the arrow output -----------------------------------------------------------------------


def test_apply_reduces_per_generation_columns_and_keeps_types():
    table = pa.table(
        {
            "problem": ["a", "b", "c"],
            "generations": [["a0", "a1", "a2"], ["b0"], ["c0", "c1"]],
            "finish_reasons": [[STOP, LEN, STOP], [STOP], [STOP, STOP]],
            "completion_tokens": pa.array([[1, 2, 3], [4], [5, 6]], type=pa.list_(pa.int32())),
            "pass_rate": [0.9, 0.9, 0.9],  # from an earlier filter run: replaced
        }
    )
    r = decide(
        ["math"] * 3,
        [[1.0, 1.0, 0.0], [0.0], [1.0, 1.0]],
        table.column("finish_reasons").to_pylist(),
        FilterConfig(),
    )
    out = filtering.apply(table, r)
    assert out.column_names == [
        "problem",
        "generations",
        "finish_reasons",
        "completion_tokens",
        "pass_rate",
        "correct",
    ]
    assert out.schema.field("completion_tokens").type == pa.list_(pa.int32())
    rows = out.to_pylist()
    assert [x["problem"] for x in rows] == ["a", "c"]
    assert (
        rows[0]["generations"] == ["a0"]
        and rows[0]["finish_reasons"] == [STOP]
        and rows[0]["completion_tokens"] == [1]
    )
    assert rows[0]["pass_rate"] == pytest.approx(2 / 3) and rows[0]["correct"] == [True]
    assert rows[1]["generations"] == ["c0", "c1"] and rows[1]["correct"] == [True, True]


def test_check_lengths():
    filtering.check_lengths({"generations": [["a", "b"]], "finish_reasons": [[STOP, STOP]]})
    with pytest.raises(ValueError, match="row 0: 2 generations but 1 completion_tokens"):
        filtering.check_lengths({"generations": [["a", "b"]], "completion_tokens": [[3]]})


# --- real verifiers -------------------------------------------------------------------------

TESTS = {
    "language": "python",
    "test_cases": [
        {"type": "stdin_stdout", "input": "2 3\n", "output": "5\n"},
        {"type": "stdin_stdout", "input": "10 -4\n", "output": "6\n"},
    ],
}
GOOD = "<think>add</think>\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
BAD = "<think>hmm</think>\n```python\nprint(5)\n```"


def test_score_math_with_math_verify():
    gens = [
        ["<think>3*4</think> The answer is $\\boxed{12}$.", "\\boxed{13}", "no answer at all"],
        ["\\boxed{\\frac{1}{2}}"],
        ["\\boxed{1}"],
    ]
    kinds, scores = filtering.score_generations(
        gens, ["$12$", "$0.5$", "\\text{?}"], [None] * 3, FilterConfig(math_workers=1)
    )
    assert kinds == ["math"] * 3
    assert scores == [[1.0, 0.0, 0.0], [1.0], [None]]  # an unparseable gold is no signal, never 1.0


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the local sandbox needs bubblewrap")
def test_score_code_in_the_sandbox_struct_and_json_forms():
    # As arrow gives a struct column back: every field, None where a test lacks it.
    struct_tests = {
        "language": "python",
        "test_cases": [{**t, "fn_name": None} for t in TESTS["test_cases"]],
    }
    gens = [[GOOD, BAD, "no code"], [BAD, GOOD]]
    kinds, scores = filtering.score_generations(
        gens,
        [None, None],
        [struct_tests, json.dumps(TESTS)],
        FilterConfig(code_kwargs={"timeout": 5.0}),
    )
    assert kinds == ["code", "code"]
    assert scores == [[1.0, 0.5, 0.0], [0.5, 1.0]]
    r = decide(kinds, scores, None, FilterConfig())
    assert r.pass_rates == [pytest.approx(1 / 3), 0.5] and r.generations == [[0], [1]]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the local sandbox needs bubblewrap")
def test_score_codeforces_rows_with_the_cf_code_scorer():
    # A Codeforces row as open-r1/codeforces has it: tests, limits, no verification_info.
    row = {
        "official_tests": [
            {"input": "1 2\n", "output": "3\n"},
            {"input": "5 5\n", "output": "10\n"},
        ],
        "time_limit": 1.0,
        "memory_limit": 256,
        "input_mode": "stdio",
        "generated_checker": None,
        "language": "python",
    }
    echo_three = "```python\nprint(3)\n```"  # passes one test of two: incorrect, not 0.5
    slow = "```python\nwhile True: pass\n```"  # the 1 s time limit: incorrect
    gens = [[GOOD, echo_three, slow, "no code"], [GOOD]]
    rows = [row, {**row, "time_limit": "soon"}]  # a malformed limit: no verdict, never 0
    cfg = FilterConfig(code_scorer="cf_code", verification_column="official_tests")
    kinds, scores = filtering.score_generations(
        gens, [None, None], [r["official_tests"] for r in rows], cfg, rows
    )
    assert kinds == ["code", "code"]
    assert scores == [[1.0, 0.0, 0.0, 0.0], [None]]
    r = decide(kinds, scores, None, FilterConfig(keep="all", unscorable="keep"))
    assert r.pass_rates == [0.25, None] and r.correct == [[True, False, False, False], [None]]


def test_no_sandbox_is_built_without_code_rows(monkeypatch):
    import r1.rewards

    def boom(*args, **kwargs):
        raise AssertionError("the sandbox was built for a math-only data set")

    monkeypatch.setattr(r1.rewards, "build", boom)
    kinds, scores = filtering.score_generations(
        [["\\boxed{2}"]], ["$2$"], [None], FilterConfig(math_workers=1)
    )
    assert scores == [[1.0]]
