"""The training side: find, in a chunk of normalised strings, windows equal to benchmark ones.

Filter, then confirm: the main table's window hash is computed at every word position and
probed in the table's bitmap; only the few positions that pass are looked up in the sorted
hashes, checked to lie inside one string, and compared byte for byte with the benchmark
window. Short whole texts are looked for only where the first two words begin one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from r1.decontam.index import BenchmarkIndex, Table
from r1.decontam.ngrams import Words, all_window_hashes, same_text, window_hashes, window_text


@dataclass
class Matches:
    """Confirmed matching windows of a chunk: where they start, how long, which benchmarks."""

    offsets: np.ndarray  # word offsets of the chunk's strings
    starts: np.ndarray  # (k,) int64 flat word position of each matching window
    sizes: np.ndarray  # (k,) int64 window length in words
    masks: np.ndarray  # (k,) uint64 benchmarks (bits of the index) that hold the window


def _confirm(
    words: Words, starts: np.ndarray, hashes: np.ndarray, table: Table
) -> tuple[np.ndarray, np.ndarray]:
    """(window starts, table entries) of the windows at ``starts`` (with these hashes)
    that lie inside one string and equal a table entry exactly."""
    # Inside one string: the window ends no later than the string of its first word.
    string = np.searchsorted(words.offsets, starts, side="right") - 1
    inside = starts + table.size <= words.offsets[string + 1]
    starts, hashes = starts[inside], hashes[inside]
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
    text, off = window_text(words, pos, table.size)
    same = same_text(text, off, np.arange(len(pos)), table.text, table.text_offsets, entry)
    return pos[same], entry[same]


def scan(words: Words, index: BenchmarkIndex) -> Matches:
    """All windows of ``words`` (any size the index has) equal to a benchmark one."""
    short = None
    if index.short_starts is not None:
        # One pass finds where any short whole text could begin; each short table then
        # hashes only those positions.
        short = index.short_starts.test(all_window_hashes(words.hashes, index.short_lead))
    starts, sizes, masks = [], [], []
    for table in index.tables:
        if table.size == index.ngram_size:
            hashes = all_window_hashes(words.hashes, table.size)
            cand = table.bitmap.test(hashes)
            pos, entry = _confirm(words, cand, hashes[cand], table)
        else:
            cand = short[short + table.size <= len(words.hashes)]
            pos, entry = _confirm(words, cand, window_hashes(words.hashes, cand, table.size), table)
        starts.append(pos)
        sizes.append(np.full(len(pos), table.size, dtype=np.int64))
        masks.append(table.masks[entry])
    if not starts:
        empty = np.zeros(0, dtype=np.int64)
        return Matches(words.offsets, empty, empty, np.zeros(0, dtype=np.uint64))
    return Matches(
        words.offsets, np.concatenate(starts), np.concatenate(sizes), np.concatenate(masks)
    )
