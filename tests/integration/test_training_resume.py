"""A training stage killed once a checkpoint exists is not taken as done by DVC, and the
rerun resumes to the model, metrics and per-step curve of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from conftest import copy_of
from pipeline_helpers import close, dvc, dvc_bin, env, params_changed

from r1.training.throughput import MACHINE_DEPENDENT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def project(trained_project, tmp_path_factory):
    return copy_of(trained_project, tmp_path_factory.mktemp("resume") / "project")


@pytest.mark.parametrize("stage_name,changes", [
    # Long enough to kill half-way; checkpoints on logged steps, which an exact train_loss after
    # a resume needs (PlotCallback warns otherwise; the committed 200 is a multiple of 10).
    ("sft", {"max_steps": 30, "save_steps": 3, "logging_steps": 1}),
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
    close(reference["metrics"], resumed["metrics"], f"metrics/{stage_name}.json", rel=1e-4)
    close(reference["plot"][1:], resumed["plot"][1:], f"plots/{stage_name}.csv", rel=1e-4)


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
