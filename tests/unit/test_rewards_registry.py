"""The registry: names, validation of reward_kwargs, user rewards, and the configs' rewards."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import textwrap
from pathlib import Path

import pytest
import yaml

import r1.competitive
import r1.rewards
import r1.sandbox
from r1.rewards import available, build, build_all, validate

REPO = Path(__file__).resolve().parents[2]

EXPECTED = {
    "accuracy",
    "format",
    "think_format",
    "tag_count",
    "reasoning_steps",
    "repetition_penalty",
    "cosine",
    "length",
    "soft_overlong_punishment",
    "code",
    "binary_code",
    "cf_code",
    "ioi_code",
    "code_format",
}


def test_available_lists_every_reward():
    assert set(available()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED - {"code", "binary_code", "cf_code", "ioi_code"}))
def test_build_sets_name(name):
    assert build(name).__name__ == name


@pytest.mark.parametrize(
    ("funcs", "kwargs", "message"),
    [
        (["acuracy"], {}, "unknown reward 'acuracy'"),
        (
            ["cosine"],
            {"cosine": {"max_lenght": 10}},
            "reward 'cosine': unknown argument 'max_lenght'",
        ),
        (
            ["cosine"],
            {"cosine": {"max_len": "10"}},
            "reward 'cosine': argument 'max_len' must be int",
        ),
        (["cosine"], {"cosine": {"max_len": True}}, "argument 'max_len' must be int"),
        (["repetition_penalty"], {"repetition_penalty": {"max_penalty": 0.5}}, "max_penalty"),
        (["accuracy"], {"cosine": {"max_len": 10}}, "'cosine', which is not in reward_funcs"),
        (["code"], {"code": {"provider": "docker"}}, "unknown sandbox provider 'docker'"),
        (["code"], {"code": {"timeout": "5s"}}, "reward 'code': argument 'timeout'"),
        (
            ["code"],
            {"code": {"provider": "local", "template": "t"}},
            "'template' does not apply to provider 'local'",
        ),
        (
            ["binary_code"],
            {"binary_code": {"provider": "e2b", "memory_mb": 10}},
            "'memory_mb' does not apply",
        ),
        (["code_format"], {"code_format": {"language": "rust"}}, "language"),
        (["no_such_module_xyz:f"], {}, "cannot import module"),
        ("accuracy", {}, "list of names"),
    ],
)
def test_validate_names_the_problem(funcs, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate(funcs, kwargs)


def test_validate_accepts_good_config():
    validate(
        ["accuracy", "format", "cosine", "code", "soft_overlong_punishment"],
        {
            "cosine": {"max_len": 2048, "min_value_wrong": -1, "max_value_wrong": -0.5},
            "code": {"provider": "local", "timeout": 5, "max_workers": 2},
            "soft_overlong_punishment": {"max_completion_len": 512, "soft_punish_cache": 128},
        },
    )


def test_float_args_accept_ints_but_int_args_reject_floats():
    validate(["cosine"], {"cosine": {"max_value_correct": 1}})
    with pytest.raises(ValueError, match="max_len"):
        validate(["cosine"], {"cosine": {"max_len": 10.5}})


def test_user_reward_by_dotted_path(tmp_path, monkeypatch):
    (tmp_path / "my_rewards_mod.py").write_text(
        textwrap.dedent("""
        def shout(completions, bonus=0.0, **kwargs):
            return [float(c.isupper()) + bonus for c in completions]
        def strict(completions, bonus=0.0):
            return [bonus] * len(completions)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    f = build("my_rewards_mod:shout")
    assert f(prompts=["p", "p"], completions=["HI", "hi"], trainer_state=None) == [1.0, 0.0]
    g = build("my_rewards_mod:shout", bonus=1.0)
    assert g.__name__ == "shout" and g(completions=["HI"], trainer_state=None) == [2.0]
    with pytest.raises(ValueError, match="unknown argument 'malus'"):
        validate(["my_rewards_mod:strict"], {"my_rewards_mod:strict": {"malus": 1}})
    with pytest.raises(ValueError, match="has no attribute 'nope'"):
        validate(["my_rewards_mod:nope"], {})


def test_build_all_keeps_order():
    funcs = build_all(["format", "tag_count"], {})
    assert [f.__name__ for f in funcs] == ["format", "tag_count"]


def _doctest_modules():
    for package in (r1.rewards, r1.sandbox, r1.competitive):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            yield info.name


@pytest.mark.parametrize("module", sorted(_doctest_modules()))
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_reward_docstrings_have_doctests():
    finder = doctest.DocTestFinder()
    for name in EXPECTED:
        from r1.rewards.registry import _REGISTRY

        tests = finder.find(_REGISTRY[name].factory)
        assert any(t.examples for t in tests), f"reward {name} has no doctest"


# -- every reward named in params.yaml and in the recipes resolves --------------------------
def _grpo_sections():
    params = REPO / "params.yaml"
    assert params.exists(), "params.yaml is missing (the pipeline's single source of params)"
    yield "params.yaml", (yaml.safe_load(params.read_text()) or {}).get("grpo")
    for path in sorted((REPO / "recipes").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and isinstance(data.get("grpo"), dict):
            yield str(path.relative_to(REPO)), data["grpo"]


def test_configured_rewards_resolve():
    sections = list(_grpo_sections())
    assert sections[0][1], "params.yaml has no grpo section"
    for where, grpo in sections:
        if grpo is None:
            continue
        funcs = grpo.get("reward_funcs")
        assert funcs, f"{where}: grpo.reward_funcs is empty"
        try:
            validate(funcs, grpo.get("reward_kwargs") or {})
        except ValueError as e:
            pytest.fail(f"{where}: {e}")
        weights = grpo.get("reward_weights")
        if weights is not None:
            assert len(weights) == len(funcs), (
                f"{where}: reward_weights and reward_funcs differ in length"
            )
