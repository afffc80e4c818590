"""Code rewards: ``code`` (fraction of tests passed) and ``binary_code`` (all passed or not).

The program is the last fenced block of the sample's language in the completion
(```` ```python ```` / ```` ```cpp ````); the tests are the ``verification_info`` column
(schema in :mod:`r1.sandbox.schema`: open-r1's ``stdin_stdout`` tests and LiveCodeBench's
functional tests). Programs run in a sandbox provider chosen by the ``provider`` kwarg
(``local``, the default, or ``e2b``); other kwargs are the provider's options (for ``local``:
``timeout``, ``memory_mb``, ``max_processes``, ``max_output_mb``, ``max_workers``, ...).

A completion without a code block scores 0.0. A sample whose ``verification_info`` is
malformed, or whose run hit an error of the sandbox itself, gets None (no signal), logged.
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
from typing import Any

from r1.rewards._completions import column, completion_texts
from r1.rewards.registry import keyword_factory, register
from r1.sandbox import PROVIDERS, Problem, get_provider, parse_verification_info, score
from r1.sandbox.base import Provider

logger = logging.getLogger(__name__)

_FENCES = {"python": r"python3?|py", "cpp": r"cpp|c\+\+|cxx"}


def extract_code(completion: str, language: str = "python") -> str:
    """The last fenced code block of ``language`` in ``completion`` ("" if none).

    >>> extract_code("plan\\n```python\\nprint(1)\\n```\\nor\\n```python\\nprint(2)\\n```")
    'print(2)\\n'
    >>> extract_code("```cpp\\nint main(){}\\n```", "cpp"), extract_code("no code")
    ('int main(){}\\n', '')
    """
    blocks = re.findall(rf"```(?:{_FENCES[language]})[ \t]*\n(.*?)```", completion, re.DOTALL)
    return blocks[-1] if blocks else ""


# Keyword arguments the code rewards accept, besides ``provider``: the union of the
# providers' options, typed. Each is checked against the chosen provider's own signature.
_PROVIDER_KWARGS: dict[str, Any] = {
    "timeout": float,
    "memory_mb": int,
    "max_processes": int,
    "max_output_mb": float,
    "tmp_mb": int,
    "max_workers": int,
    "python": str,
    "cxx": str,
    "cxx_flags": str,
    "compile_timeout": float,
    "template": str,
    "max_concurrency": int,
    "sandbox_timeout": int,
    "request_timeout": float,
    "env_file": str,
}


def _check_code(*, provider: str = "local", **options: Any) -> None:
    from r1.sandbox import provider_class

    if provider not in PROVIDERS:
        raise ValueError(f"unknown sandbox provider {provider!r}; known: {', '.join(PROVIDERS)}")
    accepted = inspect.signature(provider_class(provider)).parameters
    for key in options:
        if key not in accepted:
            raise ValueError(
                f"argument {key!r} does not apply to provider {provider!r}; "
                f"it takes: {', '.join(accepted)}"
            )


def _make(label: str, binary: bool, provider: str, options: dict[str, Any]):
    _check_code(provider=provider, **options)
    sandbox: Provider = get_provider(provider, **options)
    sandbox.check()  # fail at build time, loudly, if the sandbox cannot work here
    lock = threading.Lock()

    def reward(completions, **kwargs) -> list[float | None]:
        texts = completion_texts(completions)
        infos = column(kwargs, "verification_info", len(texts), label)
        problems: list[Problem | None] = []
        for text, info in zip(texts, infos, strict=True):
            try:
                language, tests = parse_verification_info(info)
            except (ValueError, TypeError, KeyError) as e:
                logger.warning("%s: malformed verification_info (reward None): %s", label, e)
                problems.append(None)
                continue
            problems.append(Problem(extract_code(text, language), language, tests))
        runnable = [p for p in problems if p is not None and p.code.strip()]
        with lock:
            fractions = iter(score(sandbox, runnable))
        out: list[float | None] = []
        for p in problems:
            if p is None:
                out.append(None)
            elif not p.code.strip():
                out.append(0.0)  # no code block: a failure, not a missing signal
            else:
                f = next(fractions)
                # open-r1's binary threshold: every test passed.
                out.append(f if f is None or not binary else (1.0 if f > 0.99 else 0.0))
        return out

    reward.sandbox = sandbox  # for tests and for closing
    return reward


def _typed_factory(name: str, binary: bool, doc: str):
    options = {"provider": (str, "local")}
    options |= {k: (t | None, None) for k, t in _PROVIDER_KWARGS.items()}

    def make(kwargs: dict[str, Any]):
        provider = kwargs.pop("provider")
        return _make(name, binary, provider, {k: v for k, v in kwargs.items() if v is not None})

    return keyword_factory(name, options, make, doc)


def _check_kwargs(**kwargs: Any) -> None:
    provider = kwargs.pop("provider", "local")
    _check_code(provider=provider, **{k: v for k, v in kwargs.items() if v is not None})


make_code = register("code", check=_check_kwargs)(
    _typed_factory(
        "code",
        False,
        """\
``code``: the fraction of the sample's tests its program passes (None on a sandbox error).

>>> f = make_code(timeout=5.0)
>>> info = {"language": "python", "test_cases": [
...     {"type": "stdin_stdout", "input": "2 3\\n", "output": "5\\n"},
...     {"type": "stdin_stdout", "input": "1 1\\n", "output": "2\\n"}]}
>>> f(["```python\\na, b = map(int, input().split())\\nprint(a + b)\\n```",
...    "```python\\nprint(5)\\n```", "no code"], verification_info=[info] * 3)
[1.0, 0.5, 0.0]
""",
    )
)

make_binary_code = register("binary_code", check=_check_kwargs)(
    _typed_factory(
        "binary_code",
        True,
        """\
``binary_code``: 1.0 if the program passes every test, else 0.0 (None on a sandbox error).

>>> f = make_binary_code()
>>> info = {"language": "python", "test_cases": [
...     {"type": "functional", "fn_name": "add", "input": "2\\n3", "output": "5"},
...     {"type": "functional", "fn_name": "add", "input": "1\\n1", "output": "2"}]}
>>> f(["```python\\ndef add(a, b):\\n    return a + b\\n```", "```python\\ndef add(a, b):\\n    return 5\\n```"],
...   verification_info=[info] * 2)
[1.0, 0.0]
""",
    )
)
