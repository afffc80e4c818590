"""Evaluating a model the pipeline did not train, in a fresh copy of the project on CPU: an
external local folder through `dvc repro` (model-path@NAME -> evaluate@NAME-BENCHMARK) with a
per-benchmark sample count, `make evaluate` on a folder outside DVC, and the bad inputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import copy_of
from pipeline_helpers import dvc, env, stage, stages_run

pytestmark = pytest.mark.integration

EXTERNAL = "ext/tiny"  # outside models/, as a user's own model folder would be


@pytest.fixture(scope="module")
def project(built_project, tmp_path_factory) -> Path:
    """A fresh clone with the embedded model built and copied to a folder of its own."""
    path = copy_of(built_project, tmp_path_factory.mktemp("any-model") / "project")
    shutil.copytree(path / "models" / "embedded", path / EXTERNAL)
    return path


def _set_params(project: Path, **sections) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    for section, values in sections.items():
        params.setdefault(section, {}).update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr[-3000:]
    return errors[0]


def test_external_folder_is_evaluated_through_dvc_with_its_per_benchmark_sample_count(project):
    _set_params(project, external_models={"paths": {"tiny": EXTERNAL}, "hub": {}},
                pipeline={"evaluate": ["tiny"]},
                evaluate={"per_benchmark": {"embedded_math": {"num_generations": 2, "temperature": 0.7, "max_samples": 8}}})
    dot = dvc(project, "dag", "--dot", "evaluate@tiny-embedded_math").stdout
    assert '"model-path@tiny" -> "evaluate@tiny-embedded_math"' in dot, dot

    proc = dvc(project, "repro", "evaluate@tiny-embedded_math")
    # (the benchmark was built with the project: conftest's built_project)
    assert stages_run(proc.stdout) == {"model-path@tiny", "evaluate@tiny-embedded_math"}
    record = json.loads((project / "metrics" / "eval" / "tiny-embedded_math.json").read_text())
    assert (record["model"], record["metric"]) == ("tiny", "pass@k:k=1&n=2")
    assert (record["num_samples"], record["num_generations"]) == (8, 2)
    # a copy of the folder, less the run record a pipeline model carries
    assert sorted(p.name for p in (project / "models" / "tiny").iterdir()) == sorted(
        p.name for p in (project / EXTERNAL).iterdir() if p.name != "r1_run.json")

    # the folder's content is a dep: editing it makes its pin (and so its evaluation) stale
    assert "model-path@tiny" not in dvc(project, "status").stdout
    (project / EXTERNAL / "notes.txt").write_text("a file of the model folder changed\n")
    assert "model-path@tiny" in dvc(project, "status", "model-path@tiny").stdout


def test_make_evaluate_scores_a_local_folder_outside_dvc(project):
    environ = {**env(), "PYTHONPATH": str(project / "src")}
    proc = subprocess.run(["make", "evaluate", f"MODEL={EXTERNAL}", "TASK=embedded_math", f"PYTHON={sys.executable}"],
                          cwd=project, env=environ, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = project / "outputs" / "adhoc" / "ext_tiny" / "embedded_math"
    record = json.loads((folder / "metrics.json").read_text())
    assert record["model"] == EXTERNAL and record["benchmark"] == "embedded_math"
    assert sorted(p.name for p in folder.iterdir()) == ["details.parquet", "metrics.json", "r1_run.json", "results.json"]
    assert f"{EXTERNAL}  embedded_math  pass@k" in proc.stdout
    # ad-hoc results are not the pipeline's: git ignores them, DVC knows nothing of them
    assert subprocess.run(["git", "check-ignore", "-q", str(folder / "metrics.json")], cwd=project).returncode == 0
    report = subprocess.run([sys.executable, "-m", "r1.report", "outputs/adhoc"], cwd=project, env=environ,
                            capture_output=True, text=True, check=True).stdout
    assert EXTERNAL in report and "embedded_math" in report  # (DeepSeek published no embedded_math figure)

    bad = subprocess.run(["make", "-s", "evaluate", f"MODEL={EXTERNAL}", "TASK=embedded_math", "PARALLEL=pipe",
                          "NUM_GPUS=2", f"PYTHON={sys.executable}"], cwd=project, env=environ, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0
    assert bad.stderr.splitlines()[0] == "error: PARALLEL='pipe' is not allowed: use data or tensor"


def test_missing_external_folder_fails_before_any_work(project):
    _set_params(project, external_models={"paths": {"tiny": EXTERNAL, "gone": "ext/gone"}, "hub": {}},
                pipeline={"evaluate": ["gone"]})
    line = _one_error_line(stage(project, "external_model", "--name", "gone"))
    assert "external_models.paths.gone = 'ext/gone': no such folder" in line
    # any stage that reads the section stops at it, before loading a model
    line = _one_error_line(stage(project, "evaluate", "--model", "tiny", "--benchmark", "embedded_math"))
    assert "external_models.paths.gone" in line
    proc = dvc(project, "repro", "evaluate@gone-embedded_math", check=False)
    assert proc.returncode != 0 and "ext/gone" in proc.stdout + proc.stderr
    assert "evaluate@gone-embedded_math" not in stages_run(proc.stdout)
    assert not (project / "models" / "gone").exists()


def test_unknown_model_in_pipeline_evaluate_is_named(project):
    _set_params(project, external_models={"paths": {"tiny": EXTERNAL}, "hub": {}},
                pipeline={"evaluate": ["tiny", "theirs"]})
    line = _one_error_line(stage(project, "evaluate", "--model", "tiny", "--benchmark", "embedded_math"))
    assert "pipeline.evaluate: unknown model 'theirs'; choose from base, grpo, sft, teacher, tiny" in line
