"""Bad params and bad data stop a stage at once, with a message naming the problem, and
leave no output behind."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import copy_of
from pipeline_helpers import fresh_copy, stage

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def project(built_project, tmp_path_factory):
    return copy_of(built_project, tmp_path_factory.mktemp("bad") / "project")


@pytest.fixture
def params(project):
    """Edit params.yaml for one test; restored afterwards."""
    path = project / "params.yaml"
    original = path.read_text()
    data = yaml.safe_load(original)

    def write():
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    data["write"] = write
    yield data
    path.write_text(original)


def _fails(project, name, *messages, args=()):
    proc = stage(project, name, *args)
    assert proc.returncode != 0, proc.stderr[-2000:]
    for message in messages:
        assert message in proc.stderr, proc.stderr[-3000:]
    # It stopped before any model was loaded: no weights were read.
    assert "Loading weights" not in proc.stderr
    return proc


def _write(params):
    params.pop("write")()


def test_unknown_sft_key(project, params):
    params["sft"]["learnig_rate"] = 1e-4
    _write(params)
    _fails(project, "sft", "stage 'sft': unknown key 'learnig_rate' in params.yaml section 'sft'",
           "did you mean 'learning_rate'")
    assert not (project / "models" / "sft").exists()


def test_wrong_type(project, params):
    params["grpo"]["num_generations"] = "four"
    _write(params)
    _fails(project, "grpo", "grpo.num_generations = 'four' (str) does not match the expected type int")


def test_unknown_reward(project, params):
    params["grpo"]["reward_funcs"] = ["accuracy", "acuracy_v2"]
    params["grpo"]["reward_weights"] = [1.0, 1.0]
    _write(params)
    _fails(project, "grpo", "stage 'grpo'", "acuracy_v2")


def test_unknown_benchmark(project, params):
    params["benchmarks"]["names"] = ["embedded_math", "aime2024"]
    _write(params)
    _fails(project, "training_data", "stage 'training_data'", "unknown benchmark 'aime2024'", args=("--stage", "sft"))
    _fails(project, "evaluate", "unknown benchmark 'aime2024'", args=("--model", "base", "--benchmark", "embedded_math"))


def test_missing_data_path(project):
    _fails(project, "training_data", "data path does not exist: data/sources/distilled/train.parquet",
           args=("--stage", "sft"))


def _distilled(project, rows):
    import pandas as pd

    folder = project / "data" / "sources" / "distilled"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(folder / "train.parquet")
    return folder / "train.parquet"


def test_everything_contaminated_is_an_error_and_writes_nothing(project, params):
    rows = [json.loads(line) for line in (project / "data/embedded/benchmark.jsonl").read_text().splitlines()]
    written = _distilled(project, [{**r, "generations": ["x"]} for r in rows])
    try:
        _fails(project, "training_data", "every one of the 32 rows was dropped", args=("--stage", "sft"))
        assert not (project / "data" / "train" / "sft").exists()
    finally:
        written.unlink()


def test_a_column_mapping_to_a_missing_column_is_named(project, params):
    params["grpo"]["dataset_mixture"] = {"datasets": [{"source": "distilled", "columns": {"prompt": "question"}}]}
    _write(params)
    written = _distilled(project, [{"problem": "P", "solution": "1", "generations": ["x"]}])
    try:
        _fails(project, "training_data", "grpo.dataset_mixture.datasets[0].columns.prompt: source 'distilled' "
               "has no column 'question'", args=("--stage", "grpo"))
        assert not (project / "data" / "train" / "grpo").exists()
    finally:
        written.unlink()


@pytest.mark.parametrize("change,message", [
    ({"sft": {"dataset_mixture": {"datasets": [{"source": "distilled", "weight": 0}]}}},
     "sft.dataset_mixture.datasets[0].weight = 0 is out of range: must be > 0 and <= 1"),
    ({"pipeline": {"sft": []}}, "grpo.init_model = 'sft', but pipeline.sft is []"),
    ({"pipeline": {"distill": []}}, "sft.dataset_mixture.datasets[0].source = 'distilled', but pipeline.distill is []"),
])
def test_a_recipe_that_does_not_hold_stops_every_stage_first(project, params, change, message):
    """Whichever stage `dvc repro` runs first stops with the one line, before any work."""
    for section, values in change.items():
        params[section].update(values)
    _write(params)
    for name, *args in (("embedded",), ("base",), ("training_data", "--stage", "grpo")):
        proc = _fails(project, name, message, args=tuple(args))
        assert proc.stderr.count("\n") <= 2, proc.stderr


def test_chat_template_without_system_role(project, params):
    template = project / "no_system.jinja"
    template.write_text("{% for m in messages %}{% if m['role'] != 'system' %}{{ m['content'] }}{% endif %}"
                        "{% endfor %}")
    params["model"]["chat_template"] = str(template.name)
    params["sft"]["system_prompt"] = "Think first."
    _write(params)
    import pandas as pd

    train = project / "data" / "train" / "sft"
    train.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"messages": [{"role": "user", "content": "P"}, {"role": "assistant", "content": "G"}]}]).to_parquet(
        train / "train.parquet")
    _fails(project, "sft", "stage 'sft': the chat template drops the system role")


def test_missing_upstream_model_names_the_stage_that_makes_it(project):
    _fails(project, "grpo", "model folder 'models/sft' does not exist; it is produced by the 'sft' stage")


# -- nonsense values and broken files: one line, exit 2, before any model loads --------------

@pytest.fixture(scope="module")
def bare_project(tmp_path_factory):
    """A fresh copy with no stage run: each case must stop before it needs a model or data."""
    return fresh_copy(tmp_path_factory.mktemp("bare"))


EVALUATE = ("--model", "base", "--benchmark", "embedded_math")


def _one_clear_line(project, name, expected, args=()):
    proc = stage(project, name, *args)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and expected in errors[0], proc.stderr[-3000:]
    assert "Loading weights" not in proc.stderr


@pytest.mark.parametrize(
    "section, values, name, expected",
    [
        ("evaluate", {"max_new_tokens": 48, "max_model_length": 32}, "evaluate",
         "evaluate.max_new_tokens = 48 is out of range: must be <= max_model_length (32)"),
        ("generate", {"top_p": 2.0}, "generate", "generate.top_p = 2.0 is out of range: must be in (0, 1]"),
        ("sft", {"num_train_epochs": 0, "max_steps": -1}, "sft",
         "sft.num_train_epochs = 0 is out of range: must be > 0"),
        ("sft", {"learning_rate": -1.0e-3}, "sft", "sft.learning_rate = -0.001 is out of range: must be > 0"),
        ("sft", {"max_length": 0}, "sft", "sft.max_length = 0 is out of range: must be >= 1"),
        ("generate", {"input_batch_size": 0}, "generate", "generate.input_batch_size = 0 is out of range: must be >= 1"),
        ("generate", {"max_new_tokens": 0}, "generate", "generate.max_new_tokens = 0 is out of range: must be >= 1"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_nonsense_value_stops_with_one_line(bare_project, section, values, name, expected):
    path = bare_project / "params.yaml"
    original = path.read_text()
    data = yaml.safe_load(original)
    data[section].update(values)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        _one_clear_line(bare_project, name, f"stage '{name}': params.yaml {expected}",
                        args=EVALUATE if name == "evaluate" else ())
    finally:
        path.write_text(original)
    assert not (bare_project / "models" / "sft").exists()
    assert not (bare_project / "data" / "generated").exists()
    assert not (bare_project / "metrics").exists() or not any((bare_project / "metrics").rglob("*.json"))


def test_invalid_yaml_stops_with_one_line(bare_project):
    path = bare_project / "params.yaml"
    original = path.read_text()
    broken = re.sub(r"\n  learning_rate: ([^\n]*)", r"\n  learning_rate: [\1", original, count=1)
    assert broken != original
    path.write_text(broken)
    try:
        _one_clear_line(bare_project, "sft", "params.yaml: invalid YAML at line ")
    finally:
        path.write_text(original)


def test_truncated_parquet_stops_with_one_line(bare_project):
    import pandas as pd

    target = bare_project / "data" / "sources" / "distilled" / "train.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"problem": f"p{i}", "generations": ["x" * 40]} for i in range(200)]).to_parquet(target)
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    try:
        _one_clear_line(bare_project, "training_data", "data/sources/distilled/train.parquet: cannot read",
                        args=("--stage", "sft"))
        assert not (bare_project / "data" / "train" / "sft").exists()
    finally:
        target.unlink()


def test_broken_jsonl_line_is_named(bare_project):
    rows = "".join(json.dumps({"problem": f"p{i}", "solution": str(i)}) + "\n" for i in range(9))
    (bare_project / "broken.jsonl").write_text(rows + '{"problem": "p9", "solu\n' + rows)
    path = bare_project / "params.yaml"
    original = path.read_text()
    data = yaml.safe_load(original)
    data["generate"]["dataset"] = "broken.jsonl"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        _one_clear_line(bare_project, "generate", "broken.jsonl: line 10, column ")
    finally:
        path.write_text(original)
