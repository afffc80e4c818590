"""Benchmark: r1.decontam against open-r1's decontamination algorithm, same data, same CPU.

    .venv/bin/python benchmarks/bench_decontam.py [--data DIR] [--rows 200000] [--ngram-size 8]

Data (``--data``, else ``$R1_BENCHMARK_DATA``, else ``../shared/data/benchmarks`` next to the
repository): MATH-500 and AIME 2024 problems are the benchmarks; the training set is GSM8K
train questions and MATH train problems, repeated with deterministic variation (numbers
shifted, words swapped, a lead-in sentence) until ``--rows`` rows, with a known number of
benchmark passages planted so there are real hits.

Baseline: open-r1's ``scripts/decontaminate.py`` re-implemented below as it is written
(lowercase and collapse whitespace, ``" ".join`` of n consecutive words, a dict of n-gram
-> benchmark rows built per benchmark, then one pass over the training set per benchmark),
run in one process and in a pool of processes (open-r1 runs it through ``datasets.map``
with ``num_proc``). Ours runs with ``normalization="basic"`` so both match the same text.
The table's last column says whether every row the baseline flags is flagged by ours too;
the script exits 1 if not, or if a planted passage is missed.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import multiprocessing
import os
import random
import re
import resource
import sys
import time
from pathlib import Path

from r1.decontam import decontaminate

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "benchmarks"
FILES = (
    "math500_test.jsonl",
    "aime24_test.jsonl",
    "gsm8k_train.jsonl",
    "math_train_deepscaler.json",
)
log = logging.getLogger("bench_decontam")


# --- open-r1's algorithm, as in huggingface/open-r1 scripts/decontaminate.py ---------------


def normalize_string(text: str) -> str:
    """Basic string normalization."""
    text = text.lower().strip()
    text = " ".join(text.split())
    return text


def word_ngrams(text: str, n: int) -> list:
    """Generate word-level n-grams from text."""
    words = text.split()
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def build_ngram_lookup(documents: list[str], ngram_size: int = 8) -> dict[str, set[int]]:
    """Build ngram lookup for documents."""
    lookup = collections.defaultdict(set)
    for doc_id, document in enumerate(documents):
        normalized_text = normalize_string(document)
        for ngram in word_ngrams(normalized_text, ngram_size):
            lookup[ngram].add(doc_id)
    return lookup


def build_ngram_single(document: str, ngram_size: int = 8) -> set[str]:
    normalized_text = normalize_string(document)
    return set(word_ngrams(normalized_text, ngram_size))


def find_contaminated(rows: list[str], lookup: dict, ngram_size: int) -> list[bool]:
    """open-r1's per-row map function, over a list (``any(set(...))`` as written there)."""
    return [any(set(ngram in lookup for ngram in build_ngram_single(r, ngram_size))) for r in rows]


_POOL_STATE: dict = {}


def _pool_chunk(span: tuple[int, int]) -> list[bool]:
    s = _POOL_STATE
    return find_contaminated(s["rows"][span[0] : span[1]], s["lookup"], s["n"])


