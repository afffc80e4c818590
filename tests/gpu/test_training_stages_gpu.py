"""The sft and grpo stages on their real GPU code path: CUDA, bf16 weights, bf16 training.

A throwaway copy of the project builds the embedded default (`embedded`, `base`), gets a
handmade data/train/{sft,grpo} (each embedded problem with two distilled
answers), switches params to bf16, and runs `stages/run sft` then `stages/run grpo` exactly
as DVC's cmd would. The stages are unchanged: a sitecustomize on the stage's PYTHONPATH
records, at exit, whether the process used CUDA and how much GPU memory it allocated.
"""

from __future__ import annotations

import json
import math

import pytest
from gpu_helpers import (
    copy_project,
    cuda_or_skip,
    override_params,
    read_csv_rows,
    read_cuda_probes,
    run_stage,
    safetensors_dtypes,
    stage_env,
    write_cuda_probe,
    write_training_data,
)

torch = cuda_or_skip()
pytest.importorskip("trl", reason="the training stages need trl")
pytest.importorskip("datasets", reason="the training stages need datasets")
pytest.importorskip("math_verify", reason="grpo's accuracy reward needs math-verify")

pytestmark = pytest.mark.gpu

GPU_PARAMS = {
    # attn_implementation unset, so performance: auto picks it (flash-attn, else flex_attention
    # with packed rows padded past its 128-token minimum: the embedded rows are shorter).
    "model": {"torch_dtype": "bfloat16", "attn_implementation": None},
    # Short runs that still write (and then drop) a checkpoint half-way.
    "sft": {"bf16": True, "max_steps": 6, "save_steps": 3},
    "grpo": {"bf16": True, "max_steps": 4, "save_steps": 2},
}


def _assert_ran_on_cuda(probe_dir, stage: str) -> dict:
    probes = [p for p in read_cuda_probes(probe_dir) if any(a.endswith(f"stages/{stage}.py") for a in p["argv"])]
    assert len(probes) == 1, f"expected one probe record from the {stage} process, got {probes}"
    probe = probes[0]
    assert probe["cuda_initialized"], f"stage {stage} never initialised CUDA: {probe}"
    # The tiny model's bf16 weights, grads and AdamW states alone are well above 1 MB.
    assert probe["max_memory_allocated"] > 1_000_000, f"stage {stage} allocated almost nothing on the GPU: {probe}"
    return probe


def _assert_bf16_model(folder, stage: str) -> None:
    from safetensors import safe_open

    weights = folder / "model.safetensors"
    assert weights.is_file(), f"{stage}: no {weights}"
    dtypes = safetensors_dtypes(weights)
    assert dtypes and set(dtypes.values()) == {"BF16"}, f"{stage}: tensor dtypes {sorted(set(dtypes.values()))}"
    with safe_open(str(weights), framework="pt") as f:
        for key in f.keys():
            tensor = f.get_tensor(key)
            assert tensor.dtype == torch.bfloat16, f"{stage}: {key} is {tensor.dtype}"
            assert torch.isfinite(tensor.float()).all(), f"{stage}: {key} has non-finite values"
    assert (folder / "r1_run.json").is_file(), f"{stage}: no run record beside the model"


def _assert_loads_and_runs_on_cuda(folder) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, attn_implementation="sdpa").to("cuda")
    ids = tokenizer("Compute $2 + 3$.", return_tensors="pt").to("cuda")
    with torch.no_grad():
        logits = model(**ids).logits
    assert logits.dtype == torch.bfloat16 and torch.isfinite(logits.float()).all()


