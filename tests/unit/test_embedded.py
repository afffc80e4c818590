"""The embedded default is reproducible byte for byte and has the promised shape."""

import hashlib
import json

import pytest

from r1.configs import EmbeddedConfig
from r1.embedded.model import build_model, save_model, train_tokenizer
from r1.embedded.problems import (
    code_problems,
    distinct_chains,
    math_problems,
    parse_chain,
    solve,
    solver_trace,
)


def test_math_problems_are_seeded_distinct_and_answered():
    a, b = math_problems(50, seed=3), math_problems(50, seed=3)
    assert a == b
    assert a != math_problems(50, seed=4)
    assert len({r["problem"] for r in a}) == 50
    assert all(r["solution"].startswith("$") and r["solution"].endswith("$") for r in a)


def test_math_answers_are_correct_and_the_chain_parses_back():
    from math_verify import parse, verify

    for ops in ("+-", "+-*"):
        for row in math_problems(60, seed=0, operands=4, ops=ops):
            values, chosen = parse_chain(row["problem"])
            expr = row["problem"][len("Compute $"):-2].replace("\\times", "*")
            assert verify(parse(row["solution"]), parse(f"${eval(expr)}$")), row  # precedence: parenthesised
            assert f"${solve(values, chosen)[-1]}$" == row["solution"]


def test_too_many_problems_for_the_task_family_is_a_clear_error():
    assert distinct_chains(3, 9, "+-") == 2916
    with pytest.raises(ValueError, match="2917 problems asked for, but only 2916 distinct 3-operand chains"):
        math_problems(2917, seed=0, operands=3, ops="+-")


def test_the_solver_is_imperfect_in_the_ways_its_rates_say():
    import random
    import re

    rows = math_problems(400, seed=1)
    rng = random.Random(0)
    perfect = [solver_trace(r["problem"], rng, swap=0.0, slip=0.0) for r in rows]
    assert all(f"\\boxed{{{r['solution'].strip('$')}}}" in t for r, t in zip(rows, perfect, strict=True))
    assert re.fullmatch(r"<think>\n(-?\d+[+-]\d+=-?\d+\n){2}</think>\n<answer>\n\\boxed\{-?\d+\}\n</answer>",
                        perfect[0])
    noisy = [solver_trace(r["problem"], rng, swap=0.1, slip=0.03) for r in rows]
    right = sum(f"\\boxed{{{r['solution'].strip('$')}}}" in t for r, t in zip(rows, noisy, strict=True)) / len(rows)
    assert 0.6 < right < 0.9  # ~(1 - 0.1 - 0.03)^2, less the swaps that cancel out


def test_a_swapped_step_continues_from_the_wrong_value():
    import random

    class Always(random.Random):
        def random(self):
            return 0.0  # every step swaps (and slips)

    trace = solver_trace("Compute $5 + 3 - 1$.", Always(0), swap=1.0, slip=0.0)
    assert trace.startswith("<think>\n5+3=2\n2-1=3\n</think>")


def test_code_problems_follow_open_r1_schema():
    rows = code_problems(6, seed=1)
    for row in rows:
        info = row["verification_info"]
        assert info["language"] == "python"
        assert all(t["type"] == "stdin_stdout" and t["output"].endswith("\n") for t in info["test_cases"])
    summing = next(r for r in rows if r["source"].endswith("/sum"))
    case = summing["verification_info"]["test_cases"][0]
    a, b = map(int, case["input"].split())
    assert case["output"] == f"{a + b}\n"


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_model_and_tokenizer_bytes_are_reproducible(tmp_path):
    corpus = [r["problem"] for r in math_problems(30, seed=0)]
    digests = []
    for run in ("a", "b"):
        tok = train_tokenizer(corpus, vocab_size=400)
        save_model(build_model(tok, EmbeddedConfig(hidden_size=32, intermediate_size=64, seed=7)), tok, tmp_path / run)
        digests.append(_digest(tmp_path / run))
    assert digests[0] == digests[1]
    tok = train_tokenizer(corpus, vocab_size=400)
    save_model(build_model(tok, EmbeddedConfig(hidden_size=32, intermediate_size=64, seed=8)), tok, tmp_path / "c")
    assert _digest(tmp_path / "c")["model.safetensors"] != digests[0]["model.safetensors"]


def test_model_is_a_qwen2_that_generates(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = train_tokenizer(["Compute $2 + 3$."] * 3, vocab_size=300)
    save_model(build_model(tok, EmbeddedConfig(hidden_size=32, intermediate_size=64, seed=0)), tok, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    model = AutoModelForCausalLM.from_pretrained(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    ids = tok.apply_chat_template([{"role": "user", "content": "Compute $2 + 3$."}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)["input_ids"]
    torch.manual_seed(0)
    out = model.generate(ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 5 or tok.eos_token_id in out[0].tolist()
    assert "<think>" in tok.get_vocab() and tok.decode(tok.encode("<think>x</think>")) == "<think>x</think>"


@pytest.mark.parametrize("field, value", [("benchmark_size", 0), ("vocab_size", 0)])
def test_embedded_config_rejects_bad_sizes(field, value):
    from r1.config import ConfigError, load_section
    from r1.configs import EmbeddedConfig

    with pytest.raises(ConfigError, match=f"embedded.{field} = 0 is out of range: must be >= 1"):
        load_section({"embedded": {field: value, "planted_contamination": 0}}, "embedded", "embedded", EmbeddedConfig)


def _stage(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "stages" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"r1_stage_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_embedded_config_rejects_unknown_operators():
    from r1.config import ConfigError, load_section

    with pytest.raises(ConfigError, match=r"operators = '\+/' is out of range: must be a non-empty string of \+ - \*"):
        load_section({"embedded": {"operators": "+/"}}, "embedded", "embedded", EmbeddedConfig)


def test_more_problems_than_the_task_family_has_is_one_config_error(tmp_path, monkeypatch):
    from r1.config import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"params.yaml embedded: 3001 problems asked for, but only 2916 distinct"):
        _stage("embedded").main({"embedded": {"num_math_problems": 2601, "benchmark_size": 400, "operands": 3}})
    assert not (tmp_path / "data").exists() and not (tmp_path / "models").exists()


def test_teacher_training_that_is_not_an_sft_config_is_one_config_error(tmp_path, monkeypatch):
    from r1.config import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"embedded.teacher_training is not a valid SFTConfig: .*no_such_field"):
        _stage("teacher").main({"embedded": {"teacher_training": {"no_such_field": 1}}})
    assert not (tmp_path / "models").exists()
