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
    assert check(PARAMS).models == {"teacher", "base", "sft", "grpo"}


def test_grpo_from_sft_without_sft_is_named():
    with pytest.raises(ConfigError, match="grpo.init_model = 'sft', but pipeline.sft is"):
        check(variant(pipeline={"sft": []}))
    # ... and so is evaluating the sft model the recipe no longer trains
    with pytest.raises(ConfigError, match="pipeline.evaluate: unknown model 'sft'"):
        check(variant(pipeline={"sft": []}, grpo={"init_model": "base"}))
    grpo_only = variant(pipeline={"sft": [], "evaluate": ["base", "grpo"]}, grpo={"init_model": "base"})
    assert check(grpo_only).models == {"teacher", "base", "grpo"}


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


DEEPSEEK_TEMPLATE = ROOT / "recipes" / "DeepSeek-R1-Distill-Qwen-1.5B" / "chat_template.jinja"


def test_the_shipped_deepseek_template_prefills_think_and_the_format_rewards_must_say_so(tmp_path):
    from r1.chat_template import generation_prefill

    assert generation_prefill(DEEPSEEK_TEMPLATE.read_text()) == "<think>\n"
    model = {"chat_template": str(DEEPSEEK_TEMPLATE.relative_to(ROOT))}
    grpo = {"reward_funcs": ["accuracy", "format", "tag_count"], "reward_weights": [1.0, 1.0, 1.0],
            "reward_kwargs": {"format": {"prefill": "<think>\n"}}}
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)  # params name the template relative to the project, as the stages run
    try:
        with pytest.raises(ConfigError, match=r"grpo.reward_kwargs.tag_count.prefill = '', but model.chat_template"):
            check(variant(model=model, grpo=grpo))
        grpo["reward_kwargs"]["tag_count"] = {"prefill": "<think>\n"}
        check(variant(model=model, grpo=grpo))
        # a prefill the template does not write is refused too: the project's ChatML template
        from r1.chat_template import CHATML_THINK_TEMPLATE

        chatml = tmp_path / "chatml.jinja"
        chatml.write_text(CHATML_THINK_TEMPLATE)
        with pytest.raises(ConfigError, match=r"format.prefill = '<think>\\n', but .* prefills ''"):
            check(variant(model={"chat_template": str(chatml)}, grpo=grpo))
    finally:
        os.chdir(cwd)
