"""The `vllm` backend (GPU; tensor parallel inside a replica, data parallel across replicas).

distilabel 1.5.3's `vLLM.generate` uses one `SamplingParams` for the whole batch, seeded only
through the engine's global seed (so a prompt's samples depend on its batch), re-encodes the
templated prompt to count its tokens, and drops `finish_reason`. We keep its loading (engine
arguments, chat template, the Ray placement group that distilabel builds for `vLLM` steps) and
replace generation: one `SamplingParams(seed=...)` per prompt, token ids given directly (the
chat template already holds the special tokens, and a text prompt would get a second BOS),
and finish reasons and lengths read from vLLM's outputs. Not runnable without a GPU.
"""

from __future__ import annotations

from typing import Any

from distilabel.models.llms import vLLM

from r1.generation import llm_common


class R1vLLM(vLLM):
    """vLLM with per-prompt seeds, exact token counts and finish reasons."""

    display_name: str | None = None

    @property
    def model_name(self) -> str:
        return self.display_name or self.model

    def r1_generate(self, inputs: list, seeds: list[int], num_generations: int = 1,
                    max_new_tokens: int = 128, temperature: float = 1.0,
                    top_p: float = 1.0) -> list[dict[str, Any]]:
        from vllm import SamplingParams

        prompts = [
            {"prompt_token_ids": self._tokenizer.encode(self.prepare_input(m), add_special_tokens=False)}
            for m in inputs
        ]
        params = [
            SamplingParams(n=num_generations, temperature=temperature, top_p=top_p,
                           max_tokens=max_new_tokens, seed=seed, skip_special_tokens=True)
            for seed in seeds
        ]
        outputs = self._model.generate(prompts, sampling_params=params, use_tqdm=False)
        return [
            llm_common.result(
                [o.text for o in out.outputs],
                [o.finish_reason for o in out.outputs],
                len(out.prompt_token_ids),
                [len(o.token_ids) for o in out.outputs],
            )
            for out in outputs
        ]