def baseline(
    rows: list[str], benchmarks: dict[str, list[str]], n: int, procs: int
) -> dict[str, set[int]]:
    """Rows flagged per benchmark, open-r1's way: a lookup and a full pass per benchmark."""
    flagged = {}
    for name, texts in benchmarks.items():
        lookup = build_ngram_lookup(texts, n)
        if procs == 1:
            flags = find_contaminated(rows, lookup, n)
        else:
            # Like datasets.map(num_proc=...): contiguous shards, one per process (fork
            # shares rows and lookup with the workers instead of pickling them).
            _POOL_STATE.update(rows=rows, lookup=lookup, n=n)
            step = -(-len(rows) // procs)
            spans = [(i, min(i + step, len(rows))) for i in range(0, len(rows), step)]
            with multiprocessing.get_context("fork").Pool(procs) as pool:
                flags = [f for part in pool.map(_pool_chunk, spans) for f in part]
        flagged[name] = {i for i, f in enumerate(flags) if f}
    return flagged


# --- data ------------------------------------------------------------------------------------

_SWAPS = [
    ("how many", "what number of"),
    ("find", "determine"),
    ("what is", "compute"),
    ("total", "overall"),
    ("each", "every"),
    ("buys", "purchases"),
    ("has", "owns"),
    ("number", "quantity"),
    ("value", "amount"),
    ("she", "they"),
    ("he", "they"),
]
_LEADS = [
    "",
    "Solve the following problem. ",
    "Question: ",
    "Answer the question below. ",
    "Think step by step. ",
    "Here is a problem for you: ",
    "Problem: ",
]


def _vary(text: str, k: int, rng: random.Random) -> str:
    """Variant k of a problem: numbers shifted by k, some words swapped, a lead-in added."""
    if k == 0:
        return text
    text = re.sub(r"\d+", lambda m: str(int(m.group()) + k), text)
    for a, b in _SWAPS:
        if rng.random() < 0.5:
            text = re.sub(rf"\b{a}\b", b, text, flags=re.IGNORECASE)
    return _LEADS[k % len(_LEADS)] + text


def _passage(text: str, n: int, rng: random.Random) -> str:
    """A run of n..3n consecutive words of a benchmark text (the whole text if shorter)."""
    words = text.split()
    if len(words) <= n:
        return text
    size = rng.randint(n, min(len(words), 3 * n))
    start = rng.randint(0, len(words) - size)
    return " ".join(words[start : start + size])


def load(data: Path, rows: int, n: int, planted: int, seed: int = 0):
    """(training rows, benchmarks, planted row -> benchmark names)."""

    def jsonl(name, field):
        with open(data / name) as f:
            return [json.loads(line)[field] for line in f if line.strip()]

    benchmarks = {
        "math_500": jsonl("math500_test.jsonl", "problem"),
        "aime_2024": jsonl("aime24_test.jsonl", "problem"),
    }
    with open(data / "math_train_deepscaler.json") as f:
        base = jsonl("gsm8k_train.jsonl", "question") + [r["problem"] for r in json.load(f)]
    rng = random.Random(seed)
    train = [_vary(base[i % len(base)], i // len(base), rng) for i in range(rows)]
    plants: dict[int, list[str]] = {}
    for i in rng.sample(range(rows), planted):
        # Most plants hit one benchmark; one in ten hits both.
        names = ["math_500", "aime_2024"] if rng.random() < 0.1 else [rng.choice(list(benchmarks))]
        for name in names:
            text = _passage(rng.choice(benchmarks[name]), n, rng)
            train[i] = f"{train[i]} {text}" if rng.random() < 0.5 else f"{text} {train[i]}"
        plants[i] = names
    return train, benchmarks, plants


# --- run ---------------------------------------------------------------------------------------


def timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of this process and its finished children).

    CPU seconds are reported beside wall time because a shared machine's load moves wall
    time a lot; CPU time shows the work done whatever else runs."""

    def cpu():
        me, kids = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    t, c = time.perf_counter(), cpu()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t, cpu() - c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--data", type=Path, default=Path(os.environ.get("R1_BENCHMARK_DATA", DEFAULT_DATA))
    )
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--ngram-size", type=int, default=8)
    ap.add_argument("--planted", type=int, default=1000)
    ap.add_argument("--procs", type=int, default=len(os.sched_getaffinity(0)))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    missing = [f for f in FILES if not (args.data / f).is_file()]
    if missing:
        sys.exit(
            f"benchmark data not found: {', '.join(missing)} missing in {args.data}. "
            "Pass --data DIR or set R1_BENCHMARK_DATA (see ../shared/data/benchmarks/SOURCES.md)."
        )
    n = args.ngram_size
    train, benchmarks, plants = load(args.data, args.rows, n, args.planted)
    bench_rows = sum(len(v) for v in benchmarks.values())
    log.info(
        "%d training rows, %d benchmark rows, %d planted, n=%d, %d CPUs",
        len(train),
        bench_rows,
        len(plants),
        n,
        args.procs,
    )

    # Warm-up: the first pyarrow conversion in a process imports pandas (about a second
    # here); a stage pays it once, and it says nothing about the algorithm.
    decontaminate(train[:10], benchmarks, ngram_size=n)
    runs = []  # (label, baseline seconds or None, our result, our seconds)
    base1, *tb1 = timed(baseline, train, benchmarks, n, 1)
    base_p, *tbp = timed(baseline, train, benchmarks, n, args.procs)
    assert base1 == base_p
    for procs, tb in ((1, tb1), (args.procs, tbp)):
        res, *t = timed(
            decontaminate,
            train,
            benchmarks,
            ngram_size=n,
            normalization="basic",
            deduplicate=False,
            num_proc=procs,
        )
        runs.append((f"basic, {procs} proc", tb, res, t))
    extra = [("basic + dedup", "basic", True), ("strict + dedup", "strict", True)]
    for label, mode, dedup in extra:
        res, *t = timed(
            decontaminate,
            train,
            benchmarks,
            ngram_size=n,
            normalization=mode,
            deduplicate=dedup,
            num_proc=args.procs,
        )
        runs.append((f"{label}, {args.procs} proc", None, res, t))

    base_hits = {k: len(v) for k, v in base1.items()}
    head = (
        "run",
        "rows",
        "bench rows",
        "baseline s",
        "ours s",
        "ratio",
        "baseline cpu s",
        "ours cpu s",
        "cpu ratio",
        "baseline hits",
        "our hits",
        "ours ⊇ baseline",
        "planted found",
        "dups",
    )
    table = []
    ok = True
    for label, tb, res, t in runs:
        ours = {k: set(v) for k, v in res.hit_rows.items()}
        superset = all(base1[k] <= ours[k] for k in base1)
        found = all(i in ours[k] for i, ks in plants.items() for k in ks)
        ok &= superset and found
        (bw, bc), (w, c) = tb or (None, None), t
        table.append(
            (
                label,
                f"{len(train):,}",
                f"{bench_rows:,}",
                "-" if bw is None else f"{bw:.2f}",
                f"{w:.2f}",
                "-" if bw is None else f"{bw / w:.1f}x",
                "-" if bc is None else f"{bc:.2f}",
                f"{c:.2f}",
                "-" if bc is None else f"{bc / c:.1f}x",
                json.dumps(base_hits),
                json.dumps(res.hits),
                "yes" if superset else "NO",
                "yes" if found else "NO",
                str(res.duplicates),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in table:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print(f"\ncommand: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    extra_rows = {k: len(set(runs[0][2].hit_rows[k]) - base1[k]) for k in base1}
    print(
        f"rows ours flags beyond the baseline (basic): {extra_rows} "
        "(benchmark texts shorter than n words, matched whole)"
    )
    print("example match:", json.dumps(runs[0][2].examples[0], ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
