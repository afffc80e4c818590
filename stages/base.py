"""Stage `base`: pin the student's starting model as a hashed folder, models/base.

`model.name_or_path` is either a local folder (the embedded default's models/embedded) or a
Hub id. A Hub model is downloaded at `model.revision` with huggingface_hub's
snapshot_download, so the exact weights every later stage uses are content-hashed in
dvc.lock and a changed revision reruns everything downstream. The folder is declared with
`cache: false` in dvc.yaml: DVC hashes it but does not keep a second copy of the weights.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from r1 import stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import ModelConfig
from r1.data import looks_local

log = logging.getLogger("r1.base")

OUT = "models/base"
# Weights and what is needed to load and prompt the model; not READMEs, images or other formats.
ALLOW = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt", "*.py", "*.tiktoken"]


def main(params: dict) -> None:
    cfg, _ = load_section(params, "model", "base", ModelConfig)
    source = cfg.name_or_path
    with atomic_dir(OUT) as out:
        if looks_local(source):
            src = Path(source)
            if not src.is_dir():
                raise ConfigError(f"stage 'base': model.name_or_path '{source}' is not a folder "
                                  "(the embedded default's model is made by the 'embedded' stage)")
            for path in sorted(src.iterdir()):
                if path.is_file() and path.name != "r1_run.json":
                    shutil.copy2(path, out / path.name)
        else:
            from huggingface_hub import snapshot_download

            log.info("downloading %s at revision %s", source, cfg.revision)
            try:
                snapshot_download(source, revision=cfg.revision, local_dir=out, allow_patterns=ALLOW)
            except Exception as exc:  # offline, unknown repo, gated model: one clear line
                raise ConfigError(f"stage 'base': cannot download model '{source}' "
                                  f"(revision {cfg.revision}): {type(exc).__name__}: {exc}") from exc
            shutil.rmtree(out / ".cache", ignore_errors=True)  # huggingface_hub's download metadata
        if not (out / "config.json").is_file():
            raise ConfigError(f"stage 'base': '{source}' has no config.json; is it a transformers model?")
    log.info("base model %s pinned in %s", source, OUT)


if __name__ == "__main__":
    stage.run("base", main)
