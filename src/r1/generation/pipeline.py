"""Build and run the distilabel pipeline: input rows → R1TextGeneration → PersistRows.

The same pipeline runs in local processes or, with `R1_RAY_ADDRESS` set, on a Ray cluster
(distilabel's RayPipeline: each step replica is a Ray actor; vLLM replicas get a placement
group of `tensor_parallel_size` GPUs). Only the rows missing from the resumable store are sent,
so a restarted run continues where the killed one stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from r1.configs import GenerateConfig
from r1.generation import llm_common
from r1.generation.prompts import INDEX_COLUMN, task_columns
from r1.generation.store import RowStore

log = logging.getLogger("r1.generation")

# The GenerateConfig fields that change what is generated. Launch settings (replicas, batch
# size, timeout, retries, Ray address, parallelism) are left out: they must not invalidate
# the store, and with per-row seeds they do not change the samples.
RESULT_FIELDS = (
    "backend", "model", "dataset", "dataset_config", "dataset_split", "prompt_column",
    "prompt_template", "system_prompt", "temperature", "top_p", "max_new_tokens",
    "num_generations", "seed", "base_url",
)
_HASH_WHOLE_FILE_BELOW = 64 * 2**20
PIPELINE_NAME = "r1-generate"


@dataclass
class Outcome:
    """What a run left: finished rows by index, and the rows that failed, with the reason."""

    rows: dict[int, dict[str, Any]]
    failures: dict[int, str] = field(default_factory=dict)
    resumed: int = 0


def _model_identity(model: str) -> str:
    """A local model folder by content (large files by size and mtime); a Hub id by name."""
    path = Path(model)
    if not path.is_dir():
        return model
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(str(f.relative_to(path)).encode())
        if st.st_size < _HASH_WHOLE_FILE_BELOW:
            h.update(f.read_bytes())
        else:
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def prompt_columns(cfg: GenerateConfig, column_names: list[str]) -> list[str]:
    """The dataset columns the pipeline needs: the template's fields and a per-row system prompt."""
    fields, mappings = task_columns(cfg.prompt_template, cfg.prompt_column)
    needed = sorted({mappings.get(f, f) for f in fields})
    if "system_prompt" in column_names and "system_prompt" not in needed:
        needed.append("system_prompt")  # distilabel's TextGeneration uses it when present
    return needed


def fingerprint(cfg: GenerateConfig, ds) -> str:
    """A hash of everything that determines the generations: config, model, prompt fields."""
    h = hashlib.sha256()
    h.update(json.dumps({k: getattr(cfg, k) for k in RESULT_FIELDS}, sort_keys=True).encode())
    if cfg.backend != "openai":
        h.update(_model_identity(cfg.model).encode())
    for name in prompt_columns(cfg, ds.column_names):
        h.update(json.dumps([name, list(ds[name])], ensure_ascii=False, default=str).encode())
    return h.hexdigest()[:20]


def _local_path(model: str) -> str:
    """An absolute path for a local model, so Ray actors in other directories find it."""
    return str(Path(model).resolve()) if Path(model).exists() else model


def make_llm(cfg: GenerateConfig):
    """The distilabel LLM for `cfg.backend`."""
    gen = {"max_new_tokens": cfg.max_new_tokens, "temperature": cfg.temperature, "top_p": cfg.top_p}
    if cfg.backend == "transformers":
        from r1.generation.llm_transformers import R1TransformersLLM

        return R1TransformersLLM(model=_local_path(cfg.model), display_name=cfg.model,
                                 generation_kwargs=gen)
    if cfg.backend == "vllm":
        from r1.generation.llm_vllm import R1vLLM

        return R1vLLM(model=_local_path(cfg.model), display_name=cfg.model, seed=cfg.seed,
                      extra_kwargs={"tensor_parallel_size": cfg.tensor_parallel_size},
                      generation_kwargs=gen)
    from r1.generation.llm_openai import R1OpenAILLM

    # The key comes from the environment only, never from params; local servers need none.
    api_key = os.environ.get("OPENAI_API_KEY") or "EMPTY"
    return R1OpenAILLM(model=cfg.model, base_url=cfg.base_url, api_key=api_key,
                       timeout=cfg.timeout, max_retries=cfg.retries, generation_kwargs=gen)


def ray_address() -> str | None:
    """Where to run: like the training launcher, an environment variable and not a param, so
    moving generation onto a Ray cluster does not change the stage's hash in DVC."""
    return os.environ.get("R1_RAY_ADDRESS") or None


