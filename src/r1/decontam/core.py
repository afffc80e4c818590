"""``decontaminate``: the one entry point, tying normalisation, index, scan and dedup together."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from r1.decontam.alloc import keep_freed_memory
from r1.decontam.dedup import duplicate_flags, row_digests
from r1.decontam.index import MAX_BENCHMARKS_PER_INDEX, BenchmarkIndex, build_index
from r1.decontam.match import scan
from r1.decontam.ngrams import split_words
from r1.decontam.normalize import check_mode, normalize_batch, normalize_text, prepare

log = logging.getLogger(__name__)

EXCERPT_WORDS = 12  # words of context either side of a match in an example


@dataclass
class DecontamResult:
    """What ``decontaminate`` found. Invariant: ``rows_in == len(keep) + contaminated +
    duplicates``; ``hits`` counts rows per benchmark, so a row that matches two benchmarks
    counts in both, and ``sum(hits.values())`` can exceed ``contaminated``."""

    keep: list[int]  # indices of rows kept, in input order
    hits: dict[str, int]  # benchmark -> number of training rows that matched it
    contaminated: int  # rows dropped for contamination
    duplicates: int  # rows dropped as duplicates of an earlier row (and not contaminated)
    examples: list[dict]  # readable example matches, first rows first (bounded count)
    rows_in: int = 0
    hit_rows: dict[str, list[int]] = field(default_factory=dict)  # benchmark -> row indices

    @property
    def rows_out(self) -> int:
        """Number of rows kept."""
        return len(self.keep)

    def metrics(self) -> dict:
        """The counts as a JSON-ready dict (for ``metrics/decontaminate.json``)."""
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "contaminated": self.contaminated,
            "duplicates": self.duplicates,
            "hits": dict(self.hits),
        }


def _flatten(texts: Sequence[str] | Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    """Rows of one or several strings -> (all strings, row offsets into them)."""
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise ValueError("texts must be a list of strings or a list of lists of strings")
    if all(isinstance(row, str) for row in texts):  # the common case, without a Python loop
        return list(texts), np.arange(len(texts) + 1, dtype=np.int64)
    strings: list[str] = []
    counts = []
    for i, row in enumerate(texts):
        if isinstance(row, str):
            strings.append(row)
            counts.append(1)
            continue
        if not isinstance(row, (list, tuple)):
            raise ValueError(f"texts[{i}] is a {type(row).__name__}, not a string or list")
        if not row:
            raise ValueError(f"texts[{i}] is an empty list; a row needs at least one string")
        for j, s in enumerate(row):
            if not isinstance(s, str):
                raise ValueError(f"texts[{i}][{j}] is a {type(s).__name__}, not a string")
        strings.extend(row)
        counts.append(len(row))
    return strings, np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])


def _check_benchmarks(benchmarks: dict[str, list[str]]) -> None:
    if not isinstance(benchmarks, dict) or not benchmarks:
        raise ValueError("benchmarks is empty: give at least one benchmark name -> texts")
    for name, texts in benchmarks.items():
        if isinstance(texts, str) or not isinstance(texts, Sequence) or len(texts) == 0:
            raise ValueError(f"benchmark {name!r} has no texts (expected a non-empty list)")
        for k, t in enumerate(texts):
            if not isinstance(t, str):
                raise ValueError(
                    f"benchmark {name!r} text {k} is a {type(t).__name__}, not a string"
                )


@dataclass
class _Chunk:
    """What one chunk of rows produced."""

    hit_rows: dict[str, np.ndarray]
    examples: list[tuple]  # (row, benchmark order, example dict), at most max_examples
    digests: list[int]


def _scan_chunk(
    strings: list[str],
    row_offsets: np.ndarray,
    r0: int,
    r1: int,
    indexes: list[BenchmarkIndex],
    names: list[str],
    deduplicate: bool,
    max_examples: int,
) -> _Chunk:
    """Match rows ``r0:r1`` against every index; digest them for deduplication."""
    s0, s1 = int(row_offsets[r0]), int(row_offsets[r1])
    raw = pa.array(strings[s0:s1], type=pa.large_string())
    words = {mode: split_words(prepare(raw, mode)) for mode in {i.normalization for i in indexes}}
    local_offsets = row_offsets[r0 : r1 + 1] - s0
    row_of_string = np.repeat(np.arange(r0, r1), np.diff(local_offsets))
    hit_rows: dict[str, np.ndarray] = {}
    candidates = []  # (row, bench order, mode, string, word in string, size)
    for index in indexes:
        m = scan(words[index.normalization], index)
        string_of = np.searchsorted(m.offsets, m.starts, side="right") - 1
        by_pos = np.argsort(m.starts, kind="stable")
        for b, name in enumerate(index.names):
            sel = by_pos[(m.masks[by_pos] & np.uint64(1 << b)) != 0]
            rows, first = np.unique(row_of_string[string_of[sel]], return_index=True)
            hit_rows[name] = np.union1d(hit_rows[name], rows) if name in hit_rows else rows
            for r, f in zip(rows[:max_examples], sel[first[:max_examples]], strict=True):
                s = int(string_of[f])
                at = int(m.starts[f] - m.offsets[s])
                candidates.append(
                    (int(r), names.index(name), index.normalization, s, at, int(m.sizes[f]))
                )

    examples = []
    seen = set()
    for row, bench_order, mode, s, at, size in sorted(candidates):
        if len(examples) == max_examples:
            break
        if (row, bench_order) in seen:  # matched in both modes: one example is enough
            continue
        seen.add((row, bench_order))
        words = normalize_text(strings[s0 + s], mode).split(" ")
        examples.append(
            (
                row,
                bench_order,
                {
                    "row": row,
                    "text_index": s + s0 - int(row_offsets[row]),
                    "normalization": mode,
                    "ngram": " ".join(words[at : at + size]),
                    "row_excerpt": _excerpt(words, at, size),
                },
            )
        )
    digests: list[int] = []
    if deduplicate:
        digests = row_digests(normalize_batch(raw, "strict").to_pylist(), local_offsets)
    return _Chunk(hit_rows, examples, digests)


def _excerpt(words: list[str], at: int, size: int) -> str:
    """The match in «», with ``EXCERPT_WORDS`` words of context either side."""
    lo, hi = max(0, at - EXCERPT_WORDS), min(len(words), at + size + EXCERPT_WORDS)
    return " ".join(
        (["…"] if lo > 0 else [])
        + words[lo:at]
        + ["«" + " ".join(words[at : at + size]) + "»"]
        + words[at + size : hi]
        + (["…"] if hi < len(words) else [])
    )


def _benchmark_source(index_texts: list[str], ngram: str) -> tuple[int, str]:
    """(row, excerpt) of the first benchmark text holding ``ngram`` as whole words."""
    needle = f" {ngram} "
    for k, text in enumerate(index_texts):
        at = f" {text} ".find(needle)
        if at >= 0:
            words = text.split(" ")
            start = text[:at].count(" ")  # words before the match
            return k, _excerpt(words, start, ngram.count(" ") + 1)
    return -1, ""  # unreachable for a confirmed match; kept total for safety


def decontaminate(
    texts: Sequence[str] | Sequence[Sequence[str]],
    benchmarks: dict[str, list[str]],
    *,
    ngram_size: int = 8,
    normalization: str = "basic",
    deduplicate: bool = True,
    max_examples: int = 20,
    num_proc: int | None = None,
    min_short_words: int = 2,
    chunk_rows: int = 10_000,
    progress: bool = False,
) -> DecontamResult:
    """Drop training rows that share a word n-gram with any benchmark text, and duplicates.

    See the package docstring (``r1.decontam``) for the matching rules.
    """
    if isinstance(ngram_size, bool) or not isinstance(ngram_size, int) or ngram_size < 1:
        raise ValueError(f"ngram_size must be an integer >= 1, got {ngram_size!r}")
    check_mode(normalization)
    if (
        isinstance(min_short_words, bool)
        or not isinstance(min_short_words, int)
        or min_short_words < 1
    ):
        raise ValueError(f"min_short_words must be an integer >= 1, got {min_short_words!r}")
    if not isinstance(max_examples, int) or max_examples < 0:
        raise ValueError(f"max_examples must be an integer >= 0, got {max_examples!r}")
    if num_proc is not None and (not isinstance(num_proc, int) or num_proc < 1):
        raise ValueError(f"num_proc must be None or an integer >= 1, got {num_proc!r}")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    _check_benchmarks(benchmarks)
    strings, row_offsets = _flatten(texts)
    n_rows = len(row_offsets) - 1
    names = list(benchmarks)

    groups = [
        names[i : i + MAX_BENCHMARKS_PER_INDEX]
        for i in range(0, len(names), MAX_BENCHMARKS_PER_INDEX)
    ]
    # "strict" matches under both normalisations: stripping punctuation-only words can
    # shrink an n-gram that basic matching finds below n words, and strict must not miss
    # what basic finds.
    modes = ["basic"] if normalization == "basic" else ["basic", "strict"]
    indexes = [
        build_index({n: benchmarks[n] for n in g}, ngram_size, mode, min_short_words)
        for mode in modes
        for g in groups
    ]
    workers = num_proc or len(os.sched_getaffinity(0))
    keep_freed_memory()  # chunks reuse each other's freed arrays (see alloc)
    bounds = list(range(0, n_rows, chunk_rows)) + [n_rows]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))

    def work(span: tuple[int, int]) -> _Chunk:
        return _scan_chunk(
            strings, row_offsets, span[0], span[1], indexes, names, deduplicate, max_examples
        )

    # Threads, not processes: the heavy steps are Arrow and numpy kernels that release the
    # GIL, and threads share the strings and the index without pickling them.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        chunks = list(
            tqdm(
                pool.map(work, spans), total=len(spans), disable=not progress, desc="decontaminate"
            )
        )

    hit_rows = {
        n: np.concatenate([c.hit_rows[n] for c in chunks]).astype(np.int64)
        if chunks
        else np.zeros(0, dtype=np.int64)
        for n in names
    }
    contaminated = np.zeros(n_rows, dtype=bool)
    for rows in hit_rows.values():
        contaminated[rows] = True
    duplicate = np.zeros(n_rows, dtype=bool)
    if deduplicate:
        duplicate[:] = duplicate_flags([d for c in chunks for d in c.digests])
        duplicate &= ~contaminated  # a contaminated row counts once, as contaminated
    keep = np.flatnonzero(~contaminated & ~duplicate)

    examples = []
    texts_of = {(idx.normalization, n): idx.normalized[n] for idx in indexes for n in idx.names}
    for _row, bench_order, ex in sorted(
        (e for c in chunks for e in c.examples), key=lambda e: e[:2]
    )[:max_examples]:
        name = names[bench_order]
        bench_row, bench_excerpt = _benchmark_source(
            texts_of[ex["normalization"], name], ex["ngram"]
        )
        examples.append(
            {
                **ex,
                "benchmark": name,
                "benchmark_row": bench_row,
                "benchmark_excerpt": bench_excerpt,
            }
        )

    result = DecontamResult(
        keep=keep.tolist(),
        hits={n: len(r) for n, r in hit_rows.items()},
        contaminated=int(contaminated.sum()),
        duplicates=int(duplicate.sum()),
        examples=examples,
        rows_in=n_rows,
        hit_rows={n: r.tolist() for n, r in hit_rows.items()},
    )
    log.info(
        "decontaminate: %d rows in, %d out; %d contaminated %s; %d duplicates",
        n_rows,
        result.rows_out,
        result.contaminated,
        result.hits,
        result.duplicates,
    )
    return result
