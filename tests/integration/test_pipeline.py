"""The whole pipeline on the embedded default, driven by DVC as a user would.

One fresh copy of the project runs `dvc repro` once (module fixture); the tests then check
DVC's behaviour on it: a no-op rerun, a params change rerunning exactly what is downstream,
`dvc exp run -S` with `dvc exp show` and `dvc metrics diff`, an interrupted stage, and that
the results match the committed dvc.lock and metrics/.
"""

from __future__ import annotations

import contextlib
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
from pipeline_helpers import ROOT, dvc, dvc_bin, env, fresh_copy, git, stages_run
from pipeline_helpers import stage as stages_run_direct

from r1.training.throughput import MACHINE_DEPENDENT

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

ALL_STAGES = {"embedded", "base", "generate@teacher", "filter@teacher", "benchmark-file@embedded_math",
              "sft-data@student", "sft@student", "grpo-data@student", "grpo@student",
              "evaluate@base-embedded_math", "evaluate@sft-embedded_math", "evaluate@grpo-embedded_math"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = fresh_copy(tmp_path_factory.mktemp("clone"))
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


@contextlib.contextmanager
def params_changed(project, section: str, **values):
    """params.yaml with ``values`` set in ``section``; the committed state comes back after."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section].update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        yield
    finally:
        (project / ".dvc" / "tmp" / "rwlock").unlink(missing_ok=True)
        git(project, "checkout", "--", "params.yaml", "dvc.lock", "metrics", "plots", "reports")
        dvc(project, "checkout", "--force")


def test_every_stage_wrote_its_metrics_and_plots(project):
    for name in ("generate", "filter", "sft-data", "sft", "grpo-data", "grpo"):
        assert json.loads((project / "metrics" / f"{name}.json").read_text())
    for model in ("base", "sft", "grpo"):
        m = json.loads((project / "metrics" / "eval" / f"{model}-embedded_math.json").read_text())
        assert {"score", "stderr", "num_samples"} <= set(m) and m["num_samples"] == 32
        assert 0.0 <= m["score"] <= 1.0
    for name in ("sft", "grpo"):  # each training set is decontaminated: the planted benchmark rows were caught
        data = json.loads((project / "metrics" / f"{name}-data.json").read_text())
        assert data["hits"]["embedded_math"] >= 4 and data["sources"]["distilled"]["used"] == data["sources"]["distilled"]["rows"]
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
    with params_changed(project, "grpo", learning_rate=2.0e-4):
        proc = dvc(project, "repro")
        assert stages_run(proc.stdout) == {"grpo@student", "evaluate@grpo-embedded_math"}


def test_exp_run_and_metrics_diff(project):
    with params_changed(project, "grpo"):
        proc = dvc(project, "exp", "run", "-n", "lr-sweep", "-S", "grpo.learning_rate=5e-3")
        assert stages_run(proc.stdout) == {"grpo@student", "evaluate@grpo-embedded_math"}
        shown = json.loads(dvc(project, "exp", "show", "--json").stdout)
        assert "lr-sweep" in json.dumps(shown)
        diff = json.loads(dvc(project, "metrics", "diff", "--json").stdout)
        assert "metrics/grpo.json" in diff, diff
        assert yaml.safe_load((project / "params.yaml").read_text())["grpo"]["learning_rate"] == 5e-3


@pytest.mark.parametrize("stage_name,changes", [
    ("sft", {"num_train_epochs": 3, "save_steps": 3}),  # long enough to kill half-way
    ("grpo", {"max_steps": 6, "save_steps": 2}),
])
def test_a_killed_stage_is_not_taken_as_done_and_resumes_to_the_same_results(project, stage_name, changes):
    """Kill a training stage once a checkpoint exists; DVC must see it as unfinished, and the
    resumed run must write the model, metrics and full per-step curve of an uninterrupted one."""
    with params_changed(project, stage_name, **changes):
        dvc(project, "repro", f"{stage_name}@student")  # the uninterrupted reference
        reference = _results(project, stage_name)
        _kill_then_resume(project, stage_name)
        resumed = _results(project, stage_name)
    assert resumed["plot"][0] == reference["plot"][0], "plot columns differ"
    assert [r[0] for r in resumed["plot"][1:]] == [r[0] for r in reference["plot"][1:]], "plot steps differ"
    # Resuming restores the RNG, optimizer and scheduler states, so the same kernels compute
    # the same numbers; 1e-4 leaves room only for summation order, not for a lost step.
    _close(reference["metrics"], resumed["metrics"], f"metrics/{stage_name}.json", rel=1e-4)
    _close(reference["plot"][1:], resumed["plot"][1:], f"plots/{stage_name}.csv", rel=1e-4)


def _results(project, stage_name) -> dict:
    metrics = json.loads((project / "metrics" / f"{stage_name}.json").read_text())
    rows = [line.split(",") for line in (project / "plots" / f"{stage_name}.csv").read_text().splitlines()]
    # Throughput columns (ours, and TRL's GRPO `step_time`) are the machine's, not the run's:
    # compared for presence only.
    keep = [i for i, column in enumerate(rows[0]) if column not in (*MACHINE_DEPENDENT, "step_time")]
    rows = [[row[i] for i in keep] for row in rows]
    plot = [rows[0]] + [[float(v) if v else None for v in row] for row in rows[1:]]
    return {"metrics": metrics, "plot": plot}


def _kill_then_resume(project, stage_name):
    dvc_name = f"{stage_name}@student"
    proc = subprocess.Popen([dvc_bin(), "repro", "--force", "--single-item", dvc_name], cwd=project, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    ckpt_root = project / "checkpoints" / stage_name
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(ckpt_root.glob("*/checkpoint-*/trainer_state.json")):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(ckpt_root.glob("*/checkpoint-*")), "no checkpoint was written before the deadline"
    (project / ".dvc" / "tmp" / "rwlock").unlink(missing_ok=True)  # a SIGKILLed dvc leaves its lock
    status = dvc(project, "status", dvc_name).stdout
    assert dvc_name in status and "changed" in status
    # --force: the reference run above finished with these very params, so dvc.lock and the
    # cache hold its outputs and a plain `dvc repro` rightly restores them instead of running
    # (the message "is cached - skipping run"). A user reruns after a kill with params no
    # finished run had, so their `dvc repro` runs the stage, which then resumes.
    rerun = dvc(project, "repro", "--force", "--single-item", "--no-run-cache", dvc_name)
    assert "resuming from" in rerun.stdout + rerun.stderr
    assert (project / "models" / stage_name / "model.safetensors").exists()
    assert dvc_name not in dvc(project, "status", dvc_name).stdout.replace("Data and pipelines are up to date.", "")
    assert not list(ckpt_root.glob("*/checkpoint-*")), "a finished run keeps no checkpoints"


def test_grpo_from_base_is_linked_to_base_and_trains_from_it(project):
    """`grpo.init_model: base` (R1-Zero style): DVC reruns grpo from models/base, not models/sft."""
    with params_changed(project, "grpo", init_model="base"):
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
    with params_changed(project, "sft", peft=lora, test_split_size=0.1, eval_strategy="steps", eval_steps=10):
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
    # evaluation scores within two standard errors or one sample (1/n), counts exactly.
    for path in sorted((ROOT / "metrics").rglob("*.json")):
        rel = path.relative_to(ROOT)
        old, new = json.loads(path.read_text()), json.loads((project / ".first-run" / rel).read_text())
        _close(old, new, str(rel))


def _close(old, new, where, rel=0.02):
    if isinstance(old, dict):
        assert set(old) == set(new), where
        stderr = max(old.get("stderr") or 0, 1 / max(old.get("num_samples") or 1, 1))
        for k in old:
            if k.endswith(("seconds", "_per_second")) or k in MACHINE_DEPENDENT:
                continue  # wall time, MFU and peak memory are properties of the machine, not results
            if k == "score":
                assert abs(old[k] - new[k]) <= 2 * stderr + 1e-9, (where, k, old[k], new[k])
            else:
                _close(old[k], new[k], f"{where}:{k}", rel)
    elif isinstance(old, bool) or isinstance(old, str) or old is None:
        assert old == new, where
    elif isinstance(old, int) and isinstance(new, int):
        assert old == new, where
    elif isinstance(old, int | float):
        assert abs(old - new) <= max(rel * abs(old), rel / 20), (where, old, new)
    elif isinstance(old, list):
        assert len(old) == len(new), where
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _close(a, b, f"{where}[{i}]", rel)


def _experiment_metrics(project) -> dict[str, dict]:
    """{experiment name: its metrics/grpo.json} from `dvc exp show --json`."""
    shown = json.loads(dvc(project, "exp", "show", "--json").stdout)
    found = {}

    def walk(node):
        if isinstance(node, dict):
            if node.get("name") and node.get("revs"):
                for rev in node["revs"]:
                    metrics = (((rev.get("data") or {}).get("metrics") or {}).get("metrics/grpo.json") or {})
                    if metrics.get("data"):
                        found[node["name"]] = metrics["data"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(shown)
    return found


def test_queued_and_temp_experiments_run_their_own_code_out_of_the_box(project):
    """`dvc exp run --queue` + `dvc queue start -j 2`, and `dvc exp run --temp`, with no
    R1_PYTHON: the copies DVC runs them in have no .venv, and each must import its own
    `r1`, not the workspace's. A failing experiment must not take the others down."""
    venv = project / ".venv"
    if not venv.exists():
        venv.symlink_to(sys.prefix)  # a user's workspace has its .venv (scripts/env.sh)
    (project / ".git" / "info" / "exclude").write_text(".venv\n.dvc-site-cache/\n.first-run/\n")
    run_env = {k: v for k, v in env().items() if k != "R1_PYTHON"}
    stage_py = project / "src" / "r1" / "stage.py"
    original = stage_py.read_text()
    probe = '    metrics = {**metrics, "code_probe": 1}  # experiment-only library change\n'
    patched = original.replace('    path = Path("metrics") / f"{name}.json"\n',
                               '    path = Path("metrics") / f"{name}.json"\n' + probe)
    assert patched != original
    try:
        stage_py.write_text(patched)  # queued with the experiment, then reverted below
        # Each experiment targets grpo@student (and what it needs): the evaluations add minutes
        # and nothing to what is tested. models/base is not cached (cache: false), so each
        # copy rebuilds it from models/embedded.
        dvc(project, "exp", "run", "--queue", "-n", "q-own-code", "-S", "grpo.learning_rate=5e-3", "grpo@student",
            environ=run_env)
        stage_py.write_text(original)
        dvc(project, "exp", "run", "--queue", "-n", "q-plain", "-S", "grpo.learning_rate=2e-3", "grpo@student",
            environ=run_env)
        # generation_batch_size 8 is not divisible by 3 generations: a params error, rc 2
        dvc(project, "exp", "run", "--queue", "-n", "q-broken", "-S", "grpo.num_generations=3", "grpo@student",
            environ=run_env)
        dvc(project, "queue", "start", "-j", "2", environ=run_env)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            status = dvc(project, "queue", "status", environ=run_env).stdout
            if not any(word in status for word in ("Queued", "Running")):
                break
            time.sleep(5)
        assert "Queued" not in status and "Running" not in status, status
        lines = {name: line for line in status.splitlines() for name in ("q-own-code", "q-plain", "q-broken")
                 if name in line}
        assert "Success" in lines["q-own-code"] and "Success" in lines["q-plain"], status
        assert "Failed" in lines["q-broken"], status
        # (3e-3: the committed value, 1e-3, would rightly restore the committed run.)
        temp = dvc(project, "exp", "run", "--temp", "-n", "t-temp", "-S", "grpo.learning_rate=3e-3", "grpo@student",
                   environ=run_env)
        assert stages_run(temp.stdout) - {"base"} == {"grpo@student"}, temp.stdout[-3000:]
    finally:
        stage_py.write_text(original)
        dvc(project, "queue", "stop", "--kill", check=False, environ=run_env)
    metrics = _experiment_metrics(project)
    assert {"q-own-code", "q-plain", "t-temp"} <= set(metrics), metrics.keys()
    assert metrics["q-own-code"].get("code_probe") == 1, "the queued experiment ran the workspace's code"
    assert "code_probe" not in metrics["q-plain"] and "code_probe" not in metrics["t-temp"]
    assert len({metrics[n]["train_loss"] for n in ("q-own-code", "q-plain", "t-temp")}) == 3, metrics


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
