"""Distillation: generate reasoning traces from a teacher model with distilabel.

The pieces, one job each:
- `prompts`:  which dataset fields the prompt template needs, input checks, per-row seeds;
- `llms`:     the three backends (transformers, vllm, openai) as distilabel LLMs that add
              what distilabel 1.5.3 lacks: per-prompt seeds, finish reasons, exact token counts;
- `steps`:    the distilabel task that renders prompts and calls the LLM, and the step that
              saves every finished batch to a resumable store;
- `store`:    that store (kill-safe, row-addressed) under `.r1-cache/generate/`;
- `pipeline`: builds and runs the distilabel pipeline (local or on a Ray cluster);
- `output`:   the final table (one row per prompt) and the stage metrics.
"""
