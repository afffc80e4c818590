"""A recipe whose graph does not hold is stopped with one line naming the key."""

import copy
from pathlib import Path

import pytest
import yaml

from r1.config import ConfigError
from r1.pipeline_rules import check

ROOT = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())


def variant(**sections):
    params = copy.deepcopy(PARAMS)
    for name, value in sections.items():
        params[name] = {**(params.get(name) or {}), **value}
    return params


def test_the_embedded_default_holds():
    assert check(PARAMS).models == {"base", "sft", "grpo"}


def test_grpo_from_sft_without_sft_is_named():
    with pytest.raises(ConfigError, match="grpo.init_model = 'sft', but pipeline.sft is"):
        check(variant(pipeline={"sft": []}))
    assert check(variant(pipeline={"sft": []}, grpo={"init_model": "base"})).models == {"base", "grpo"}


def test_distilled_data_without_distillation_is_named():
    with pytest.raises(ConfigError, match=r"sft.dataset_mixture.datasets\[0\].source = 'distilled', but pipeline.distill"):
        check(variant(pipeline={"distill": []}))


def test_an_unknown_source_is_named():
    mixture = {"datasets": [{"source": "mot", "columns": {}}]}
    with pytest.raises(ConfigError, match="'mot' is not a source in datasets"):
        check(variant(sft={"dataset_mixture": mixture}))
    ok = variant(sft={"dataset_mixture": mixture}, datasets={"hub": {"mot": {"id": "open-r1/Mixture-of-Thoughts",
                                                                              "revision": "main"}}})
    check(ok)


def test_a_pipeline_list_must_be_empty_or_its_item():
    with pytest.raises(ConfigError, match=r"sft = \['yes'\]: give \[student\]"):
        check(variant(pipeline={"sft": ["yes"]}))
