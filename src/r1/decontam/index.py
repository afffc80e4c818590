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

Each table keeps its windows' text (the words, one space after each) so that training hash
hits are confirmed byte for byte, and a bitmap of hash bits: the training side probes the
bitmap at every position (one cache-resident gather) and goes to the sorted hashes only for
the few percent that pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from r1.decontam.ngrams import Words, same_text, split_words, window_hashes, window_text
from r1.decontam.normalize import normalize_batch, prepare

MAX_BENCHMARKS_PER_INDEX = 64  # bits in a uint64 mask
# Bitmaps get about 64 slots per entry (so ~1.5% of non-matching probes pass), within
# these bounds: 64 KiB keeps tiny indexes cheap, 16 MiB bounds memory for huge ones.
_MIN_BITS, _MAX_BITS = 16, 24


@dataclass
class Bitmap:
    """A one-hash Bloom filter over uint64 hashes: slot = top ``bits`` bits."""

    bits: np.ndarray  # (2**b,) bool
    shift: np.uint64  # 64 - b

    @classmethod
    def of(cls, hashes: np.ndarray) -> Bitmap:
        b = int(np.clip(np.ceil(np.log2(max(len(hashes), 1) * 64)), _MIN_BITS, _MAX_BITS))
        bits = np.zeros(1 << b, dtype=bool)
        shift = np.uint64(64 - b)
        bits[hashes >> shift] = True
        return cls(bits, shift)

    def test(self, hashes: np.ndarray) -> np.ndarray:
        """Indices of ``hashes`` that may be in the set (all that are, a few that are not)."""
        return np.flatnonzero(np.take(self.bits, hashes >> self.shift))  # take: faster than []


@dataclass
class Table:
    """Distinct benchmark windows of one size, sorted by hash."""

    size: int
    hashes: np.ndarray  # (m,) uint64, ascending
    masks: np.ndarray  # (m,) uint64, bit b set if benchmark b of the index has the window
    text: np.ndarray  # uint8: entry i's words, a space after each, at text[off[i]:off[i+1]]
    text_offsets: np.ndarray  # (m + 1,) int64
    bitmap: Bitmap  # of ``hashes``
    collisions: bool  # whether two different windows share a hash (lookups then pair all)


@dataclass
class BenchmarkIndex:
    """Window tables of up to 64 benchmarks."""

    names: list[str]
    normalization: str
    ngram_size: int
    tables: list[Table]  # the ngram_size table first if any, then short whole texts by length
    short_lead: int  # words of a short text's start that ``short_starts`` holds (1 or 2)
    short_starts: Bitmap | None  # of short texts' leading words (None: none)
    normalized: dict[str, list[str]]  # per benchmark, its normalised texts (for examples)


def _table(words: Words, starts: np.ndarray, bench: np.ndarray, size: int) -> Table:
    """Deduplicate windows exactly: by hash, and by text where hashes tie."""
    hashes = window_hashes(words.hashes, starts, size)
    text, off = window_text(words, starts, size)
    order = np.argsort(hashes, kind="stable")
    hashes, bench = hashes[order], bench[order]
    # Adjacent windows of equal hash: the same text (a repeated n-gram, merged) or, very
    # rarely, a collision (kept apart, exactly, on the slow path).
    tie = np.flatnonzero(hashes[1:] == hashes[:-1])
    repeat = same_text(text, off, order[tie], text, off, order[tie + 1])
    if repeat.all():
        new = np.ones(len(hashes), dtype=bool)
        new[tie + 1] = False
        group = np.cumsum(new) - 1
        rep = order[new]  # a window of each distinct text
    else:
        key = {}
        group = np.array(
            [
                key.setdefault((int(h), text[off[i] : off[i + 1]].tobytes()), len(key))
                for h, i in zip(hashes, order, strict=True)
            ],
            dtype=np.int64,
        )
        rep = np.zeros(len(key), dtype=np.int64)
        rep[group[::-1]] = order[::-1]  # first window of each group
    masks = np.zeros(len(rep), dtype=np.uint64)
    np.bitwise_or.at(masks, group, np.left_shift(np.uint64(1), bench.astype(np.uint64)))
    ehashes = np.zeros(len(rep), dtype=np.uint64)
    ehashes[group] = hashes  # groups are numbered in hash order, so these ascend
    lens = off[rep + 1] - off[rep]
    eoff = np.zeros(len(rep) + 1, dtype=np.int64)
    np.cumsum(lens, out=eoff[1:])
    seg_pos = np.arange(eoff[-1], dtype=np.int64) + np.repeat(off[rep] - eoff[:-1], lens)
    return Table(
        size,
        ehashes,
        masks,
        text[seg_pos],
        eoff,
        Bitmap.of(ehashes),
        bool(np.any(ehashes[1:] == ehashes[:-1])),
    )


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
    texts = [t for n in names for t in benchmarks[n]]
    words = split_words(prepare(texts, normalization))
    doc_bench = np.repeat(np.arange(len(names)), [len(benchmarks[n]) for n in names])
    offsets = words.offsets
    lengths = np.diff(offsets)
    word_doc = np.repeat(np.arange(len(lengths)), lengths)

    tables, short_docs = [], []
    pos = np.arange(len(word_doc), dtype=np.int64)
    starts = pos[pos + ngram_size <= offsets[word_doc + 1]]  # windows inside one text
    if len(starts):
        tables.append(_table(words, starts, doc_bench[word_doc[starts]], ngram_size))
    for size in sorted(set(lengths[(lengths >= min_short_words) & (lengths < ngram_size)])):
        docs = np.flatnonzero(lengths == size)
        short_docs.append(docs)
        tables.append(_table(words, offsets[docs], doc_bench[docs], int(size)))

    covered = np.zeros(len(names), dtype=bool)
    for t in tables:
        for b in range(len(names)):
            covered[b] |= bool(np.any(t.masks & np.uint64(1 << b)))
    for b in np.flatnonzero(~covered):
        raise ValueError(
            f"benchmark {names[b]!r} yields no n-grams: every text is empty or shorter than "
            f"min_short_words={min_short_words} words after {normalization!r} normalisation"
        )
    joined = normalize_batch(texts, normalization).to_pylist()
    bounds = np.concatenate([[0], np.cumsum([len(benchmarks[n]) for n in names])])
    normalized = {n: joined[bounds[i] : bounds[i + 1]] for i, n in enumerate(names)}
    # Training positions are screened for short texts by their first two words where
    # every short text has two (a far rarer pair than a single word like "what").
    short_lead, short_starts = 1, None
    if short_docs:
        short_lead = 2 if min_short_words >= 2 else 1
        lead = window_hashes(words.hashes, offsets[np.concatenate(short_docs)], short_lead)
        short_starts = Bitmap.of(lead)
    return BenchmarkIndex(
        names, normalization, ngram_size, tables, short_lead, short_starts, normalized
    )
