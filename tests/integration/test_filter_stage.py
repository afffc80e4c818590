"""The filter stage script, run as DVC runs it, in a temporary workspace: handmade rows with
right, wrong and truncated math answers and a code row with a correct and a wrong program
(real math-verify, real bubblewrap sandbox); bad input; and the embedded default when the
repository has its generated data. The repository's own outputs are never touched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
STAGE = REPO / "stages" / "filter.py"
EMBEDDED_PARAMS = {
    "pass_rate_min": 0.0,
    "pass_rate_max": 1.0,
    "keep": "all",
    "drop_truncated": False,
}

TESTS = {
    "language": "python",
    "test_cases": [
        {"type": "stdin_stdout", "input": "2 3\n", "output": "5\n"},
        {"type": "stdin_stdout", "input": "10 -4\n", "output": "6\n"},
    ],
}
GOOD_CODE = (
    "<think>read, add</think>\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
)
BAD_CODE = "<think>guess</think>\n```python\nprint(5)\n```"


def handmade_rows() -> list[dict]:
    def row(problem, solution, info, gens, reasons, source):
        return {
            "problem": problem,
            "solution": solution,
            "source": source,
            "verification_info": info,
            "prompt": problem,
            "generations": gens,
            "finish_reasons": reasons,
            "prompt_tokens": 10,
            "completion_tokens": [len(g) for g in gens],
            "model_name": "hand",
        }

    return [
        # half right, one of them truncated: rate 2/4
        row(
            "What is 3 * 4?",
            "$12$",
            None,
            [
                "<think>3*4=12</think> $\\boxed{12}$",
                "\\boxed{13}",
                "so \\boxed{12}",
                "The answer is \\boxed{",
            ],
            ["stop", "stop", "length", "length"],
            "math",
        ),
        # always right: rate 1
        row(
            "What is 1/2 as a decimal?",
            "$0.5$",
            None,
            ["\\boxed{\\frac{1}{2}}", "\\boxed{0.5}"],
            ["stop", "stop"],
            "math",
        ),
        # never right: rate 0
        row(
            "What is 2 + 2?", "$4$", None, ["\\boxed{5}", "I do not know"], ["stop", "stop"], "math"
        ),
        # unparseable gold: unscorable
        row("Name it.", "\\text{?}", None, ["\\boxed{1}"], ["stop"], "math"),
        # code: one program passes every test, one passes half
        row(
            "Read a and b, print a + b.",
            None,
            TESTS,
            [GOOD_CODE, BAD_CODE],
            ["stop", "stop"],
            "code",
        ),
    ]


def write_input(root: Path, rows: list[dict], *, drop: str | None = None) -> None:
    table = pa.Table.from_pylist(rows)
    if drop:
        table = table.drop_columns([drop])
    (root / "data/generated").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data/generated/train.parquet")


def run_stage(root: Path, params: dict) -> subprocess.CompletedProcess:
    (root / "params.yaml").write_text(yaml.safe_dump({"filter": params}))
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    )
    return subprocess.run(
        [sys.executable, str(STAGE)], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def outputs(root: Path) -> tuple[list[dict], dict]:
    rows = pq.read_table(root / "data/sources/distilled/train.parquet").to_pylist()
    return rows, json.loads((root / "metrics/filter.json").read_text())


def assert_consistent(rows: list[dict]) -> None:
    for r in rows:
        n = len(r["generations"])
        assert len(r["finish_reasons"]) == len(r["completion_tokens"]) == len(r["correct"]) == n > 0


needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None, reason="the local sandbox needs bubblewrap"
)


@needs_bwrap
def test_handmade_rows_correct_only(tmp_path):
    write_input(tmp_path, handmade_rows())
    proc = run_stage(
        tmp_path, {"include_min": False, "include_max": False}
    )  # open-r1: 0 < rate < 1
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows, m = outputs(tmp_path)
    assert_consistent(rows)
    by_problem = {r["problem"]: r for r in rows}
    assert sorted(by_problem) == ["Read a and b, print a + b.", "What is 3 * 4?"]
    math_row = by_problem["What is 3 * 4?"]
    assert math_row["pass_rate"] == 0.5  # 2 of 4 right (the truncated right one counts in the rate)
    assert math_row["generations"] == [
        "<think>3*4=12</think> $\\boxed{12}$"
    ]  # wrong and truncated gone
    assert math_row["correct"] == [True] and math_row["finish_reasons"] == ["stop"]
    assert math_row["completion_tokens"] == [len(math_row["generations"][0])]
    code_row = by_problem["Read a and b, print a + b."]
    assert (
        code_row["pass_rate"] == 0.5
        and code_row["generations"] == [GOOD_CODE]
        and code_row["correct"] == [True]
    )
    assert (
        code_row["verification_info"]["test_cases"][0]["output"] == "5\n"
    )  # input columns pass through
    assert m["prompts_in"] == 5 and m["prompts_kept"] == 2
    assert m["prompts_dropped"] == {
        "no_generations": 0,
        "no_generations_left": 0,
        "pass_rate_above_max": 1,
        "pass_rate_below_min": 1,
        "unscorable": 1,
    }
    assert m["generations_in"] == 11 and m["generations_kept"] == 2
    # each generation under its first reason: truncated, incorrect, then its prompt dropped
    assert m["generations_dropped"] == {"truncated": 2, "incorrect": 4, "prompt_dropped": 3}
    assert m["prompts_by_verifier"] == {"math": 4, "code": 1, "none": 0}
    run_info = json.loads((tmp_path / "data/sources/distilled/r1_run.json").read_text())
    assert run_info["stage"] == "filter" and run_info["config"]["filter"]["include_min"] is False
    # No timestamps: a rerun gives the same bytes.
    before = {
        p: (tmp_path / p).read_bytes()
        for p in ("data/sources/distilled/train.parquet", "metrics/filter.json", "data/sources/distilled/r1_run.json")
    }
    assert run_stage(tmp_path, {"include_min": False, "include_max": False}).returncode == 0
    assert all((tmp_path / p).read_bytes() == b for p, b in before.items())


@needs_bwrap
def test_handmade_rows_keep_all_with_unscorable_kept(tmp_path):
    write_input(tmp_path, handmade_rows())
    proc = run_stage(tmp_path, {**EMBEDDED_PARAMS, "unscorable": "keep"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows, m = outputs(tmp_path)
    assert_consistent(rows)
    assert [r["pass_rate"] for r in rows] == [0.5, 1.0, 0.0, None, 0.5]
    assert [r["correct"] for r in rows] == [
        [True, False, True, False],
        [True, True],
        [False, False],
        [None],
        [True, False],
    ]
    assert m["prompts_kept"] == 5 and m["generations_kept"] == m["generations_in"] == 11
    assert m["unscorable_generations"] == 1
    assert m["prompts_by_pass_rate"] == {"zero": 1, "partial": 2, "one": 1}
    assert m["pass_rate_mean"] == 0.5


@pytest.mark.parametrize(
    ("params", "drop", "messages"),
    [
        ({}, "generations", ["missing column(s) ['generations']"]),
        ({}, "solution", ["missing column(s) ['solution']", "filter.solution_column"]),
        (
            {"pass_rate_min": 0.9, "pass_rate_max": 0.1},
            None,
            ["filter.pass_rate_min = 0.9 is out of range", "must not exceed pass_rate_max"],
        ),
        (
            {"pass_rate_mni": 0.1},
            None,
            ["unknown key 'pass_rate_mni'", "did you mean 'pass_rate_min'"],
        ),
    ],
)
def test_bad_input_fails_with_a_clear_message_and_no_output(tmp_path, params, drop, messages):
    write_input(tmp_path, handmade_rows(), drop=drop)
    proc = run_stage(tmp_path, params)
    assert proc.returncode == 2, proc.stderr[-3000:]
    for message in messages:
        assert message in proc.stderr
    assert (
        not (tmp_path / "data/sources/distilled").exists()
        and not (tmp_path / "metrics/filter.json").exists()
    )


def test_everything_dropped_is_a_data_error(tmp_path):
    rows = [r for r in handmade_rows() if r["source"] == "math"]  # no sandbox needed
    write_input(tmp_path, rows)
    proc = run_stage(tmp_path, {"pass_rate_min": 0.6, "pass_rate_max": 0.9})
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert (
        "filter: every prompt was dropped (4 in: 1 unscorable, 2 pass_rate_below_min, "
        "1 pass_rate_above_max); widen filter.pass_rate_min/max" in proc.stderr
    )
    assert not (tmp_path / "data/sources/distilled").exists()


@needs_bwrap
@pytest.mark.skipif(
    not (REPO / "data/generated/train.parquet").exists(),
    reason="no data/generated in the repository (dvc repro generate first)",
)
def test_embedded_default(tmp_path):
    (tmp_path / "data/generated").mkdir(parents=True)
    shutil.copy(REPO / "data/generated/train.parquet", tmp_path / "data/generated/train.parquet")
    source = pq.read_table(tmp_path / "data/generated/train.parquet")
    start = time.perf_counter()
    proc = run_stage(tmp_path, EMBEDDED_PARAMS)
    seconds = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows, m = outputs(tmp_path)
    assert_consistent(rows)
    n_gens = sum(len(g) for g in source.column("generations").to_pylist())
    assert m["prompts_in"] == m["prompts_kept"] == source.num_rows
    assert m["generations_in"] == m["generations_kept"] == n_gens
    # Everything was scored (a real pass rate for every prompt, by the right verifier).
    assert (
        m["unscorable_generations"] == 0
        and sum(m["prompts_by_pass_rate"].values()) == source.num_rows
    )
    n_code = sum(v is not None for v in source.column("verification_info").to_pylist())
    assert m["prompts_by_verifier"] == {"math": source.num_rows - n_code, "code": n_code, "none": 0}
    assert all(r["pass_rate"] is not None for r in rows)
    print(f"\n[figure] filter stage on the embedded default: {seconds:.1f} s")


def test_math_verdicts_cut_short_are_counted_in_the_metrics(tmp_path):
    rows = [r for r in handmade_rows() if r["source"] == "math"]  # no sandbox needed
    rows[2]["generations"] = [
        "\\boxed{9^{9^{9}}}",  # sympy would evaluate it forever: cut by the CPU budget
        "\\boxed{" + "9^{" * 12 + "9" + "}" * 12 + "}",  # refused by the size guards
    ]
    write_input(tmp_path, rows)
    proc = run_stage(tmp_path, {**EMBEDDED_PARAMS, "math_timeout": 0.5, "math_workers": 1})
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, m = outputs(tmp_path)
    assert m["math_timeouts"] == 1 and m["math_too_complex"] == 1
    assert m["prompts_by_pass_rate"]["zero"] == 1  # both scored wrong, as math-verify would
    assert "verdicts cut short (1 timeout, 1 too_complex" in proc.stderr


# --- Codeforces rows, judged by cf_code's scorer ---------------------------------------------

FIXTURES = REPO / "tests" / "fixtures" / "competitive"
CF_PARAMS = {
    **EMBEDDED_PARAMS,
    "solution_column": None,
    "verification_column": "official_tests",
    "code_scorer": "cf_code",
}


def codeforces_rows() -> tuple[list[dict], dict[str, list[bool]]]:
    """Rows in open-r1/codeforces form, one per fixture problem and language, whose
    generations are the fixture's submissions (right and subtly wrong: wrong answer, time
    and memory limit, compile error), and per row the verdicts a judge gives them."""
    rows, verdicts = [], {}
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        for language in ("cpp", "python"):
            subs = [s for s in data["submissions"] if s["language"] == language]
            if not subs:
                continue
            gens = [f"<think>...</think>\n```{language}\n{s['code']}```" for s in subs]
            row = {
                **{k: v for k, v in data["problem"].items() if k != "id"},
                "problem": f"{path.stem} ({language})",
                "language": language,
                "generations": gens,
                "finish_reasons": ["stop"] * len(gens),
                "completion_tokens": [len(g) for g in gens],
            }
            rows.append(row)
            verdicts[row["problem"]] = [s["scores"]["pass_fail"] == 1.0 for s in subs]
    return rows, verdicts


@needs_bwrap
@pytest.mark.skipif(shutil.which("g++") is None, reason="the C++ submissions need g++")
def test_codeforces_rows_get_the_pass_rates_a_judge_gives(tmp_path):
    rows, verdicts = codeforces_rows()
    # A row without time_limit is malformed for the scorer: unscorable, never a zero.
    rows.append({**rows[0], "problem": "no limits", "time_limit": None})
    write_input(tmp_path, rows)
    proc = run_stage(tmp_path, {**CF_PARAMS, "unscorable": "keep"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, m = outputs(tmp_path)
    judged = {r["problem"]: r for r in out}
    assert set(judged) == {*verdicts, "no limits"}
    for problem, expected in verdicts.items():
        assert judged[problem]["correct"] == expected, problem
        assert judged[problem]["pass_rate"] == pytest.approx(sum(expected) / len(expected)), problem
    assert judged["no limits"]["pass_rate"] is None
    assert m["prompts_by_verifier"]["code"] == len(rows)
    assert m["unscorable_generations"] == len(rows[-1]["generations"])


def test_codeforces_scorer_needs_its_columns(tmp_path):
    rows, _ = codeforces_rows()
    write_input(tmp_path, rows, drop="memory_limit")
    proc = run_stage(tmp_path, CF_PARAMS)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "missing column(s) ['memory_limit']" in proc.stderr
    assert "filter.code_scorer cf_code reads ['official_tests', 'time_limit', 'memory_limit']" in (
        proc.stderr
    )
    assert not (tmp_path / "data/filtered").exists()


def test_unknown_code_scorer_is_refused(tmp_path):
    rows, _ = codeforces_rows()
    write_input(tmp_path, rows)
    proc = run_stage(tmp_path, {**CF_PARAMS, "code_scorer": "codeforces"})
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert (
        "filter.code_scorer = 'codeforces' (str) does not match the expected type "
        "one of 'code', 'cf_code', 'ioi_code'" in proc.stderr
    )
