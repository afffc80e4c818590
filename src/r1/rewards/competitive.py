"""Competition rewards: ``cf_code`` (Codeforces) and ``ioi_code`` (IOI subtasks).

They read the dataset's own columns (open-r1/codeforces ``verifiable-prompts``:
``official_tests``, ``time_limit``, ``memory_limit``, ``input_mode``, ``generated_checker``,
``language``...; open-r1/ioi: ``id``, ``test_names``, ``test_cases``, ``grader_files``...;
see :mod:`r1.competitive.problems`) and judge in the ``local`` sandbox by default, or on
open-r1's remote judges (``provider: piston``, or ``morph`` for IOI). The semantics are
:class:`r1.competitive.scorer.CodeforcesScorer` and :class:`~r1.competitive.scorer.IOIScorer`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from r1.competitive.scorer import CodeforcesScorer, IOIScorer, check_options
from r1.competitive.scoring import SCORING_MODES
from r1.rewards._completions import completion_texts
from r1.rewards.registry import keyword_factory, register

CF_COLUMNS = ("official_tests", "time_limit", "memory_limit")
CF_OPTIONAL = ("generated_tests", "input_mode", "generated_checker", "language")
IOI_COLUMNS = ("id", "test_names", "test_cases", "time_limit", "memory_limit")
IOI_OPTIONAL = ("grader_files", "score_precision", "subtask", "score")

# Options of the providers, typed: local (LocalSandbox), piston, morph.
PROVIDER_OPTIONS: dict[str, Any] = {
    "max_workers": int,
    "max_processes": int,
    "max_output_mb": float,
    "tmp_mb": int,
    "python": str,
    "cxx": str,
    "cxx_flags": str,
    "compile_timeout": float,
    "endpoints": str,
    "max_concurrency": int,
    "request_timeout": float,
    "max_retries": int,
    "snapshot": str,
}
CF_OPTIONS: dict[str, tuple[Any, Any]] = {
    "scoring_mode": (str, "weighted_sum"),
    "patch_code": (bool, False),
    "language": (str, "cpp"),
    "compile_error_reward": (float, 0.0),
    "no_code_reward": (float, 0.0),
}


def rows_from_columns(
    kwargs: Mapping[str, Any], n: int, required: tuple, optional: tuple, reward: str
) -> list[dict]:
    """The per-completion rows TRL passes as columns (``required`` ones must be there)."""
    for name in required:
        if kwargs.get(name) is None:
            raise ValueError(f"reward {reward!r} needs the dataset column {name!r}")
    rows: list[dict] = [{} for _ in range(n)]
    for name in required + optional:
        values = kwargs.get(name)
        if values is None:
            continue
        values = list(values)
        if len(values) != n:
            raise ValueError(
                f"reward {reward!r}: column {name!r} has {len(values)} rows for {n} completions"
            )
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    return rows


def _split(options: dict[str, Any]) -> tuple[str, dict, dict]:
    provider = options.pop("provider", "local") or "local"
    scoring = {k: options.pop(k) for k in list(options) if k in CF_OPTIONS}
    return provider, scoring, {k: v for k, v in options.items() if v is not None}


def _check(kind: str, **options: Any) -> None:
    provider, scoring, provider_options = _split(dict(options))
    mode = scoring.get("scoring_mode")
    if mode is not None and mode not in SCORING_MODES:
        raise ValueError(f"scoring_mode must be one of {SCORING_MODES}, got {mode!r}")
    check_options(provider, kind, provider_options)


def _make(kind: str, options: dict[str, Any]):
    provider, scoring, provider_options = _split(options)
    scoring = {k: v for k, v in scoring.items() if v is not None}
    if kind == "cf":
        scorer = CodeforcesScorer(provider, **scoring, **provider_options)
        required, optional, label = CF_COLUMNS, CF_OPTIONAL, "cf_code"
    else:
        scorer = IOIScorer(provider, **provider_options)
        required, optional, label = IOI_COLUMNS, IOI_OPTIONAL, "ioi_code"
    scorer.check()  # fail at build time, loudly, if the provider cannot work here
    lock = threading.Lock()

    def reward(completions, **kwargs) -> list[float | None]:
        texts = completion_texts(completions)
        rows = rows_from_columns(kwargs, len(texts), required, optional, label)
        with lock:
            return scorer.score(texts, rows)

    reward.sandbox = scorer  # for tests and for closing (``.close()``)
    return reward


def _factory(kind: str, options: dict[str, tuple[Any, Any]], doc: str):
    params: dict[str, tuple[Any, Any]] = {"provider": (str, "local"), **options}
    params |= {k: (t | None, None) for k, t in PROVIDER_OPTIONS.items()}
    return keyword_factory(f"{kind}_code", params, lambda kwargs: _make(kind, kwargs), doc)


def _check_cf(**kwargs: Any) -> None:
    _check("cf", **kwargs)


def _check_ioi(**kwargs: Any) -> None:
    _check("ioi", **kwargs)


make_cf_code = register("cf_code", check=_check_cf)(
    _factory(
        "cf",
        CF_OPTIONS,
        """\
``cf_code``: a Codeforces submission judged with the problem's tests, time and memory
limits and checker; ``scoring_mode`` ``pass_fail``, ``partial`` or ``weighted_sum``
(default, open-r1's: 1.1 for a full solve, 0.1 x the fraction passed otherwise).

>>> f = make_cf_code(scoring_mode="partial")
>>> tests = [{"input": "1 2", "output": "3"}, {"input": "5 5", "output": "10"}]
>>> head = "```cpp\\n#include <iostream>\\nint main(){int a,b;std::cin>>a>>b;std::cout<<"
>>> f([head + "a+b;}\\n```", head + "3;}\\n```", "```cpp\\nint main( {\\n```"],
...   official_tests=[tests] * 3, time_limit=[1.0] * 3, memory_limit=[256] * 3)
[1.0, 0.5, 0.0]
>>> f.sandbox.close()
""",
    )
)

make_ioi_code = register("ioi_code", check=_check_ioi)(
    _factory(
        "ioi",
        {},
        """\
``ioi_code``: an IOI subtask's score in [0, 1] (its lowest test score) for a C++ program
compiled with the problem's graders and judged by its checker (or token comparison).

>>> f = make_ioi_code()
>>> graders = [["graders/grader.cpp", '#include "add.h"\\n#include <cstdio>\\n'
...             'int main(){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\\\n",add(a,b));}'],
...            ["graders/add.h", "long long add(long long a, long long b);"]]
>>> row = dict(id="add", test_names=["1", "2"], test_cases={"1": ["1 2", "3"], "2": ["4 4", "8"]},
...            time_limit=1.0, memory_limit=256, grader_files=graders, score_precision=2)
>>> f(["```cpp\\nlong long add(long long a, long long b){ return a + b; }\\n```",
...    "```cpp\\nlong long add(long long a, long long b){ return 3; }\\n```"],
...   **{k: [v] * 2 for k, v in row.items()})
[1.0, 0.0]
>>> f.sandbox.close()
""",
    )
)
