"""Benchmark: the local sandbox running small programs with 5 stdin/stdout tests each.

Prints test executions per second (every test is its own bubblewrap sandbox, with the
seccomp filter and, where the machine allows, its memory cgroup) for a batch of samples, at
a few pool sizes: Python programs, then C++ programs whose compilation is cached (the
first round compiles each distinct program once; later rounds only run). Target: >= 40
test executions/s on 2 cores for each. (For comparison, open-r1 measured about 4
samples/s on E2B at 64-way concurrency.)

    uv run --no-sync python benchmarks/bench_sandbox.py [--samples 64] [--workers 2 4 8]
        [--language python cpp]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import time

from r1.sandbox import Problem, TestCase, score
from r1.sandbox.local import LocalSandbox, default_workers

PROGRAMS = [  # (source, function computing the expected output from the input)
    ("a, b = map(int, input().split())\nprint(a + b)", lambda a, b: f"{a + b}\n"),
    (
        "import sys\nnums = list(map(int, sys.stdin.read().split()))\nprint(max(nums))\nprint(min(nums))",
        lambda a, b: f"{max(a, b)}\n{min(a, b)}\n",
    ),
    (
        "a, b = map(int, input().split())\nfrom math import gcd\nprint(gcd(a, b))",
        lambda a, b: f"{__import__('math').gcd(a, b)}\n",
    ),
    (
        "a, b = map(int, input().split())\nprint(sum(i * i for i in range(a % 1000)) + b)",
        lambda a, b: f"{sum(i * i for i in range(a % 1000)) + b}\n",
    ),
    ("a, b = map(int, input().split())\nprint(a * b)", lambda a, b: f"{a * b + 1}\n"),  # wrong
]


CPP_HEAD = "#include <bits/stdc++.h>\nusing namespace std;\nint main(){long long a,b;cin>>a>>b;"
CPP_PROGRAMS = [  # the same five programs in C++
    (CPP_HEAD + "cout<<a+b<<endl;}", PROGRAMS[0][1]),
    (CPP_HEAD + "cout<<max(a,b)<<endl<<min(a,b)<<endl;}", PROGRAMS[1][1]),
    (CPP_HEAD + "cout<<__gcd(a,b)<<endl;}", PROGRAMS[2][1]),
    (
        CPP_HEAD + "long long s=0;for(long long i=0;i<a%1000;i++)s+=i*i;cout<<s+b<<endl;}",
        PROGRAMS[3][1],
    ),
    (CPP_HEAD + "cout<<a*b<<endl;}", PROGRAMS[4][1]),  # wrong
]


def make_problems(n: int, seed: int = 0, language: str = "python") -> list[Problem]:
    rng = random.Random(seed)
    programs = CPP_PROGRAMS if language == "cpp" else PROGRAMS
    problems = []
    for i in range(n):
        src, expect = programs[i % len(programs)]
        tests = []
        for _ in range(5):
            a, b = rng.randint(1, 10**6), rng.randint(1, 10**6)
            tests.append(TestCase("stdin_stdout", f"{a} {b}\n", expect(a, b)))
        problems.append(Problem(src, language, tuple(tests)))
    return problems


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--workers", type=int, nargs="*", default=None)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--language", nargs="*", default=["python", "cpp"], choices=["python", "cpp"])
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cpus = len(os.sched_getaffinity(0))
    sizes = args.workers or sorted({cpus, default_workers(), 4 * cpus})
    print(
        f"local sandbox benchmark: {args.samples} samples x 5 tests per round, {cpus} CPUs, "
        f"default pool {default_workers()}"
    )
    for language in args.language:
        problems = make_problems(args.samples, language=language)
        n_tests = sum(len(p.tests) for p in problems)
        print(f"\n{language}: {n_tests} sandboxed runs per round")
        print(
            f"{'workers':>7} {'round':>5} {'seconds':>8} {'tests/s':>8} {'samples/s':>9} "
            f"{'mean':>5} {'compiles':>8}"
        )
        for workers in sizes:
            with LocalSandbox(timeout=5.0, max_workers=workers) as sandbox:
                sandbox.check()
                for r in range(args.rounds):
                    builds = sandbox._store.builds
                    t = time.perf_counter()
                    fractions = score(sandbox, problems)
                    dt = time.perf_counter() - t
                    mean = sum(f for f in fractions if f is not None) / len(fractions)
                    print(
                        f"{workers:>7} {r:>5} {dt:>8.2f} {n_tests / dt:>8.1f} "
                        f"{args.samples / dt:>9.1f} {mean:>5.2f} {sandbox._store.builds - builds:>8}"
                    )
    print(
        "\ntarget: >= 40 test executions/s on 2 cores (C++: rounds after the first, compile cached)"
    )


if __name__ == "__main__":
    main()
