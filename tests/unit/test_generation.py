"""Unit tests of the generate stage's pure parts (no model, no distilabel import: fast)."""

from __future__ import annotations

import json

import datasets
import pyarrow as pa
import pytest

from r1.config import ConfigError, load_section
from r1.configs import GenerateConfig
from r1.data import DataError
from r1.generation import llm_common, output, pipeline, prompts
from r1.generation.store import RowStore

SYSTEM = "You are a helpful assistant."


def _ds(rows):
    return datasets.Dataset.from_list(rows)


def _cfg(**kw):
    base = {"model": "no/such-model", "dataset": "d.jsonl"}
    return GenerateConfig(**{**base, **kw})


# -- prompts -------------------------------------------------------------------------------

def test_template_fields_and_columns():
    assert prompts.template_fields("{{ instruction }}") == ["instruction"]
    assert prompts.template_fields("Q: {{ instruction }} ({{ source }})") == ["instruction", "source"]
    columns, mappings = prompts.task_columns("{{ instruction }} hint: {{ hint }}", "problem")
    assert columns == ["hint", "instruction"]
    assert mappings == {"instruction": "problem"}
    assert prompts.task_columns("{{ question }}", "problem") == (["question"], {})


@pytest.mark.parametrize("template", ["no fields at all", "{{ instruction"])
def test_bad_templates_are_rejected(template):
    with pytest.raises(prompts.TemplateError):
        prompts.task_columns(template, "problem")


def test_check_inputs_accepts_good_data():
    prompts.check_inputs(_ds([{"problem": "1+1?", "hint": "add"}]), "{{ instruction }} {{ hint }}", "problem", "d")


@pytest.mark.parametrize("rows, template, match", [
    ([{"question": "1+1?"}], "{{ instruction }}", "no prompt column 'problem'"),
    ([{"problem": "1+1?"}], "{{ instruction }} {{ hint }}", r"refers to field\(s\) \['hint'\]"),
    ([{"problem": "1+1?"}, {"problem": None}], "{{ instruction }}", "row 1 has no text"),
    ([{"problem": "   "}], "{{ instruction }}", "row 0 has no text"),
    ([{"problem": "x", "_r1_row": 3}], "{{ instruction }}", "reserved"),
])
def test_check_inputs_names_the_problem(rows, template, match):
    with pytest.raises(DataError, match=match):
        prompts.check_inputs(_ds(rows), template, "problem", "d")


def test_check_inputs_rejects_empty_dataset():
    empty = datasets.Dataset.from_dict({"problem": []})
    with pytest.raises(DataError, match="empty"):
        prompts.check_inputs(empty, "{{ instruction }}", "problem", "d")


def test_row_seed_is_stable_distinct_and_int32():
    seeds = [prompts.row_seed(0, i) for i in range(1000)]
    assert len(set(seeds)) == 1000
    assert all(0 <= s < 2**31 for s in seeds)
    assert prompts.row_seed(0, 5) == prompts.row_seed(0, 5)
    assert prompts.row_seed(1, 5) != prompts.row_seed(0, 5)


# -- text clean-up -------------------------------------------------------------------------

def test_clean_text_replaces_lone_surrogates_so_parquet_can_store_it():
    broken = "caf\udce9 ok"
    with pytest.raises((pa.ArrowException, UnicodeEncodeError)):
        pa.array([broken], type=pa.string())
    text, bad = llm_common.clean_text(broken)
    assert text == "caf\ufffd ok" and bad
    pa.array([text], type=pa.string())  # encodes now
    assert llm_common.clean_text("fine ✓") == ("fine ✓", False)
    assert llm_common.clean_text(None) == ("", False)


def test_result_counts_invalid_generations():
    rec = llm_common.result(["ok", "bad\ud800", None], ["stop", "length", "stop"], 7, [3, 48, 1])
    assert rec["generations"] == ["ok", "bad\ufffd", ""]
    assert rec[llm_common.INVALID_UTF8_COLUMN] == 1
    assert rec[llm_common.ERROR_COLUMN] is None
    fail = llm_common.failure("APITimeoutError: timed out")
    assert fail["generations"] is None and "timed out" in fail[llm_common.ERROR_COLUMN]


# -- store ---------------------------------------------------------------------------------

def _row(i, text="t"):
    return {prompts.INDEX_COLUMN: i, "prompt": f"p{i}", "generations": [text], "finish_reasons": ["stop"],
            "prompt_tokens": 3, "completion_tokens": [2], "model_name": "m", llm_common.INVALID_UTF8_COLUMN: 0}


