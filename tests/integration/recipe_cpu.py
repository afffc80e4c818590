"""A recipe made runnable on a CPU in minutes, keeping its graph and its data's schemas.

`cpu_variant` swaps the recipe's model for the embedded one, its benchmarks for the embedded
benchmark, every Hub dataset for a local file in the same Hub dataset's schema (built from
../shared/data/benchmarks' real problems by `write_hub_like`), and shrinks the training and
evaluation settings to a few steps. Everything else (pipeline, rewards, mixtures and column
mappings, chat template, init model) stays the recipe's own.
"""

from __future__ import annotations

import ast
import copy
import json
import shutil
from pathlib import Path

# The columns each Hub dataset the recipes name has (its dataset card), per config.
HUB_SCHEMAS = {
    "open-r1/OpenR1-Math-220k": "openr1_math",
    "open-r1/Mixture-of-Thoughts": "messages_math",
    "open-r1/codeforces": "codeforces_prompts",
    "open-r1/codeforces-cots": "messages_code",
    "AI-MO/NuminaMath-TIR": "numina_tir",
    "open-r1/verifiable-coding-problems-python": "verifiable_code",
}

TRAINING = {"max_steps": 2, "num_train_epochs": 1, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1,
            "logging_steps": 1, "save_strategy": "no", "eval_strategy": "no", "bf16": False,
            "gradient_checkpointing": False, "use_liger_kernel": False, "report_to": "none", "push_to_hub": False,
            "dataloader_num_workers": 0, "test_split_size": 0.0, "torch_compile": False, "disable_tqdm": True}
DROPPED = ("vllm_mode", "vllm_gpu_memory_utilization", "vllm_server_host", "vllm_server_port", "vllm_tensor_parallel_size",
           "hub_model_id", "hub_revision", "hub_private_repo", "hub_strategy", "deepspeed", "fsdp", "fsdp_config",
           "eval_steps", "gradient_checkpointing_kwargs", "max_prompt_length",
           "use_vllm", "ddp_timeout", "steps_per_generation")


def write_hub_like(schema: str, path: Path, shared: Path, rows: int = 24) -> Path:
    """A .jsonl file in ``schema``'s columns, from real problems in ``shared``."""
    math = json.loads((shared / "math_train_deepscaler.json").read_text())[:rows]
    code = json.loads((shared / "codeforces_rllm.json").read_text())[:rows]
    for r in code:  # the file holds the tests as a list or as the list's Python repr
        r["tests"] = ast.literal_eval(r["tests"]) if isinstance(r["tests"], str) else r["tests"]
    if schema == "openr1_math":
        out = [{"problem": r["problem"], "solution": f"Working.\nSo the answer is $\\boxed{{{r['answer']}}}$.",
                "answer": r["answer"], "problem_type": r.get("type", "Algebra"), "source": "deepscaler"} for r in math]
    elif schema == "numina_tir":
        out = [{"problem": r["problem"], "solution": f"Working.\nSo the answer is $\\boxed{{{r['answer']}}}$.",
                "messages": [{"role": "user", "content": r["problem"]},
                             {"role": "assistant", "content": f"$\\boxed{{{r['answer']}}}$"}]} for r in math]
    elif schema == "messages_math":
        out = [{"messages": [{"role": "user", "content": r["problem"]},
                             {"role": "assistant", "content": f"<think>\nLet me work.\n</think>\n$\\boxed{{{r['answer']}}}$"}],
                "num_tokens": 64, "source": "math"} for r in math]
    elif schema == "messages_code":
        out = [{"messages": [{"role": "user", "content": r["problem"]},
                             {"role": "assistant", "content": "<think>\nRead, then print.\n</think>\n```cpp\nint main(){}\n```"}]}
               for r in code]
    elif schema == "codeforces_prompts":
        out = [{"id": f"cf{i}", "prompt": r["problem"], "language": "cpp", "time_limit": 1.0, "memory_limit": 256,
                "input_mode": "stdio", "generated_checker": None,
                "official_tests": [{"input": t["input"], "output": t["output"]} for t in r["tests"]]}
               for i, r in enumerate(code)]
    elif schema == "verifiable_code":
        out = [{"prompt": r["problem"], "verification_info": json.dumps({
            "language": "python", "test_cases": [{"type": "stdin_stdout", "input": t["input"], "output": t["output"]}
                                                 for t in r["tests"]]})} for r in code]
    else:
        raise KeyError(schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in out))
    return path


def cpu_variant(recipe: dict, project: Path, shared: Path, vocab: set[str]) -> dict:
    """The recipe with its model, benchmarks, Hub data and sizes swapped (see the module doc)."""
    p = copy.deepcopy(recipe)
    # The embedded section as the project's params have it, so the built model is reused.
    import yaml

    p["embedded"] = yaml.safe_load((project / "params.yaml").read_text())["embedded"]
    model = p["model"]
    model.update(name_or_path="models/embedded", revision="main", torch_dtype="float32", attn_implementation="sdpa")
    if model.get("eos_token") and model["eos_token"] not in vocab:
        model.pop("eos_token")  # a token of the recipe's tokenizer the embedded one lacks
    p["benchmarks"] = {"names": ["embedded_math"], "paths": {"embedded_math": "data/embedded/benchmark.jsonl"},
                       "hub": {}}
    external = p.setdefault("external_models", {"paths": {}, "hub": {}})
    for name in list(external.get("hub") or {}):  # a Hub model to score: another copy of the embedded one
        folder = project / "hub_like" / "models" / name
        if not folder.exists():
            shutil.copytree(project / "models" / "embedded", folder)
        external.setdefault("paths", {})[name] = str(folder.relative_to(project))
    external["hub"] = {}
    datasets = p.setdefault("datasets", {"paths": {}, "hub": {}})
    for name, spec in list((datasets.get("hub") or {}).items()):
        local = write_hub_like(HUB_SCHEMAS[spec["id"]], project / "hub_like" / f"{name}.jsonl", shared)
        datasets.setdefault("paths", {})[name] = {"path": str(local.relative_to(project))}
    datasets["hub"] = {}
    if "generate" in p:
        gen = p["generate"]
        schema = HUB_SCHEMAS.get(gen.get("dataset"), "openr1_math")
        local = write_hub_like(schema, project / "hub_like" / "generate.jsonl", shared, rows=8)
        gen.update(model="models/embedded", backend="transformers", dataset=str(local.relative_to(project)),
                   dataset_config=None, max_new_tokens=24, num_generations=2, input_batch_size=8,
                   tensor_parallel_size=1, data_parallel_size=1)
        gen.pop("base_url", None)
        gen.pop("client_replicas", None)
    if "filter" in p:  # the embedded model solves nothing: keep its traces, as the embedded default does
        p["filter"].update(pass_rate_min=0.0, include_min=True, keep="all", drop_truncated=False)
    for section in ("sft", "grpo"):
        if section in p:
            for key in DROPPED:
                p[section].pop(key, None)
            p[section].update(TRAINING)
            p[section]["save_strategy"] = "no"
    if "sft" in p:
        p["sft"]["max_length"] = 256
    if "grpo" in p:
        p["grpo"].update(num_generations=2, max_completion_length=24, temperature=1.0)
    p["evaluate"] = {**(p.get("evaluate") or {}), "per_benchmark": {}, "backend": "transformers", "max_new_tokens": 16,
                     "max_samples": 4,
                     "num_generations": None, "max_model_length": None, "tensor_parallel_size": 1,
                     "data_parallel_size": 1, "batch_size": 4}
    return p