def _assert_fast_path_and_throughput(run_info: dict, metrics: dict, plot: list[dict], stage: str) -> None:
    import importlib.util

    from r1.training.performance import peak_flops

    chosen = run_info["config"]["performance"]
    assert chosen["mode"] == "auto" and chosen["device"] == torch.cuda.get_device_name(0), chosen
    packed_kernel = "flash_attention_2" if importlib.util.find_spec("flash_attn") else "flex_attention"
    assert chosen["attn_implementation"] == (packed_kernel if stage == "sft" or packed_kernel == "flash_attention_2"
                                             else "sdpa"), chosen
    assert chosen["optim"] == "adamw_torch_fused" and chosen["gradient_checkpointing"] is False, chosen
    assert chosen["use_liger_kernel"] == (stage == "sft" and importlib.util.find_spec("liger_kernel") is not None), chosen
    # The tiny model fits the whole effective batch (8 rows) in one micro-batch.
    assert (chosen["per_device_train_batch_size"], chosen["gradient_accumulation_steps"]) == (8, 1), chosen
    assert metrics["memory_kind"] == "cuda_max_allocated" and metrics["peak_memory_gb"] > 0, metrics
    assert metrics["training_tokens_per_second"] > 0 and metrics["step_seconds"] > 0, metrics
    if peak_flops(chosen["device"]):
        # A 117k-parameter model uses ~1e-8 of an H200: the rounded figure is 0.0 (seen on an
        # H200), so only its presence and range say something here; bench_train_gpu.py gives
        # the real figure on a 1.5B shape.
        assert 0 <= metrics["mfu"] < 1, metrics
        assert all("mfu" in r for r in plot if r.get("step_seconds")), plot[:2]


def test_sft_and_grpo_stages_on_gpu(tmp_path):
    project = copy_project(tmp_path / "project")
    build_env = stage_env(project)
    run_stage(project, "embedded", build_env)
    run_stage(project, "base", build_env)
    rows = write_training_data(project)
    override_params(project, GPU_PARAMS)
    probe_dir = write_cuda_probe(tmp_path / "probe")
    env = stage_env(project, probe_dir)

    run_stage(project, "sft", env)
    sft_probe = _assert_ran_on_cuda(probe_dir, "sft")
    _assert_bf16_model(project / "models" / "sft", "sft")
    run_info = json.loads((project / "models" / "sft" / "r1_run.json").read_text())
    assert run_info["config"]["model"]["torch_dtype"] == "bfloat16" and run_info["config"]["sft"]["bf16"] is True
    sft_metrics = json.loads((project / "metrics" / "sft.json").read_text())
    assert math.isfinite(sft_metrics["train_loss"]), sft_metrics
    assert sft_metrics["steps"] == GPU_PARAMS["sft"]["max_steps"], sft_metrics
    assert sft_metrics["examples"] == 2 * rows, sft_metrics
    sft_plot = read_csv_rows(project / "plots" / "sft.csv")
    assert sft_plot and all(math.isfinite(float(r["loss"])) for r in sft_plot if r.get("loss")), sft_plot
    assert not list((project / "checkpoints" / "sft").glob("*/checkpoint-*")), "sft left its checkpoints"
    _assert_fast_path_and_throughput(run_info, sft_metrics, sft_plot, "sft")

    run_stage(project, "grpo", env)
    grpo_probe = _assert_ran_on_cuda(probe_dir, "grpo")
    _assert_bf16_model(project / "models" / "grpo", "grpo")
    grpo_metrics = json.loads((project / "metrics" / "grpo.json").read_text())
    assert "rewards/accuracy" in grpo_metrics, grpo_metrics
    assert grpo_metrics["steps"] == GPU_PARAMS["grpo"]["max_steps"], grpo_metrics
    assert math.isfinite(grpo_metrics["train_loss"]), grpo_metrics
    grpo_plot = read_csv_rows(project / "plots" / "grpo.csv")
    assert grpo_plot and "rewards/accuracy/mean" in grpo_plot[0], grpo_plot[:1]
    assert not list((project / "checkpoints" / "grpo").glob("*/checkpoint-*")), "grpo left its checkpoints"
    grpo_info = json.loads((project / "models" / "grpo" / "r1_run.json").read_text())
    _assert_fast_path_and_throughput(grpo_info, grpo_metrics, grpo_plot, "grpo")
    assert 0 < grpo_metrics["generation_share"] <= 1 and grpo_metrics["generated_tokens_per_second"] > 0

    _assert_loads_and_runs_on_cuda(project / "models" / "grpo")
    print(f"\nsft on {sft_probe['device_name']}: {sft_metrics}, peak {sft_probe['max_memory_allocated'] / 2**20:.1f} MiB"
          f"\ngrpo on {grpo_probe['device_name']}: {grpo_metrics}, peak {grpo_probe['max_memory_allocated'] / 2**20:.1f} MiB")
