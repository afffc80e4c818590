"""Codeforces and IOI judged in the local sandbox: eight real problems with a right and
subtly wrong solutions (tests/fixtures/competitive), open-r1's scoring modes, patch_code,
checkers, graders, file input, CPU time limits and the compile cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from r1.competitive.scorer import CodeforcesScorer
from r1.competitive.scoring import codeforces_score
from r1.rewards import build

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("bwrap") is None or shutil.which("g++") is None,
        reason="needs bubblewrap and g++ (the local sandbox)",
    ),
]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "competitive"
IOI_FIXTURE = json.loads((FIXTURES / "ioi" / "twice.json").read_text())


def fence(language: str, code: str) -> str:
    return f"Here is my solution.\n```{language}\n{code}```\n"


def fixture_cases():
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        for sub in data["submissions"]:
            yield f"{path.stem}-{sub['label']}", data["problem"], sub


CASES = list(fixture_cases())


@pytest.fixture(scope="module")
def cf_scorer():
    scorer = CodeforcesScorer(scoring_mode="weighted_sum")
    yield scorer
    scorer.close()


@pytest.fixture(scope="module")
def judged(cf_scorer):
    """Every fixture submission judged in one batch (compiled and run concurrently)."""
    rows = [{**problem, "language": sub["language"]} for _, problem, sub in CASES]
    completions = [fence(sub["language"], sub["code"]) for _, _, sub in CASES]
    verdicts = cf_scorer.verdicts(completions, rows)
    return {case_id: v for (case_id, _, _), v in zip(CASES, verdicts, strict=True)}


@pytest.mark.parametrize(
    ("case_id", "submission"), [(c, s) for c, _, s in CASES], ids=[c for c, _, _ in CASES]
)
def test_judged_as_a_judge_would(judged, case_id, submission):
    results = judged[case_id]
    assert [r.status for r in results] == submission["verdicts"]
    for mode, expected in submission["scores"].items():
        assert codeforces_score(results, mode) == pytest.approx(expected), mode


def test_cf_code_reward_end_to_end(caplog):
    data = json.loads((FIXTURES / "cf_cube_tower.json").read_text())
    subs = {s["label"]: s for s in data["submissions"]}
    completions = [
        fence("cpp", subs["correct"]["code"]),
        fence("cpp", subs["strictly_more_moves"]["code"]),
        fence("cpp", subs["max_of_int_and_long_long"]["code"]),
        "I could not solve it.",
    ]
    columns = {k: [v] * 4 for k, v in data["problem"].items()}
    f = build("cf_code", compile_error_reward=-0.1, no_code_reward=-1.0)
    try:
        with caplog.at_level("INFO"):
            assert f(completions=completions, **columns) == pytest.approx([1.1, 0.0, -0.1, -1.0])
    finally:
        f.sandbox.close()
    # The compiler's reason goes to the log.
    assert "compile error" in caplog.text and "no matching function" in caplog.text


def test_patch_code_fixes_missing_includes_and_python_names():
    row = {
        "official_tests": [{"input": "12 18\n", "output": "6\n"}],
        "time_limit": 2.0,
        "memory_limit": 256,
    }
    cpp = fence("cpp", "int main(){ int a, b; cin >> a >> b; cout << __gcd(a, b) << endl; }\n")
    py = fence("python", "from fractions import gcd\nprint(gcd(*map(int, input().split())))\n")
    rows = [{**row, "language": "cpp"}, {**row, "language": "python"}]
    plain = CodeforcesScorer(scoring_mode="pass_fail")
    patched = CodeforcesScorer(scoring_mode="pass_fail", patch_code=True)
    try:
        assert plain.score([cpp, py], rows) == [0.0, 0.0]
        assert patched.score([cpp, py], rows) == [1.0, 1.0]
    finally:
        plain.close()
        patched.close()


def test_cpp_compiled_once_per_program(cf_scorer):
    data = json.loads((FIXTURES / "cf_bakery.json").read_text())
    row = {**data["problem"], "language": "cpp"}
    code = fence("cpp", data["submissions"][0]["code"] + "// compile-once\n")
    cf_scorer.check()  # starts the sandbox (and its program store)
    store = cf_scorer.provider._store
    before = store.builds
    assert cf_scorer.score([code] * 4, [row] * 4) == [1.1] * 4
    assert cf_scorer.score([code], [row]) == [1.1]
    assert store.builds - before == 1
    # <bits/stdc++.h> came precompiled (built once per process and compiler setting).
    from r1.sandbox import pch

    key = (cf_scorer.provider.cxx, tuple(cf_scorer.provider.cxx_flags))
    assert pch._built.get(key) is not None
    assert (pch._built[key] / "bits" / "stdc++.h.gch").stat().st_size > 1 << 20


def test_file_input_mode(cf_scorer):
    row = {
        "official_tests": [{"input": "2 3\n", "output": "5\n"}],
        "time_limit": 1.0,
        "memory_limit": 256,
        "input_mode": "file",
        "language": "python",
    }
    reads_files = "a, b = map(int, open('input.txt').read().split())\nopen('output.txt', 'w').write(str(a + b))\nprint('noise')\n"
    reads_stdin = "print(sum(map(int, input().split())))\n"
    got = cf_scorer.score([fence("python", reads_files), fence("python", reads_stdin)], [row] * 2)
    assert got == [1.1, 0.0]


def test_cpu_time_limit_is_the_problems(cf_scorer):
    spin = (
        "#include <ctime>\nint main(){ while (clock() < {n} * CLOCKS_PER_SEC / 10) {} return 0; }\n"
    )
    row = {"official_tests": [{"input": "", "output": ""}], "time_limit": 1.0, "memory_limit": 256}
    fast, slow = spin.replace("{n}", "3"), spin.replace("{n}", "15")
    assert cf_scorer.score([fence("cpp", fast), fence("cpp", slow)], [row] * 2) == [1.1, 0.0]


def test_ioi_subtask_scores_with_grader_and_checker():
    row = IOI_FIXTURE["row"]
    subs = IOI_FIXTURE["submissions"]
    completions = [fence("cpp", s["code"]) for s in subs] + ["no code"]
    listed = {**row, "test_cases": [["3\n", "6\n"], ["4\n", "8\n"], ["7\n", "14\n"]]}
    missing = {**row, "test_cases": {"1-01": ["1\n", "2\n"]}}
    rows = [row] * len(completions) + [listed, missing]
    completions += completions[:1] * 2
    f = build("ioi_code")
    try:
        out = f(completions=completions, **{k: [r[k] for r in rows] for k in row})
    finally:
        f.sandbox.close()
    # A list of tests in test_names' order works too; a row missing a test gets no score.
    assert out == [s["score"] for s in subs] + [0.0, 1.0, None]


def test_ioi_points_are_the_subtask_points_times_the_lowest_score():
    from r1.competitive.scorer import IOIScorer

    row = IOI_FIXTURE["row"]  # a 40-point subtask
    subs = IOI_FIXTURE["submissions"]
    scorer = IOIScorer()
    try:
        points = scorer.points([fence("cpp", s["code"]) for s in subs], [row] * len(subs))
    finally:
        scorer.close()
    assert points == [40 * s["score"] for s in subs]
