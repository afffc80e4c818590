"""Run lighteval's pipeline for one model on one benchmark and collect its files and score."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from r1.atomic import scratch_dir
from r1.configs import EvaluateConfig
from r1.evaluation import results, tasks
from r1.evaluation.models import ResolvedModel, lighteval_model_config, tokenizer_with_template

log = logging.getLogger("r1.evaluation")

RESULTS_FILE = "results.json"   # lighteval's results (config, versions, scores; has its own timestamps)
DETAILS_FILE = "details.parquet"  # lighteval's per-sample details: prompt, generations, golds, metric


def _collect(lighteval_dir: Path, out_dir: Path) -> None:
    """Move lighteval's results and details into ``out_dir`` under stable names.

    lighteval writes ``results/<model_name>/results_<date>.json`` and
    ``details/<model_name>/<date>/details_<task>_<date>.parquet``; a pipeline wants paths that
    do not change from run to run (one model and one task per run, so one file of each).
    """
    found = {RESULTS_FILE: sorted(lighteval_dir.glob("results/**/results_*.json")),
             DETAILS_FILE: sorted(lighteval_dir.glob("details/**/details_*.parquet"))}
    for name, files in found.items():
        if len(files) != 1:
            raise results.ResultsError(f"expected one lighteval {name} under {lighteval_dir}, found {files}")
        shutil.move(str(files[0]), out_dir / name)


def _limit_cpu_threads() -> None:
    """One intra-op thread when generating on a CPU, unless OMP_NUM_THREADS says otherwise.

    CPU generation here is the embedded default's tiny model, whose per-token matmuls are far
    too small to split: on 2 busy cores, 2 threads took 22 s where 1 took 1.1 s (thread
    spin-waits under contention). One thread also keeps the float arithmetic, and so the
    sampled tokens, independent of how many cores a machine has.
    """
    import torch

    if not torch.cuda.is_available() and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


def evaluate(model: ResolvedModel, benchmark: str, cfg: EvaluateConfig, paths: dict, out_dir: Path) -> dict:
    """Evaluate ``model`` on ``benchmark``; write lighteval's files into ``out_dir``.

    Returns the metrics record (see `results.metrics_record`).
    """
    started = time.perf_counter()
    built = tasks.build_task(benchmark, paths, cfg.max_new_tokens, cfg.num_generations)
    ref, config = built.ref, built.config

    import transformers
    from lighteval.logging.evaluation_tracker import EvaluationTracker
    from lighteval.pipeline import ParallelismManager, PipelineParameters

    from r1.evaluation.registry import ScopedPipeline

    log.info("lighteval imported in %.1f s", time.perf_counter() - started)
    _limit_cpu_threads()
    with scratch_dir("r1-eval-") as tmp:
        tmp = Path(tmp)
        tokenizer = tokenizer_with_template(model, tmp / "tokenizer")
        model_config = lighteval_model_config(model, cfg, cache_dir=str(tmp / "cache"), tokenizer=tokenizer)
        tracker = EvaluationTracker(output_dir=str(tmp / "lighteval"), save_details=True, push_to_hub=False)
        launcher = ParallelismManager.VLLM if cfg.backend == "vllm" else ParallelismManager.ACCELERATE
        params = PipelineParameters(launcher_type=launcher, max_samples=cfg.max_samples)
        pipeline = ScopedPipeline(
            tasks=built.spec,
            pipeline_parameters=params,
            evaluation_tracker=tracker,
            model_config=model_config,
            task_configs={config.name: config},
            datasets={config.name: built.dataset} if built.dataset is not None else {},
        )
        # lighteval's sample cache would round-trip every generation through a parquet file and
        # `load_dataset` (Arrow files in HF_DATASETS_CACHE) to serve reruns; a stage run is never
        # rerun in-process, and a cache keyed by model name goes stale when models/sft is retrained.
        pipeline.model._cache = None
        # lighteval seeds `random`/numpy (fixed 1234) but not torch, which transformers samples with.
        transformers.set_seed(cfg.seed)
        generation_started = time.perf_counter()
        pipeline.evaluate()
        log.info("generation and scoring took %.1f s", time.perf_counter() - generation_started)
        if not pipeline.is_main_process():
            return {}
        pipeline.save_and_push_results()
        final = pipeline.get_results()
        _collect(tmp / "lighteval", out_dir)

    task = pipeline.tasks_dict[ref.full_name]
    record = results.metrics_record(
        final,
        task_full_name=ref.full_name,
        metric=results.primary_metric(config),
        benchmark=benchmark,
        model=model.label,
        num_samples=len(pipeline.documents_dict[ref.full_name]),
        num_generations=max(task.num_samples),
    )
    log.info("evaluation of %s on %s took %.1f s in all", model.label, benchmark, time.perf_counter() - started)
    return record
