"""The evaluate stage with lighteval: end to end on the embedded default, scoring, and the
built-in benchmarks served from local files. Nothing here reaches the network."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHARED_BENCHMARKS = ROOT.parent / "shared" / "data" / "benchmarks"

EMBEDDED_PARAMS = {
    "embedded": {"seed": 0},
    "model": {"name_or_path": "models/embedded", "torch_dtype": "float32", "attn_implementation": "sdpa"},
    "benchmarks": {"names": ["embedded_math"], "paths": {"embedded_math": "data/embedded/benchmark.jsonl"}},
    "evaluate": {"backend": "transformers", "max_new_tokens": 48, "temperature": 0.7, "top_p": 0.95,
                 "batch_size": 8, "max_samples": None, "seed": 0, "system_prompt": None},
}


def _env(home: Path) -> dict:
    env = dict(os.environ)
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", R1_PARAMS="params.yaml")
    for key in ("HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "XDG_CACHE_HOME", "RANK"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="module")
def embedded_project(tmp_path_factory) -> Path:
    """A working directory with the embedded model, its benchmark and params, and a fake HOME."""
    project = tmp_path_factory.mktemp("eval-project")
    (project / "home").mkdir()
    (project / "params.yaml").write_text(yaml.safe_dump(EMBEDDED_PARAMS))
    if (ROOT / "models" / "embedded" / "config.json").is_file() and (ROOT / "data" / "embedded" / "benchmark.jsonl").is_file():
        shutil.copytree(ROOT / "models" / "embedded", project / "models" / "embedded")
        (project / "data" / "embedded").mkdir(parents=True)
        shutil.copy2(ROOT / "data" / "embedded" / "benchmark.jsonl", project / "data" / "embedded")
    else:  # a fresh clone: build them with the project's own stage
        subprocess.run([sys.executable, str(ROOT / "stages" / "embedded.py")], cwd=project,
                       env=_env(project / "home"), check=True, capture_output=True, timeout=300)
    # evaluate reads the benchmark as the benchmark stage materialises it (data/benchmarks/...)
    subprocess.run([sys.executable, str(ROOT / "stages" / "benchmark.py"), "--name", "embedded_math"], cwd=project,
                   env=_env(project / "home"), check=True, capture_output=True, timeout=300)
    return project


def _run_stage(project: Path, model: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "stages" / "evaluate.py"), "--model", model,
                           "--benchmark", "embedded_math"], cwd=project, env=_env(project / "home"),
                          capture_output=True, text=True, timeout=300)
    return proc, time.perf_counter() - started


def _predictions(path: Path) -> list[list[str]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    return [(r["doc"]["query"], r["model_response"]["text"]) for r in sorted(rows, key=lambda r: r["doc"]["id"])]


def test_stage_on_embedded_default_is_complete_deterministic_and_offline(embedded_project):
    project = embedded_project
    # base and sft are copies of the same weights (as the `base` stage pins them): with the same
    # seed sft's evaluation must match base's exactly, which checks determinism across two
    # processes and both model paths at once.
    for label in ("base", "sft"):
        shutil.copytree(project / "models" / "embedded", project / "models" / label)
    base, base_s = _run_stage(project, "base")
    assert base.returncode == 0, base.stderr[-3000:]
    sft, sft_s = _run_stage(project, "sft")
    assert sft.returncode == 0, sft.stderr[-3000:]
    print(f"evaluate wall time on embedded_math: base {base_s:.1f} s, sft {sft_s:.1f} s")

    # exactly the declared outs
    assert sorted(p.relative_to(project).as_posix() for p in (project / "outputs").rglob("*") if p.is_file()) == [
        f"outputs/eval/{m}/embedded_math/{f}" for m in ("base", "sft")
        for f in ("details.parquet", "r1_run.json", "results.json")]
    assert sorted(p.name for p in (project / "metrics").rglob("*") if p.is_file()) == [
        "base-embedded_math.json", "sft-embedded_math.json"]

    text = (project / "metrics" / "eval" / "base-embedded_math.json").read_text()
    assert not re.search(r"\d{4}-\d{2}-\d{2}|T\d{2}[:-]\d{2}", text)  # no dates or times
    record = json.loads(text)
    assert set(record) >= {"benchmark", "model", "metric", "score", "stderr", "num_samples"}
    assert (record["benchmark"], record["model"], record["metric"]) == ("embedded_math", "base", "pass@k:k=1&n=1")
    assert record["num_samples"] == 32 and record["num_generations"] == 1
    assert 0.0 <= record["score"] <= 1.0 and record["stderr"] is not None

    sft_record = json.loads((project / "metrics" / "eval" / "sft-embedded_math.json").read_text())
    assert {**sft_record, "model": "base"} == record
    base_preds = _predictions(project / "outputs/eval/base/embedded_math/details.parquet")
    assert base_preds == _predictions(project / "outputs/eval/sft/embedded_math/details.parquet")
    assert len(base_preds) == 32 and all(len(texts) == 1 for _, texts in base_preds)
    assert base_preds[0][0].startswith("Compute $")  # the bare problem, as the models are trained

    run_info = json.loads((project / "outputs/eval/base/embedded_math/r1_run.json").read_text())
    assert run_info["config"]["evaluate"]["max_new_tokens"] == 48 and run_info["packages"]["lighteval"] == "0.13.0"
    results = json.loads((project / "outputs/eval/base/embedded_math/results.json").read_text())
    assert results["results"]["embedded_math|0"]["pass@k:k=1&n=1"] == record["score"]

    # the summary table, and nothing written under HOME (~/.cache) or pushed anywhere
    assert re.search(r"base\s+embedded_math\s+pass@k:k=1&n=1\s+\d\.\d{4} ± \d\.\d{4}\s+32", base.stderr)
    assert not any((project / "home").iterdir()), list((project / "home").rglob("*"))[:5]


# --- in-process: lighteval's metric and tasks --------------------------------------------------

@pytest.fixture
def offline(monkeypatch):
    """What `r1.evaluation.environment` does for a local run, for an in-process test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def test_embedded_metric_is_math_verify_pass_at_1():
    from lighteval.metrics import apply_metric
    from lighteval.models.model_output import ModelResponse

    from r1.evaluation.tasks import embedded_math_config

    config = embedded_math_config("unused.jsonl", num_generations=1)
    docs = [config.prompt_function({"problem": "What is $7/5$?", "solution": "$\\frac{7}{5}$"}, "embedded_math")
            for _ in range(4)]
    answers = ["Therefore, the final answer is: $\\boxed{\\frac{7}{5}}$.",  # same value, same form
               "The answer is $\\boxed{1.4}$",                              # same value, other form
               "Therefore, the final answer is: $\\boxed{7/6}$.",           # wrong
               "no answer at all"]
    scores = [out["pass@k:k=1&n=1"] for out in apply_metric(
        responses=[ModelResponse(text=[a]) for a in answers], docs=docs, metrics=list(config.metrics))]
    assert scores == [1.0, 1.0, 0.0, 0.0]


