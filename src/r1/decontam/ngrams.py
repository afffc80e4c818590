"""Words to 64-bit hashes, and word windows (n-grams) to 64-bit hashes, all vectorised.

A chunk of text is handled as one flat byte buffer (Arrow's string layout): numpy finds
every word boundary in one pass over the bytes, and hashes every word straight from its
bytes (up to eight at a time, read as one little-endian integer). There is no vocabulary
and no per-word string object: building and probing one (Arrow's split and ``index_in``)
cost more than everything else put together.

A window hash is a polynomial in the word hashes modulo 2**64. For the main table it is
computed at every position at once by doubling (hashes of 2, 4, 8 words from contiguous
slices of the shorter ones, no gathers); for the few candidate positions of short tables
by Horner's rule over gathers. Both give the same value.

Different words or windows can share a hash; callers confirm every hash hit by comparing
the window's bytes with the benchmark's (``window_text``), so a collision costs a
comparison, never a false match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# Odd 64-bit multiplier (golden-ratio constant) combining word hashes into window hashes.
# Module-level, read at each call, so tests can degrade it to force collisions.
MULT = np.uint64(0x9E3779B97F4A7C15)
# Word hashing constants (separate from MULT: degrading MULT must not merge words).
_WORD_MULT = np.uint64(0xC2B2AE3D27D4EB4F)
_WORD_MIX = np.uint64(0x165667B19E3779F9)
_U64 = (1 << 64) - 1
# Bytes k..7 cleared: keeps the first k bytes of an 8-byte little-endian read (k = 0..8).
_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [_U64], dtype=np.uint64)


@dataclass
class Words:
    """The words of a batch of strings: where each lies in ``buf`` and its hash."""

    buf: np.ndarray  # uint8 text, ASCII-lowercased, with 8 zero bytes of padding
    starts: np.ndarray  # (w,) int64 byte offset of each word in buf
    lens: np.ndarray  # (w,) int64 byte length of each word
    offsets: np.ndarray  # (strings + 1,) int64 word offsets of each string
    hashes: np.ndarray  # (w,) uint64 hash of each word's bytes


def split_words(arr: pa.Array) -> Words:
    """Lowercase ASCII letters and split on Python's ASCII whitespace (``str.split``'s set
    within ASCII, ``\\x1c``-``\\x1f`` included), for every string of ``arr`` at once.

    ``arr`` must already be normalised past that point (``normalize.prepare``): bytes >= 0x80
    are kept as they are, which is only right for strings ``normalize_text`` has handled."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    lo, hi = (int(offsets[0]), int(offsets[-1])) if len(offsets) else (0, 0)
    b = np.frombuffer(data_buf, dtype=np.uint8)[lo:hi] if hi > lo else np.zeros(0, np.uint8)
    byte_offsets = offsets - lo
    n = len(b)

    # One scratch buffer walks b - 9, b - 28, b - 65: whitespace is 9..13 and 28..32,
    # uppercase 65..90 (uint8 arithmetic wraps, so each test is one comparison).
    t = np.subtract(b, np.uint8(9))
    word = np.zeros(n + 1, dtype=bool)  # word[i + 1]: byte i is part of a word
    inner = word[1:]
    np.greater_equal(t, 5, out=inner)
    t -= np.uint8(19)
    inner &= t >= 5
    t -= np.uint8(37)
    buf = np.zeros(n + 8, dtype=np.uint8)
    np.multiply((t < 26).view(np.uint8), np.uint8(32), out=buf[:n])  # (a shift is slower)
    buf[:n] += b

    # A word starts at byte i if byte i is a word byte and byte i - 1 is not, or byte i
    # begins a string (strings sit back to back in the buffer, so a word can end and the
    # next begin with no space between); it ends at i if byte i - 1 is a word byte and
    # byte i is not or begins a string. Byte n counts as a non-word byte.
    prev, cur = word, np.append(inner, False)  # byte i - 1, byte i is a word byte
    is_start = cur & ~prev
    is_end = prev & ~cur
    bounds = byte_offsets[1:-1]
    is_start[bounds] = cur[bounds]
    is_end[bounds] |= prev[bounds]
    starts, ends = np.flatnonzero(is_start), np.flatnonzero(is_end)
    lens = ends - starts
    word_offsets = np.searchsorted(starts, byte_offsets, side="left").astype(np.int64)
    return Words(buf, starts, lens, word_offsets, word_hashes(buf, starts, lens))


