"""Exact and near-exact duplicates within the training set.

Definition: two rows are duplicates when their texts are identical after **strict**
normalisation (see ``normalize``), string by string. That makes "near-exact" mean: equal
up to case, Unicode form, whitespace, punctuation and LaTeX layout markup; ``What is
$\\frac{1}{2}$?`` and ``what is \\dfrac{1}{2}`` are duplicates, ``What is 1/3?`` is not.
The first row of each group is kept and later ones are dropped. No fuzzy similarity
(MinHash, edit distance): a changed number or word is a different problem, and keeping it
is the right call for math and code data, where one token changes the answer.

A row is compared as a whole (all its strings, in order): with prompt and completions, two
rows that share a prompt but not a completion are both kept.

Each row is reduced to a 128-bit xxh3 digest rather than kept as text, so memory stays
small for long completions; two different texts sharing a digest is a 2**-128 event.
"""

from __future__ import annotations

from collections.abc import Sequence

import xxhash

from r1.decontam.normalize import normalize_batch

# Joins the strings of a row; strict-normalised text is letters, digits and spaces only,
# so this separator cannot occur inside a string and ["a b"] differs from ["a", "b"].
_SEP = "\x00"


def row_digests(strict: Sequence[str], string_offsets: Sequence[int]) -> list[int]:
    """One digest per row, from its strict-normalised strings ``strict[o[i]:o[i+1]]``."""
    digest = xxhash.xxh3_128_intdigest
    return [
        digest(_SEP.join(strict[string_offsets[i] : string_offsets[i + 1]]))
        for i in range(len(string_offsets) - 1)
    ]


def duplicate_flags(digests: Sequence[int]) -> list[bool]:
    """``True`` for each row whose digest appeared in an earlier row."""
    seen: set[int] = set()
    flags = []
    for d in digests:
        flags.append(d in seen)
        seen.add(d)
    return flags


def find_duplicates(texts: Sequence[str]) -> list[int]:
    """Indices of single-string rows that duplicate an earlier row (strict normalisation)."""
    strict = normalize_batch(list(texts), "strict").to_pylist()
    flags = duplicate_flags(row_digests(strict, range(len(strict) + 1)))
    return [i for i, f in enumerate(flags) if f]
