"""Cluster launch helpers: the readiness wait for a vLLM server, and where GRPO finds it."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading

import pytest

from r1.config import ConfigError
from r1.launching.wait_for_server import ServerNotReady, main, wait_until_ready
from r1.training import vllm_server


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path.rstrip("/") == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_answers_its_health_check_is_ready(health_server):
    assert wait_until_ready(health_server, timeout=5, interval=0.1) < 5


def test_no_server_times_out_with_the_url_the_time_and_the_log():
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ServerNotReady, match=rf"{url}/health did not answer 200 within 0.5 s .*server log: logs/v.out"):
        wait_until_ready(url, timeout=0.5, log="logs/v.out", interval=0.1)


def test_a_server_process_that_died_stops_the_wait_at_once():
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    with pytest.raises(ServerNotReady, match=rf"server process {dead.pid} exited before"):
        wait_until_ready(f"http://127.0.0.1:{_closed_port()}", timeout=60, pid=dead.pid, interval=0.1)


def test_the_command_line_exits_1_with_one_line(capsys):
    assert main([f"http://127.0.0.1:{_closed_port()}", "--timeout", "0.2", "--interval", "0.1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wait_for_server: http://127.0.0.1:")


SERVER_PARAMS = {"use_vllm": True, "vllm_mode": "server"}


def test_no_server_in_the_job_changes_nothing():
    assert vllm_server.from_env(SERVER_PARAMS, {}) == {}


def test_the_jobs_server_becomes_the_base_url_that_trl_prefers():
    env = {"R1_VLLM_SERVER_HOST": "node-7", "R1_VLLM_SERVER_PORT": "8011"}
    assert vllm_server.from_env({**SERVER_PARAMS, "vllm_server_host": "elsewhere"}, env) == {
        "vllm_server_base_url": "http://node-7:8011"}


@pytest.mark.parametrize("env,params,message", [
    ({"R1_VLLM_SERVER_HOST": "node-7"}, SERVER_PARAMS, "must be set together"),
    ({"R1_VLLM_SERVER_HOST": "node-7", "R1_VLLM_SERVER_PORT": "80a"}, SERVER_PARAMS, "'80a' is not a TCP port"),
    ({"R1_VLLM_SERVER_HOST": "node-7", "R1_VLLM_SERVER_PORT": "8000"}, {}, "use_vllm: False and vllm_mode: colocate"),
    ({"R1_VLLM_SERVER_HOST": "node-7", "R1_VLLM_SERVER_PORT": "8000"}, {"use_vllm": True, "vllm_mode": "colocate"},
     "set use_vllm: true and vllm_mode: server"),
])
def test_a_server_the_params_would_not_use_is_an_error(env, params, message):
    with pytest.raises(ConfigError, match=message):
        vllm_server.from_env(params, env)
