"""Wait until an HTTP server (`trl vllm-serve`) answers its health check, or fail clearly.

`python -m r1.launching.wait_for_server http://HOST:PORT --timeout 900 --pid PID --log FILE`
exits 0 once GET /health answers 200; otherwise it exits 1 with one line that names the
URL, the time waited and the server's log, and stops early when the server process has
already died. TRL's own wait (`VLLMClient.check_server`) needs vllm installed on the
trainer side and cannot see the server process, hence this small loop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request


class ServerNotReady(RuntimeError):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a child that exited but was not reaped yet is a zombie, not a server
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_until_ready(base_url: str, timeout: float, pid: int | None = None, log: str | None = None,
                     interval: float = 2.0) -> float:
    """Poll ``base_url``/health until it answers 200; return the seconds waited."""
    url = base_url.rstrip("/") + "/health"
    where = f" (server log: {log})" if log else ""
    start = time.monotonic()
    last = "no answer"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=max(1.0, min(interval, 10.0))) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        waited = time.monotonic() - start
        if pid is not None and not _alive(pid):
            raise ServerNotReady(f"the server process {pid} exited before {url} answered{where}")
        if waited >= timeout:
            raise ServerNotReady(f"{url} did not answer 200 within {timeout:g} s (last: {last}){where}")
        time.sleep(min(interval, max(0.0, timeout - waited)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base_url", help="e.g. http://node-3:8000")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    ap.add_argument("--pid", type=int, help="the server's process: stop waiting if it dies")
    ap.add_argument("--log", help="the server's log file, named in the error")
    ap.add_argument("--interval", type=float, default=2.0)
    args = ap.parse_args(argv)
    try:
        waited = wait_until_ready(args.base_url, args.timeout, args.pid, args.log, args.interval)
    except ServerNotReady as exc:
        print(f"wait_for_server: {exc}", file=sys.stderr)
        return 1
    print(f"wait_for_server: {args.base_url} ready after {waited:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
