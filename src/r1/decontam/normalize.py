"""Text normalisation before n-gram matching: one reference function, one fast batch path.

Two modes (``NORMALIZATIONS``):

``"basic"``
    open-r1's normalisation, exactly: ``" ".join(text.lower().split())``. Words are
    whitespace-separated tokens, so ``$\\frac{1}{2}$.`` is one word, punctuation included.
``"strict"``
    Unicode NFKC, lowercase, LaTeX markup stripped, then every run of characters that is not
    a letter or digit becomes one space. ``\\dfrac``/``\\tfrac`` become ``frac``; layout-only
    commands (``\\left``, ``\\right``, ``\\big``, ``\\displaystyle``, ``\\text``, ``\\mathrm``,
    ``\\quad``, ...) are dropped, their arguments kept. So ``\\frac{1}{2}``, ``\\dfrac{1}{2}``
    and ``frac 1 2`` all become ``frac 1 2``, and ``\\text{apples}`` becomes ``apples``.

``normalize_text`` is the specification: its result is the words joined by single spaces.
``word_lists`` and ``normalize_batch`` give the same result for a whole column at once:
pure-ASCII strings go through byte tables and Arrow's C++ kernels (where Python's string
methods and these regexes have exact ASCII equivalents), the rest through
``normalize_text``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NORMALIZATIONS = ("basic", "strict")

# `\dfrac`/`\tfrac` are display variants of `\frac`: same content, so same word.
_FRAC_VARIANTS = r"\\[dt]frac"
# Layout-only LaTeX commands: they change how a formula looks, not what it says. `\b` is an
# ASCII word boundary here and in RE2 (the Arrow path), so both paths drop the same commands
# (`\left\right(` loses both; `\leftarrow` keeps its name, which is content).
_MARKUP = (
    r"\\(?:left|right|bigg?[lr]?|displaystyle|textstyle|scriptstyle|text|textbf|textit|"
    r"textrm|textnormal|mathrm|mathbf|mathit|mathbb|mathcal|mathsf|boldsymbol|operatorname|"
    r"quad|qquad|limits|nolimits)\b"
)
_FRAC_RE = re.compile(_FRAC_VARIANTS)
_MARKUP_RE = re.compile(_MARKUP, re.ASCII)
_NON_WORD_RE = re.compile(r"[\W_]+")  # Unicode-aware: keeps letters and digits of any script


def check_mode(normalization: str) -> None:
    """Raise ``ValueError`` unless ``normalization`` is one of ``NORMALIZATIONS``."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"unknown normalization {normalization!r}; expected one of {', '.join(NORMALIZATIONS)}"
        )


def normalize_text(text: str, normalization: str = "basic") -> str:
    """Normalise one string; the result is its words joined by single spaces."""
    check_mode(normalization)
    if normalization == "basic":
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text).lower()
    text = _FRAC_RE.sub(" frac", text)
    text = _MARKUP_RE.sub(" ", text)
    return " ".join(_NON_WORD_RE.sub(" ", text).split())


def _byte_table(normalization: str) -> np.ndarray:
    """A byte -> byte table that does, on ASCII text, what the mode does per character."""
    table = np.arange(256, dtype=np.uint8)
    table[ord("A") : ord("Z") + 1] += 32  # lowercase
    if normalization == "basic":
        table[[ord(c) for c in _PY_ASCII_SPACE]] = ord(" ")
    else:
        keep = set(range(ord("a"), ord("z") + 1)) | set(range(ord("0"), ord("9") + 1))
        table[[c for c in range(128) if c not in keep and not ord("A") <= c <= ord("Z")]] = ord(" ")
    return table


# Python's str.split() whitespace within ASCII: note \x1c-\x1f, which Arrow's whitespace
# functions do not treat as spaces; the byte table turns all of them into plain spaces.
_PY_ASCII_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_TABLES = {mode: _byte_table(mode) for mode in NORMALIZATIONS}


def _translate(arr: pa.Array, table: np.ndarray) -> pa.Array:
    """Map every byte of a string array through ``table`` (one numpy gather, no copy of
    offsets). Only safe where the result is used for ASCII strings: a table that touches
    bytes >= 0x80 would corrupt UTF-8, and these tables do not."""
    validity, offsets, data = arr.buffers()
    if data is None:  # all strings empty
        return arr
    mapped = table[np.frombuffer(data, dtype=np.uint8)]
    return pa.LargeStringArray.from_buffers(
        len(arr), offsets, pa.py_buffer(mapped), validity, offset=arr.offset
    )


def _as_large(texts: Sequence[str] | pa.Array) -> pa.Array:
    arr = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.large_string())
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def prepare(texts: Sequence[str] | pa.Array, normalization: str = "basic") -> pa.Array:
    """The least work after which ASCII lowercasing and a split on ASCII whitespace (what
    ``ngrams.split_words`` does to raw bytes) give ``normalize_text(t).split()``.

    Pure-ASCII strings are handled by byte tables and Arrow kernels: a per-string Python
    loop would cost more than the whole n-gram search. For "basic" that is nothing at all
    (the byte scan lowercases and splits). Arrow's regex, lowercasing and whitespace rules
    are not Python's outside ASCII, so other strings are replaced by ``normalize_text``'s
    result (rare in these data sets)."""
    check_mode(normalization)
    arr = _as_large(texts)
    if normalization == "strict":
        out = _translate(arr, _TABLES["basic"])  # lowercase (and tidy spaces) first
        out = pc.replace_substring_regex(out, pattern=_FRAC_VARIANTS, replacement=" frac")
        out = pc.replace_substring_regex(out, pattern=_MARKUP, replacement=" ")
        out = _translate(out, _TABLES["strict"])
    else:
        out = arr
    _, _, data = arr.buffers()
    if data is not None and (np.frombuffer(data, dtype=np.uint8) >= 0x80).any():
        other = pc.invert(pc.string_is_ascii(arr))
        if pc.any(other).as_py():
            texts = pc.filter(arr, other).to_pylist()
            fixed = [normalize_text(t, normalization) for t in texts]
            out = pc.replace_with_mask(out, other, pa.array(fixed, type=pa.large_string()))
    return out


def word_lists(texts: Sequence[str] | pa.Array, normalization: str = "basic") -> pa.Array:
    """The words of each string after normalisation, as an Arrow list array; element ``i``
    equals ``normalize_text(texts[i]).split()`` (an empty string gives a null list)."""
    out = prepare(texts, normalization)
    if normalization == "basic":
        out = _translate(out, _TABLES["basic"])  # lowercase; every ASCII space to " "
    # Only spaces separate words now; trimming first stops the split from making empty
    # words at the ends, and a string left empty becomes null (no words, not one "").
    out = pc.utf8_trim(out, characters=" ")
    out = pc.if_else(pc.equal(out, ""), pa.scalar(None, out.type), out)
    return pc.ascii_split_whitespace(out)


def normalize_batch(texts: Sequence[str] | pa.Array, normalization: str = "basic") -> pa.Array:
    """Normalise many strings at once; element ``i`` equals ``normalize_text(texts[i])``."""
    lists = word_lists(texts, normalization)
    joined = pc.binary_join(lists, pa.scalar(" ", lists.type.value_type))
    return pc.fill_null(joined, pa.scalar("", lists.type.value_type))
