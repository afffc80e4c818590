"""Words to integer ids, and word windows (n-grams) to 64-bit hashes, all vectorised.

Strings are handled as one flat array of words plus offsets (Arrow's list layout), so a
whole chunk of training text is split, encoded and hashed by C++/numpy loops rather than
one Python operation per word, which is where open-r1's per-n-gram ``" ".join`` and set
lookups spend their time.

Word ids index the benchmark vocabulary, shifted by one so that 0 means "not a benchmark
word": a window holding such a word cannot equal any benchmark n-gram and is skipped
before hashing is even looked at.

A window hash is a polynomial in the ids modulo 2**64. Different windows can share a hash;
callers confirm every hash hit by comparing the ids themselves, so a collision costs a
comparison, never a false match.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Odd 64-bit multiplier (golden-ratio constant); any odd value keeps the hash a bijection
# per step. Module-level so tests can degrade it to force collisions.
MULT = np.uint64(0x9E3779B97F4A7C15)


def flatten_words(lists: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Word lists (``normalize.word_lists``) -> (flat words, offsets); null lists are empty."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return pc.list_flatten(lists), offsets


def encode_words(words: pa.Array, vocab: pa.Array) -> np.ndarray:
    """Map each word to 1 + its index in ``vocab``, or 0 if absent (int32: half the memory
    traffic of int64 in the passes over every word)."""
    idx = pc.fill_null(pc.index_in(words, value_set=vocab), -1)
    return idx.to_numpy() + np.int32(1)


def known_runs(ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``run[i]``: where the run of known words (id != 0) of one string that reaches word
    ``i`` began; a window ``[p, p + size)`` is valid, inside one string and all known, iff
    ``run[p + size - 1] <= p``.

    A run restarts after an unknown word and at each string's first word. Linear passes
    only (no per-position gathers): this runs over every word of the training set."""
    pos = np.arange(1, len(ids) + 1, dtype=np.int64 if len(ids) >= 2**31 else np.int32)
    restart = np.where(ids == 0, pos, 0)  # pos is i + 1 here
    firsts = offsets[:-1][np.diff(offsets) > 0]
    restart[firsts] = np.maximum(restart[firsts], firsts)
    return np.maximum.accumulate(restart) if len(restart) else restart


def window_starts(run: np.ndarray, size: int, candidates: np.ndarray | None = None) -> np.ndarray:
    """Valid window starts (see ``known_runs``), among ``candidates`` if given (sorted)."""
    if candidates is None:
        candidates = np.arange(max(len(run) - size + 1, 0), dtype=np.int64)
    else:
        candidates = candidates[candidates + size <= len(run)]
    return candidates[run[candidates + (size - 1)] <= candidates]


def window_hashes(ids: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """Polynomial hash (mod 2**64) of the ``size`` ids from each start."""
    h = np.zeros(len(starts), dtype=np.uint64)
    for j in range(size):
        h *= MULT
        h += ids[starts + j].astype(np.uint64)
    return h


def windows(ids: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """The ids of each window, as a (len(starts), size) matrix of ``ids``' dtype."""
    return ids[starts[:, None] + np.arange(size, dtype=np.int64)]