def test_embedded_num_generations_sets_n_of_pass_at_1():
    from lighteval.tasks.lighteval_task import LightevalTask

    from r1.evaluation.tasks import embedded_math_config

    config = embedded_math_config("unused.jsonl", num_generations=4)
    assert config.metrics[0].metric_name == "pass@k:k=1&n=4"
    assert max(LightevalTask(config).num_samples) == 4  # generations lighteval asks the model for


GPQA_ROW = {"Question": "Which is a noble gas?", "Correct Answer": "Neon", "Incorrect Answer 1": "Iron",
            "Incorrect Answer 2": "Sodium", "Incorrect Answer 3": "Carbon"}


def test_local_gpqa_scores_by_letter_extraction(tmp_path):
    from string import ascii_uppercase

    from lighteval.metrics import apply_metric
    from lighteval.models.model_output import ModelResponse

    from r1.data import DataError
    from r1.evaluation.tasks import build_task

    path = tmp_path / "gpqa.jsonl"
    path.write_text(json.dumps(GPQA_ROW) + "\n")
    config = build_task("gpqa_diamond", {"gpqa_diamond": str(path)}, 64).config
    assert config.name == "gpqa:diamond" and config.metrics[0].metric_name == "gpqa_pass@k:k=1"
    doc = config.prompt_function(GPQA_ROW, config.name)
    gold = ascii_uppercase[doc.gold_index]
    wrong = next(c for c in "ABCD" if c != gold)
    outs = apply_metric(responses=[ModelResponse(text=[f"Reasoning...\nAnswer: {letter}"]) for letter in (gold, wrong)],
                        docs=[doc, doc], metrics=list(config.metrics))
    assert [o["gpqa_pass@k:k=1"] for o in outs] == [1.0, 0.0]

    # a column only lighteval's prompt needs (not the registry's) is named before any model loads
    path.write_text(json.dumps({k: v for k, v in GPQA_ROW.items() if k != "Incorrect Answer 2"}) + "\n")
    with pytest.raises(DataError, match="needs column 'Incorrect Answer 2'"):
        build_task("gpqa_diamond", {"gpqa_diamond": str(path)}, 64)


