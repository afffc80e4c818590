"""The training side: find, in a chunk of normalised strings, windows equal to benchmark ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from r1.decontam.index import BenchmarkIndex, Table
from r1.decontam.ngrams import (
    encode_words,
    flatten_words,
    known_runs,
    window_hashes,
    window_starts,
    windows,
)


@dataclass
class Matches:
    """Confirmed matching windows of a chunk: where they start, how long, which benchmarks."""

    offsets: np.ndarray  # word offsets of the chunk's strings
    starts: np.ndarray  # (k,) int64 flat word position of each matching window
    sizes: np.ndarray  # (k,) int64 window length in words
    masks: np.ndarray  # (k,) uint64 benchmarks (bits of the index) that hold the window


def _lookup(
    ids: np.ndarray, run: np.ndarray, table: Table, candidates: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(window starts, table entries) of windows whose ids equal a table entry, among
    ``candidates`` (sorted positions whose word may begin one; None: all positions)."""
    if candidates is None:
        candidates = np.flatnonzero(table.first[ids])
    else:
        candidates = candidates[table.first[ids[candidates]]]
    starts = window_starts(run, table.size, candidates)
    hashes = window_hashes(ids, starts, table.size)
    lo = np.searchsorted(table.hashes, hashes, side="left")
    if table.collisions:
        # Several entries share a hash: pair the window with each of them; the exact
        # comparison below keeps the one that really is equal, if any.
        count = np.searchsorted(table.hashes, hashes, side="right") - lo
    else:
        count = (table.hashes[np.minimum(lo, len(table.hashes) - 1)] == hashes).astype(np.int64)
    hit = count > 0
    starts, lo, count = starts[hit], lo[hit], count[hit]
    pos = np.repeat(starts, count)
    first = np.repeat(np.cumsum(count) - count, count)
    entry = np.repeat(lo, count) + (np.arange(len(pos)) - first)
    same = np.all(windows(ids, pos, table.size) == table.ids[entry], axis=1)
    return pos[same], entry[same]


def scan(lists: pa.Array, index: BenchmarkIndex) -> Matches:
    """All windows of the word ``lists`` (any size the index has) equal to a benchmark one."""
    words, offsets = flatten_words(lists)
    ids = encode_words(words, index.vocab)
    run = known_runs(ids, offsets)
    # One pass finds where any short whole text could begin; each short table then
    # filters that short list instead of every word again.
    short = np.flatnonzero(index.short_first[ids]) if len(index.tables) > 1 else None
    starts, sizes, masks = [], [], []
    for table in index.tables:
        pos, entry = _lookup(ids, run, table, short if table.size < index.ngram_size else None)
        starts.append(pos)
        sizes.append(np.full(len(pos), table.size, dtype=np.int64))
        masks.append(table.masks[entry])
    if not starts:
        empty = np.zeros(0, dtype=np.int64)
        return Matches(offsets, empty, empty, np.zeros(0, dtype=np.uint64))
    return Matches(offsets, np.concatenate(starts), np.concatenate(sizes), np.concatenate(masks))
