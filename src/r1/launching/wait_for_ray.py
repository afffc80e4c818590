"""Wait until a Ray cluster has its head and all its nodes, or fail clearly.

`python -m r1.launching.wait_for_ray HOST:PORT --nodes N --timeout 300` exits 0 once N
nodes are alive, else 1 with one line naming the address, the nodes seen and the time
waited. slurm/generate.sbatch runs it between `ray start` on every node and the generate
stage, so that distilabel never starts on half a cluster. Ray has no such wait of its own:
`ray.init` fails at once when the head is not up yet, and does not wait for workers.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time


class ClusterNotReady(RuntimeError):
    pass


def _head_answers(address: str) -> bool:
    try:
        return subprocess.run(["ray", "health-check", "--address", address], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def wait_for_nodes(address: str, nodes: int, timeout: float, interval: float = 2.0) -> int:
    start = time.monotonic()
    alive, connected = 0, False
    while True:
        if not connected and _head_answers(address):
            import ray

            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
            connected = True
        if connected:
            import ray

            alive = sum(1 for n in ray.nodes() if n.get("Alive"))
            if alive >= nodes:
                ray.shutdown()
                return alive
        waited = time.monotonic() - start
        if waited >= timeout:
            seen = f"{alive} of {nodes} nodes alive" if connected else "its head does not answer"
            raise ClusterNotReady(f"the Ray cluster at {address} is not ready after {timeout:g} s: {seen}")
        time.sleep(min(interval, max(0.0, timeout - waited)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("address", help="the head's HOST:PORT")
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--interval", type=float, default=2.0)
    args = ap.parse_args(argv)
    try:
        alive = wait_for_nodes(args.address, args.nodes, args.timeout, args.interval)
    except ClusterNotReady as exc:
        print(f"wait_for_ray: {exc}", file=sys.stderr)
        return 1
    print(f"wait_for_ray: {alive} node(s) alive at {args.address}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
