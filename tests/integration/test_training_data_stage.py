"""The training data stages on external sources, run as DVC's cmd runs them: a local file in
OpenR1-Math-220k's schema and one in Mixture-of-Thoughts' schema, mixed by weight, mapped
onto the stage's columns, and decontaminated against the benchmark before training."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import copy_of
from pipeline_helpers import stage

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def project(built_project, tmp_path_factory):
    return copy_of(built_project, tmp_path_factory.mktemp("trainsets") / "project")


def _benchmark(project) -> list[dict]:
    return [json.loads(line) for line in (project / "data/embedded/benchmark.jsonl").read_text().splitlines()]


def _params(project, **sections):
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for name, values in sections.items():
        params[name] = {**(params.get(name) or {}), **values}
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_a_contaminated_external_dataset_loses_its_contaminated_rows_before_training(project):
    bench = _benchmark(project)[:3]
    clean = [{"problem": f"What is {i} plus {i + 7}? Give the sum as one whole number.", "solution": f"${2 * i + 7}$",
              "answer": str(2 * i + 7)} for i in range(40)]
    planted = [{"problem": r["problem"], "solution": r["solution"], "answer": "x"} for r in bench]
    (project / "math.jsonl").write_text("".join(json.dumps(r) + "\n" for r in clean + planted))
    _params(project, datasets={"paths": {"math": {"path": "math.jsonl"}}, "hub": {}},
            grpo={"dataset_mixture": {"datasets": [{"source": "math", "columns": {"prompt": "problem"}}]}})
    for name, *args in (("dataset", "--name", "math"), ("training_data", "--stage", "grpo")):
        proc = stage(project, name, *args)
        assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((project / "metrics/grpo-data.json").read_text())
    assert metrics["hits"]["embedded_math"] == 3 and metrics["rows_out"] == 40, metrics
    rows = pq.read_table(project / "data/train/grpo/train.parquet").to_pylist()
    prompts = {r["prompt"][0]["content"] for r in rows}
    assert not prompts & {r["problem"] for r in bench}
    assert {"prompt", "solution", "answer"} <= set(rows[0]) and rows[0]["prompt"][0]["role"] == "user"
    report = json.loads((project / "reports/decontaminate_grpo.json").read_text())
    assert {e["benchmark"] for e in report} == {"embedded_math"}


def test_an_sft_mixture_takes_each_sources_share_in_the_stage_schema(project):
    math = [{"problem": f"Problem {i}: compute {i} times {i + 3} exactly.", "solution": "s", "answer": "a"}
            for i in range(60)]
    chats = [{"messages": [{"role": "user", "content": f"Question {i}: name a prime above {10 * i + 3}."},
                           {"role": "assistant", "content": f"<think>\ncheck\n</think>\n{10 * i + 7}"}],
              "num_tokens": 20} for i in range(30)]
    (project / "math2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in math))
    (project / "mot.jsonl").write_text("".join(json.dumps(r) + "\n" for r in chats))
    # (grpo's mixture is left alone, so its source stays declared)
    paths = {**yaml.safe_load((project / "params.yaml").read_text())["datasets"]["paths"],
             "math2": {"path": "math2.jsonl"}, "mot": {"path": "mot.jsonl"}}
    _params(project, datasets={"paths": paths, "hub": {}},
            sft={"dataset_mixture": {"seed": 3, "datasets": [
                {"source": "math2", "weight": 0.5, "columns": {"prompt": "problem", "completion": "solution"}},
                {"source": "mot", "weight": 0.2}]}})
    for name, *args in (("dataset", "--name", "math2"), ("dataset", "--name", "mot"), ("training_data", "--stage", "sft")):
        proc = stage(project, name, *args)
        assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((project / "metrics/sft-data.json").read_text())
    assert metrics["sources"] == {"math2": {"rows": 60, "used": 30}, "mot": {"rows": 30, "used": 6}}, metrics
    rows = pq.read_table(project / "data/train/sft/train.parquet").to_pylist()
    assert len(rows) == 36 and set(rows[0]) == {"messages"}
    from_mot = [r for r in rows if r["messages"][0]["content"].startswith("Question")]
    assert len(from_mot) == 6
    assert all([t["role"] for t in r["messages"]] == ["user", "assistant"] for r in rows)
