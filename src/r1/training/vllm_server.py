"""Where GRPO's vLLM server runs: the job that started it says so, never params.yaml.

Whether GRPO generates with a vLLM server is a param (`use_vllm: true`, `vllm_mode:
server`, TRL's names); on which host and port the server runs is a property of one Slurm
job, like the training launcher, so it comes from R1_VLLM_SERVER_HOST and
R1_VLLM_SERVER_PORT (set by slurm/train.sbatch) and does not enter the stage's hash.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from r1.config import ConfigError

HOST_VAR = "R1_VLLM_SERVER_HOST"
PORT_VAR = "R1_VLLM_SERVER_PORT"


def from_env(trainer_kwargs: Mapping, environ: Mapping[str, str] = os.environ) -> dict:
    """GRPOConfig fields that point the trainers at the job's server ({} when none is set)."""
    host, port = environ.get(HOST_VAR, ""), environ.get(PORT_VAR, "")
    if not host and not port:
        return {}
    if not host or not port:
        raise ConfigError(f"stage 'grpo': {HOST_VAR} and {PORT_VAR} must be set together "
                          f"(got {HOST_VAR}={host!r}, {PORT_VAR}={port!r})")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"stage 'grpo': {PORT_VAR}={port!r} is not a TCP port (1-65535)")
    use_vllm, mode = trainer_kwargs.get("use_vllm", False), trainer_kwargs.get("vllm_mode", "colocate")
    if not use_vllm or mode != "server":
        raise ConfigError(f"stage 'grpo': {HOST_VAR}={host} names a vLLM server, but params.yaml grpo has "
                          f"use_vllm: {use_vllm} and vllm_mode: {mode}; set use_vllm: true and vllm_mode: server "
                          f"to generate with it, or unset {HOST_VAR}")
    # The base URL takes precedence over vllm_server_host/port in TRL, so a value left in params
    # cannot silently win over the job's server.
    return {"vllm_server_base_url": f"http://{host}:{int(port)}"}
