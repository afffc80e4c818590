"""The sandbox: schema, judging, bwrap command line, quick real runs, and the E2B provider
up to its network call (E2B's service cannot be reached from here or from CI)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from r1.rewards import build
from r1.sandbox import Problem, TestCase, get_provider, parse_verification_info
from r1.sandbox.base import SandboxUnavailable
from r1.sandbox.bwrap import bwrap_argv
from r1.sandbox.e2b import E2BSandbox, build_script, parse_script_output
from r1.sandbox.limits import Limits
from r1.sandbox.schema import outputs_match

HAS_BWRAP = shutil.which("bwrap") is not None
needs_bwrap = pytest.mark.skipif(
    not HAS_BWRAP and sys.platform != "linux", reason="bubblewrap sandbox is Linux-only"
)


def stdio(*pairs):
    return {
        "language": "python",
        "test_cases": [{"type": "stdin_stdout", "input": i, "output": o} for i, o in pairs],
    }


# -- schema and judging ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        ("3\n", "3", True),
        ("3\n", "3   \n\n\n", True),
        ("1\n2\n", "1\r\n2\r\n", True),
        ("1\n2\n", "1\n", False),  # a missing line fails (open-r1 zipped the lines)
        ("1\n", "1\n2\n", False),  # an extra line fails
        ("1\n2\n", "", False),
        ("a b\n", "a  b\n", False),
        ("x\n", " x\n", False),
    ],
)
def test_outputs_match(expected, actual, ok):
    assert outputs_match(expected, actual) is ok


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ({"language": "rust", "test_cases": [{"input": "", "output": ""}]}, "unsupported language"),
        ({"language": "python", "test_cases": []}, "non-empty"),
        (
            {"language": "python", "test_cases": [{"type": "weird", "input": "", "output": ""}]},
            "unknown type",
        ),
        (
            {
                "language": "python",
                "test_cases": [{"type": "functional", "input": "1", "output": "1"}],
            },
            "fn_name",
        ),
        (
            {
                "language": "cpp",
                "test_cases": [{"type": "functional", "fn_name": "f", "input": "1", "output": "1"}],
            },
            "need Python",
        ),
        ({"language": "python", "test_cases": [{"input": "1"}]}, "'input' and 'output'"),
    ],
)
def test_bad_verification_info(info, message):
    with pytest.raises(ValueError, match=message):
        parse_verification_info(info)


def test_verification_info_as_json_text_and_list_args():
    lang, tests = parse_verification_info(
        json.dumps(
            {
                "language": "python",
                "test_cases": [
                    {
                        "type": "functional",
                        "fn_name": "f",
                        "input": [[1, 2], "a"],
                        "output": [3, "a"],
                    }
                ],
            }
        )
    )
    assert lang == "python" and tests[0].input == '[1, 2]\n"a"' and tests[0].output == [3, "a"]


def test_bwrap_command_line_exposes_nothing_private():
    argv = bwrap_argv("bwrap", ["/usr/bin/python3", "/prog/main.py"], Limits(timeout=2), "/x/prog")
    joined = " ".join(argv)
    for private in ("/etc", "/home", "/root", "/work", "--share-net", "--dev-bind"):
        assert private not in argv and f" {private} " not in joined
    assert "--unshare-all" in argv and "--die-with-parent" in argv and "--clearenv" in argv
    prlimit = argv[argv.index("--") + 1 :]
    assert prlimit[0].endswith("prlimit") and "--nproc=32" in prlimit and "--cpu=3" in prlimit


# -- the local provider, quick real runs -------------------------------------------------------
@pytest.fixture(scope="module")
def code_reward():
    if not HAS_BWRAP:
        pytest.fail("the local sandbox needs bubblewrap: apt-get install bubblewrap")
    f = build("code", provider="local", timeout=1.0)
    yield f
    f.sandbox.close()


@needs_bwrap
@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("```python\na, b = map(int, input().split())\nprint(a + b)\n```", 1.0),
        ("```python\nprint(5)\n```", 0.5),
        ("```python\nraise SystemExit(3)\n```", 0.0),
        (
            "```python\nimport sys\nsys.stderr.write('bwrap: fake sandbox error\\n'); sys.exit(1)\n```",
            0.0,
        ),
        ("```python\nprint(5); exit()\n```", 0.5),  # site's exit() works
        ("Some prose and no code", 0.0),
        ("```python\nprint(5)\n```\nthen\n```python\nprint(int(input().split()[0]) + 3)\n```", 0.5),
    ],
)
def test_code_reward_python(code_reward, completion, expected):
    info = stdio(("2 3\n", "5\n"), ("1 1\n", "2\n"))
    assert code_reward(
        prompts=["p"],
        completions=[[{"role": "assistant", "content": completion}]],
        verification_info=[info],
        trainer_state=None,
    ) == [expected]


@needs_bwrap
def test_code_reward_functional(code_reward):
    info = {
        "language": "python",
        "test_cases": [
            {
                "type": "functional",
                "fn_name": "twoSum",
                "input": "[2, 7, 11, 15]\n9",
                "output": "[0, 1]",
            },
            {"type": "functional", "fn_name": "twoSum", "input": "[3, 3]\n6", "output": "[0, 1]"},
        ],
    }
    good = textwrap.dedent("""\
        ```python
        class Solution:
            def twoSum(self, nums: List[int], target: int) -> List[int]:
                print("debug output must not count")
                seen = {}
                for i, x in enumerate(nums):
                    if target - x in seen:
                        return (seen[target - x], i)
                    seen[x] = i
        ```""")
    bad = "```python\nclass Solution:\n    def twoSum(self, nums, target):\n        return [0, 0]\n```"
    assert code_reward(completions=[good, bad], verification_info=[info, info]) == [1.0, 0.0]


@needs_bwrap
@pytest.mark.skipif(shutil.which("g++") is None, reason="no C++ compiler here")
def test_code_reward_cpp(code_reward):
    info = {
        "language": "cpp",
        "test_cases": [{"type": "stdin_stdout", "input": "2 3\n", "output": "5\n"}],
    }
    good = '```cpp\n#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b<<"\\n";}\n```'
    broken = "```cpp\nint main( { syntax error\n```"
    assert code_reward(completions=[good, broken], verification_info=[info, info]) == [1.0, 0.0]


@needs_bwrap
def test_a_timeout_fails_that_test_only(code_reward):
    # Loops forever on input "loop", answers otherwise: 2 of 3 tests pass.
    code = "```python\ns = input()\nwhile s == 'loop':\n    pass\nprint(s)\n```"
    info = stdio(("a\n", "a\n"), ("loop\n", "loop\n"), ("b\n", "b\n"))
    assert code_reward(completions=[code], verification_info=[info]) == [pytest.approx(2 / 3)]


@needs_bwrap
def test_binary_code_and_malformed_info():
    f = build("binary_code", timeout=2.0)
    info = stdio(("2 3\n", "5\n"), ("1 1\n", "2\n"))
    out = f(
        completions=[
            "```python\nprint(sum(map(int, input().split())))\n```",
            "```python\nprint(5)\n```",
            "```python\nprint(5)\n```",
        ],
        verification_info=[info, info, {"language": "python", "test_cases": "not json"}],
    )
    f.sandbox.close()
    assert out == [1.0, 0.0, None]


@needs_bwrap
def test_sandbox_failure_gives_none_not_zero(caplog):
    f = build("code", timeout=2.0)
    f.sandbox._bwrap = "/bin/false"  # bwrap "fails to set up": no child-pid status record
    out = f(completions=["```python\nprint(5)\n```"], verification_info=[stdio(("", "5"))])
    f.sandbox.close()
    assert out == [None]
    assert "sandbox error" in caplog.text


def test_local_provider_fails_loudly_without_bwrap(monkeypatch):
    monkeypatch.setattr("r1.sandbox.bwrap.find_bwrap", lambda: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        build("code")


# -- the E2B provider, up to the network call ------------------------------------------------
def test_e2b_needs_a_key(monkeypatch, tmp_path):
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    with pytest.raises(SandboxUnavailable, match="E2B_API_KEY"):
        build("code", provider="e2b", env_file=str(tmp_path / "missing.env"))


def test_e2b_key_from_env_file(monkeypatch, tmp_path):
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    (tmp_path / ".env").write_text("E2B_API_KEY=e2b_from_file\n")
    sandbox = E2BSandbox(env_file=str(tmp_path / ".env"))
    sandbox.check()
    assert sandbox.api_key == "e2b_from_file"
    monkeypatch.setenv("E2B_API_KEY", "e2b_from_env")
    assert E2BSandbox(env_file=str(tmp_path / ".env")).api_key == "e2b_from_env"


PROBLEMS = [
    Problem(
        "s = input()\nwhile s == 'loop':\n    pass\nprint(s)",
        "python",
        (
            TestCase("stdin_stdout", "a\n", "a\n"),
            TestCase("stdin_stdout", "loop\n", "loop\n"),
            TestCase("stdin_stdout", "b\n", "b\n"),
        ),
    ),
    Problem(
        "def add(a, b):\n    print('noise')\n    return a + b",
        "python",
        (TestCase("functional", "1\n2", 3, "add"), TestCase("functional", "1\n1", 3, "add")),
    ),
]


def _run_script_here(script: str) -> str:
    # What E2B would do with the script; run here with trusted test programs only.
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    ).stdout


def test_e2b_script_runs_each_test_with_its_own_timeout():
    results = [
        parse_script_output(p, _run_script_here(build_script(p, 0.5, 1 << 20))) for p in PROBLEMS
    ]
    assert [r.status for r in results[0]] == ["passed", "timeout", "passed"]
    assert [r.status for r in results[1]] == ["passed", "wrong_answer"]


class _FakeExecution:
    def __init__(self, stdout: str):
        self.logs = type("Logs", (), {"stdout": [stdout]})()
        self.error = None


class _FakeAsyncSandbox:
    """Stands in for e2b_code_interpreter.AsyncSandbox: runs the script locally."""

    created: list[dict] = []
    killed = 0

    @classmethod
    async def create(cls, **kwargs):
        cls.created.append(kwargs)
        return cls()

    async def run_code(self, script, language=None, timeout=None, request_timeout=None):
        assert language == "python" and timeout > 0
        return _FakeExecution(_run_script_here(script))

    async def kill(self):
        type(self).killed += 1


def test_e2b_provider_end_to_end_with_a_stand_in(monkeypatch):
    import e2b_code_interpreter

    monkeypatch.setattr(e2b_code_interpreter, "AsyncSandbox", _FakeAsyncSandbox)
    monkeypatch.setenv("E2B_API_KEY", "e2b_test")
    f = build("code", provider="e2b", timeout=0.5)
    info = {
        "language": "python",
        "test_cases": [
            {"type": "stdin_stdout", "input": "a\n", "output": "a\n"},
            {"type": "stdin_stdout", "input": "loop\n", "output": "loop\n"},
        ],
    }
    code = "```python\n" + PROBLEMS[0].code + "\n```"
    assert f(completions=[code, "no code"], verification_info=[info, info]) == [0.5, 0.0]
    assert _FakeAsyncSandbox.created[-1]["api_key"] == "e2b_test" and _FakeAsyncSandbox.killed >= 1


def test_e2b_service_failure_gives_none(monkeypatch, caplog):
    import e2b_code_interpreter

    class Unreachable:
        @classmethod
        async def create(cls, **kwargs):
            raise ConnectionError("no route to api.e2b.dev")

    monkeypatch.setattr(e2b_code_interpreter, "AsyncSandbox", Unreachable)
    sandbox = get_provider("e2b", api_key="e2b_test")
    assert sandbox.run(PROBLEMS) == [None, None]
    assert "cannot create a sandbox" in caplog.text


@needs_bwrap
def test_cpp_without_a_compiler_gives_none(caplog):
    f = build("code", timeout=1.0, cxx="no-such-compiler-r1")
    info = {"language": "cpp", "test_cases": [{"type": "stdin_stdout", "input": "", "output": "1"}]}
    out = f(completions=["```cpp\nint main(){}\n```"], verification_info=[info])
    f.sandbox.close()
    assert out == [None] and "no C++ compiler" in caplog.text


def test_an_api_key_cannot_be_put_in_params():
    """params.yaml lands in dvc.lock and git: the E2B key comes from the environment only."""
    from r1.rewards import validate

    with pytest.raises(ValueError, match="api_key"):
        validate(["code"], {"code": {"provider": "e2b", "api_key": "e2b_secret"}})


# -- memory per sandbox, and where it cannot be had ------------------------------------------
@needs_bwrap
def test_processes_killed_for_memory_are_a_memory_limit_verdict():
    sandbox = get_provider("local", timeout=5.0, memory_mb=256)
    if not sandbox.memory_per_sandbox:
        sandbox.close()
        pytest.skip("no writable memory cgroup here (the gap the README documents)")
    # Three processes of 120 MiB: each under the 256 MiB RLIMIT_AS, together over the limit.
    code = (
        "import os, time\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n"
        "    if pid == 0:\n        b = b'x' * (120 << 20)\n        time.sleep(1)\n        os._exit(0)\n"
        "    kids.append(pid)\nprint(sum(os.waitpid(p, 0)[1] == 0 for p in kids))"
    )
    problem = Problem(code, "python", (TestCase("stdin_stdout", "", "3"),))
    try:
        [[result]] = sandbox.run([problem])
    finally:
        sandbox.close()
    assert result.status == "memory_limit"


@needs_bwrap
def test_without_a_memory_cgroup_the_sandbox_still_runs_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr("r1.sandbox.local.open_memory_cgroups", lambda *a, **k: None)
    sandbox = get_provider("local", timeout=5.0)
    try:
        assert sandbox.memory_per_sandbox is False
        problem = Problem("print(input())", "python", (TestCase("stdin_stdout", "7", "7"),))
        assert [r.status for r in sandbox.run([problem])[0]] == ["passed"]
    finally:
        sandbox.close()
    assert "RLIMIT_AS" in caplog.text


def test_stale_cgroups_of_dead_runs_are_removed(tmp_path, monkeypatch):
    from r1.sandbox import cgroup

    dead = tmp_path / "r1-sandbox-999999999-7f00"
    alive = tmp_path / f"r1-sandbox-{__import__('os').getpid()}-7f00"
    for group in (dead, alive):
        (group / "slot-0").mkdir(parents=True)
    monkeypatch.setattr(cgroup, "_own_v1_memory_cgroup", lambda: tmp_path)
    monkeypatch.setattr(cgroup, "_own_v2_cgroup", lambda: None)
    cgroup.remove_stale("r1-sandbox-")
    assert not dead.exists() and alive.exists()
