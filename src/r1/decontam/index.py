"""The benchmark side: every benchmark n-gram, once, with the set of benchmarks it occurs in.

All benchmarks are indexed together (up to 64 per index; a bit per benchmark in a uint64
mask), so the training set is read once whatever the number of benchmarks, where open-r1
reads it once per benchmark.

An index holds one table per window size. The main table has every ``ngram_size``-word
window of every benchmark text. A benchmark text shorter than ``ngram_size`` words but at
least ``min_short_words`` long has no such window; it enters a table of its own length
as a whole, so a training text that contains it whole still matches (open-r1 never
matches those: MATH-500 has problems of two to seven words, such as "Simplify
$\\sqrt{242}$."). Shorter texts still are ignored: a one-word "text" would match
everything that contains the word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from r1.decontam.ngrams import (
    encode_words,
    flatten_words,
    known_runs,
    window_hashes,
    window_starts,
    windows,
)
from r1.decontam.normalize import word_lists

MAX_BENCHMARKS_PER_INDEX = 64  # bits in a uint64 mask


@dataclass
class Table:
    """Distinct benchmark windows of one size, sorted by hash."""

    size: int
    hashes: np.ndarray  # (m,) uint64, ascending
    ids: np.ndarray  # (m, size) int64 word ids, to confirm hash hits exactly
    masks: np.ndarray  # (m,) uint64, bit b set if benchmark b of the index has the window
    first: np.ndarray  # (vocab + 1,) bool, True for ids that begin some window: a cheap
    # filter that spares hashing training positions that cannot begin a match
    collisions: bool  # whether two different windows share a hash (lookups then pair all)


@dataclass
class BenchmarkIndex:
    """Vocabulary and window tables of up to 64 benchmarks."""

    names: list[str]
    normalization: str
    ngram_size: int
    vocab: pa.Array
    tables: list[Table]  # the ngram_size table first, then short whole texts by length
    short_first: np.ndarray  # (vocab + 1,) bool: ids that begin a short whole text
    normalized: dict[str, list[str]]  # per benchmark, its normalised texts (for examples)


def _table(ids: np.ndarray, starts: np.ndarray, bench: np.ndarray, size: int, vocab: int) -> Table:
    """Deduplicate windows (hash and ids together, so colliding windows stay apart)."""
    # int64 columns: the hash's bits (viewed signed) beside the word ids.
    hashes = window_hashes(ids, starts, size).view(np.int64)
    rows = np.column_stack([hashes, windows(ids, starts, size).astype(np.int64)])
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    masks = np.zeros(len(unique), dtype=np.uint64)
    np.bitwise_or.at(masks, inverse.ravel(), np.left_shift(np.uint64(1), bench.astype(np.uint64)))
    # np.unique sorted the hashes as signed numbers; lookups need unsigned order.
    order = np.argsort(unique[:, 0].view(np.uint64), kind="stable")
    unique, masks = unique[order], masks[order]
    first = np.zeros(vocab + 1, dtype=bool)
    first[unique[:, 1]] = True
    hashes = np.ascontiguousarray(unique[:, 0]).view(np.uint64)
    collisions = bool(np.any(hashes[1:] == hashes[:-1]))
    return Table(size, hashes, unique[:, 1:].copy(), masks, first, collisions)


def build_index(
    benchmarks: dict[str, list[str]],
    ngram_size: int,
    normalization: str,
    min_short_words: int,
) -> BenchmarkIndex:
    """Index up to 64 benchmarks; raise ``ValueError`` for one that can never match."""
    names = list(benchmarks)
    if len(names) > MAX_BENCHMARKS_PER_INDEX:
        raise ValueError(f"an index holds at most {MAX_BENCHMARKS_PER_INDEX} benchmarks")
    lists = word_lists([t for n in names for t in benchmarks[n]], normalization)
    doc_bench = np.repeat(np.arange(len(names)), [len(benchmarks[n]) for n in names])
    words, offsets = flatten_words(lists)
    vocab = pc.unique(words)
    ids = encode_words(words, vocab)
    lengths = np.diff(offsets)
    word_doc = np.repeat(np.arange(len(lengths)), lengths)

    tables = []
    starts = window_starts(known_runs(ids, offsets), ngram_size)
    if len(starts):
        tables.append(_table(ids, starts, doc_bench[word_doc[starts]], ngram_size, len(vocab)))
    for size in sorted(set(lengths[(lengths >= min_short_words) & (lengths < ngram_size)])):
        docs = np.flatnonzero(lengths == size)
        tables.append(_table(ids, offsets[docs], doc_bench[docs], int(size), len(vocab)))

    covered = np.zeros(len(names), dtype=bool)
    for t in tables:
        for b in range(len(names)):
            covered[b] |= bool(np.any(t.masks & np.uint64(1 << b)))
    for b in np.flatnonzero(~covered):
        raise ValueError(
            f"benchmark {names[b]!r} yields no n-grams: every text is empty or shorter than "
            f"min_short_words={min_short_words} words after {normalization!r} normalisation"
        )
    joined = pc.fill_null(
        pc.binary_join(lists, pa.scalar(" ", lists.type.value_type)), ""
    ).to_pylist()
    bounds = np.concatenate([[0], np.cumsum([len(benchmarks[n]) for n in names])])
    normalized = {n: joined[bounds[i] : bounds[i + 1]] for i, n in enumerate(names)}
    short_first = np.zeros(len(vocab) + 1, dtype=bool)
    for t in tables:
        if t.size < ngram_size:
            short_first |= t.first
    return BenchmarkIndex(names, normalization, ngram_size, vocab, tables, short_first, normalized)