def build_pipeline(cfg: GenerateConfig, store_dir: Path, cache_dir: Path, total: int = 0):
    """The distilabel pipeline (a RayPipeline when `R1_RAY_ADDRESS` is set)."""
    from distilabel.pipeline import Pipeline
    from distilabel.steps import StepResources

    from r1.generation.steps import PersistRows, R1TextGeneration

    columns, mappings = task_columns(cfg.prompt_template, cfg.prompt_column)
    if cfg.backend == "vllm":  # data parallel = replicas, each with its tensor-parallel GPUs
        resources = StepResources(replicas=cfg.data_parallel_size, gpus=cfg.tensor_parallel_size)
    else:
        resources = StepResources(replicas=cfg.client_replicas)
    pipeline = Pipeline(name=PIPELINE_NAME, cache_dir=cache_dir)
    if ray_address():
        log.info("running on the Ray cluster at %s", ray_address())
        pipeline = pipeline.ray(ray_init_kwargs={"address": ray_address()})
    with pipeline:
        task = R1TextGeneration(
            name="text_generation", llm=make_llm(cfg), template=cfg.prompt_template,
            columns=columns, input_mappings=mappings, system_prompt=cfg.system_prompt,
            num_generations=cfg.num_generations, group_generations=True,
            input_batch_size=cfg.input_batch_size, resources=resources, seed=cfg.seed,
        )
        persist = PersistRows(name="persist", store_dir=str(store_dir.resolve()), total=total,
                              input_batch_size=cfg.input_batch_size)
        task >> persist
    return pipeline


def _failures_from(distiset) -> dict[int, str]:
    """Rows that came back without generations, with the reason the backend gave."""
    failures = {}
    for config in distiset.values():
        for split in config.values():
            if "generations" not in split.column_names:
                continue
            for row in split.select_columns([INDEX_COLUMN, "generations", llm_common.ERROR_COLUMN]):
                if row["generations"] is None:
                    failures[row[INDEX_COLUMN]] = row[llm_common.ERROR_COLUMN] or "the batch failed"
    return failures


@contextlib.contextmanager
def _contained(cache_root: Path):
    """Run distilabel without it touching our logging or `~/.cache`.

    - distilabel's `setup_logging` clears the root logger's handlers and routes every record
      into a queue that it closes at the end of the run, after which the stage's own log
      lines fail; we put our handlers back afterwards.
    - At the end of a run distilabel reads its outputs back with `datasets.load_dataset`,
      which writes a copy to `~/.cache/huggingface/datasets`; we point that cache into ours.
    """
    import datasets

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    hf_cache = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = cache_root / "hf-datasets"
    try:
        yield
    finally:
        datasets.config.HF_DATASETS_CACHE = hf_cache
        root.handlers[:] = handlers
        root.setLevel(level)


def run(cfg: GenerateConfig, ds, cache_root: Path) -> Outcome:
    """Generate for every row of ``ds`` not yet in the store; return what is finished."""
    store = RowStore(cache_root / "rows" / fingerprint(cfg, ds))
    done = store.load()
    needed = prompt_columns(cfg, ds.column_names)
    # Only the prompt's fields travel through the pipeline; the other columns are joined back
    # from `ds` at the end, so their types never pass through distilabel's queues.
    values = {c: list(ds[c]) for c in needed}
    remaining = [
        {INDEX_COLUMN: i, **{c: values[c][i] for c in needed}} for i in range(len(ds)) if i not in done
    ]
    if done:
        log.info("resuming: %d of %d prompts already finished in %s", len(done), len(ds), store.root)
    failures: dict[int, str] = {}
    if remaining:
        pipeline = build_pipeline(cfg, store.root, cache_root / "distilabel", total=len(remaining))
        # use_cache=False: resuming is the store's job (see store.py for why not distilabel's).
        with _contained(cache_root.resolve()):
            distiset = pipeline.run(dataset=remaining, use_cache=False,
                                    dataset_batch_size=cfg.input_batch_size * 1000)
        if distiset is not None:
            failures = _failures_from(distiset)
        if ray_address():
            import ray

            ray.shutdown()
    rows = store.load()
    for i in range(len(ds)):
        if i not in rows and i not in failures:
            failures[i] = f"no result came back (see the distilabel log under {cache_root / 'distilabel'})"
    return Outcome(rows=rows, failures={i: e for i, e in failures.items() if i not in rows},
                   resumed=len(done))


def clear_store(cfg: GenerateConfig, ds, cache_root: Path) -> None:
    """Remove the store of a finished run (its rows are in the stage's outputs now)."""
    RowStore(cache_root / "rows" / fingerprint(cfg, ds)).clear()
