"""The `openai` backend: any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, ...).

distilabel 1.5.3's `OpenAILLM` sends one request with `n` choices and reports the usage summed
over them, no finish reasons and no seed; and one failed request fails its whole batch. We keep
its client (base URL, `OPENAI_API_KEY` from the environment, timeout, the SDK's retries with
back-off) and send one request per generation instead, each with its own seed, so that
- every generation has its exact completion length (usage) and finish reason,
- samples are reproducible on servers that honour `seed` (vLLM, SGLang), and
- a prompt whose requests still fail after the retries is reported alone: the other prompts of
  its batch are kept. (Servers with prefix caching serve the repeated prompt cheaply.)
A reasoning server (vLLM's or SGLang's reasoning parser) returns the trace in
`reasoning_content`; we put it back as `<think>...</think>` before the answer, the format the
SFT stage trains on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from distilabel.models.llms import OpenAILLM

from r1.generation import llm_common


def _message_text(message) -> str | None:
    content = message.content
    reasoning = getattr(message, "reasoning_content", None) or (message.model_extra or {}).get("reasoning_content")
    if reasoning:
        return f"<think>\n{reasoning}\n</think>\n\n{content or ''}"
    return content


class R1OpenAILLM(OpenAILLM):
    """OpenAILLM with one seeded request per generation, usage and finish reason for each."""

    async def _one_prompt(self, messages, seed: int, num_generations: int,
                          max_new_tokens: int, temperature: float, top_p: float) -> dict[str, Any]:
        import openai

        requests = [
            self._aclient.chat.completions.create(
                model=self.model, messages=messages, n=1, max_tokens=max_new_tokens,
                temperature=temperature, top_p=top_p, seed=seed + i,
            )
            for i in range(num_generations)
        ]
        try:
            completions = await asyncio.gather(*requests)
        except (openai.OpenAIError, ValueError) as exc:  # ValueError: a body that is not JSON
            return llm_common.failure(f"{type(exc).__name__}: {exc}")
        texts, reasons, counts, prompt_tokens = [], [], [], None
        for completion in completions:
            if not completion.choices:
                return llm_common.failure("the server returned no choices")
            choice = completion.choices[0]
            texts.append(_message_text(choice.message))
            reasons.append(choice.finish_reason)
            usage = completion.usage
            counts.append(usage.completion_tokens if usage else None)
            if usage and prompt_tokens is None:
                prompt_tokens = usage.prompt_tokens
        return llm_common.result(texts, reasons, prompt_tokens, counts)

    def r1_generate(self, inputs: list, seeds: list[int], num_generations: int = 1,
                    max_new_tokens: int = 128, temperature: float = 1.0,
                    top_p: float = 1.0) -> list[dict[str, Any]]:
        async def all_prompts():
            return await asyncio.gather(*(
                self._one_prompt(m, s, num_generations, max_new_tokens, temperature, top_p)
                for m, s in zip(inputs, seeds, strict=True)
            ))

        return self.event_loop.run_until_complete(all_prompts())
