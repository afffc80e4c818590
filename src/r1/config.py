"""Strict loading of params.yaml: one section per stage into typed config objects.

Every value that affects a result lives in params.yaml. A stage reads its own sections with
`load_section`, which
- rejects keys that no target dataclass knows, naming the key, the section and the stage,
  and suggesting the closest valid key (a typo must fail in seconds, not after training);
- checks each value against the field's annotation (int, float, bool, str, Optional, Literal,
  list[...], dict, enums given as strings);
- checks each number against its declared range and the cross-field rules (r1.ranges), so
  a negative learning rate or top_p 2.0 stops the stage before any model loads;
- splits a flat section between the project's own dataclass and a TRL config class
  (SFTConfig / GRPOConfig), so keys keep TRL's own names with no renaming layer.

HfArgumentParser.parse_dict would reject unknown keys but does not check types (a string
learning rate reaches the optimiser), hence this small checker.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from r1.ranges import TRAINER_RANGES, OutOfRange, check_rules, check_value, with_defaults

PARAMS_FILE = "params.yaml"


class ConfigError(ValueError):
    """A params.yaml value a stage cannot run with; the message names section, key and stage."""


def read_params(path: str | Path = PARAMS_FILE) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"params file not found: {path}")
    with path.open(encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML{_yaml_where(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def _yaml_where(exc: yaml.YAMLError) -> str:
    """' at line L, column C: problem' from PyYAML's marks (0-based), on one line."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    return f"{where}: {problem}" + (f" ({context})" if context else "")


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Literal:  # its __name__ is "Literal": say the values
        return "one of " + ", ".join(repr(v) for v in typing.get_args(tp))
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def matches_type(value: Any, tp: Any) -> bool:
    """Whether ``value`` (parsed YAML) is acceptable for annotation ``tp``."""
    if tp is Any or tp is object:
        return True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(matches_type(value, arg) for arg in typing.get_args(tp))
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    if tp is type(None):
        return value is None
    if origin in (list, tuple, typing.Sequence, set):
        if not isinstance(value, list | tuple):
            return False
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return all(matches_type(v, item) for v in value)
    if origin is dict or tp is dict:
        return isinstance(value, dict)
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return isinstance(value, tp) or value in {m.value for m in tp}
        if tp is bool:
            return isinstance(value, bool)
        if tp is float:
            return isinstance(value, int | float) and not isinstance(value, bool)
        if tp is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if tp is str:
            return isinstance(value, str)
        return isinstance(value, tp)
    # Forward references or exotic annotations we cannot check: accept rather than guess.
    return True


def _fields(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls) if f.init}


def _check(section: str, stage: str, key: str, value: Any, tp: Any) -> None:
    if not matches_type(value, tp):
        raise ConfigError(
            f"stage '{stage}': params.yaml {section}.{key} = {value!r} "
            f"({type(value).__name__}) does not match the expected type {_type_name(tp)}"
        )


def load_section(
    params: dict,
    section: str,
    stage: str,
    own: type,
    trainer: type | None = None,
    forbidden: dict[str, str] | None = None,
) -> tuple[Any, dict]:
    """Split ``params[section]`` into an ``own`` dataclass and the kwargs for ``trainer``.

    Returns ``(own_config, trainer_kwargs)``; the trainer class itself is built by the stage,
    which adds what the stage decides (output_dir, logging). ``forbidden`` maps keys that the
    stage controls itself to the reason they cannot be set in params.
    """
    if section not in params:
        raise ConfigError(f"stage '{stage}': params.yaml has no '{section}' section")
    values = params[section]
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"stage '{stage}': params.yaml '{section}' must be a mapping, got {type(values).__name__}")
    own_fields = _fields(own)
    trainer_fields = _fields(trainer) if trainer is not None else {}
    own_kwargs, trainer_kwargs = {}, {}
    for key, value in values.items():
        if forbidden and key in forbidden:
            raise ConfigError(f"stage '{stage}': params.yaml {section}.{key} cannot be set here: {forbidden[key]}")
        if key in own_fields:
            _check(section, stage, key, value, own_fields[key])
            own_kwargs[key] = value
        elif key in trainer_fields:
            _check(section, stage, key, value, trainer_fields[key])
            _in_range(section, stage, key, value)
            trainer_kwargs[key] = value
        else:
            known = sorted(set(own_fields) | set(trainer_fields))
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"stage '{stage}': unknown key '{key}' in params.yaml section '{section}'{hint}")
    try:
        config = own(**own_kwargs)  # r1.ranges.Checked checks ranges and cross-field rules
        if trainer is not None:
            check_rules(trainer, with_defaults(trainer, trainer_kwargs))
    except OutOfRange as exc:
        raise ConfigError(f"stage '{stage}': params.yaml {section}.{exc}") from None
    except (TypeError, ValueError) as exc:  # a missing required field or a __post_init__ check
        raise ConfigError(f"stage '{stage}': params.yaml section '{section}': {exc}") from exc
    return config, trainer_kwargs


def _in_range(section: str, stage: str, key: str, value: Any) -> None:
    try:
        check_value(key, value, TRAINER_RANGES.get(key))
    except OutOfRange as exc:
        raise ConfigError(f"stage '{stage}': params.yaml {section}.{exc}") from None


def to_dict(obj: Any) -> Any:
    """A JSON-able view of a config object, for the resolved-config record."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return obj.to_dict()
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    return obj
