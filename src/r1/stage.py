"""What every stage script does around its one job: logging, params, rank, metrics."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from r1.atomic import write_json_atomic
from r1.config import ConfigError, read_params

log = logging.getLogger("r1")


def setup(stage: str) -> dict:
    """Configure logging and quiet telemetry, then return the parsed params.yaml."""
    rank = os.environ.get("RANK", "0")
    logging.basicConfig(
        level=logging.INFO if rank == "0" else logging.WARNING,
        format=f"%(asctime)s [{stage}{'' if rank == '0' else ':' + rank}] %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    # Nothing leaves the machine unless a param asks for it (stage contract, rule 2).
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("WANDB_DISABLED", "true")
    os.environ.setdefault("DISABLE_MLFLOW_INTEGRATION", "TRUE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    use_gloo_without_accelerator()
    return read_params(os.environ.get("R1_PARAMS", "params.yaml"))


def use_gloo_without_accelerator() -> None:
    """Make the processes of a torchrun/accelerate launch on a machine without GPUs one job.

    transformers only joins a process group on CPU when asked to (`use_cpu`, or
    ACCELERATE_USE_CPU, which `accelerate launch --multi_gpu` never sets); otherwise every
    process trains alone on all the data, each believing it is rank 0 of a world of one.
    A param (`use_cpu`) would put the launch into the stage's hash, so this is set from the
    launch environment instead, and only when several processes run and no GPU exists.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or "ACCELERATE_USE_CPU" in os.environ:
        return
    import torch

    if not torch.cuda.is_available():
        os.environ["ACCELERATE_USE_CPU"] = "true"


def is_main_process() -> bool:
    """Rank 0 of a torchrun/accelerate/srun launch, or a plain single process."""
    return os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0")) == "0"


def write_metrics(name: str, metrics: dict[str, Any]) -> Path:
    """Write ``metrics/<name>.json`` (rank 0 only, atomically)."""
    path = Path("metrics") / f"{name}.json"
    if is_main_process():
        write_json_atomic(path, metrics)
    return path


def run(stage: str, main) -> None:
    """Run ``main(params)``; a params or data error exits with status 2 and one clear line."""
    from r1.data import DataError

    try:
        main(setup(stage))
    except (ConfigError, DataError) as exc:
        log.error("%s", exc)
        raise SystemExit(2) from None
