"""One scorer of competition submissions, for the rewards and the filter stage.

:class:`CodeforcesScorer` and :class:`IOIScorer` take completions (model text) and dataset
rows, pull the program out of each completion, judge it on a provider and score it:

>>> import shutil, pytest
>>> s = CodeforcesScorer(scoring_mode="pass_fail")
>>> row = {"official_tests": [{"input": "2 3", "output": "5"}], "time_limit": 1,
...        "memory_limit": 256, "language": "python"}
>>> s.score(["```python\\nprint(sum(map(int, input().split())))\\n```", "no code"], [row, row])
[1.0, 0.0]
>>> s.close()
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from r1.competitive.patch import patch_code, patch_cpp
from r1.competitive.problems import codeforces_problem, ioi_problem, submission_language
from r1.competitive.scoring import SCORING_MODES, codeforces_score, ioi_subtask_score
from r1.sandbox.base import Provider, TestResult
from r1.sandbox.schema import Problem

logger = logging.getLogger(__name__)

PROVIDERS = {"cf": ("local", "piston"), "ioi": ("local", "piston", "morph")}


def provider_class(name: str, kind: str) -> type:
    """The provider class ``name`` for problems of ``kind`` (``cf`` or ``ioi``)."""
    if name not in PROVIDERS[kind]:
        raise ValueError(
            f"unknown provider {name!r} for {'Codeforces' if kind == 'cf' else 'IOI'} "
            f"problems; known: {', '.join(PROVIDERS[kind])}"
        )
    if name == "local":
        from r1.sandbox.local import LocalSandbox

        return LocalSandbox
    from r1.competitive.remote import MorphProvider, PistonProvider

    return PistonProvider if name == "piston" else MorphProvider


def check_options(name: str, kind: str, options: Mapping[str, Any]) -> None:
    """``ValueError`` naming an option that provider ``name`` does not take."""
    accepted = [p for p in inspect.signature(provider_class(name, kind)).parameters if p != "kind"]
    for key in options:
        if key not in accepted:
            raise ValueError(
                f"argument {key!r} does not apply to provider {name!r}; "
                f"it takes: {', '.join(accepted)}"
            )


def make_provider(name: str, kind: str, options: Mapping[str, Any]) -> Provider:
    check_options(name, kind, options)
    cls = provider_class(name, kind)
    extra = {} if name == "local" else {"kind": kind}
    return cls(**extra, **options)


def _extract(completion: str, language: str) -> str:
    from r1.rewards.code import extract_code  # the same fences as the code rewards

    return extract_code(completion, language)


class _Scorer:
    kind = "cf"

    def __init__(self, provider: str, options: Mapping[str, Any]) -> None:
        self.provider = make_provider(provider, self.kind, options)

    def check(self) -> None:
        self.provider.check()

    def close(self) -> None:
        self.provider.close()

    def problem(self, completion: str, row: Mapping) -> Problem:
        """The sandbox problem judging ``completion`` on ``row``; ValueError, TypeError or
        KeyError for a malformed row."""
        raise NotImplementedError

    def problems(self, completions: Sequence[str], rows: Sequence[Mapping]) -> list[Problem | None]:
        """Per completion its sandbox problem; None for a malformed row (logged)."""
        out: list[Problem | None] = []
        for text, row in zip(completions, rows, strict=True):
            try:
                out.append(self.problem(text, row))
            except (ValueError, TypeError, KeyError) as e:
                logger.warning("%s_code: malformed row (reward None): %s", self.kind, e)
                out.append(None)
        return out

    def verdicts(
        self, completions: Sequence[str], rows: Sequence[Mapping]
    ) -> list[list[TestResult] | None | str]:
        """Per completion its tests' verdicts, None (malformed row or no verdict), or
        ``"no_code"`` (the completion has no program: nothing runs)."""
        problems = self.problems(completions, rows)
        has_code = [p is not None and bool(p.code.strip()) for p in problems]
        runnable = [p for p, ok in zip(problems, has_code, strict=True) if ok]
        judged = iter(self.provider.run(runnable) if runnable else [])
        out: list[list[TestResult] | None | str] = []
        for problem, ok in zip(problems, has_code, strict=True):
            if problem is None:
                out.append(None)
            elif not ok:
                out.append("no_code")
            else:
                results = next(judged)
                if results and results[0].status == "compile_error":
                    logger.info(
                        "%s: compile error (scored as such): %s", self.kind, results[0].detail[:500]
                    )
                out.append(results)
        return out


class CodeforcesScorer(_Scorer):
    """Codeforces submissions, scored as open-r1's ``cf_code`` reward does.

    ``scoring_mode``: ``pass_fail``, ``partial`` or ``weighted_sum`` (open-r1's default); see
    :func:`r1.competitive.scoring.codeforces_score`. ``patch_code``: apply open-r1's fixes
    (:mod:`r1.competitive.patch`) first. ``language``: for rows without a ``language``
    column. A completion without a program scores ``no_code_reward``, a compile error
    ``compile_error_reward`` (both 0.0; open-r1 uses -1.0 and -0.1), a malformed row or a
    sandbox error None (no signal, logged).
    """

    kind = "cf"

    def __init__(
        self,
        provider: str = "local",
        scoring_mode: str = "weighted_sum",
        patch_code: bool = False,
        language: str = "cpp",
        compile_error_reward: float = 0.0,
        no_code_reward: float = 0.0,
        **options: Any,
    ) -> None:
        if scoring_mode not in SCORING_MODES:
            raise ValueError(f"scoring_mode must be one of {SCORING_MODES}, got {scoring_mode!r}")
        self.scoring_mode = scoring_mode
        self.patch = patch_code
        self.language = submission_language(language)
        self.compile_error_reward = compile_error_reward
        self.no_code_reward = no_code_reward
        super().__init__(provider, options)

    def problem(self, completion: str, row: Mapping) -> Problem:
        language = submission_language(row.get("language") or self.language)
        code = _extract(completion, language)
        if self.patch:
            code = patch_code(code, language)
        return codeforces_problem(row, code, language)

    def score(self, completions: Sequence[str], rows: Sequence[Mapping]) -> list[float | None]:
        """Per completion its reward."""
        return [
            self.no_code_reward
            if v == "no_code"
            else codeforces_score(v, self.scoring_mode, self.compile_error_reward)  # type: ignore[arg-type]
            for v in self.verdicts(completions, rows)
        ]


class IOIScorer(_Scorer):
    """IOI subtasks, scored as open-r1's ``ioi_code`` reward does: the subtask's score in
    [0, 1] (its lowest test score, rounded to ``score_precision``). The C++ program gets
    ``<bits/stdc++.h>`` and the problem's own header when it lacks them, as in open-r1."""

    kind = "ioi"

    def __init__(self, provider: str = "local", **options: Any) -> None:
        super().__init__(provider, options)

    def problem(self, completion: str, row: Mapping) -> Problem:
        code = _extract(completion, "cpp")
        if code.strip():
            code = patch_cpp(code, header=f"{row.get('id')}.h")
        return ioi_problem(row, code)

    def score(self, completions: Sequence[str], rows: Sequence[Mapping]) -> list[float | None]:
        """Per completion its subtask score in [0, 1] (the reward)."""
        return [
            0.0 if v == "no_code" else ioi_subtask_score(v, _precision(row))  # type: ignore[arg-type]
            for v, row in zip(self.verdicts(completions, rows), rows, strict=True)
        ]

    def points(self, completions: Sequence[str], rows: Sequence[Mapping]) -> list[float | None]:
        """Per completion the points it wins on its subtask: the lowest test score times the
        row's ``score`` (the subtask's points), rounded to ``score_precision``, as CMS and
        open-r1's ``weighted_score`` do; for evaluation, where the points add up."""
        out: list[float | None] = []
        for v, row in zip(self.verdicts(completions, rows), rows, strict=True):
            if v is None:
                out.append(None)
            elif v == "no_code" or not v:
                out.append(0.0)
            else:
                worst = min(r.score for r in v)  # type: ignore[union-attr]
                out.append(round(worst * float(row.get("score") or 0), _precision(row)))
        return out


def _precision(row: Mapping) -> int:
    value = row.get("score_precision")
    return 2 if value is None else int(value)
