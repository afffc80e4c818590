"""A shared DVC cache on S3: moto's S3 server on loopback stands in for AWS (as in DVC's own
tests). One machine pushes; a fresh clone pulls and reruns nothing; a stage one machine ran
with new params is restored on another from the shared run-cache (scripts/push-run-cache)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml
from conftest import copy_of
from pipeline_helpers import ROOT, dvc, dvc_bin, env, git, stages_run

pytestmark = pytest.mark.integration

BUCKET = "r1-shared-cache"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 with an empty bucket; yields the endpoint URL."""
    pytest.importorskip("moto.server", reason="moto[server] is in the dev dependencies: uv sync --frozen")
    boto3 = pytest.importorskip("boto3")
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "w") as fh:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()[-2000:]
                assert time.monotonic() < deadline, f"moto did not answer on {url} within 60 s"
                time.sleep(0.3)
        client = boto3.client("s3", endpoint_url=url, **_credentials_kwargs())
        client.create_bucket(Bucket=BUCKET)
        yield {"url": url, "client": client}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _credentials_kwargs() -> dict:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def s3_env(tmp_path) -> dict:
    """Credentials from the environment only, as on a real machine (never in the repo); no
    ~/.aws of whoever runs the tests."""
    e = env()
    e.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
             AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-creds"),
             AWS_EC2_METADATA_DISABLED="true")
    return e


def _keys(client) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def _set_param(project, section: str, key: str, value) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params[section][key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def _two_machines(prepared_project, s3, tmp_path, environ):
    """One machine pushes the pipeline up to sft's training data; a fresh git clone pulls it."""
    first = copy_of(prepared_project, tmp_path / "first")
    # What a team commits: where the shared cache is. Credentials stay in the environment.
    dvc(first, "remote", "add", "--default", "shared", f"s3://{BUCKET}/dvc")
    dvc(first, "remote", "modify", "shared", "endpointurl", s3["url"])
    git(first, "add", ".dvc/config")
    git(first, "commit", "-qm", "shared DVC remote")
    assert "testing" not in (first / ".dvc" / "config").read_text()

    dvc(first, "push", "--with-deps", "sft-data@student", environ=environ)
    pushed = _keys(s3["client"])
    assert pushed, "dvc push sent nothing to the bucket"

    # A second machine: a git clone, with neither outputs nor cache.
    second = tmp_path / "second"
    subprocess.run(["git", "clone", "-q", str(first), str(second)], check=True)
    dvc(second, "config", "--local", "core.site_cache_dir", str(second / ".dvc-site-cache"))
    assert not (second / "data" / "train" / "sft").exists()
    # The first machine ran the pipeline up to sft's training data (the committed dvc.lock also
    # names later stages' outputs, which nobody has produced here, and models/base is not
    # cached by design): pull and rerun that part.
    dvc(second, "pull", "--with-deps", "sft-data@student", environ=environ)
    assert (second / "data" / "train" / "sft" / "train.parquet").exists()
    return first, second, pushed


def test_push_then_a_fresh_clone_pulls_and_reruns_nothing(prepared_project, s3, tmp_path):
    environ = s3_env(tmp_path)
    first, second, _ = _two_machines(prepared_project, s3, tmp_path, environ)
    proc = dvc(second, "repro", "sft-data@student", environ=environ)
    assert stages_run(proc.stdout) == set(), proc.stdout[-2000:]
    assert dvc(second, "status", "sft-data@student", environ=environ).stdout.strip() == "Data and pipelines are up to date."


FILTER_OUTS = ("data/sources/distilled/train.parquet", "metrics/filter.json")


def push_run_cache(machine, environ) -> subprocess.CompletedProcess:
    """The project's scripts/push-run-cache, as a user runs it (with the dvc the tests use)."""
    e = dict(environ, PATH=os.pathsep.join([os.path.dirname(dvc_bin()), environ.get("PATH", "")]))
    return subprocess.run([str(machine / "scripts" / "push-run-cache")], cwd=machine, env=e,
                          capture_output=True, text=True, timeout=600)


def test_a_run_on_one_machine_is_restored_from_the_shared_run_cache_on_another(prepared_project, s3, tmp_path):
    environ = s3_env(tmp_path)
    first, second, pushed = _two_machines(prepared_project, s3, tmp_path, environ)

    # The first machine tries two values of a param (experiments nobody committed) and shares
    # its run-cache; the second, set to the first value (which is no longer the first machine's
    # dvc.lock), restores that run instead of running it. (filter, because DVC keeps no
    # run-cache for a stage with an uncached out other than metrics and plots, as the training
    # data stages' reports and base's model are.) `dvc push --run-cache` is not enough here: it
    # sends the run records and the current dvc.lock's outputs only, neither the other run's
    # outputs nor the uncached metrics file that every run record names (push_run_cache.py).
    timeout = yaml.safe_load((first / "params.yaml").read_text())["filter"]["math_hard_timeout"]
    tried = (timeout + 15.0, timeout + 30.0)
    made = {}
    for value in tried:
        _set_param(first, "filter", "math_hard_timeout", value)
        ran = dvc(first, "repro", "filter@teacher", environ=environ)
        assert stages_run(ran.stdout) == {"filter@teacher"}, ran.stdout[-2000:]
        made[value] = {out: (first / out).read_bytes() for out in FILTER_OUTS}
    proc = push_run_cache(first, environ)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert len(_keys(s3["client"])) > len(pushed), "scripts/push-run-cache sent nothing"

    _set_param(second, "filter", "math_hard_timeout", tried[0])
    assert "filter@teacher" in dvc(second, "status", "filter@teacher", environ=environ).stdout
    # --pull: pulls the run-cache, and the outputs of the run found in it.
    restored = dvc(second, "repro", "--pull", "-v", "filter@teacher", environ=environ)
    why = "\n".join(line for line in (restored.stdout + restored.stderr).splitlines()
                    if "cache" in line.lower() or line.startswith(("Running stage", "name: ")))[-4000:]
    assert stages_run(restored.stdout) == set(), why
    assert "Stage 'filter@teacher' is cached - skipping run" in restored.stdout, restored.stdout[-2000:]
    for out in FILTER_OUTS:
        assert (second / out).read_bytes() == made[tried[0]][out], out


def test_push_run_cache_without_a_remote_says_so_in_one_line(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    dvc(project, "init", "-q")
    shutil.copytree(ROOT / "scripts", project / "scripts")
    proc = push_run_cache(project, env())
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "no remote specified" in proc.stderr, proc.stderr
