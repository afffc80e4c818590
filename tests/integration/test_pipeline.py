"""The whole pipeline on the embedded default, driven by DVC as a user would.

One fresh copy of the project runs `dvc repro` once (module fixture); the tests then check
DVC's behaviour on it: a no-op rerun, a params change rerunning exactly what is downstream,
`dvc exp run -S` with `dvc exp show` and `dvc metrics diff`, a killed evaluation, and that
the results match the committed dvc.lock and metrics/. Killed training and experiment queues
have their own modules (test_training_resume.py, test_experiment_queue.py), which pytest-xdist
runs beside this one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from pipeline_helpers import ROOT, close, dvc, env, fresh_copy, git, params_changed, stages_run
from pipeline_helpers import stage as stages_run_direct

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

ALL_STAGES = {"embedded", "teacher", "base", "generate@teacher", "filter@teacher", "benchmark-file@embedded_math",
              "sft-data@student", "sft@student", "grpo-data@student", "grpo@student",
              "evaluate@teacher-embedded_math", "evaluate@base-embedded_math", "evaluate@sft-embedded_math",
              "evaluate@grpo-embedded_math"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = fresh_copy(tmp_path_factory.mktemp("clone"), full_size=True)
    proc = dvc(path, "repro")
    ran = stages_run(proc.stdout)
    log.warning("embedded `dvc repro` from nothing: %.1f s", proc.seconds)
    print(f"\n[figure] embedded dvc repro from nothing: {proc.seconds:.1f} s")
    assert ran == ALL_STAGES, proc.stdout[-3000:]
    git(path, "add", "-A")
    git(path, "commit", "-qm", "first run")
    # Later tests rerun stages; keep what the first run produced for the reproduction check.
    shutil.copytree(path / "metrics", path / ".first-run" / "metrics")
    shutil.copy2(path / "dvc.lock", path / ".first-run" / "dvc.lock")
    return path


def test_every_stage_wrote_its_metrics_and_plots(project):
    for name in ("teacher", "generate", "filter", "sft-data", "sft", "grpo-data", "grpo"):
        assert json.loads((project / "metrics" / f"{name}.json").read_text())
    for model in ("teacher", "base", "sft", "grpo"):
        m = json.loads((project / "metrics" / "eval" / f"{model}-embedded_math.json").read_text())
        assert {"score", "stderr", "num_samples"} <= set(m) and m["num_samples"] == 400
        assert 0.0 <= m["score"] <= 1.0
    # Each training set is decontaminated: every planted benchmark row that reached it (the
    # filter drops the planted prompts the teacher never solved) was caught.
    import pyarrow.parquet as pq

    planted = {json.loads(line)["problem"] for line in (project / "data/embedded/train.jsonl").read_text().splitlines()
               if json.loads(line)["source"] == "embedded-math/planted"}
    distilled = set(pq.read_table(project / "data/sources/distilled/train.parquet").column("problem").to_pylist())
    assert len(planted) == 4 and planted & distilled
    for name in ("sft", "grpo"):
        data = json.loads((project / "metrics" / f"{name}-data.json").read_text())
        assert data["hits"]["embedded_math"] >= len(planted & distilled), (name, data["hits"])
        assert data["sources"]["distilled"]["used"] == data["sources"]["distilled"]["rows"]
    header = (project / "plots" / "grpo.csv").read_text().splitlines()[0].split(",")
    assert {"step", "loss", "learning_rate", "rewards/accuracy/mean", "completions/mean_length"} <= set(header)
    for out in ("models/sft", "models/grpo", "data/generated", "data/sources/distilled", "data/train/sft", "data/train/grpo"):
        run = json.loads((project / out / "r1_run.json").read_text())
        assert run["packages"]["trl"] and run["config"]
    # Throughput in both training stages' metrics and per-step curves; no MFU on a CPU (no
    # peak to compare with), and what performance: auto chose recorded beside each model.
    for name, extra in (("sft", set()), ("grpo", {"generated_tokens_per_second", "generation_share"})):
        metrics = json.loads((project / "metrics" / f"{name}.json").read_text())
        print(f"\n[figure] embedded {name}: {metrics['training_tokens_per_second']:.0f} training tokens/s, "
              f"{metrics['step_seconds']:.2f} s/step, peak RSS {metrics['peak_memory_gb']:.2f} GB"
              + (f", {metrics['generated_tokens_per_second']:.0f} generated tokens/s, "
                 f"{metrics['generation_share']:.0%} of the time generating" if extra else ""))
        assert metrics["training_tokens_per_second"] > 0 and metrics["step_seconds"] > 0 and metrics["peak_memory_gb"] > 0
        assert metrics["memory_kind"] == "process_max_rss" and "mfu" not in metrics
        header = (project / "plots" / f"{name}.csv").read_text().splitlines()[0].split(",")
        assert {"step_seconds", "training_tokens_per_second", "peak_memory_gb"} | extra <= set(header), header
        assert extra <= set(metrics)
        choices = json.loads((project / "models" / name / "r1_run.json").read_text())["config"]["performance"]
        assert choices["mode"] == "auto" and choices["device"] == "cpu"
        assert (choices["attn_implementation"], choices["use_liger_kernel"]) == ("sdpa", False)
    assert 0 < json.loads((project / "metrics" / "grpo.json").read_text())["generation_share"] <= 1


def test_second_repro_is_a_noop(project):
    proc = dvc(project, "repro")
    print(f"\n[figure] no-op dvc repro: {proc.seconds:.2f} s")
    assert stages_run(proc.stdout) == set()
    assert "didn't change" in proc.stdout or "up to date" in proc.stdout


def test_changing_grpo_learning_rate_reruns_only_grpo_and_its_evaluation(project):
    with params_changed(project, "grpo", learning_rate=2.0e-4, max_steps=4):
        proc = dvc(project, "repro")
        assert stages_run(proc.stdout) == {"grpo@student", "evaluate@grpo-embedded_math"}


def test_exp_run_and_metrics_diff(project):
    with params_changed(project, "grpo"):
        proc = dvc(project, "exp", "run", "-n", "lr-sweep", "-S", "grpo.learning_rate=5e-3",
                   "-S", "grpo.max_steps=4")
        assert stages_run(proc.stdout) == {"grpo@student", "evaluate@grpo-embedded_math"}
        shown = json.loads(dvc(project, "exp", "show", "--json").stdout)
        assert "lr-sweep" in json.dumps(shown)
        diff = json.loads(dvc(project, "metrics", "diff", "--json").stdout)
        assert "metrics/grpo.json" in diff, diff
        assert yaml.safe_load((project / "params.yaml").read_text())["grpo"]["learning_rate"] == 5e-3


def test_grpo_from_base_is_linked_to_base_and_trains_from_it(project):
    """`grpo.init_model: base` (R1-Zero style): DVC reruns grpo from models/base, not models/sft."""
    with params_changed(project, "grpo", init_model="base", max_steps=4):
        dag = dvc(project, "dag", "--dot").stdout
        assert '"base" -> "grpo@student"' in dag and '"sft@student" -> "grpo@student"' not in dag
        proc = dvc(project, "repro")
        assert stages_run(proc.stdout) == {"grpo@student", "evaluate@grpo-embedded_math"}
        run = json.loads((project / "models" / "grpo" / "r1_run.json").read_text())
        assert run["config"]["grpo"]["init_model"] == "base"
        lock = yaml.safe_load((project / "dvc.lock").read_text())
        assert "models/base" in {d["path"] for d in lock["stages"]["grpo@student"]["deps"]}


def test_sft_with_lora_and_a_held_out_split_saves_a_plain_model(project):
    """LoRA (peft) is merged into an ordinary model folder; the held-out rows are scored."""
    lora = {"r": 4, "lora_alpha": 8, "target_modules": "all-linear"}
    with params_changed(project, "sft", peft=lora, test_split_size=0.1, eval_strategy="steps", eval_steps=10,
                        max_steps=20):
        proc = dvc(project, "repro", "sft@student")
        assert stages_run(proc.stdout) == {"sft@student"}
        metrics = json.loads((project / "metrics" / "sft.json").read_text())
        assert metrics["eval_examples"] == round(0.1 * (metrics["examples"] + metrics["eval_examples"]))
        assert metrics["eval_loss"] > 0
        folder = project / "models" / "sft"
        assert (folder / "model.safetensors").exists() and not (folder / "adapter_config.json").exists()
        check = subprocess.run([sys.executable, "-c", "import sys, transformers; "
                                "m = transformers.AutoModelForCausalLM.from_pretrained(sys.argv[1]); "
                                "print(type(m).__name__)", str(folder)], capture_output=True, text=True)
        assert check.returncode == 0 and "ForCausalLM" in check.stdout, check.stderr[-2000:]


# Outputs whose bytes do not depend on the CPU: built from seeds with platform-independent
# generators (numpy PCG64, random.Random) and a BPE trainer with deterministic tie-breaking.
EXACT_STAGES = ("embedded", "base")


def _outs(lock: dict, stage: str) -> dict:
    return {o["path"]: o.get("md5") for o in lock["stages"][stage].get("outs", [])}


def test_fresh_clone_reproduces_the_committed_lock_and_metrics(project):
    committed = yaml.safe_load((ROOT / "dvc.lock").read_text())
    produced = yaml.safe_load((project / ".first-run" / "dvc.lock").read_text())
    for name in EXACT_STAGES:
        assert _outs(produced, name) == _outs(committed, name), name
    # Trained models and sampled text depend on floating-point kernels, so they are compared
    # through their metrics: losses within 2% (CPU kernels differ in summation order only),
    # evaluation scores within 2*sqrt(2) standard errors (pipeline_helpers.close says why),
    # counts exactly. Every stage runs one CPU thread, so on the CPU kind that committed them
    # (CI's) they reproduce exactly; on another, sampled counts may differ, which is worth a look.
    for path in sorted((ROOT / "metrics").rglob("*.json")):
        rel = path.relative_to(ROOT)
        old, new = json.loads(path.read_text()), json.loads((project / ".first-run" / rel).read_text())
        close(old, new, str(rel))


def test_the_ladder_is_far_from_zero_and_in_order(project):
    """What the embedded default demonstrates (README): distillation lifts the student far above
    its base, the teacher stays above it, and GRPO loses nothing beyond noise."""
    def score(model):
        m = json.loads((project / ".first-run" / "metrics" / "eval" / f"{model}-embedded_math.json").read_text())
        return m["score"], m["stderr"]

    (teacher, s_t), (base, s_b), (sft, s_s), (grpo, s_g) = map(score, ("teacher", "base", "sft", "grpo"))
    assert base < 0.02 and sft > 0.2, (base, sft)
    assert sft - base > 10 * (s_s**2 + s_b**2) ** 0.5, (sft, base)
    assert teacher - sft > 2 * (s_t**2 + s_s**2) ** 0.5, (teacher, sft)
    assert grpo - sft > -2 * (s_g**2 + s_s**2) ** 0.5, (grpo, sft)


def test_a_killed_evaluation_leaves_nothing_behind_after_the_next_run(project):
    """A SIGKILL runs no cleanup: the next run of the stage removes what the killed one left."""
    out_parent = project / "outputs" / "eval" / "base"
    proc = subprocess.Popen([str(project / "stages" / "run"), "evaluate", "--model", "base",
                             "--benchmark", "embedded_math"], cwd=project, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    scratch = f"r1-eval-{socket.gethostname()}.{proc.pid}.*"  # stages/run execs python: same pid
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (list(out_parent.glob(".embedded_math.tmp-*"))
                                               and list(Path(tempfile.gettempdir()).glob(scratch))):
        assert proc.poll() is None, "the evaluation ended before it could be killed"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(out_parent.glob(".embedded_math.tmp-*")) and list(Path(tempfile.gettempdir()).glob(scratch))
    rerun = stages_run_direct(project, "evaluate", "--model", "base", "--benchmark", "embedded_math")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not list(out_parent.glob(".embedded_math.*")), list(out_parent.iterdir())
    assert not list(Path(tempfile.gettempdir()).glob(scratch))
