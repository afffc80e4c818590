# Sourced first by every sbatch script: nothing about a particular cluster is written here.
# Partition, account, time, nodes and GPUs are sbatch flags (`sbatch --partition=gpu
# --account=proj --nodes=2 --gpus-per-node=8 slurm/train.sbatch sft`); the rest is env:
#   R1_MODULES     modules to `module load` first (e.g. "cuda/12.4 gcc/12"); none by default
#   R1_SKIP_SETUP  1 when the job inherits a ready environment (dvc on PATH, the .venv or
#                  R1_PYTHON); otherwise scripts/env.sh installs it, with R1_SYNC_ARGS
#                  (default "--extra gpu")
#   GPUS_PER_NODE  training processes per node; default: the GPUs Slurm allocated on the
#                  node (--gpus-per-node / --gres), or none (CPU: one process per task)
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(pwd)}"
mkdir -p logs
if [ -n "${R1_MODULES:-}" ]; then
  # shellcheck disable=SC2086  # a list of modules
  module load ${R1_MODULES}
fi
if [ "${R1_SKIP_SETUP:-0}" != 1 ]; then
  R1_SYNC_ARGS="${R1_SYNC_ARGS---extra gpu}" source scripts/env.sh
fi
# The ML environment's tools (accelerate, trl, ray) and the project's library.
R1_ENV_BIN=$(dirname "${R1_PYTHON:-$PWD/.venv/bin/python}")
[ "$R1_ENV_BIN" = . ] || export PATH="$R1_ENV_BIN:$PATH"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
# GPUs of this node's allocation: SLURM_GPUS_ON_NODE is set when GPUs were requested.
R1_NODE_GPUS=${GPUS_PER_NODE:-${SLURM_GPUS_ON_NODE:-0}}
export R1_NODE_GPUS
# One port per job, so two jobs sharing a node do not meet at the same rendezvous.
export MASTER_PORT=${MASTER_PORT:-$(( 20000 + ${SLURM_JOB_ID:-0} % 20000 ))}
