"""Each recipe's graph is the one it declares: `make recipe RECIPE=...` in a fresh clone, then
the stages DVC builds (`dvc dag --dot`, which reads dvc.yaml and params only: nothing runs or
downloads; `dvc repro --dry` cannot serve here, as it hashes deps that no stage has made yet)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pipeline_helpers import ROOT, dvc, fresh_copy

from r1 import recipe
from r1.config import read_params

pytestmark = pytest.mark.integration

MATH = ["aime24", "math_500", "gpqa_diamond"]
LCB = ["lcb_codegeneration"]
# Always in the graph: the embedded default's files, its teacher (trained for seconds where a
# recipe has its own teacher), and the pinned student.
PINS = {"embedded", "teacher", "base"}


def hub(*names: str) -> set[str]:
    return {f"benchmark-hub@{n}" for n in names}


GRPO = {"grpo-data@student", "grpo@student"}
SFT = {"sft-data@student", "sft@student"}
DISTILL = {"generate@teacher", "filter@teacher"}

# recipe -> (the stages other than evaluate, edges that make its chain, the models it trains)
EXPECTED = {
    "params.yaml": (
        PINS | DISTILL | SFT | GRPO | {"benchmark-file@embedded_math"},
        [
            ("filter@teacher", "sft-data@student"),
            ("sft@student", "grpo@student"),
            ("filter@teacher", "grpo-data@student"),
            ("teacher", "generate@teacher"),
        ],
        {"sft", "grpo"},
    ),
    "recipes/Qwen2.5-1.5B-Instruct/math.yaml": (
        PINS | DISTILL | SFT | GRPO | hub(*MATH),
        [
            ("generate@teacher", "filter@teacher"),
            ("filter@teacher", "sft-data@student"),
            ("sft-data@student", "sft@student"),
            ("sft@student", "grpo@student"),
            ("grpo-data@student", "grpo@student"),
        ],
        {"sft", "grpo"},
    ),
    "recipes/Qwen2.5-1.5B-Instruct/grpo_math.yaml": (
        PINS | GRPO | hub(*MATH) | {"dataset-hub@openr1_math"},
        [("dataset-hub@openr1_math", "grpo-data@student"), ("base", "grpo@student")],
        {"grpo"},
    ),
    "recipes/Qwen2.5-1.5B-Instruct/grpo_code.yaml": (
        PINS | GRPO | hub(*LCB) | {"dataset-hub@verifiable_coding"},
        [("dataset-hub@verifiable_coding", "grpo-data@student"), ("base", "grpo@student")],
        {"grpo"},
    ),
    "recipes/DeepSeek-R1-Distill-Qwen-1.5B/grpo.yaml": (
        PINS | GRPO | hub(*MATH) | {"dataset-hub@openr1_math"},
        [("dataset-hub@openr1_math", "grpo-data@student"), ("base", "grpo@student")],
        {"grpo"},
    ),
    "recipes/Qwen2.5-Coder-7B-Instruct/codeforces.yaml": (
        PINS | GRPO | hub(*LCB) | {"dataset-hub@codeforces"},
        [("dataset-hub@codeforces", "grpo-data@student"), ("base", "grpo@student")],
        {"grpo"},
    ),
    "recipes/OpenR1-Distill-7B/sft.yaml": (
        PINS | SFT | hub(*MATH, *LCB) | {"dataset-hub@mixture_of_thoughts"},
        [
            ("dataset-hub@mixture_of_thoughts", "sft-data@student"),
            ("sft-data@student", "sft@student"),
            ("base", "sft@student"),
        ],
        {"sft"},
    ),
    "recipes/OlympicCoder-7B/sft.yaml": (
        PINS | SFT | hub(*LCB) | {"dataset-hub@codeforces_cots"},
        [("dataset-hub@codeforces_cots", "sft-data@student"), ("base", "sft@student")],
        {"sft"},
    ),
    "recipes/DeepSeek-R1-Distill-Qwen-1.5B/reproduce.yaml": (
        PINS | hub(*MATH, *LCB) | {"model-hub@r1-distill-qwen-7b"},
        [("embedded", "base"), ("model-hub@r1-distill-qwen-7b", "evaluate@r1-distill-qwen-7b-aime24")],
        set(),
    ),
}
# Models a recipe evaluates without training them, besides base.
EXTERNAL = {"recipes/DeepSeek-R1-Distill-Qwen-1.5B/reproduce.yaml": {"r1-distill-qwen-7b"},
            "params.yaml": {"teacher"}}


def test_every_recipe_has_its_expected_graph():
    recipes = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "recipes").rglob("*.yaml")
        if "accelerate" not in p.parts
    }
    assert recipes | {"params.yaml"} == set(EXPECTED)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return fresh_copy(tmp_path_factory.mktemp("recipes"))


def graph(project: Path, name: str) -> tuple[set[str], set[tuple[str, str]]]:
    if name != "params.yaml":
        recipe.apply(ROOT / name, project / "params.yaml")  # what `make recipe RECIPE=...` does
    dot = dvc(project, "dag", "--dot").stdout
    edges = set(re.findall(r'"([^"]+)" -> "([^"]+)";', dot))
    nodes = set(re.findall(r'^"([^"]+)";$', dot, re.MULTILINE))
    return nodes, edges


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recipe_graph(project, name):
    stages, chain, trained = EXPECTED[name]
    nodes, edges = graph(project, name)
    assert {n for n in nodes if not n.startswith("evaluate@")} == stages
    assert set(chain) <= edges, set(chain) - edges
    benchmarks = read_params(project / "params.yaml")["benchmarks"]["names"]
    evaluated = {n for n in nodes if n.startswith("evaluate@")}
    # every model the recipe has is scored on every benchmark, and nothing else is evaluated
    scored = {"base"} | trained | EXTERNAL.get(name, set())
    assert {f"evaluate@{m}-{b}" for m in scored for b in benchmarks} == evaluated
    for model in {"sft", "grpo"} & trained:
        assert all((f"{model}@student", f"evaluate@{model}-{b}") in edges for b in benchmarks)


def test_a_grpo_only_recipe_evaluates_no_sft_model(project):
    nodes, _ = graph(project, "recipes/Qwen2.5-1.5B-Instruct/grpo_math.yaml")
    assert not any(n.startswith("evaluate@sft-") for n in nodes)
