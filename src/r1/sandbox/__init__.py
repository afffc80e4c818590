"""Running untrusted programs against their tests, for the code rewards.

Providers: ``local`` (default; bubblewrap on this machine, see :mod:`r1.sandbox.local`) and
``e2b`` (E2B's hosted sandboxes, see :mod:`r1.sandbox.e2b`). Both take a list of
:class:`Problem` and return, per problem, the verdict of each test, or None when the
sandbox itself failed (no signal, never a zero).
"""

from __future__ import annotations

from typing import Any

from r1.sandbox.base import Provider, SandboxUnavailable, TestResult, pass_fraction, score
from r1.sandbox.schema import Problem, TestCase, outputs_match, parse_verification_info

PROVIDERS = ("local", "e2b")

__all__ = [
    "PROVIDERS",
    "Problem",
    "Provider",
    "SandboxUnavailable",
    "TestCase",
    "TestResult",
    "get_provider",
    "outputs_match",
    "parse_verification_info",
    "pass_fraction",
    "score",
]


def provider_class(name: str) -> type:
    """The class of provider ``name``; ``ValueError`` naming the known ones otherwise."""
    if name == "local":
        from r1.sandbox.local import LocalSandbox

        return LocalSandbox
    if name == "e2b":
        from r1.sandbox.e2b import E2BSandbox

        return E2BSandbox
    raise ValueError(f"unknown sandbox provider {name!r}; known: {', '.join(PROVIDERS)}")


def get_provider(name: str = "local", **options: Any) -> Provider:
    """A provider instance (not yet checked; call ``.check()`` to fail early)."""
    return provider_class(name)(**options)