def _shared(name: str) -> Path:
    path = SHARED_BENCHMARKS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (only the project's shared data has it)")
    return path


def test_local_math_500_uses_lightevals_own_prompt_and_metric():
    import lighteval.tasks.tasks.math_500 as lighteval_math_500

    from r1.evaluation.registry import LocalTask, ScopedRegistry
    from r1.evaluation.tasks import build_task

    path = _shared("math500_test.jsonl")
    built = build_task("math_500", {"math_500": str(path)}, 16, num_generations=4)
    config, dataset = built.config, built.dataset
    builtin = lighteval_math_500.math_500
    assert config.prompt_function is builtin.prompt_function
    assert [m.metric_name for m in config.metrics] == [m.metric_name for m in builtin.metrics]
    assert (config.generation_size, config.hf_repo, len(dataset["test"])) == (16, str(path), 500)

    assert built.spec == "math_500@n=4|0"
    registry = ScopedRegistry({config.name: config}, {config.name: dataset}, tasks=built.spec)
    assert set(registry._task_registry) == {"math_500"}  # lighteval's ~100 task modules untouched
    task = registry.load_tasks()["math_500|0"]
    assert isinstance(task, LocalTask)
    LocalTask.load_datasets({"math_500|0": task})
    docs = task.get_docs(max_samples=3)
    assert len(docs) == 3 and docs[0].num_samples == 4  # `@n=4` reached lighteval's pass@k
    assert docs[0].query.startswith("Solve the following problem.") and docs[0].choices[0].startswith("ANSWER: ")


def test_local_aime24_runs_end_to_end_with_lightevals_task(tmp_path, offline, monkeypatch):
    import lighteval.tasks.tasks.aime as lighteval_aime

    from r1.configs import EvaluateConfig
    from r1.evaluation import runner
    from r1.evaluation.models import ResolvedModel

    path = _shared("aime24_test.jsonl")
    if not (ROOT / "models" / "embedded" / "config.json").is_file():
        pytest.skip("models/embedded is not built (python stages/embedded.py)")
    monkeypatch.chdir(ROOT)  # the model path is relative, as in the pipeline
    model = ResolvedModel("base", "models/embedded", True, "main", "float32", None, False, None)
    cfg = EvaluateConfig(max_new_tokens=4, temperature=0.0, max_samples=3, batch_size=3)
    record = runner.evaluate(model, "aime24", cfg, {"aime24": str(path)}, tmp_path)
    assert record["metric"] == lighteval_aime.aime24.metrics[0].metric_name == "pass@k:k=1"
    assert (record["num_samples"], record["benchmark"]) == (3, "aime24")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["details.parquet", "results.json"]
    (query, texts), *_ = _predictions(tmp_path / "details.parquet")
    assert query.startswith(lighteval_aime.MATH_PROMPT_TEMPLATE.format(prompt="")[:40]) and len(texts) == 1


def test_local_aime25_with_integer_answers_scores_with_text_golds(tmp_path, offline, monkeypatch):
    # AIME files often store `answer` as an integer; lighteval's metric calls .strip() on golds.
    from r1.configs import EvaluateConfig
    from r1.evaluation import runner
    from r1.evaluation.models import ResolvedModel

    if not (ROOT / "models" / "embedded" / "config.json").is_file():
        pytest.skip("models/embedded is not built (python stages/embedded.py)")
    path = tmp_path / "aime25.jsonl"
    path.write_text("".join(json.dumps({"problem": f"What is {a} + {a}?", "answer": 2 * a, "id": str(a)}) + "\n"
                            for a in (35, 12, 8)))
    monkeypatch.chdir(ROOT)
    model = ResolvedModel("base", "models/embedded", True, "main", "float32", None, False, None)
    cfg = EvaluateConfig(max_new_tokens=4, temperature=0.0, batch_size=3)
    out = tmp_path / "out"
    out.mkdir()
    record = runner.evaluate(model, "aime25", cfg, {"aime25": str(path)}, out)
    assert (record["num_samples"], record["benchmark"]) == (3, "aime25")
    import pyarrow.parquet as pq

    golds = [r["doc"]["choices"] for r in pq.read_table(out / "details.parquet").to_pylist()]
    assert sorted(golds) == [["16"], ["24"], ["70"]]


def test_vllm_backend_builds_lightevals_vllm_config():
    from r1.configs import EvaluateConfig
    from r1.evaluation.models import ResolvedModel, lighteval_model_config

    model = ResolvedModel("grpo", "models/grpo", True, "main", "bfloat16", None, False, None)
    cfg = EvaluateConfig(backend="vllm", max_new_tokens=32768, temperature=0.6, seed=3, tensor_parallel_size=2,
                         data_parallel_size=4, gpu_memory_utilization=0.7, max_model_length=32768)
    config = lighteval_model_config(model, cfg, cache_dir="/tmp/x")
    assert type(config).__name__ == "VLLMModelConfig"
    assert (config.tensor_parallel_size, config.data_parallel_size, config.gpu_memory_utilization) == (2, 4, 0.7)
    assert (config.seed, config.max_model_length, config.dtype) == (3, 32768, "bfloat16")
    assert config.generation_parameters.to_vllm_dict()["max_tokens"] == 32768
    assert config.generation_parameters.temperature == 0.6
