#!/bin/bash
# One node's share of a multi-node training stage: started by srun (one task per node),
# it runs `accelerate launch` with this node's rank. Used through R1_TRAIN_LAUNCHER by
# slurm/train.sbatch; arguments are the stage script and its arguments.
set -euo pipefail
NODES=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))
exec accelerate launch --config_file "recipes/accelerate/${ACCEL:-zero3}.yaml" \
  --num_machines "${#NODES[@]}" --num_processes $(( ${#NODES[@]} * ${GPUS_PER_NODE:-8} )) \
  --machine_rank "$SLURM_PROCID" --main_process_ip "${NODES[0]}" --main_process_port "${MASTER_PORT:-29500}" \
  --rdzv_backend c10d "$@"
