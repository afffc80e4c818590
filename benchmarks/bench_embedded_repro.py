"""How long the embedded default's whole `dvc repro` takes from nothing, stage by stage.

    python benchmarks/bench_embedded_repro.py [--out results.json]

Clones this checkout's HEAD into a temporary folder (what a user's fresh clone holds), runs
`dvc repro` there with this checkout's environment (R1_PYTHON; installation is not timed),
and prints the wall time of every stage, the total, and the evaluation ladder. The figure
depends on the machine and on what else runs on it: the printout says how many cores it had
and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    dvc = shutil.which("dvc")
    if dvc is None:
        sys.exit("dvc is not on PATH: source scripts/env.sh first")
    python = ROOT / ".venv" / "bin" / "python"
    env = {**os.environ, "R1_PYTHON": str(python if python.exists() else sys.executable)}
    work = Path(tempfile.mkdtemp(prefix="r1-repro-bench-"))
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    load_before = os.getloadavg()
    started = time.monotonic()
    marks: list[tuple[str, float]] = []
    proc = subprocess.Popen([dvc, "repro"], cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    log = []
    for line in proc.stdout:
        log.append(line)
        if line.startswith("Running stage '"):
            marks.append((line.split("'")[1], time.monotonic() - started))
    total = time.monotonic() - started
    if proc.wait() != 0:
        sys.exit("dvc repro failed:\n" + "".join(log[-60:]))
    stages = {name: round((marks[i + 1][1] if i + 1 < len(marks) else total) - at, 1)
              for i, (name, at) in enumerate(marks)}
    ladder = {p.stem: json.loads(p.read_text()) for p in sorted((clone / "metrics" / "eval").glob("*.json"))}
    result = {
        "total_seconds": round(total, 1),
        "stages_seconds": stages,
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "ladder": {name: {"score": m["score"], "stderr": m["stderr"], "n": m["num_samples"]}
                   for name, m in ladder.items()},
    }
    for name, seconds in stages.items():
        print(f"{seconds:7.1f} s  {name}")
    print(f"{total:7.1f} s  whole dvc repro from nothing ({os.cpu_count()} cores, load before "
          f"{load_before[0]:.2f})")
    for name, m in result["ladder"].items():
        print(f"  {name:32s} {100 * m['score']:5.1f} +/- {100 * m['stderr']:.1f}  (n={m['n']})")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    if args.keep:
        print(f"clone kept at {clone}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
