"""Stage `generate`: distil reasoning traces from a teacher model (distilabel).

Reads params.yaml `generate` and its dataset; writes `data/generated/` (train.parquet: every
input column, plus prompt, generations, finish_reasons, prompt_tokens, completion_tokens,
model_name; and r1_run.json) and `metrics/generate.json`. Finished prompts are saved as they
complete under `.r1-cache/generate/` (not a declared out), so a killed run, or one whose
endpoint failed for some prompts, continues where it stopped when rerun. The outputs are
written only once every prompt is done, atomically.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pyarrow.parquet as pq

from r1 import stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import GenerateConfig
from r1.data import DataError, load
from r1.generation import output
from r1.generation import pipeline as gen_pipeline
from r1.generation.prompts import TemplateError, check_inputs
from r1.runinfo import write_run_info

log = logging.getLogger("r1.generate")

OUT_DIR = Path("data/generated")
CACHE_DIR = Path(".r1-cache/generate")


class GenerationFailed(RuntimeError):
    """Some prompts have no generations after the backend's retries."""


def main(params: dict) -> None:
    cfg, _ = load_section(params, "generate", "generate", GenerateConfig)
    start = time.perf_counter()
    try:
        ds = load(cfg.dataset, config=cfg.dataset_config, split=cfg.dataset_split)
        check_inputs(ds, cfg.prompt_template, cfg.prompt_column, cfg.dataset)
    except (DataError, TemplateError) as exc:
        raise ConfigError(f"stage 'generate': {exc}") from exc
    log.info("generating %d x %d with %s (%s backend)", len(ds), cfg.num_generations, cfg.model, cfg.backend)

    outcome = gen_pipeline.run(cfg, ds, CACHE_DIR)
    if outcome.failures:
        first = min(outcome.failures)
        raise GenerationFailed(
            f"{len(outcome.failures)} of {len(ds)} prompts have no generations "
            f"(row {first}: {outcome.failures[first]}). The {len(outcome.rows)} finished prompts "
            f"are kept in {CACHE_DIR}; rerun the stage to generate only the missing ones."
        )

    table = output.build_table(ds, outcome.rows)
    with atomic_dir(OUT_DIR) as out:
        pq.write_table(table, out / "train.parquet")
        write_run_info(out, "generate", {"generate": cfg})
    metrics = output.metrics(outcome.rows, outcome.resumed)
    stage.write_metrics("generate", metrics)
    # The outputs now hold everything; the store would only go stale.
    gen_pipeline.clear_store(cfg, ds, CACHE_DIR)
    log.info("wrote %s: %d prompts, %d generations, finish reasons %s, in %.1f s", OUT_DIR,
             metrics["prompts"], metrics["generations"], metrics["finish_reasons"], time.perf_counter() - start)


if __name__ == "__main__":
    try:
        stage.run("generate", main)
    except GenerationFailed as exc:
        log.error("%s", exc)
        raise SystemExit(1) from None
