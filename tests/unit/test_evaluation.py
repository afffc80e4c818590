"""Unit tests of the evaluate stage's own logic: everything that runs before lighteval is imported
(config checks, benchmark and model resolution, local data checks) and the metrics record."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from r1 import benchmarks
from r1.config import ConfigError, load_section
from r1.configs import EvaluateConfig, ModelConfig
from r1.data import DataError
from r1.evaluation import environment, models, results, tasks

REPO = Path(__file__).resolve().parents[2]


def _load_stage():
    # by file, under its own name: `evaluate` is also the name of a Hugging Face package
    spec = importlib.util.spec_from_file_location("r1_stage_evaluate", REPO / "stages" / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


evaluate_stage = _load_stage()


@pytest.fixture
def restore_environ():
    """The stage sets HF_* variables for its process; keep them out of the test session."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _params(tmp_path: Path, **evaluate) -> dict:
    return {
        "model": {"name_or_path": "models/embedded", "torch_dtype": "float32"},
        "benchmarks": {"names": ["embedded_math"], "paths": {"embedded_math": "data/embedded/benchmark.jsonl"}},
        "evaluate": {"max_new_tokens": 8, "temperature": 0.7, "seed": 0, **evaluate},
    }


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A working directory shaped like the repository: a model folder and the materialised benchmark."""
    import pandas as pd

    (tmp_path / "models" / "base").mkdir(parents=True)
    (tmp_path / "models" / "base" / "config.json").write_text("{}")
    (tmp_path / "data" / "benchmarks" / "embedded_math").mkdir(parents=True)
    rows = [{"problem": "What is $2+3$?", "solution": "$5$"}, {"problem": "What is $7/5$?", "solution": "$\\frac{7}{5}$"}]
    pd.DataFrame(rows).to_parquet(tmp_path / benchmarks.materialised("embedded_math"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- params ---------------------------------------------------------------------------------

def test_evaluate_section_rejects_unknown_key_and_bad_values(tmp_path):
    with pytest.raises(ConfigError, match="max_new_token"):
        load_section({"evaluate": {"max_new_token": 8}}, "evaluate", "evaluate", EvaluateConfig)
    with pytest.raises(ConfigError, match="num_generations > 1 needs temperature"):
        load_section({"evaluate": {"num_generations": 4, "temperature": 0.0}}, "evaluate", "evaluate", EvaluateConfig)
    with pytest.raises(ConfigError, match="batch_size"):
        load_section({"evaluate": {"batch_size": 0}}, "evaluate", "evaluate", EvaluateConfig)
    cfg, _ = load_section(_params(tmp_path), "evaluate", "evaluate", EvaluateConfig)
    assert (cfg.max_new_tokens, cfg.num_generations, cfg.backend) == (8, None, "transformers")


# --- bad input: each fails with a message naming the problem, before any model is loaded ----

def test_unknown_benchmark_is_named(repo, restore_environ):
    with pytest.raises(ConfigError, match="unknown benchmark 'aime_24'.*did you mean 'aime24'"):
        evaluate_stage.main(_params(repo), ["--model", "base", "--benchmark", "aime_24"])


def test_benchmark_not_in_params_list_is_named(repo, restore_environ):
    with pytest.raises(ConfigError, match="benchmark 'math_500' is not in params.yaml benchmarks.names"):
        evaluate_stage.main(_params(repo), ["--model", "base", "--benchmark", "math_500"])


def test_missing_sft_model_names_the_stage_that_produces_it(repo, restore_environ):
    with pytest.raises(ConfigError, match=r"models/sft does not exist.*'sft' stage"):
        evaluate_stage.main(_params(repo), ["--model", "sft", "--benchmark", "embedded_math"])
    with pytest.raises(ConfigError, match=r"models/grpo does not exist.*'grpo' stage"):
        evaluate_stage.main(_params(repo), ["--model", "grpo", "--benchmark", "embedded_math"])
    assert not (repo / "outputs").exists() and not (repo / "metrics").exists()


def test_missing_base_model_folder_names_the_base_stage(repo, restore_environ):
    shutil.rmtree(repo / "models" / "base")
    with pytest.raises(ConfigError, match=r"models/base does not exist.*'base' stage"):
        evaluate_stage.main(_params(repo), ["--model", "base", "--benchmark", "embedded_math"])


def test_unknown_model_label_is_named_with_the_choices(repo, restore_environ):
    with pytest.raises(ConfigError, match=r"unknown model 'student' \(choose from teacher, base, sft, grpo, or add it"):
        evaluate_stage.main(_params(repo), ["--model", "student", "--benchmark", "embedded_math"])


def test_materialised_benchmark_missing_a_column_is_named(repo, restore_environ):
    import pandas as pd

    pd.DataFrame([{"problem": "1+1?", "answer": "2"}]).to_parquet(repo / benchmarks.materialised("embedded_math"))
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['solution'\]"):
        evaluate_stage.main(_params(repo), ["--model", "base", "--benchmark", "embedded_math"])
    # the failed run leaves no output that DVC could take as done
    assert not (repo / "outputs" / "eval" / "base" / "embedded_math").exists()
    assert not (repo / "metrics").exists()


def test_evaluate_reads_only_the_materialised_benchmark(repo, restore_environ):
    # benchmarks.paths names a file that exists, but evaluate scores the benchmark stage's copy,
    # the one DVC hashes; without it, the error names the stage that writes it.
    (repo / "data" / "embedded").mkdir(parents=True)
    (repo / "data" / "embedded" / "benchmark.jsonl").write_text(json.dumps({"problem": "1+1?", "solution": "2"}) + "\n")
    shutil.rmtree(repo / "data" / "benchmarks")
    with pytest.raises(ConfigError, match=r"data/benchmarks/embedded_math/rows.parquet does not exist; "
                                          r"the benchmark-file stage writes it"):
        evaluate_stage.main(_params(repo), ["--model", "base", "--benchmark", "embedded_math"])


def test_local_builtin_benchmark_checks_its_registry_columns(repo):
    bad = repo / "aime.jsonl"
    bad.write_text(json.dumps({"problem": "x", "solution": "y"}) + "\n")  # the Hub set's gold is `answer`
    with pytest.raises(DataError, match=r"aime24.*missing column\(s\) \['answer'\]"):
        tasks.build_task("aime24", {"aime24": str(bad)}, 8)


# --- model resolution -------------------------------------------------------------------------

def test_resolve_reads_pipeline_folders_with_the_model_sections_options(repo):
    model = ModelConfig(name_or_path="Qwen/Qwen2.5-1.5B-Instruct", revision="abc", torch_dtype="float32",
                        attn_implementation="sdpa", chat_template="t.jinja")
    base = models.resolve("base", model)  # the pinned copy, never the Hub id
    assert (base.name_or_path, base.local, base.dtype, base.chat_template) == ("models/base", True, "float32", "t.jinja")
    (repo / "models" / "sft").mkdir()
    (repo / "models" / "sft" / "config.json").write_text("{}")
    sft = models.resolve("sft", model)
    # sft saved its tokenizer with the template it trained with: no replacement template
    assert (sft.name_or_path, sft.local, sft.chat_template, sft.attn_implementation) == ("models/sft", True, None, "sdpa")


def test_path_shapes(repo):
    assert models.is_local("models/anything") and models.is_local("./x") and models.is_local("/abs/x")
    assert not models.is_local("Qwen/Qwen2.5-1.5B-Instruct")


def test_model_folder_without_config_is_an_error(repo):
    (repo / "models" / "sft").mkdir()
    with pytest.raises(models.ModelNotFoundError, match="models/sft has no config.json"):
        models.resolve("sft", ModelConfig(name_or_path="models/embedded"))


# --- tasks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(benchmarks.REGISTRY))
def test_every_benchmark_maps_to_a_lighteval_task(name):
    ref = tasks.TaskRef.of(benchmarks.get(name))
    assert ref.num_fewshots == 0
    assert name == "embedded_math" or ref.name in tasks.BUILTIN_MODULES
    assert ref.spec() == f"{ref.name}|0" and ref.spec(4) == f"{ref.name}@n=4|0"
    assert ref.full_name == f"{ref.name}|0"


# --- environment ------------------------------------------------------------------------------

def test_environment_keeps_caches_out_of_home_and_goes_offline(tmp_path, restore_environ):
    for key in ("HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.pop(key, None)
    environment.configure(offline=True, cache_root=tmp_path / "cache")
    assert os.environ["HF_HUB_CACHE"].startswith(str(tmp_path / "cache"))
    assert os.environ["HF_DATASETS_CACHE"].startswith(str(tmp_path / "cache"))
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_environment_respects_the_users_hf_home(tmp_path, restore_environ):
    for key in ("HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_HUB_OFFLINE"):
        os.environ.pop(key, None)
    os.environ["HF_HOME"] = str(tmp_path / "mine")
    set_now = environment.configure(offline=False, cache_root=tmp_path / "cache")
    assert "HF_HUB_CACHE" not in os.environ and "HF_HUB_OFFLINE" not in set_now


# --- results ----------------------------------------------------------------------------------

LIGHTEVAL_RESULTS = {"results": {
    "embedded_math:0": {"pass@k:k=1&n=1": 0.25, "pass@k:k=1&n=1_stderr": 0.0778},
    "all": {"pass@k:k=1&n=1": 0.25, "pass@k:k=1&n=1_stderr": 0.0778},
}}


def test_metrics_record_reads_lightevals_keys_and_has_no_timestamps():
    record = results.metrics_record(LIGHTEVAL_RESULTS, task_full_name="embedded_math|0", metric="pass@k:k=1&n=1",
                                    benchmark="embedded_math", model="sft", num_samples=32, num_generations=1)
    assert record == {"benchmark": "embedded_math", "model": "sft", "metric": "pass@k:k=1&n=1", "score": 0.25,
                      "stderr": 0.0778, "num_samples": 32, "num_generations": 1}


def test_metrics_record_without_stderr_is_null_and_missing_metric_is_an_error():
    one = {"results": {"aime24|0": {"pass@k:k=1": 1.0}}}
    record = results.metrics_record(one, task_full_name="aime24|0", metric="pass@k:k=1", benchmark="aime24",
                                    model="base", num_samples=1, num_generations=1)
    assert record["stderr"] is None and record["score"] == 1.0
    with pytest.raises(results.ResultsError, match="no 'avg@n:n=1'"):
        results.metrics_record(one, task_full_name="aime24|0", metric="avg@n:n=1", benchmark="aime24",
                               model="base", num_samples=1, num_generations=1)


def test_table_shows_score_stderr_and_count():
    table = results.format_table([
        {"model": "base", "benchmark": "embedded_math", "metric": "pass@k", "score": 0.125, "stderr": 0.06, "num_samples": 32},
        {"model": "grpo", "benchmark": "aime24", "metric": "pass@k", "score": None, "stderr": None, "num_samples": 30},
    ])
    lines = table.splitlines()
    assert lines[0].split() == ["model", "benchmark", "metric", "score", "n"]
    assert "0.1250 ± 0.0600" in lines[2] and lines[2].split()[-1] == "32"
    assert "n/a" in lines[3] and lines[3].split()[-1] == "30"


def test_transformers_backend_gets_the_budget_from_the_task_so_prompts_are_not_cut(tmp_path):
    """lighteval 0.13's transformers backend treats a model-level max_new_tokens as the length of
    prompt plus generation and keeps only the prompt's last max_new_tokens tokens. The budget
    must reach it only through the task's generation_size."""
    cfg = EvaluateConfig(max_new_tokens=40)
    model = models.ResolvedModel(label="sft", name_or_path="models/sft", local=True, revision="main", dtype="float32",
                                 attn_implementation=None, trust_remote_code=False, chat_template=None)
    config = models.lighteval_model_config(model, cfg, cache_dir=str(tmp_path))
    assert config.generation_parameters.max_new_tokens is None
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps({"problem": "Compute $1 + 2$.", "solution": "$3$"}) + "\n")
    assert tasks.build_task("embedded_math", {"embedded_math": str(bench)}, 40).config.generation_size == 40
