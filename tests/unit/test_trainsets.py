"""Training data from any source: mixtures by weight, column mapping onto each stage's schema."""

import pytest
from datasets import Dataset

from r1.data import DataError
from r1.trainsets.build import apply_columns, decontamination_texts, mix, to_grpo, to_sft
from r1.trainsets.spec import DatasetsConfig, Member, parse_mixture


def test_a_mixture_keeps_each_sources_weight_share_and_is_seeded():
    a = Dataset.from_list([{"prompt": [{"role": "user", "content": f"a{i}"}], "src": "a"} for i in range(100)])
    b = Dataset.from_list([{"prompt": [{"role": "user", "content": f"b{i}"}], "src": "b"} for i in range(40)])
    mixture = parse_mixture({"datasets": [{"source": "a", "weight": 0.3}, {"source": "b", "weight": 0.5}],
                             "seed": 7}, "grpo")
    mixed, counts = mix(list(zip(mixture.members, [a, b], strict=True)), mixture, "grpo")
    assert counts == {"a": {"rows": 100, "used": 30}, "b": {"rows": 40, "used": 20}}
    assert len(mixed) == 50 and mixed["src"].count("a") == 30 and mixed["src"].count("b") == 20
    assert len(set(mixed["src"][:10])) == 2, "the parts are shuffled together"
    again, _ = mix(list(zip(mixture.members, [a, b], strict=True)), mixture, "grpo")
    assert again["prompt"] == mixed["prompt"]
    other, _ = mix(list(zip(mixture.members, [a, b], strict=True)),
                   parse_mixture({"datasets": [{"source": "a", "weight": 0.3}, {"source": "b", "weight": 0.5}],
                                  "seed": 8}, "grpo"), "grpo")
    assert other["prompt"] != mixed["prompt"]


def test_grpo_mixtures_keep_the_columns_every_source_has():
    a = Dataset.from_list([{"prompt": [{"role": "user", "content": "a"}], "solution": "1", "only_a": 1}])
    b = Dataset.from_list([{"prompt": [{"role": "user", "content": "b"}], "solution": "2"}])
    mixture = parse_mixture({"datasets": [{"source": "a"}, {"source": "b"}]}, "grpo")
    mixed, _ = mix(list(zip(mixture.members, [a, b], strict=True)), mixture, "grpo")
    assert sorted(mixed.column_names) == ["prompt", "solution"]


@pytest.mark.parametrize("weight", [0, -0.5, 1.5, float("nan"), "half", True])
def test_a_weight_outside_0_1_is_named(weight):
    with pytest.raises(ValueError, match=r"dataset_mixture.datasets\[0\].weight = .* out of range"):
        parse_mixture({"datasets": [{"source": "a", "weight": weight}]}, "sft")


def test_bad_mixtures_are_named():
    with pytest.raises(ValueError, match="unknown key"):
        parse_mixture({"datasets": [{"source": "a", "wieght": 1}]}, "sft")
    with pytest.raises(ValueError, match="at least one"):
        parse_mixture({"datasets": []}, "sft")
    with pytest.raises(ValueError, match="listed twice"):
        parse_mixture({"datasets": [{"source": "a"}, {"source": "a"}]}, "sft")
    with pytest.raises(ValueError, match="sft does not read"):
        parse_mixture({"datasets": [{"source": "a", "columns": {"question": "q"}}]}, "sft")
    with pytest.raises(ValueError, match="not a usable name"):
        parse_mixture({"datasets": [{"source": "../x"}]}, "sft")


def test_a_weight_too_small_for_the_source_is_an_error_not_an_empty_set():
    ds = Dataset.from_list([{"prompt": "p"}] * 3)
    mixture = parse_mixture({"datasets": [{"source": "a", "weight": 0.2}]}, "grpo")
    with pytest.raises(DataError, match="keeps no row"):
        mix([(mixture.members[0], ds)], mixture, "grpo")


def test_column_mapping_names_a_missing_column():
    ds = Dataset.from_list([{"problem": "p", "answer": "1"}])
    with pytest.raises(DataError, match=r"datasets\[0\].columns.solution: source 'math' has no column 'sol'"):
        apply_columns(ds, Member("math", 1.0, {"prompt": "problem", "solution": "sol"}), "grpo.dataset_mixture.datasets[0]")
    out = apply_columns(ds, Member("math", 1.0, {"prompt": "problem", "solution": "answer"}), "w")
    assert out[0]["prompt"] == "p" and out[0]["solution"] == "1"


def test_sft_schema_from_messages_completion_or_generations():
    turns = [{"role": "system", "content": "old"}, {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    assert to_sft(Dataset.from_list([{"messages": turns}]), "w", "all") == [{"messages": turns[1:]}]
    pc = to_sft(Dataset.from_list([{"prompt": "q", "completion": "a"}]), "w", "all")
    assert pc == [{"messages": turns[1:]}]
    gens = Dataset.from_list([{"prompt": "q", "generations": ["a", "", "b"]}])
    assert len(to_sft(gens, "w", "all")) == 2 and len(to_sft(gens, "w", "first")) == 1
    with pytest.raises(DataError, match="sft needs a 'messages' column"):
        to_sft(Dataset.from_list([{"question": "q"}]), "w", "all")


def test_grpo_schema_drops_generation_columns_and_makes_prompts_turns():
    ds = Dataset.from_list([{"prompt": "q", "solution": "1", "generations": ["x"], "model_name": "m"}])
    out = to_grpo(ds, "w")
    assert out[0]["prompt"] == [{"role": "user", "content": "q"}]
    assert sorted(out.column_names) == ["prompt", "solution"]
    assert decontamination_texts(out, "grpo", False) == ["q"]


def test_sources_config_rejects_bad_entries():
    DatasetsConfig(paths={"local": {"path": "x.jsonl"}}, hub={"math": {"id": "o/m", "revision": "abc"}})
    with pytest.raises(ValueError, match="hub.math.revision is required"):
        DatasetsConfig(hub={"math": {"id": "o/m"}})
    with pytest.raises(ValueError, match="pipeline's own distilled"):
        DatasetsConfig(paths={"distilled": {"path": "x"}})
    with pytest.raises(ValueError, match="in both paths and hub"):
        DatasetsConfig(paths={"m": {"path": "x"}}, hub={"m": {"id": "o/m", "revision": "r"}})


def test_two_answers_to_one_prompt_are_two_sft_examples_not_duplicates():
    from r1.decontam.dedup import find_duplicates
    from r1.trainsets.build import duplicate_texts

    rows = to_sft(Dataset.from_list([{"prompt": "q", "generations": ["a", "b", "a"]}]), "w", "all")
    assert find_duplicates(duplicate_texts(Dataset.from_list(rows), "sft")) == [2]
    prompts = to_grpo(Dataset.from_list([{"prompt": "q", "solution": "1"}, {"prompt": "q", "solution": "2"}]), "w")
    assert find_duplicates(duplicate_texts(prompts, "grpo")) == [1]
