"""The reward registry: names, their keyword arguments, and building TRL reward callables.

A reward is registered as a *factory*: a function whose keyword-only parameters (with type
annotations and defaults) are exactly the reward's ``reward_kwargs``, and which returns the
reward callable. Factories are cheap (no pools, no sandboxes start), so :func:`validate` can
type-check a whole ``grpo`` config at load time; value checks that go beyond the type (for
example cosine bounds in the right order) live in an optional ``check`` function with the
same parameters, run by both :func:`validate` and :func:`build`.

A name of the form ``package.module:function`` is a user's own reward: the function itself
is the reward callable, and any ``reward_kwargs`` given for it are passed on every call.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from r1.config import matches_type

RewardFunc = Callable[..., list]


@dataclass(frozen=True)
class RewardSpec:
    name: str
    factory: Callable[..., RewardFunc]
    check: Callable[..., None] | None = None

    def parameters(self) -> dict[str, tuple[Any, Any]]:
        """``{kwarg: (type annotation, default)}`` of the factory."""
        hints = typing.get_type_hints(self.factory)
        return {
            p.name: (hints.get(p.name, Any), p.default)
            for p in inspect.signature(self.factory).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }


_REGISTRY: dict[str, RewardSpec] = {}


def keyword_factory(
    name: str,
    options: Mapping[str, tuple[Any, Any]],
    make: Callable[[dict[str, Any]], RewardFunc],
    doc: str,
) -> Callable[..., RewardFunc]:
    """A factory whose keyword-only parameters are ``options`` (``{kwarg: (type, default)}``)
    and which calls ``make`` with them all. For rewards whose arguments come from a table
    (the sandbox providers' options): the registry reads arguments from a signature, and a
    plain ``**kwargs`` function has none."""
    params = [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=t)
        for k, (t, d) in options.items()
    ]

    signature = inspect.Signature(params)

    def factory(**kwargs: Any) -> RewardFunc:
        bound = signature.bind(**kwargs)  # TypeError for an argument it does not take
        bound.apply_defaults()
        return make(dict(bound.arguments))

    factory.__signature__ = signature  # type: ignore[attr-defined]
    factory.__annotations__ = {p.name: p.annotation for p in params}
    factory.__name__ = f"make_{name}"
    factory.__doc__ = doc
    return factory


def register(name: str, *, check: Callable[..., None] | None = None):
    """Decorator: register ``factory`` under ``name``."""

    def decorator(factory):
        if name in _REGISTRY:
            raise ValueError(f"reward {name!r} registered twice")
        _REGISTRY[name] = RewardSpec(name, factory, check)
        return factory

    return decorator


def available() -> list[str]:
    """The registered reward names, sorted."""
    return sorted(_REGISTRY)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _import_reward(path: str) -> Callable:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(
            f"unknown reward {path!r}; known: {', '.join(available())} "
            "(or a user reward as 'package.module:function')"
        )
    try:
        obj = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"reward {path!r}: cannot import module {module_name!r}: {e}") from e
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"reward {path!r}: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"reward {path!r} is not callable")
    return obj


def _validate_one(name: str, kwargs: Mapping[str, Any]) -> RewardSpec | Callable:
    if not isinstance(name, str):
        raise ValueError(f"reward names must be strings, got {name!r}")
    if name not in _REGISTRY:
        if ":" not in name:
            raise ValueError(
                f"unknown reward {name!r}; known: {', '.join(available())} "
                "(or a user reward as 'package.module:function')"
            )
        func = _import_reward(name)
        params = inspect.signature(func).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            bad = [k for k in kwargs if k not in params]
            if bad:
                raise ValueError(f"reward {name!r}: unknown argument {bad[0]!r}")
        return func
    spec = _REGISTRY[name]
    params = spec.parameters()
    for key, value in kwargs.items():
        if key not in params:
            raise ValueError(
                f"reward {name!r}: unknown argument {key!r}; "
                f"known: {', '.join(sorted(params)) or '(none)'}"
            )
        annotation = params[key][0]
        if not matches_type(value, annotation):
            raise ValueError(
                f"reward {name!r}: argument {key!r} must be {_type_name(annotation)}, "
                f"got {value!r} ({type(value).__name__})"
            )
    if spec.check is not None:
        try:
            spec.check(**kwargs)
        except ValueError as e:
            raise ValueError(f"reward {name!r}: {e}") from e
    return spec


def validate(
    reward_funcs: Sequence[str], reward_kwargs: Mapping[str, Mapping[str, Any]] | None = None
) -> None:
    """Raise ``ValueError`` naming the first unknown reward, or unknown or mistyped argument
    (and its reward). ``reward_kwargs`` may only name rewards that are in ``reward_funcs``.

    >>> validate(["accuracy", "cosine"], {"cosine": {"max_len": 512}})
    >>> validate(["acuracy"], {})
    Traceback (most recent call last):
    ...
    ValueError: unknown reward 'acuracy'; known: ...
    >>> validate(["cosine"], {"cosine": {"max_len": "long"}})
    Traceback (most recent call last):
    ...
    ValueError: reward 'cosine': argument 'max_len' must be int, got 'long' (str)
    """
    reward_kwargs = dict(reward_kwargs or {})
    if isinstance(reward_funcs, str):
        raise ValueError("reward_funcs must be a list of names, not a string")
    for name in reward_kwargs:
        if name not in reward_funcs:
            raise ValueError(
                f"reward_kwargs names reward {name!r}, which is not in reward_funcs "
                f"{list(reward_funcs)}"
            )
    for name in reward_funcs:
        kwargs = reward_kwargs.get(name) or {}
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"reward_kwargs[{name!r}] must be a mapping, got {kwargs!r}")
        _validate_one(name, kwargs)


def build(name: str, **kwargs: Any) -> RewardFunc:
    """The TRL reward callable for ``name`` (``__name__`` set to the name), after validation.

    >>> f = build("tag_count")
    >>> f.__name__, f(completions=["<think>\\nx\\n</think>\\n<answer>\\ny\\n</answer>"], trainer_state=None)
    ('tag_count', [1.0])
    """
    target = _validate_one(name, kwargs)
    if isinstance(target, RewardSpec):
        func = target.factory(**kwargs)
        label = name
    elif not kwargs:
        return target  # a user's reward, used as it is (TRL reads its own __name__)
    else:
        func = functools.partial(target, **kwargs)
        label = getattr(target, "__name__", name.rpartition(":")[2])

    if inspect.iscoroutinefunction(target if not isinstance(target, RewardSpec) else func):

        async def reward(*args: Any, **call_kwargs: Any) -> list:  # TRL awaits async rewards
            return await func(*args, **call_kwargs)
    else:

        def reward(*args: Any, **call_kwargs: Any) -> list:
            return func(*args, **call_kwargs)

    reward.__dict__.update(getattr(func, "__dict__", {}))  # e.g. the code rewards' .sandbox
    reward.__name__ = reward.__qualname__ = label
    reward.__doc__ = getattr(func, "__doc__", None) or getattr(target, "__doc__", None)
    return reward


def build_all(
    reward_funcs: Sequence[str], reward_kwargs: Mapping[str, Mapping[str, Any]] | None = None
) -> list[RewardFunc]:
    """:func:`validate` the whole list, then :func:`build` each reward in order."""
    validate(reward_funcs, reward_kwargs)
    reward_kwargs = reward_kwargs or {}
    return [build(name, **dict(reward_kwargs.get(name) or {})) for name in reward_funcs]
