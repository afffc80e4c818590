"""The local sandbox under attack. Each test fails if the sandbox leaked.

Where possible the expected output is exactly what the attack would print if it worked, so a
leak would score 1.0 (and each test asserts the reward is 0.0); host-side checks then make
sure nothing was touched, nothing survived, and the next sample still runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

import r1
from r1.rewards import build

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform != "linux", reason="the local sandbox is Linux-only"),
]

REPO = Path(r1.__file__).resolve().parents[2]
TIMEOUT = 2.0
OK_INFO = {
    "language": "python",
    "test_cases": [{"type": "stdin_stdout", "input": "2 3\n", "output": "5\n"}],
}
OK_CODE = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"


@pytest.fixture(scope="module")
def reward():
    if shutil.which("bwrap") is None:
        pytest.fail("the local sandbox needs bubblewrap: apt-get install bubblewrap")
    f = build(
        "code",
        provider="local",
        timeout=TIMEOUT,
        memory_mb=512,
        max_processes=32,
        max_output_mb=1.0,
    )
    yield f
    f.sandbox.close()


def attack(reward, code: str, expected_if_leaked: str, stdin: str = "") -> list:
    """Run the attack and, in the same batch, an honest sample; then another honest one."""
    info = {
        "language": "python",
        "test_cases": [{"type": "stdin_stdout", "input": stdin, "output": expected_if_leaked}],
    }
    start = time.monotonic()
    out = reward(
        completions=[f"```python\n{code}\n```", OK_CODE], verification_info=[info, OK_INFO]
    )
    elapsed = time.monotonic() - start
    assert out[1] == 1.0, "the honest sample in the same batch must still run"
    assert reward(completions=[OK_CODE], verification_info=[OK_INFO]) == [1.0], (
        "the next sample must run"
    )
    assert elapsed < TIMEOUT + 10, f"the attack held the batch for {elapsed:.1f}s"
    return out[:1]


def no_process_with(marker: str) -> bool:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    return False
            except OSError:
                continue
    return True


def test_fork_bomb(reward):
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    assert attack(reward, code, "survived") == [0.0]
    time.sleep(0.5)
    assert no_process_with("/prog/main.py"), "fork bomb processes outlived the test"


def test_infinite_loop(reward):
    start = time.monotonic()
    assert attack(reward, "while True:\n    pass", "never") == [0.0]
    assert time.monotonic() - start < TIMEOUT + 5


def test_memory_bomb(reward):
    code = "x = bytearray(8 << 30)\nprint('survived')"
    assert attack(reward, code, "survived") == [0.0]
    # Touch every page (bytes * n fills them) so lazy allocation cannot hide it: 1 GiB > 512 MiB.
    code = "b = b'x' * (1 << 30)\nprint('survived', len(b) >> 30)"
    assert attack(reward, code, "survived 1") == [0.0]


@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/passwd"])
def test_read_system_secrets(reward, path):
    if not os.access(path, os.R_OK):
        pytest.skip(f"{path} is not readable by the test runner either")
    leaked = Path(path).read_text().splitlines()[0]
    code = f"print(open({path!r}).read().splitlines()[0])"
    assert attack(reward, code, leaked + "\n") == [0.0]


def test_read_home(reward):
    home = Path.home()
    entries = sorted(os.listdir(home)) if home.is_dir() else []
    code = f"import os\nprint(sorted(os.listdir({str(home)!r})))"
    assert attack(reward, code, repr(entries)) == [0.0]


def test_read_project_files(reward):
    target = REPO / "pyproject.toml"
    leaked = target.read_text().splitlines()[0]
    code = f"print(open({str(target)!r}).read().splitlines()[0])"
    assert attack(reward, code, leaked) == [0.0]


def test_read_other_sandbox_or_host_tmp(reward, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    secret.chmod(0o644)
    code = f"print(open({str(secret)!r}).read())"
    assert attack(reward, code, "TOP-SECRET") == [0.0]


@pytest.mark.parametrize("where", ["tmp", "home", "project"])
def test_write_outside_tmpdir(reward, tmp_path, where):
    base = {"tmp": tmp_path, "home": Path.home(), "project": REPO}[where]
    target = base / f"r1-sandbox-escape-{os.getpid()}-{where}"
    code = f"open({str(target)!r}, 'w').write('pwned')\nprint('written')"
    try:
        assert attack(reward, code, "written") == [0.0]
        assert not target.exists()
    finally:
        if target.exists():
            target.unlink()


def test_write_inside_own_tmpdir_is_allowed(reward):
    code = "open('scratch.txt', 'w').write('ok')\nprint(open('/tmp/scratch.txt').read())"
    assert attack(reward, code, "ok") == [1.0]


def test_socket_to_a_host_listener(reward):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    connections = []
    stop = threading.Event()
    server.settimeout(0.1)

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(1)
            connections.append(conn.recv(100))

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    code = (
        f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "s.sendall(b'leak')\nprint('connected')"
    )
    try:
        assert attack(reward, code, "connected") == [0.0]
    finally:
        stop.set()
        t.join(timeout=5)
        server.close()
    assert connections == [], "the sandbox reached a host socket"


def test_huge_output(reward):
    code = "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\nprint()"
    start = time.monotonic()
    assert attack(reward, code, "x" * (100 << 20)) == [0.0]
    assert time.monotonic() - start < TIMEOUT + 5


def test_background_process_does_not_outlive_the_test(reward):
    marker = f"{os.getpid() % 1000}.{int(time.time()) % 100000}7"
    code = (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "    os._exit(0)\n"
        "print('parent done')"
    )
    out = attack(reward, code, "never")
    assert out == [0.0]
    time.sleep(0.3)
    assert no_process_with(marker), "a background process outlived its test"


def test_kill_parent_and_host_processes(reward):
    # A judge that runs inside the sandbox (open-r1's E2B script) can be killed by the program
    # it judges, and a dead judge reads as a sandbox error (None), dodging the zero. Here the
    # program kills its parent, PID 1, the host's test runner and everything else it can see,
    # then exits without the answer: the verdict must be a plain 0.0, and the host unharmed.
    host_pid = os.getpid()
    code = (
        "import os, signal\n"
        f"for pid in (os.getppid(), 1, {host_pid}, -1):\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    info = {
        "language": "python",
        "test_cases": [{"type": "stdin_stdout", "input": "2 3\n", "output": "5\n"}],
    }
    out = reward(
        completions=[f"```python\n{code}\n```", OK_CODE], verification_info=[info, OK_INFO]
    )
    assert out == [0.0, 1.0]
    os.kill(host_pid, 0)  # the host process is alive (this line running says as much)
    assert reward(completions=[OK_CODE], verification_info=[OK_INFO]) == [1.0]


def test_environment_secrets_do_not_leak(reward, monkeypatch):
    monkeypatch.setenv("E2B_API_KEY", "e2b_secret_value")
    code = "import os\nprint(os.environ.get('E2B_API_KEY'))"
    assert attack(reward, code, "e2b_secret_value") == [0.0]


def test_e2b_real_client_fails_cleanly_without_network():
    """The real e2b client, a fake key, no reachable service: no verdict, and no hang."""
    from r1.sandbox import Problem, TestCase, get_provider

    sandbox = get_provider("e2b", api_key="e2b_" + "0" * 40, request_timeout=5.0)
    problem = Problem("print(1)", "python", (TestCase("stdin_stdout", "", "1"),))
    start = time.monotonic()
    assert sandbox.run([problem]) == [None]
    assert time.monotonic() - start < 60


# -- syscalls the seccomp filter denies, and memory per sandbox ---------------------------
LIBC = "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\n"


def test_many_small_processes_share_one_memory_limit(reward):
    # 8 processes of 120 MiB each stay under the 512 MiB per-process RLIMIT_AS, and together
    # need 960 MiB: only a limit on the whole sandbox stops them.
    if not reward.sandbox.memory_per_sandbox:
        pytest.skip("no writable memory cgroup here: memory is limited per process only")
    code = (
        "import os, time\n"
        "kids = []\n"
        "for _ in range(8):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        b = b'x' * (120 << 20)\n"
        "        time.sleep(1.0)\n"
        "        os._exit(0)\n"
        "    kids.append(pid)\n"
        "ok = sum(os.waitpid(p, 0)[1] == 0 for p in kids)\n"
        "print('survived', ok)"
    )
    assert attack(reward, code, "survived 8") == [0.0]


def test_ptrace_is_denied(reward):
    code = LIBC + "print('traced' if libc.ptrace(0, 0, 0, 0) == 0 else 'denied')"  # TRACEME
    assert attack(reward, code, "traced") == [0.0]


def test_mount_is_denied(reward):
    code = LIBC + (
        "import os\nos.makedirs('/tmp/m', exist_ok=True)\n"
        "rc = libc.mount(b'none', b'/tmp/m', b'tmpfs', 0, None)\n"
        "print('mounted' if rc == 0 else 'denied')"
    )
    assert attack(reward, code, "mounted") == [0.0]


@pytest.mark.parametrize("flags", [0x10000000, 0x00020000, 0x40000000])  # NEWUSER, NEWNS, NEWNET
def test_unshare_is_denied(reward, flags):
    code = LIBC + f"print('unshared' if libc.unshare({flags}) == 0 else 'denied')"
    assert attack(reward, code, "unshared") == [0.0]


@pytest.mark.parametrize(
    ("family", "kind", "proto"), [(2, 3, 1), (17, 3, 0), (10, 3, 58)]
)  # AF_INET raw ICMP, AF_PACKET, AF_INET6 raw ICMPv6
def test_raw_sockets_are_denied(reward, family, kind, proto):
    code = (
        "import socket\n"
        f"try:\n    socket.socket({family}, {kind}, {proto})\n    print('raw')\n"
        "except OSError:\n    print('denied')"
    )
    assert attack(reward, code, "raw") == [0.0]


def test_the_filter_answers_eperm_and_lets_ordinary_programs_run(reward):
    # EPERM comes from the filter itself (without it, unshare fails with ENOSPC under
    # --disable-userns and ptrace(TRACEME) succeeds); threads, fork and subprocess still work.
    code = LIBC + (
        "import os, subprocess, threading\n"
        "names = []\n"
        "for call in (lambda: libc.ptrace(0, 0, 0, 0), lambda: libc.unshare(0x10000000)):\n"
        "    call()\n"
        "    names.append(errno.errorcode.get(ctypes.get_errno(), '?'))\n"
        "t = threading.Thread(target=names.append, args=('thread',))\nt.start()\nt.join()\n"
        "names.append(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n"
        "print(' '.join(names))"
    )
    assert attack(reward, code, "EPERM EPERM thread child") == [1.0]
