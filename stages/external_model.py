"""Stages `model-path@NAME` and `model-hub@NAME`: pin an external model in models/NAME.

    python stages/external_model.py --name NAME

An external model is one the pipeline does not train, only evaluates (`pipeline.evaluate`).
`external_models.paths.NAME` is a local folder, copied (dvc.yaml lists it as a dep, so DVC
hashes its content); `external_models.hub.NAME` is {id, revision}, downloaded at that revision.
models/NAME is declared `cache: false`, as models/base is.
"""

from __future__ import annotations

import argparse

from r1 import pinning, stage
from r1.config import ConfigError
from r1.evaluation.checks import load_external_models


def main(params: dict, argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    name = parser.parse_args(argv).name
    cfg = load_external_models(params, "external_model")
    out = f"models/{name}"
    if name in cfg.paths:
        pinning.copy_folder(cfg.paths[name], out, f"external_models.paths.{name}")
    elif name in cfg.hub:
        entry = cfg.hub[name]
        pinning.download(entry["id"], entry["revision"], out, f"external_models.hub.{name}")
    else:
        raise ConfigError(f"stage 'external_model': '{name}' is in neither external_models.paths nor "
                          f"external_models.hub (names: {', '.join(cfg.names()) or 'none'})")


if __name__ == "__main__":
    stage.run("external_model", main)
