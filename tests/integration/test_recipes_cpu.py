"""Every shipped recipe runs end to end on a CPU: its own graph, rewards, mixtures and column
mappings, with the model swapped for the embedded one, the Hub data for local files in the
same schemas, and a few steps (tests/integration/recipe_cpu.py).

This covers SFT-only (OpenR1-Distill, OlympicCoder), GRPO-only from the base model (the
GRPO demos, Codeforces), evaluation-only (the DeepSeek distills) and the full flow.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from pipeline_helpers import ROOT, dvc, stages_run
from recipe_cpu import cpu_variant

pytestmark = pytest.mark.integration

RECIPES = sorted(p.relative_to(ROOT) for p in (ROOT / "recipes").rglob("*.yaml") if p.parent.name != "accelerate")


@pytest.fixture(scope="module")
def built(built_project):
    """conftest's clone with the embedded model, the pinned base and the benchmark built once
    (every CPU variant has the same ones); each recipe runs in a copy."""
    return built_project


@pytest.mark.parametrize("recipe", RECIPES, ids=str)
def test_the_recipe_runs_end_to_end_on_cpu(built, recipe, tmp_path, shared_benchmarks_dir):
    if shared_benchmarks_dir is None:
        pytest.skip("../shared/data/benchmarks is not here: the Hub-schema stand-ins are built from it")
    project = tmp_path / "project"
    shutil.copytree(built, project, symlinks=True)
    dvc(project, "config", "--local", "core.site_cache_dir", str(project / ".dvc-site-cache"))
    vocab = set(json.loads((project / "models/embedded/tokenizer.json").read_text())["model"]["vocab"])
    params = cpu_variant(yaml.safe_load((ROOT / recipe).read_text()), project, shared_benchmarks_dir, vocab)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    declared = {line.split()[0] for line in dvc(project, "stage", "list").stdout.splitlines() if line.strip()}
    proc = dvc(project, "repro", timeout=1500)
    ran = stages_run(proc.stdout)
    assert ran == declared - {"embedded", "base", "benchmark-file@embedded_math"}, proc.stdout[-3000:]
    pipeline = params.get("pipeline") or {}
    for name in ("sft", "grpo"):
        trained = bool(pipeline.get(name, ["student"]))
        assert (f"{name}@student" in declared) == trained
        if trained:
            metrics = json.loads((project / "metrics" / f"{name}.json").read_text())
            assert metrics["steps"] == 2, metrics
            data = json.loads((project / "metrics" / f"{name}-data.json").read_text())
            assert data["rows_out"] > 0 and data["sources"], data
    evaluations = sorted((project / "metrics" / "eval").glob("*.json"))
    assert evaluations, "the recipe evaluates nothing"
    for path in evaluations:
        assert json.loads(path.read_text())["num_samples"] == 4, path.name
    assert stages_run(dvc(project, "repro").stdout) == set(), "a second repro must be a no-op"