def _read8(buf: np.ndarray) -> np.ndarray:
    """An unaligned uint64 view: element i is bytes i..i+7 of ``buf`` (little-endian)."""
    return np.ndarray((max(len(buf) - 7, 0),), dtype="<u8", buffer=buf, strides=(1,))


def word_hashes(buf: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """64-bit hash of each word's bytes: its first eight bytes (one unaligned read), then,
    for the few longer words, its last eight and any in between, mixed with the length.
    Distinct words may share a hash ("a" and "a\\x00"); matches are confirmed on bytes."""
    read = _read8(buf)
    # take(mode="clip") maps lengths over 8 to the last mask: no separate minimum pass.
    h = read[starts] & np.take(_KEEP, lens, mode="clip")
    h *= _WORD_MULT
    rest = np.flatnonzero(lens > 8)
    if len(rest):
        last = read[starts[rest] + lens[rest] - 8]  # overlaps the first read below 16 bytes
        h[rest] = (h[rest] ^ last ^ lens[rest].view(np.uint64)) * _WORD_MIX
        k = 8
        rest = rest[lens[rest] > 16]
        while len(rest):
            middle = read[starts[rest] + k] & np.take(_KEEP, lens[rest] - 8 - k, mode="clip")
            h[rest] = (h[rest] ^ middle) * _WORD_MULT
            k += 8
            rest = rest[lens[rest] > k + 8]
    return h


def _power(k: int) -> np.uint64:
    return np.uint64(pow(int(MULT), k, 1 << 64))


def all_window_hashes(h: np.ndarray, size: int) -> np.ndarray:
    """Hash of the ``size`` words from every position ``p`` (``len(h) - size + 1`` values;
    windows may run across strings, callers check). Equals ``window_hashes`` there."""
    if len(h) < size:
        return np.zeros(0, dtype=np.uint64)
    blocks = {1: h}  # block length -> hashes of that many words from each position
    k = 1
    while 2 * k <= size:
        g = blocks[k]
        blocks[2 * k] = g[:-k] * _power(k) + g[k:]
        k *= 2
    out, have = None, 0
    for k in sorted(blocks, reverse=True):  # size in binary, high bits first
        if have + k <= size:
            out = blocks[k] if out is None else out[: len(out) - k] * _power(k) + blocks[k][have:]
            have += k
    return out[: len(h) - size + 1]


def window_hashes(h: np.ndarray, starts: np.ndarray, size: int) -> np.ndarray:
    """Polynomial hash (mod 2**64) of the ``size`` word hashes from each start."""
    out = np.zeros(len(starts), dtype=np.uint64)
    for j in range(size):
        out *= MULT
        out += h[starts + j]
    return out


def window_text(words: Words, starts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The windows' words, each followed by one space, as (bytes, offsets): the text
    ``normalize_text`` gives for the window, plus a trailing space."""
    w = (starts[:, None] + np.arange(size, dtype=np.int64)).ravel()
    seg = words.lens[w] + 1
    ends = np.cumsum(seg)
    pos = np.arange(ends[-1] if len(ends) else 0, dtype=np.int64)
    pos += np.repeat(words.starts[w] - (ends - seg), seg)
    text = words.buf[pos]
    text[ends - 1] = ord(" ")
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    offsets[1:] = ends[size - 1 :: size] if len(ends) else ends
    return text, offsets


def same_text(
    a: np.ndarray,
    a_off: np.ndarray,
    ai: np.ndarray,
    b: np.ndarray,
    b_off: np.ndarray,
    bi: np.ndarray,
) -> np.ndarray:
    """Whether item ``ai[k]`` of (bytes ``a``, offsets ``a_off``) equals item ``bi[k]`` of
    (``b``, ``b_off``), for every k: lengths first, then bytes."""
    length = a_off[ai + 1] - a_off[ai]
    same = length == b_off[bi + 1] - b_off[bi]
    idx = np.flatnonzero(same & (length > 0))
    if len(idx):
        seg = length[idx]
        ends = np.cumsum(seg)
        rel = np.arange(ends[-1], dtype=np.int64) - np.repeat(ends - seg, seg)
        diff = a[rel + np.repeat(a_off[ai[idx]], seg)] != b[rel + np.repeat(b_off[bi[idx]], seg)]
        same[idx] = np.add.reduceat(diff, ends - seg) == 0
    return same
