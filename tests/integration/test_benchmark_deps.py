"""A local benchmark file named in params is a dependency DVC hashes: editing it reruns the
benchmark stage and the training data stages' decontamination, as it changes what they read."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import copy_of
from pipeline_helpers import dvc, stages_run

pytestmark = pytest.mark.integration


def _hits(project) -> int:
    return json.loads((project / "metrics" / "sft-data.json").read_text())["hits"]["embedded_math"]


def test_editing_a_local_benchmark_file_reruns_what_reads_it(prepared_project, tmp_path):
    project = copy_of(prepared_project, tmp_path / "clone")  # the training data built once
    # The benchmark as a file of the user's own, outside any stage's outs.
    lines = (project / "data" / "embedded" / "benchmark.jsonl").read_text().splitlines()
    copy = project / "my_benchmark.jsonl"
    copy.write_text("\n".join(lines) + "\n")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["benchmarks"]["paths"]["embedded_math"] = copy.name
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    ran = stages_run(dvc(project, "repro", "sft-data@student").stdout)
    assert {"benchmark-file@embedded_math", "sft-data@student"} <= ran
    planted = _hits(project)
    assert planted >= 4  # the embedded data plants benchmark rows in the training set
    assert json.loads(dvc(project, "status", "--json").stdout).keys() <= {  # only what was not run yet
        "base", "sft@student", "grpo-data@student", "grpo@student", "evaluate@teacher-embedded_math",
        "evaluate@base-embedded_math", "evaluate@sft-embedded_math", "evaluate@grpo-embedded_math"}

    # Shorten the file to the rows that were not planted in the training data.
    train = {json.loads(line)["problem"] for line in
             (project / "data" / "embedded" / "train.jsonl").read_text().splitlines()}
    clean = [line for line in lines if json.loads(line)["problem"] not in train]
    assert 0 < len(clean) < len(lines)
    copy.write_text("\n".join(clean) + "\n")

    status = json.loads(dvc(project, "status", "--json").stdout)
    assert {"changed deps": {"my_benchmark.jsonl": "modified"}} in status["benchmark-file@embedded_math"]
    proc = dvc(project, "repro", "sft-data@student")
    assert stages_run(proc.stdout) == {"benchmark-file@embedded_math", "sft-data@student"}, proc.stdout[-2000:]
    assert _hits(project) == 0
    import pyarrow.parquet as pq

    assert pq.read_table(project / "data/benchmarks/embedded_math/rows.parquet").num_rows == len(clean)
