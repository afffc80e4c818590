"""Benchmark sources in params (`benchmarks.paths` / `benchmarks.hub`) and the normalisation the
benchmark stage applies before anything reads the rows."""

from __future__ import annotations

import datasets
import pytest

from r1 import benchmarks
from r1.config import ConfigError, load_section
from r1.configs import BenchmarksConfig
from r1.data import DataError


def _section(**values):
    return load_section({"benchmarks": values}, "benchmarks", "benchmark", BenchmarksConfig)[0]


# --- answers as text --------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [(70, "70"), (70.0, "70"), (0, "0"), (2.5, "2.5"),
                                             ("025", "025"), ("\\frac{7}{5}", "\\frac{7}{5}")])
def test_answers_become_text(value, text):
    assert benchmarks.answer_text(value, where="f.jsonl") == text


@pytest.mark.parametrize("value", [None, "", "  ", True, [1, 2], {"a": 1}, float("nan")])
def test_unusable_answers_are_one_line_naming_where(value):
    with pytest.raises(DataError, match=r"^aime\.jsonl: column 'answer' row 3: ") as err:
        benchmarks.answer_text(value, where="aime.jsonl: column 'answer' row 3")
    assert "\n" not in str(err.value)


def test_normalise_turns_integer_answers_into_text_and_keeps_other_columns():
    ds = datasets.Dataset.from_list([{"problem": "p1", "answer": 70, "id": "0"},
                                     {"problem": "p2", "answer": 204, "id": "1"}])
    assert ds.features["answer"].dtype == "int64"
    out = benchmarks.normalise(ds, "aime25", "aime25.jsonl")
    assert out["answer"] == ["70", "204"] and out.features["answer"].dtype == "string"
    assert out.column_names == ["problem", "answer", "id"] and out["id"] == ["0", "1"]


def test_normalise_names_the_file_column_and_row():
    ds = datasets.Dataset.from_list([{"problem": "p1", "answer": 70}, {"problem": "p2", "answer": None}])
    with pytest.raises(DataError, match=r"^benchmark 'aime25' \(a\.jsonl\): column 'answer' row 1: answer None"):
        benchmarks.normalise(ds, "aime25", "a.jsonl")
    ds = datasets.Dataset.from_list([{"problem": "p1", "answer": 1}, {"problem": "", "answer": 2}])
    with pytest.raises(DataError, match=r"column 'problem' row 1: '' is not a non-empty text"):
        benchmarks.normalise(ds, "aime25", "a.jsonl")
    ds = datasets.Dataset.from_list([{"problem": 12, "answer": 1}])
    with pytest.raises(DataError, match=r"column 'problem' row 0: 12 is not a non-empty text"):
        benchmarks.normalise(ds, "aime25", "a.jsonl")
    ds = datasets.Dataset.from_list([{"question": "p1", "answer": 1}])
    with pytest.raises(DataError, match=r"benchmark 'aime25' \(a\.jsonl\): missing column\(s\) \['problem'\]"):
        benchmarks.normalise(ds, "aime25", "a.jsonl")


# --- params: every name in exactly one of paths / hub -------------------------------------------

def test_sources_split_between_paths_and_hub():
    cfg = _section(names=["embedded_math", "aime24"], paths={"embedded_math": "b.jsonl"}, hub={"aime24": "main"})
    assert (cfg.paths, cfg.hub) == ({"embedded_math": "b.jsonl"}, {"aime24": "main"})


@pytest.mark.parametrize(("values", "message"), [
    ({"names": ["aime24"]}, "benchmark 'aime24' has no source: give its local file in benchmarks.paths "
                            "or its Hub revision in benchmarks.hub"),
    ({"names": ["aime24"], "paths": {"aime24": "a.jsonl"}, "hub": {"aime24": "main"}},
     "benchmark 'aime24' is in both paths and hub"),
    ({"names": ["aime24"], "hub": {"aime24": "main", "math_500": "main"}},
     "hub has ['math_500'], which names does not list"),
    ({"names": ["aime24"], "paths": {"aime24": "a.jsonl", "aime25": "b.jsonl"}},
     "paths has ['aime25'], which names does not list"),
    ({"names": ["embedded_math"], "hub": {"embedded_math": "main"}}, "'embedded_math' has no Hub source"),
    ({"names": ["aime24"], "hub": {"aime24": 1234567}}, "hub.aime24 = 1234567: give a non-empty string"),
    ({"names": ["aime24"], "hub": {"aime_24": "main"}}, "unknown benchmark 'aime_24'; did you mean 'aime24'"),
])
def test_bad_sources_are_one_line_naming_the_key(values, message):
    with pytest.raises(ConfigError, match="^stage 'benchmark': params.yaml section 'benchmarks': ") as err:
        _section(**values)
    assert message in str(err.value) and "\n" not in str(err.value)


# --- the Hub, offline ---------------------------------------------------------------------------

def test_offline_hub_error_names_benchmark_id_revision_and_the_way_out(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    message = benchmarks._hub_error("gpqa_diamond", benchmarks.get("gpqa_diamond"), "main",
                                    ConnectionError("Couldn't reach 'Idavidrein/gpqa' on the Hub\nmore"))
    assert message == ("benchmark 'gpqa_diamond': cannot load Hub dataset Idavidrein/gpqa/gpqa_diamond (revision "
                       "main): this machine is offline (HF_HUB_OFFLINE=1); to use a local copy, move it from "
                       "benchmarks.hub to benchmarks.paths.gpqa_diamond: <file or folder>")