def test_store_roundtrip_and_idempotent_writes(tmp_path):
    store = RowStore(tmp_path / "s")
    assert store.load() == {}
    store.add([_row(0), _row(1)])
    store.add([_row(0), _row(1)])  # the same batch again: same file
    store.add([_row(5, "ünï")])
    store.add([])
    assert len(list((tmp_path / "s").glob("part-*.jsonl"))) == 2
    assert not list((tmp_path / "s").glob(".*tmp*"))  # no temporary file left behind
    rows = store.load()
    assert sorted(rows) == [0, 1, 5] and rows[5]["generations"] == ["ünï"]
    store.clear()
    assert store.load() == {}


# -- output --------------------------------------------------------------------------------

def test_build_table_keeps_inputs_and_adds_typed_columns():
    ds = _ds([{"problem": "a", "prompt": "old", "n": 1}, {"problem": "b", "prompt": "old", "n": 2}])
    rows = {1: _row(1, "y"), 0: _row(0, "x")}
    table = output.build_table(ds, rows)
    assert table.column_names == ["problem", "n", *llm_common.OUTPUT_COLUMNS]
    assert table.schema.field("completion_tokens").type == pa.list_(pa.int64())
    assert table.schema.metadata is None
    out = table.to_pylist()
    assert [r["generations"] for r in out] == [["x"], ["y"]]  # input order, not dict order
    assert [r["prompt"] for r in out] == ["p0", "p1"]
    assert [r["n"] for r in out] == [1, 2]


def test_metrics():
    rows = {0: _row(0), 1: {**_row(1), "completion_tokens": [4, 48], "generations": ["a", "b"],
                            "finish_reasons": ["stop", "length"], llm_common.INVALID_UTF8_COLUMN: 1}}
    m = output.metrics(rows, resumed=1)
    assert m["prompts"] == 2 and m["generations"] == 3
    assert m["mean_completion_tokens"] == pytest.approx(18.0) and m["max_completion_tokens"] == 48
    assert m["finish_reasons"] == {"length": 1, "stop": 2}
    assert m["invalid_utf8_generations"] == 1 and m["resumed_prompts"] == 1
    json.dumps(m)


# -- config and fingerprint ----------------------------------------------------------------

def test_generate_config_is_loaded_strictly():
    params = {"generate": {"model": "m", "dataset": "d", "client_replicas": 2}}
    cfg, _ = load_section(params, "generate", "generate", GenerateConfig)
    assert cfg.client_replicas == 2
    with pytest.raises(ConfigError, match="did you mean 'temperature'"):
        load_section({"generate": {"model": "m", "dataset": "d", "temprature": 1.0}}, "generate", "generate", GenerateConfig)
    with pytest.raises(ConfigError, match="base_url"):
        load_section({"generate": {"model": "m", "dataset": "d", "backend": "openai"}}, "generate", "generate", GenerateConfig)


def test_fingerprint_follows_what_changes_results(tmp_path):
    ds = _ds([{"problem": "a", "other": 1}, {"problem": "b", "other": 2}])
    base = pipeline.fingerprint(_cfg(), ds)
    assert pipeline.fingerprint(_cfg(), ds) == base
    # Launch settings do not change the samples (per-row seeds): the store stays valid.
    assert pipeline.fingerprint(_cfg(client_replicas=4, input_batch_size=3, retries=5), ds) == base
    assert pipeline.fingerprint(_cfg(temperature=0.1), ds) != base
    assert pipeline.fingerprint(_cfg(system_prompt=SYSTEM), ds) != base
    assert pipeline.fingerprint(_cfg(), _ds([{"problem": "a", "other": 1}, {"problem": "c", "other": 2}])) != base
    # Columns the prompt does not use do not matter (they are joined back from the input).
    assert pipeline.fingerprint(_cfg(), _ds([{"problem": "a", "other": 9}, {"problem": "b", "other": 9}])) == base
    # A local model is identified by its files' content.
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    first = pipeline.fingerprint(_cfg(model=str(model)), ds)
    (model / "config.json").write_text('{"changed": true}')
    assert pipeline.fingerprint(_cfg(model=str(model)), ds) != first


def test_prompt_columns_include_a_row_system_prompt():
    cfg = _cfg(prompt_template="{{ instruction }} {{ hint }}")
    assert pipeline.prompt_columns(cfg, ["problem", "hint", "x"]) == ["hint", "problem"]
    assert pipeline.prompt_columns(cfg, ["problem", "hint", "system_prompt"]) == ["hint", "problem", "system_prompt"]
