"""Process environment for an evaluation: where caches go, and offline mode.

Must run before huggingface_hub, datasets or lighteval are imported: they read these
variables once, at import time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("r1.evaluation")

CACHE_ROOT = Path(".r1-cache")


def configure(*, offline: bool, cache_root: str | Path = CACHE_ROOT) -> dict[str, str]:
    """Point Hugging Face caches under ``cache_root`` and, if ``offline``, forbid Hub calls.

    Caches: a user's own ``HF_HOME``/``HF_HUB_CACHE``/``HF_DATASETS_CACHE`` win (a cluster's
    shared model cache), otherwise nothing lands in ``~/.cache`` (stage contract, rule 2). The
    token is still read from its usual place, so gated sets (GPQA) work on real runs.

    Offline: when the model and the benchmark are both local, ``HF_HUB_OFFLINE`` makes
    lighteval's model-sha lookup (`HfApi.model_info`) fail at once instead of trying the network.
    Returns the variables it set.
    """
    root = Path(cache_root).resolve()
    wanted = {}
    if "HF_HOME" not in os.environ:
        wanted["HF_HUB_CACHE"] = str(root / "hf" / "hub")
        wanted["HF_DATASETS_CACHE"] = str(root / "hf" / "datasets")
    if offline:
        wanted.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    wanted.update(HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false")
    set_now = {}
    for key, value in wanted.items():
        if key not in os.environ:
            os.environ[key] = value
            set_now[key] = value
    if set_now:
        log.debug("environment: %s", set_now)
    return set_now
