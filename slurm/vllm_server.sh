# Sourced by slurm/train.sbatch when R1_VLLM_NODES=1: `trl vllm-serve` on its own node for
# GRPO with `use_vllm: true, vllm_mode: server` (open-r1's layout), the trainers on the others.
#   R1_VLLM_MODEL   what to serve (default models/<grpo.init_model>, the grpo stage's starting
#                   model: sft or base; the trainers push their weights to it after every step)
#   R1_VLLM_TP      --tensor-parallel-size (default: the node's GPUs, or 1)
#   R1_VLLM_DP      --data-parallel-size (default 1)
#   R1_VLLM_PORT    HTTP port (default 8000)
#   R1_VLLM_WAIT_S  how long to wait for the server's /health (default 900)
#   R1_VLLM_ARGS    more `trl vllm-serve` flags, e.g. "--gpu-memory-utilization 0.9"
# It exports R1_VLLM_SERVER_HOST and R1_VLLM_SERVER_PORT, which the grpo stage reads.

grpo_start_model() {  # models/<grpo.init_model> from params.yaml (sft, its default, without one)
  python - "${R1_PARAMS:-params.yaml}" <<'PY'
import pathlib, sys, yaml
path = pathlib.Path(sys.argv[1])
params = (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}
print("models/" + ((params.get("grpo") or {}).get("init_model") or "sft"))
PY
}

vllm_serve_command() {
  local gpus=${R1_NODE_GPUS:-0}
  [ "$gpus" -gt 0 ] || gpus=1
  # shellcheck disable=SC2206  # extra flags are a list on purpose
  VLLM_CMD=(trl vllm-serve --model "${R1_VLLM_MODEL:-$(grpo_start_model)}"
            --tensor-parallel-size "${R1_VLLM_TP:-$gpus}" --data-parallel-size "${R1_VLLM_DP:-1}"
            --host 0.0.0.0 --port "${R1_VLLM_PORT:-8000}" ${R1_VLLM_ARGS:-})
}

start_vllm_server() {
  [ "$#" -eq 1 ] || { echo "r1: R1_VLLM_NODES must be 0 or 1 (one node serves generation; got $# nodes)" >&2; exit 2; }
  local host=$1
  export R1_VLLM_SERVER_HOST=$host R1_VLLM_SERVER_PORT=${R1_VLLM_PORT:-8000}
  vllm_serve_command
  R1_VLLM_LOG=logs/vllm-${SLURM_JOB_ID:-local}.out
  echo "r1: vLLM server on $host:$R1_VLLM_SERVER_PORT: ${VLLM_CMD[*]} (log: $R1_VLLM_LOG)"
  srun --nodes=1 --ntasks=1 --nodelist="$host" --output="$R1_VLLM_LOG" "${VLLM_CMD[@]}" &
  R1_VLLM_PID=$!
  python -m r1.launching.wait_for_server "http://$host:$R1_VLLM_SERVER_PORT" \
    --timeout "${R1_VLLM_WAIT_S:-900}" --pid "$R1_VLLM_PID" --log "$R1_VLLM_LOG" || {
      stop_vllm_server; exit 1; }
}

stop_vllm_server() {
  if [ -n "${R1_VLLM_PID:-}" ] && kill -0 "$R1_VLLM_PID" 2>/dev/null; then
    kill "$R1_VLLM_PID" 2>/dev/null || true
    wait "$R1_VLLM_PID" 2>/dev/null || true
  fi
}
