"""Pin a model as a hashed folder: a copy of a local folder, or a Hub snapshot at a revision.

Shared by the `base` stage (the student) and the `model-path@NAME` / `model-hub@NAME` stages
(models only evaluated). dvc.yaml declares each folder with `cache: false`: DVC hashes the
weights, so a changed folder or revision reruns what reads them, without a second copy.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from r1.atomic import atomic_dir
from r1.config import ConfigError

log = logging.getLogger("r1.pinning")

# Weights and what is needed to load and prompt the model; not READMEs, images or other formats.
ALLOW = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt", "*.py", "*.tiktoken"]


def copy_folder(source: str, out: str, what: str) -> None:
    """Copy the model folder ``source`` into ``out``; ``what`` names the params key in errors."""
    src = Path(source).expanduser()
    if not src.is_dir():
        raise ConfigError(f"{what} = '{source}' is not a folder; give a local model folder")
    with atomic_dir(out) as tmp:
        for path in sorted(src.iterdir()):
            if path.is_file() and path.name != "r1_run.json":  # a pipeline model's run record
                shutil.copy2(path, tmp / path.name)
        _check_model(tmp, source, what)
    log.info("model %s pinned in %s", source, out)


def download(repo_id: str, revision: str, out: str, what: str) -> None:
    """Download the Hub model ``repo_id`` at ``revision`` into ``out``."""
    from huggingface_hub import snapshot_download

    with atomic_dir(out) as tmp:
        log.info("downloading %s at revision %s", repo_id, revision)
        try:
            snapshot_download(repo_id, revision=revision, local_dir=tmp, allow_patterns=ALLOW)
        except Exception as exc:  # offline, unknown repo, gated model: one clear line
            raise ConfigError(f"{what}: cannot download model '{repo_id}' (revision {revision}): "
                              f"{type(exc).__name__}: {exc}") from exc
        shutil.rmtree(tmp / ".cache", ignore_errors=True)  # huggingface_hub's download metadata
        _check_model(tmp, repo_id, what)
    log.info("model %s@%s pinned in %s", repo_id, revision, out)


def _check_model(folder: Path, source: str, what: str) -> None:
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{what}: '{source}' has no config.json; is it a transformers model?")
