"""Experiment queues (`dvc exp run --queue`, `dvc queue start -j 2`) and `dvc exp run --temp`
work out of the box, each experiment running its own copy's code."""

from __future__ import annotations

import json
import sys
import time

import pytest
from conftest import copy_of
from pipeline_helpers import dvc, env, stages_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def project(trained_project, tmp_path_factory):
    return copy_of(trained_project, tmp_path_factory.mktemp("queue") / "project")


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
    # A library module of the training stages (a dep of sft and grpo only, so the experiment
    # reruns just those): its change must reach the experiment's metrics.
    library_py = project / "src" / "r1" / "training" / "throughput.py"
    original = library_py.read_text()
    anchor = '    out = {"step_seconds": round(total / max(rows[-1]["step"], 1), 6)}\n'
    patched = original.replace(anchor, anchor + '    out["code_probe"] = 1  # experiment-only library change\n')
    assert patched != original
    try:
        library_py.write_text(patched)  # queued with the experiment, then reverted below
        # Each experiment targets grpo@student (and what it needs): the evaluations add minutes
        # and nothing to what is tested. models/base is not cached (cache: false), so each
        # copy rebuilds it from models/embedded.
        dvc(project, "exp", "run", "--queue", "-n", "q-own-code", "-S", "grpo.temperature=0.7", "grpo@student",
            environ=run_env)
        library_py.write_text(original)
        dvc(project, "exp", "run", "--queue", "-n", "q-plain", "-S", "grpo.temperature=0.9", "grpo@student",
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
        # Sampling temperatures, not the committed 1.0 (which would rightly restore the committed
        # run): they change what GRPO samples within its 4 steps, so each experiment's metrics
        # differ (the embedded default's learning rates do not, yet).
        temp = dvc(project, "exp", "run", "--temp", "-n", "t-temp", "-S", "grpo.temperature=1.2", "grpo@student",
                   environ=run_env)
        assert stages_run(temp.stdout) - {"base"} == {"grpo@student"}, temp.stdout[-3000:]
    finally:
        library_py.write_text(original)
        dvc(project, "queue", "stop", "--kill", check=False, environ=run_env)
    metrics = _experiment_metrics(project)
    assert {"q-own-code", "q-plain", "t-temp"} <= set(metrics), metrics.keys()
    assert metrics["q-own-code"].get("code_probe") == 1, "the queued experiment ran the workspace's code"
    assert "code_probe" not in metrics["q-plain"] and "code_probe" not in metrics["t-temp"]
    for key in ("train_loss", "completion_length_mean"):
        assert len({metrics[n][key] for n in ("q-own-code", "q-plain", "t-temp")}) == 3, (key, metrics)
