"""Stage `base`: pin the student's starting model as a hashed folder, models/base.

`model.name_or_path` is either a local folder (the embedded default's models/embedded) or a
Hub id. A Hub model is downloaded at `model.revision` with huggingface_hub's
snapshot_download, so the exact weights every later stage uses are content-hashed in
dvc.lock and a changed revision reruns everything downstream. The folder is declared with
`cache: false` in dvc.yaml: DVC hashes it but does not keep a second copy of the weights.
"""

from __future__ import annotations

from pathlib import Path

from r1 import pinning, stage
from r1.config import ConfigError, load_section
from r1.configs import ModelConfig
from r1.data import looks_local

OUT = "models/base"


def main(params: dict) -> None:
    cfg, _ = load_section(params, "model", "base", ModelConfig)
    source = cfg.name_or_path
    what = "stage 'base': model.name_or_path"
    if looks_local(source):
        if not Path(source).is_dir():
            raise ConfigError(f"{what} '{source}' is not a folder "
                              "(the embedded default's model is made by the 'embedded' stage)")
        pinning.copy_folder(source, OUT, what)
    else:
        pinning.download(source, cfg.revision, OUT, what)


if __name__ == "__main__":
    stage.run("base", main)
