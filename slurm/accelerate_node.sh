#!/bin/bash
# One Slurm task's share of a training stage: srun starts it once per task (one task per
# node on a GPU cluster), and it runs `accelerate launch` as machine SLURM_PROCID of
# SLURM_NTASKS. The rendezvous comes from Slurm's variables only: the first host of
# SLURM_JOB_NODELIST (or MASTER_ADDR) at MASTER_PORT. Arguments: the stage script and its args.
#   ACCEL           accelerate config in recipes/accelerate/ (zero3, zero2, ddp, fsdp, cpu_ddp)
#   R1_NODE_GPUS    processes per task (slurm/common.sh sets it; 0 means one CPU process)
#   R1_RDZV_BACKEND static (default: ranks follow SLURM_PROCID) or c10d
set -euo pipefail
: "${SLURM_PROCID:?run me with srun inside a Slurm job}" "${SLURM_NTASKS:?}" "${SLURM_JOB_NODELIST:?}"
hosts=($(scontrol show hostnames "$SLURM_JOB_NODELIST"))
per_task=${R1_NODE_GPUS:-0}
[ "$per_task" -gt 0 ] || per_task=1
exec accelerate launch --config_file "recipes/accelerate/${ACCEL:-zero3}.yaml" \
  --num_machines "$SLURM_NTASKS" --num_processes $(( SLURM_NTASKS * per_task )) \
  --machine_rank "$SLURM_PROCID" --main_process_ip "${MASTER_ADDR:-${hosts[0]}}" \
  --main_process_port "${MASTER_PORT:-29500}" --rdzv_backend "${R1_RDZV_BACKEND:-static}" "$@"
