"""The final evaluation table and the recipes' validity."""

import json
from pathlib import Path

import pytest

from r1 import recipe, report
from r1.config import ConfigError, read_params

ROOT = Path(__file__).resolve().parents[2]
RECIPES = sorted(p for p in (ROOT / "recipes").rglob("*.yaml") if "accelerate" not in p.parts)


def test_report_lists_every_evaluation_with_references(tmp_path):
    for model, score in (("grpo", 0.3), ("base", 0.1)):
        (tmp_path / f"{model}-aime24.json").write_text(json.dumps(
            {"benchmark": "aime24", "model": model, "score": score, "stderr": 0.05, "num_samples": 30}))
    text = report.render(report.load(tmp_path))
    base_line, grpo_line = (line for line in text.splitlines() if "aime24" in line)
    assert "base" in base_line and "10.0" in base_line and "28.9" in base_line and "79.8" in base_line
    assert "grpo" in grpo_line and "30.0" in grpo_line


def test_report_gives_the_gap_to_each_published_figure_in_standard_errors(tmp_path):
    (tmp_path / "r1-aime24.json").write_text(json.dumps(
        {"benchmark": "aime24", "model": "r1-distill", "score": 0.25, "stderr": 0.02, "num_samples": 30}))
    line = next(line for line in report.render(report.load(tmp_path)).splitlines() if "aime24" in line)
    assert "28.9 (-1.9σ)" in line  # (25.0 - 28.9) / 2.0
    assert "79.8 (-27.4σ)" in line
    assert report.sigmas({"score": 0.3, "stderr": 0}, 28.9) is None  # no error bar, no sigma


def test_report_without_metrics_says_what_to_do(tmp_path, capsys):
    assert report.main([str(tmp_path)]) == 1
    assert "run `dvc repro` first" in capsys.readouterr().err


@pytest.mark.parametrize("path", [ROOT / "params.yaml", *RECIPES], ids=lambda p: p.name)
def test_params_and_recipes_are_valid(path):
    recipe.validate(read_params(path))


def test_there_is_a_real_recipe():
    assert any("Qwen" in str(p) for p in RECIPES)


def test_validate_names_an_unknown_section_and_apply_refuses_it(tmp_path):
    params = read_params(ROOT / "params.yaml")
    params["gpro"] = {}
    with pytest.raises(ConfigError, match=r"unknown section\(s\) \['gpro'\]"):
        recipe.validate(params)
    bad = tmp_path / "bad.yaml"
    bad.write_text("sft: {learnig_rate: 1}\n")
    target = tmp_path / "params.yaml"
    target.write_text("untouched\n")
    with pytest.raises(ConfigError):
        recipe.apply(bad, target)
    assert target.read_text() == "untouched\n"


def test_apply_writes_the_recipe_and_keeps_a_backup(tmp_path):
    target = tmp_path / "params.yaml"
    target.write_text("old\n")
    recipe.apply(RECIPES[0], target)
    assert read_params(target) == read_params(RECIPES[0])
    assert (tmp_path / "params.yaml.bak").read_text() == "old\n"


def test_a_recipe_without_a_key_that_dvc_yaml_templates_is_refused_by_name():
    params = read_params(ROOT / "recipes" / "Qwen2.5-1.5B-Instruct" / "grpo_math.yaml")
    del params["datasets"]["paths"]  # DVC would refuse dvc.yaml as a whole ("Could not find")
    with pytest.raises(ConfigError, match=r"stage 'dataset-path' reads \$\{datasets.paths\}"):
        recipe.validate(params)
    params["datasets"]["paths"] = {}
    # DVC reads grpo.init_model from params itself: the config's default does not reach it
    full = read_params(ROOT / "recipes" / "Qwen2.5-1.5B-Instruct" / "math.yaml")
    del full["grpo"]["init_model"]
    with pytest.raises(ConfigError, match=r"stage 'grpo' reads \$\{grpo.init_model\}"):
        recipe.validate(full)
    # the body of a stage the recipe leaves out is never expanded: its keys may be absent
    params["pipeline"]["grpo"] = []
    params["pipeline"]["evaluate"] = ["base"]
    del params["grpo"]
    recipe.validate(params)


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: str(p.relative_to(ROOT / "recipes")))
def test_each_recipe_names_where_its_values_come_from(path):
    assert "open-r1" in path.read_text().split("\npipeline:")[0]
