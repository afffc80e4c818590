"""Evaluation of a model on one benchmark with lighteval 0.13.

- `tasks`: the lighteval task config for each benchmark of `r1.benchmarks`: the project's own
  `embedded_math`, and lighteval's built-in tasks served from a local file (in the pipeline,
  the benchmark stage's data/benchmarks/<name>) with lighteval's own prompt function and metrics.
- `registry`: a lighteval `Registry`/`Pipeline` that knows only the requested task, so that
  nothing imports lighteval's ~100 task modules (some of which download at import time).
- `models`: the lighteval model config (transformers or vLLM) from params.
- `runner`: runs the pipeline and collects the score; `results`: the metrics record and table.
- `checks`: which models and benchmarks the `evaluate` params may name; `adhoc`: `make evaluate`
  for any model (a pipeline name through DVC, a Hub id or folder outside it).
- `environment`: caches and offline mode, set before lighteval or huggingface_hub is imported.

Heavy imports (lighteval, torch) happen inside functions, so that a bad params value fails in
a fraction of a second, before the 20 s it takes to import lighteval on a small CPU.
"""
