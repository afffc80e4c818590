"""What every backend returns for one prompt, and the text clean-up they share.

distilabel 1.5.3's LLMs return ``{"generations", "statistics"}`` where the statistics are
token counts re-computed by re-encoding text (transformers, vllm prompt side) or summed over
all `n` choices (openai), and no finish reasons. The stage needs, per prompt, the exact
completion length of every generation and why it stopped, so our LLMs return this richer
record from `r1_generate` instead.
"""

from __future__ import annotations

import re
from typing import Any

# Output columns the task adds to each row; names are the stage contract's.
OUTPUT_COLUMNS = ("prompt", "generations", "finish_reasons", "prompt_tokens", "completion_tokens", "model_name")
# Bookkeeping columns that travel with a row through the pipeline and never reach the output.
INVALID_UTF8_COLUMN = "_r1_invalid_utf8"
ERROR_COLUMN = "_r1_error"

# Lone UTF-16 surrogates: what a server's JSON carries when it detokenised half of a multi-byte
# character ("\udcff"). Python keeps them in `str`, but they are not valid UTF-8, so pyarrow
# (and every parquet reader) refuses them; we replace each with U+FFFD, as `bytes.decode(...,
# errors="replace")` does for invalid bytes.
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(text: str | None) -> tuple[str, bool]:
    """``(text that encodes as UTF-8, whether anything was replaced)``; None becomes ""."""
    if text is None:
        return "", False
    cleaned, count = _SURROGATES.subn("\ufffd", text)
    return cleaned, count > 0


def result(generations: list, finish_reasons: list[str], prompt_tokens: int | None,
           completion_tokens: list[int | None]) -> dict[str, Any]:
    """One prompt's successful record, with texts made safe for parquet."""
    cleaned = [clean_text(g) for g in generations]
    return {
        "generations": [c[0] for c in cleaned],
        "finish_reasons": list(finish_reasons),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": list(completion_tokens),
        INVALID_UTF8_COLUMN: sum(bad for _, bad in cleaned),
        ERROR_COLUMN: None,
    }


def failure(error: str) -> dict[str, Any]:
    """One prompt's record when the backend gave up on it (after its retries)."""
    return {
        "generations": None,
        "finish_reasons": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        INVALID_UTF8_COLUMN: 0,
        ERROR_COLUMN: error,
    }
