"""Evaluating any model: the `external_models` section, `pipeline.evaluate`, per-benchmark
settings, the ad-hoc CLI's arguments, and the report's view of external and ad-hoc models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from r1 import recipe, report
from r1.config import ConfigError, load_section, read_params
from r1.configs import BenchmarksConfig, EvaluateConfig, ExternalModelsConfig, ModelConfig
from r1.evaluation import adhoc, checks, models

ROOT = Path(__file__).resolve().parents[2]


def _external(**section) -> ExternalModelsConfig:
    return load_section({"external_models": section}, "external_models", "evaluate", ExternalModelsConfig)[0]


def _evaluate(**section) -> EvaluateConfig:
    return load_section({"evaluate": section}, "evaluate", "evaluate", EvaluateConfig)[0]


# --- external_models -------------------------------------------------------------------------

def test_external_models_accepts_a_folder_and_a_pinned_hub_model(tmp_path):
    cfg = _external(paths={"mine": str(tmp_path)},
                    hub={"r1-distill": {"id": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "revision": "main"}})
    assert cfg.names() == ["mine", "r1-distill"]


@pytest.mark.parametrize("name", ["base", "sft", "grpo", "embedded"])
def test_external_model_cannot_take_a_pipeline_models_name(tmp_path, name):
    with pytest.raises(ConfigError, match=rf"external_models.paths.{name}: '{name}' is a pipeline model's name"):
        _external(paths={name: str(tmp_path)})


def test_external_model_in_both_paths_and_hub_is_named(tmp_path):
    with pytest.raises(ConfigError, match="'x' is in both paths and hub"):
        _external(paths={"x": str(tmp_path)}, hub={"x": {"id": "org/x", "revision": "main"}})


def test_missing_external_path_is_one_line_naming_key_and_path(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as info:
        _external(paths={"mine": str(missing)})
    message = str(info.value)
    assert "external_models.paths.mine" in message and str(missing) in message and "no such folder" in message
    assert "\n" not in message


@pytest.mark.parametrize("entry", [{"id": "org/x"}, {"id": "org/x", "revision": "main", "dtype": "bf16"},
                                   {"id": "", "revision": "main"}, "org/x"])
def test_hub_entry_needs_exactly_id_and_revision(entry):
    with pytest.raises(ConfigError, match=r"external_models.hub.x = .*give \{id: ORG/MODEL, revision"):
        _external(hub={"x": entry})


def test_external_models_rejects_unknown_keys_and_odd_names(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'path'"):
        _external(path={"x": str(tmp_path)})
    with pytest.raises(ConfigError, match="name 'a/b' must be letters"):
        _external(paths={"a/b": str(tmp_path)})


def test_recipe_check_catches_a_missing_external_path(tmp_path):
    params = read_params(ROOT / "params.yaml")
    params["external_models"] = {"paths": {"mine": str(tmp_path / "nope")}, "hub": {}}
    with pytest.raises(ConfigError, match="external_models.paths.mine"):
        recipe.validate(params)


# --- pipeline.evaluate ------------------------------------------------------------------------

def test_models_default_to_the_pipelines_and_an_unknown_one_is_named(tmp_path):
    from r1.configs import PipelineConfig

    assert PipelineConfig().evaluate == ["base", "sft", "grpo"]
    external = _external(paths={"mine": str(tmp_path)})
    checks.check_models(["base", "mine"], external, {"base", "sft", "grpo"})
    with pytest.raises(ConfigError, match=r"pipeline.evaluate: unknown model 'theirs'; choose from base, grpo, sft, mine"):
        checks.check_models(["base", "theirs"], external, {"base", "sft", "grpo"})
    # a recipe without sft: evaluating sft is an error too, and says why
    with pytest.raises(ConfigError, match="unknown model 'sft' .*pipeline.sft is"):
        checks.check_models(["sft"], external, {"base", "grpo"})
    with pytest.raises(ValueError, match="list each model to evaluate once"):
        PipelineConfig(evaluate=["base", "base"])


def test_recipe_check_rejects_an_unknown_evaluated_model():
    params = read_params(ROOT / "params.yaml")
    params["pipeline"]["evaluate"] = ["base", "r1-distill"]
    with pytest.raises(ConfigError, match="pipeline.evaluate: unknown model 'r1-distill'"):
        recipe.validate(params)


def test_resolve_reads_an_external_model_from_its_pinned_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    external = _external(hub={"r1-distill": {"id": "org/x", "revision": "abc"}})
    model = ModelConfig(name_or_path="Qwen/Qwen2.5-1.5B", torch_dtype="bfloat16", chat_template="t.jinja")
    with pytest.raises(models.ModelNotFoundError, match=r"models/r1-distill does not exist.*'model-hub@r1-distill'"):
        models.resolve("r1-distill", model, external)
    (tmp_path / "models" / "r1-distill").mkdir(parents=True)
    (tmp_path / "models" / "r1-distill" / "config.json").write_text("{}")
    resolved = models.resolve("r1-distill", model, external)
    # the student's replacement chat template is not applied to someone else's model
    assert (resolved.name_or_path, resolved.local, resolved.dtype, resolved.chat_template) == (
        "models/r1-distill", True, "bfloat16", None)


# --- per-benchmark settings ----------------------------------------------------------------------

def test_per_benchmark_settings_override_the_shared_ones_for_that_benchmark_only():
    cfg = _evaluate(max_new_tokens=48, temperature=0.7,
                    per_benchmark={"aime24": {"num_generations": 64, "max_new_tokens": 32768, "temperature": 0.6}})
    aime = cfg.for_benchmark("aime24")
    assert (aime.num_generations, aime.max_new_tokens, aime.temperature, aime.top_p) == (64, 32768, 0.6, 0.95)
    assert cfg.for_benchmark("math_500") is cfg


@pytest.mark.parametrize(("entry", "error"), [
    ({"aime24": {"n": 64}}, r"per_benchmark.aime24: unknown key 'n'; allowed: num_generations, max_new_tokens"),
    ({"aime24": {"num_generations": 0}}, r"evaluate.per_benchmark.aime24.num_generations = 0 is out of range"),
    ({"aime24": {"num_generations": 4, "temperature": 0.0}}, r"per_benchmark.aime24.temperature = 0.0 .*needs temperature > 0"),
    ({"aime24": {"top_p": "high"}}, r"per_benchmark.aime24.top_p = 'high' does not match the expected type"),
    ({"aime_24": {"num_generations": 4}}, r"per_benchmark.aime_24: unknown benchmark 'aime_24'"),
    ({"aime24": 64}, r"per_benchmark.aime24 = 64: give a mapping"),
])
def test_bad_per_benchmark_entries_are_named(entry, error):
    with pytest.raises(ConfigError, match=error):
        _evaluate(per_benchmark=entry)


def test_per_benchmark_names_a_benchmark_outside_benchmarks_names():
    bench = BenchmarksConfig(names=["embedded_math"], paths={"embedded_math": "x.jsonl"})
    checks.check_per_benchmark(_evaluate(per_benchmark={"embedded_math": {"num_generations": 2}}), bench)
    with pytest.raises(ConfigError, match=r"evaluate.per_benchmark.aime24: 'aime24' is not in benchmarks.names"):
        checks.check_per_benchmark(_evaluate(per_benchmark={"aime24": {"num_generations": 2}}), bench)


# --- make evaluate: PARALLEL / NUM_GPUS ----------------------------------------------------------

def test_parallel_sets_vllms_data_or_tensor_parallel_size():
    assert adhoc.parallelism("", "") == {}
    assert adhoc.parallelism("data", "8") == {"backend": "vllm", "data_parallel_size": 8}
    assert adhoc.parallelism("tensor", "2") == {"backend": "vllm", "tensor_parallel_size": 2}


@pytest.mark.parametrize(("parallel", "num_gpus", "error"), [
    ("pipeline", "2", "PARALLEL='pipeline' is not allowed: use data or tensor"),
    ("data", "", "NUM_GPUS='' is not allowed: give a whole number >= 1 with PARALLEL=data"),
    ("tensor", "0", "NUM_GPUS='0' is not allowed: give a whole number >= 1 with PARALLEL=tensor"),
    ("data", "two", "NUM_GPUS='two' is not allowed: give a whole number >= 1 with PARALLEL=data"),
    ("", "4", "NUM_GPUS=4 needs PARALLEL=data or PARALLEL=tensor"),
])
def test_bad_parallel_values_are_one_line(parallel, num_gpus, error, tmp_path, capsys):
    assert adhoc.main(["--model", "org/x", "--task", "aime24", "--parallel", parallel, "--num-gpus", num_gpus,
                       "--params", str(tmp_path / "unused.yaml")]) == 2
    assert capsys.readouterr().err == f"error: {error}\n"


def test_pipeline_model_runs_its_dvc_stage_and_refuses_parallel(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    calls = []
    monkeypatch.setattr(adhoc.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    assert adhoc.main(["--model", "sft", "--task", "embedded_math"]) == 0
    assert calls == [["dvc", "repro", "evaluate@sft-embedded_math"]]
    assert adhoc.main(["--model", "sft", "--task", "embedded_math", "--parallel", "data", "--num-gpus", "2"]) == 2
    assert adhoc.main(["--model", "sft", "--task", "aime24"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert "'sft' is a pipeline model" in err[0]
    assert err[1] == "error: evaluate@sft-aime24 is not a stage: add 'aime24' to benchmarks.names in params.yaml"
    assert len(calls) == 1


def test_adhoc_output_folder_is_one_component_per_model():
    assert adhoc.out_dir("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "aime24") == Path(
        "outputs/adhoc/deepseek-ai_DeepSeek-R1-Distill-Qwen-1.5B/aime24")
    assert adhoc.out_dir("/data/my model/", "math_500").parts[2] == "data_my_model"


# --- report ---------------------------------------------------------------------------------------

def test_report_shows_external_and_adhoc_models_with_their_gap_in_sigma(tmp_path):
    pipeline, adhoc_root = tmp_path / "eval", tmp_path / "adhoc"
    pipeline.mkdir()
    (pipeline / "r1-distill-aime24.json").write_text(json.dumps(
        {"benchmark": "aime24", "model": "r1-distill", "score": 0.25, "stderr": 0.02, "num_samples": 30,
         "num_generations": 64}))
    folder = adhoc_root / "deepseek-ai_DeepSeek-R1-Distill-Qwen-7B" / "aime24"
    folder.mkdir(parents=True)
    (folder / adhoc.METRICS_FILE).write_text(json.dumps(
        {"benchmark": "aime24", "model": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "score": 0.5, "stderr": 0.05,
         "num_samples": 30, "num_generations": 1}))
    (folder / "results.json").write_text("{}")  # lighteval's own file is not a metrics record
    lines = [line for line in report.render(report.load(pipeline, adhoc_root)).splitlines() if "aime24" in line]
    assert len(lines) == 2
    assert "r1-distill" in lines[1] and "64" in lines[1] and "28.9 (-1.9σ)" in lines[1]
    assert "DeepSeek-R1-Distill-Qwen-7B" in lines[0] and "55.5 (-1.1σ)" in lines[0]
