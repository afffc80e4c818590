"""The `transformers` backend (CPU or GPU): distilabel's TransformersLLM, seeded per prompt.

What distilabel 1.5.3's `TransformersLLM.generate` lacks, and why we replace it:
- no seed: it samples from torch's global RNG, so outputs depend on everything that ran before
  (batch order, replicas, a resumed run). We seed each prompt with its own seed;
- a `repetition_penalty` of 1.1 and transformers' `top_k=50` by default, which neither
  open-r1 nor vLLM/OpenAI apply; we sample with temperature and top_p only;
- token counts by re-encoding the decoded text (and the prompt's messages without the chat
  template); we count the token ids themselves;
- no finish reasons; we report "stop" when an end-of-sequence token ended the sample, else
  "length".
Each prompt is generated as its own call (its `num_generations` samples batched together, so
no padding): a padded multi-prompt batch would make a prompt's samples depend on its
neighbours, which breaks resumability. For throughput at scale use the vllm backend.
The model and tokenizer are still loaded by distilabel (`TransformersLLM.load`), and the chat
template is applied by its `prepare_input`.
"""

from __future__ import annotations

from typing import Any

from distilabel.models.llms import TransformersLLM
from pydantic import PrivateAttr

from r1.generation import llm_common

_SMALL_MODEL_PARAMS = 20_000_000


class R1TransformersLLM(TransformersLLM):
    """TransformersLLM with per-prompt seeds, exact token counts and finish reasons."""

    # The model as named in params (a relative path stays relative in the output), while
    # `model` may be an absolute path so Ray workers in other directories can load it.
    display_name: str | None = None
    _eos_ids: set = PrivateAttr(default_factory=set)

    @property
    def model_name(self) -> str:
        return self.display_name or self.model

    def load(self) -> None:
        super().load()
        model = self._pipeline.model
        if model.device.type == "cpu" and model.num_parameters() < _SMALL_MODEL_PARAMS:
            import torch

            # A forward pass of a tiny model is too small to split across threads: on 2 busy
            # cores the hand-off made generation 7x slower than one thread (measured).
            torch.set_num_threads(1)
        eos = model.generation_config.eos_token_id
        if eos is None:
            eos = self._pipeline.tokenizer.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, list) else [eos])

    def r1_generate(self, inputs: list, seeds: list[int], num_generations: int = 1,
                    max_new_tokens: int = 128, temperature: float = 1.0,
                    top_p: float = 1.0) -> list[dict[str, Any]]:
        """One record per input (see `llm_common.result`)."""
        import torch

        tokenizer, model = self._pipeline.tokenizer, self._pipeline.model
        records = []
        for messages, seed in zip(inputs, seeds, strict=True):
            text = self.prepare_input(messages)
            # The chat template already wrote every special token the model expects.
            enc = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
            prompt_len = enc["input_ids"].shape[1]
            sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
            if temperature == 0:
                sampling = {"do_sample": False}
            torch.manual_seed(seed)
            with torch.inference_mode():
                out = model.generate(
                    **enc, max_new_tokens=max_new_tokens, num_return_sequences=num_generations,
                    repetition_penalty=1.0, pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=sorted(self._eos_ids), **sampling,
                )
            texts, reasons, counts = [], [], []
            for ids in out[:, prompt_len:].tolist():
                stop = next((i for i, t in enumerate(ids) if t in self._eos_ids), None)
                if stop is None:
                    kept, reason, count = ids, "length", len(ids)
                else:  # the end token counts as generated, as in vLLM's usage numbers
                    kept, reason, count = ids[:stop], "stop", stop + 1
                texts.append(tokenizer.decode(kept, skip_special_tokens=True))
                reasons.append(reason)
                counts.append(count)
            records.append(llm_common.result(texts, reasons, prompt_len, counts))
        return records
