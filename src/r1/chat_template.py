"""The project's ChatML chat template with `<think>` support, and a check that a template
renders every role a stage needs.

The template follows Qwen2.5 / DeepSeek-R1-Distill conventions:
- system, user and assistant turns in ChatML (`<|im_start|>role\\n...<|im_end|>`);
- the reasoning of earlier assistant turns (`<think>...</think>`) is dropped from the history,
  as DeepSeek-R1's template does, so multi-turn prompts do not grow with old reasoning;
- assistant content is wrapped in `{% generation %}` markers so TRL's
  `assistant_only_loss=True` can mask everything but the assistant's tokens;
- an unknown role is an error, not silently rendered.
"""

from __future__ import annotations

CHATML_THINK_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('chat template: unsupported role ' ~ message['role']) }}"
    "{%- endif -%}"
    "{%- set content = message['content'] -%}"
    "{%- if message['role'] == 'assistant' and not loop.last and '</think>' in content -%}"
    "{%- set content = content.split('</think>')[-1].lstrip() -%}"
    "{%- endif -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ content }}{{ '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' ~ message['role'] ~ '\\n' ~ content ~ '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)

_PROBE = {
    "system": "r1-probe-system-7f3a",
    "user": "r1-probe-user-91c2",
    "assistant": "r1-probe-assistant-c05e",
}


class ChatTemplateError(ValueError):
    """The tokenizer's chat template cannot render what a stage needs."""


def check_chat_template(tokenizer, roles=("system", "user", "assistant"), *, where: str = "") -> None:
    """Render a probe conversation and fail, naming the missing role, if any turn is lost.

    Stages call this before training so that a template without (say) a system role fails in
    seconds with a clear message instead of silently training on malformed text.
    """
    prefix = f"{where}: " if where else ""
    if not getattr(tokenizer, "chat_template", None):
        raise ChatTemplateError(f"{prefix}the tokenizer has no chat template; set model.chat_template")
    messages = [{"role": r, "content": _PROBE[r]} for r in roles]
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False)
    except Exception as exc:  # jinja raises many types; the message is what matters
        raise ChatTemplateError(f"{prefix}the chat template cannot render roles {list(roles)}: {exc}") from exc
    missing = [r for r in roles if _PROBE[r] not in text]
    if missing:
        raise ChatTemplateError(f"{prefix}the chat template drops the {', '.join(missing)} role(s)")


def generation_prefill(template: str) -> str:
    """What the template's generation prompt writes into the assistant's turn from `<think>` on
    ("" when it opens no think block): the start of the turn that GRPO's completions continue,
    and so the `prefill` the format rewards need to judge the whole turn."""
    from transformers.utils.chat_template_utils import render_jinja_template

    conversation = [{"role": "user", "content": _PROBE["user"]}]
    (with_prompt,), _ = render_jinja_template([conversation], chat_template=template, add_generation_prompt=True,
                                              bos_token="", eos_token="")
    (without,), _ = render_jinja_template([conversation], chat_template=template, bos_token="", eos_token="")
    generation_prompt = with_prompt[len(without):] if with_prompt.startswith(without) else with_prompt
    start = generation_prompt.rfind("<think>")
    return "" if start < 0 else generation_prompt[start:]
