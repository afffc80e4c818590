"""N-gram decontamination of training data against benchmarks, and deduplication.

API::

    from r1.decontam import decontaminate, DecontamResult

    result = decontaminate(
        texts,                 # list[str] (one string a row) or list[list[str]]
                               # (e.g. [prompt, completion, ...] a row)
        benchmarks,            # dict[name, list[str]], e.g. {"math_500": [...], "aime_2024": [...]}
        ngram_size=8,          # words per n-gram (>= 1)
        normalization="basic", # "basic" (open-r1's) or "strict" (see below)
        deduplicate=True,      # also drop exact / near-exact duplicate rows
        max_examples=20,       # readable example matches to return
        num_proc=None,         # threads; None = the CPUs this process may use
        min_short_words=2,     # shortest benchmark text matched whole (see below)
        chunk_rows=10_000,     # rows per unit of work
        progress=False,        # tqdm bar over chunks
    )
    result.keep          # list[int]: indices of kept rows, input order
    result.hits          # dict[str, int]: benchmark -> training rows that matched it
    result.hit_rows      # dict[str, list[int]]: benchmark -> those rows' indices
    result.contaminated  # rows dropped for contamination
    result.duplicates    # rows dropped as duplicates (not counted as contaminated too)
    result.examples      # list[dict]: row, text_index, normalization, ngram, row_excerpt,
                         #   benchmark, benchmark_row, benchmark_excerpt (match «marked»)
    result.rows_in, result.rows_out, result.metrics()

Rules:

- Normalisation (``normalize``): ``"basic"`` is open-r1's (lowercase, whitespace collapsed,
  words split on whitespace); ``"strict"`` also applies NFKC, strips LaTeX layout markup
  and turns every non-alphanumeric run into a space, so ``\\frac{1}{2}`` matches
  ``frac 1 2``. Both sides (training and benchmark) use the same mode. ``"strict"``
  matches under both modes and flags a row if either does: stripping punctuation-only
  words ("$", "=", "-") can shrink a span that basic finds below ``ngram_size`` words, and
  strict must catch everything basic catches.
- A row is contaminated if any of its strings contains a run of ``ngram_size`` consecutive
  words that also occurs in a benchmark text. It counts once for each benchmark it matches.
- Short texts: a benchmark text of fewer than ``ngram_size`` words (but at least
  ``min_short_words``) matches a training string that contains all of it, word for word
  and in order. open-r1 skips such texts; MATH-500 has 30 of them under 8 words ("Simplify
  $\\sqrt{242}$."). A training string shorter than ``ngram_size`` words can match only such
  a whole short benchmark text; being a fragment of a benchmark text is not enough.
- Duplicates (``dedup``): rows identical, string by string, after strict normalisation.
  The first is kept. A row that is contaminated is counted as contaminated, not duplicate.
- Matching is exact: n-grams are hashed to 64 bits for speed, and every hash hit is
  confirmed by comparing the words, so there are no false positives from collisions.
- Errors: ``ValueError`` naming the problem for ``ngram_size < 1``, an unknown
  normalisation, no benchmarks or a benchmark with no texts (or none long enough to give an
  n-gram), and a non-string text.
"""

from r1.decontam.core import DecontamResult, decontaminate
from r1.decontam.dedup import find_duplicates
from r1.decontam.normalize import NORMALIZATIONS, normalize_batch, normalize_text

__all__ = [
    "NORMALIZATIONS",
    "DecontamResult",
    "decontaminate",
    "find_duplicates",
    "normalize_batch",
    "normalize_text",
]
