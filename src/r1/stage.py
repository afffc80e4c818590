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
    die_with_launcher()
    use_gloo_without_accelerator()
    params = read_params(os.environ.get("R1_PARAMS", "params.yaml"))
    from r1 import pipeline_rules

    pipeline_rules.check(params, stage)  # a recipe whose graph does not hold stops here, first
    return params


def die_with_launcher() -> None:
    """Let a training rank die with the launcher (torchrun / accelerate) that started it.

    torch's launcher starts every rank in a session of its own, so killing `dvc repro` and
    its process group (Ctrl-C, a job's time limit, SIGKILL) leaves the ranks training on as
    orphans, which later write the stage's outputs behind DVC's back. torch has no option
    for this, so each rank asks Linux for SIGKILL when its parent dies (PR_SET_PDEATHSIG).
    """
    if "TORCHELASTIC_RUN_ID" not in os.environ or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    launcher = os.getppid()
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != launcher:
        os._exit(1)  # the launcher died before the request took effect


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
        # accelerate would name each rank's device "cpu:<index>", which the Trainer then passes
        # to torch.load as map_location when resuming, and torch cannot restore to "cpu:0".
        os.environ.setdefault("ACCELERATE_TORCH_DEVICE", "cpu")


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
