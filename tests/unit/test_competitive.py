"""Codeforces and IOI scoring without running programs: the fixtures, row validation,
reward kwargs, and the Piston and Morph providers up to their network call. The judging
itself (the local sandbox) is in tests/integration/test_competitive_judging.py."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from r1.competitive.remote import MorphProvider, PistonProvider, cf_request, ioi_request
from r1.competitive.scorer import CodeforcesScorer, IOIScorer
from r1.rewards import build, validate
from r1.sandbox.base import SandboxUnavailable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "competitive"


def fence(language: str, code: str) -> str:
    return f"Here is my solution.\n```{language}\n{code}```\n"


def test_fixtures_cover_eight_problems_and_every_kind_of_failure():
    data = [json.loads(p.read_text()) for p in FIXTURES.glob("*.json")]
    assert len(data) >= 8
    kinds = {v for d in data for s in d["submissions"] for v in s["verdicts"]}
    assert kinds >= {"passed", "wrong_answer", "timeout", "memory_limit", "compile_error"}
    for d in data:
        labels = [s["label"] for s in d["submissions"]]
        assert "correct" in labels and len(labels) >= 2, d["problem"]["id"]


def test_malformed_rows_name_the_field(caplog):
    scorer = CodeforcesScorer.__new__(CodeforcesScorer)
    scorer.language, scorer.patch = "cpp", False
    rows = [
        {"time_limit": 1, "memory_limit": 256},
        {"official_tests": [{"input": "1"}], "time_limit": 1, "memory_limit": 256},
        {"official_tests": [], "time_limit": 0, "memory_limit": 256},
        {"official_tests": [], "time_limit": 1, "memory_limit": 256, "input_mode": "pipe"},
    ]
    assert scorer.problems(["```cpp\nint main(){}\n```"] * 4, rows) == [None] * 4
    for text in (
        "no 'official_tests'",
        "needs 'input' and 'output'",
        "time_limit must be",
        "input_mode",
    ):
        assert text in caplog.text


def test_reward_kwargs_are_validated():
    validate(["cf_code"], {"cf_code": {"scoring_mode": "partial", "patch_code": True}})
    validate(["ioi_code"], {"ioi_code": {"provider": "morph", "snapshot": "s"}})
    for kwargs, message in [
        ({"scoring_mode": "best"}, "scoring_mode must be one of"),
        ({"provider": "morph"}, "unknown provider 'morph' for Codeforces"),
        ({"provider": "local", "endpoints": "http://x"}, "does not apply to provider 'local'"),
        ({"patch_code": "yes"}, "must be bool"),
    ]:
        with pytest.raises(ValueError, match=message):
            validate(["cf_code"], {"cf_code": kwargs})


# -- IOI -----------------------------------------------------------------------------------
IOI_FIXTURE = json.loads((FIXTURES / "ioi" / "twice.json").read_text())


def ioi_row(**changes):
    return {**IOI_FIXTURE["row"], **changes}


def test_ioi_communication_tasks_are_refused(caplog):
    graders = [*ioi_row()["grader_files"], ["graders/manager.cpp", "int main(){}"]]
    scorer = IOIScorer.__new__(IOIScorer)
    scorer.provider = types.SimpleNamespace(run=lambda problems: [None] * len(problems))
    assert scorer.score(["```cpp\nint f(){}\n```"], [ioi_row(grader_files=graders)]) == [None]
    assert "Communication task" in caplog.text


# -- remote providers, up to the network call ----------------------------------------------
class FakePiston(PistonProvider):
    def __init__(self, answers, **kwargs):
        super().__init__(
            endpoints="http://piston-1:2000/api/v2,http://piston-2:2000/api/v2", **kwargs
        )
        self.answers, self.sent = answers, []

    def post(self, url, payload):
        self.sent.append((url, payload))
        answer = self.answers(payload)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_piston_codeforces_requests_and_verdicts(monkeypatch):
    data = json.loads((FIXTURES / "cf_rearrange_string.json").read_text())
    row = {**data["problem"], "language": "python"}

    def judge(payload):  # what the cf package answers: 1 on stdout for a pass
        code = payload["files"][0]["content"]
        return {"run": {"code": 0, "stdout": "1" if "[::-1]" in code else "0", "signal": None}}

    provider = FakePiston(judge, kind="cf")
    monkeypatch.setattr("r1.competitive.scorer.make_provider", lambda *a: provider)
    scorer = CodeforcesScorer(provider="piston", scoring_mode="pass_fail")
    subs = data["submissions"]
    assert scorer.score([fence("python", s["code"]) for s in subs], [row] * len(subs)) == [1.0, 0.0]
    url, payload = provider.sent[0]
    assert url.endswith("/api/v2/execute") and payload["language"] == "cf_python3"
    names = [f["name"] for f in payload["files"]]
    assert names == [
        "main.python",
        "checker.py",
        "input.txt",
        "correct_output.txt",
        "grader_config",
    ]
    assert payload["files"][-1]["content"] == "TIME_LIMIT=1\nMEMORY_LIMIT=256\nINPUT_MODE=stdio"
    assert payload["run_timeout"] == 4000


def test_piston_failures_give_no_verdict_and_compile_errors_score(monkeypatch):
    row = json.loads((FIXTURES / "cf_two_piles.json").read_text())["problem"]
    answers = {
        "down": ConnectionError("connection refused"),
        "ce": {"compile": {"code": 1, "stderr": "error"}, "run": {}},
    }
    provider = FakePiston(lambda p: answers[p["files"][0]["content"].strip()], max_retries=0)
    monkeypatch.setattr("r1.competitive.scorer.make_provider", lambda *a: provider)
    scorer = CodeforcesScorer(provider="piston", language="cpp")
    assert scorer.score([fence("cpp", "down\n"), fence("cpp", "ce\n")], [row, row]) == [None, 0.0]


def test_piston_ioi_request_and_partial_score():
    provider = FakePiston(
        lambda p: {"run": {"code": 0, "stdout": "0.5\n", "stderr": "partially", "signal": None}},
        kind="ioi",
    )
    from r1.competitive.problems import ioi_problem

    problem = ioi_problem(ioi_row(), "long long twice(long long x){return x;}")
    [results] = provider.run([problem])
    assert [r.score for r in results] == [0.5] * 3
    payload = ioi_request(problem, problem.tests[0])
    names = [f["name"] for f in payload["files"]]
    assert names[0] == "graders/twice.cpp" and "checker/checker.cpp" in names
    assert payload["language"] == "cms_ioi" and payload["run_memory_limit"] == 256


def test_piston_needs_endpoints(monkeypatch):
    monkeypatch.delenv("PISTON_ENDPOINTS", raising=False)
    with pytest.raises(SandboxUnavailable, match="PISTON_ENDPOINTS"):
        build("cf_code", provider="piston")
    monkeypatch.setenv("PISTON_ENDPOINTS", "http://a:2000/api/v2, http://b:2000/api/v2")
    assert PistonProvider().endpoints == ["http://a:2000/api/v2", "http://b:2000/api/v2"]


def test_morph_needs_key_and_package(monkeypatch):
    monkeypatch.delenv("MORPH_API_KEY", raising=False)
    with pytest.raises(SandboxUnavailable, match="MORPH_API_KEY"):
        build("ioi_code", provider="morph")
    with pytest.raises(ValueError, match="IOI problems only"):
        MorphProvider(kind="cf")


def test_morph_runs_compile_then_run_on_the_snapshot(monkeypatch):
    calls = []

    class Result:
        def __init__(self, code=0, out="", err=""):
            self.exit_code, self.stdout, self.stderr = code, out, err

    class Instance:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append("stopped")

        def wait_until_ready(self, timeout):
            calls.append("ready")

        def upload(self, local, remote):
            calls.append(("upload", remote, Path(local).read_text()[:20]))

        def exec(self, command):
            calls.append(command)
            return Result(0, "0.75\n", "Partially correct") if "./run" in command else Result()

    client = types.SimpleNamespace(
        snapshots=types.SimpleNamespace(list=lambda digest: [types.SimpleNamespace(id="snap-1")]),
        instances=types.SimpleNamespace(start=lambda snapshot_id, ttl_seconds: Instance()),
    )
    fake = types.ModuleType("morphcloud.api")
    fake.MorphCloudClient = lambda api_key: client
    monkeypatch.setitem(sys.modules, "morphcloud", types.ModuleType("morphcloud"))
    monkeypatch.setitem(sys.modules, "morphcloud.api", fake)
    monkeypatch.setenv("MORPH_API_KEY", "morph_test")
    from r1.competitive.problems import ioi_problem

    provider = MorphProvider()
    provider.check()
    problem = ioi_problem(ioi_row(), "long long twice(long long x){return x;}")
    [results] = provider.run([problem])
    provider.close()
    assert [r.score for r in results] == [0.75] * 3
    uploads = [c[1] for c in calls if isinstance(c, tuple)]
    assert (
        "/workspace/graders/twice.cpp" in uploads
        and "/workspace/graders/grader_config.json" in uploads
    )
    commands = [c for c in calls if isinstance(c, str) and "./" in c]
    assert commands[:2] == ["cd /workspace && ./compile", "cd /workspace && timeout 7.0s ./run"]


def test_cf_request_carries_limits_and_checker():
    from r1.competitive.problems import codeforces_problem

    data = json.loads((FIXTURES / "cf_non_adjacent_binary.json").read_text())
    problem = codeforces_problem(data["problem"], "int main(){}", "cpp")
    payload = cf_request(problem, problem.tests[0])
    assert payload["language"] == "c++17"
    assert payload["files"][1] == {
        "name": "checker.py",
        "content": data["problem"]["generated_checker"],
    }
