"""Pass-rate and correctness filtering of distilled generations (open-r1's pass-rate filter).

Input: one row per prompt with its ``generations`` (and ``finish_reasons``,
``completion_tokens``), a gold answer (``solution``) and/or code tests
(``verification_info``). The rules, in order:

1. **Verifier of a row.** A row whose verification value is non-null is a *code* row: each
   generation's last fenced program runs against the tests in the sandbox, and is *correct*
   when it passes every test. ``code_scorer`` says whose scorer: the ``code`` reward's (the
   tests in ``verification_info``), or the ``cf_code`` / ``ioi_code`` reward's (the row's
   open-r1/codeforces or open-r1/ioi columns: tests, time and memory limits, checker,
   graders; a compile error, time or memory limit fails). Otherwise a row with a non-empty
   gold is a *math* row: each generation is scored by math-verify against the gold
   (:func:`r1.rewards.score_math`, the accuracy reward's verifier), correct when it scores
   1.0. A row with neither is *unscorable*.
2. **Scores.** Every generation is scored as it is, truncated ones included (the verifier
   does not look at ``finish_reason``). A score of None (unparseable gold, malformed tests,
   a sandbox error) makes that generation unscorable: it counts neither way.
3. **Pass rate** of a prompt = correct / scorable generations. A prompt with no scorable
   generation is *unscorable*: ``unscorable="drop"`` drops it (open-r1's behaviour);
   ``"keep"`` keeps it unfiltered (pass rate null, ``correct`` null for each generation,
   only truncated generations removed), whatever the range and ``keep``.
4. **Range.** A scorable prompt is kept when ``pass_rate_min <= rate <= pass_rate_max``,
   where ``include_min`` / ``include_max`` false make that bound strict (open-r1's
   ``0 < rate < 1``: min 0, max 1, both excluded).
5. **Generations of a kept prompt**: those with ``finish_reason == "length"`` go when
   ``drop_truncated``; with ``keep="correct"`` only those judged correct stay (an
   unscorable generation of a scorable prompt goes too). A prompt left with
   no generation is dropped ("no_generations_left").

Each dropped prompt is counted under exactly one reason (no_generations when it had none to
start with, then unscorable, pass_rate_below_min, pass_rate_above_max,
no_generations_left); each dropped generation under the first that applies of truncated,
incorrect, prompt_dropped. So the counts add up to what went in minus what was kept.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from r1.configs import FilterConfig

log = logging.getLogger(__name__)

PER_GENERATION_COLUMNS = ("generations", "finish_reasons", "completion_tokens")
PROMPT_DROP_REASONS = (
    "no_generations",
    "unscorable",
    "pass_rate_below_min",
    "pass_rate_above_max",
    "no_generations_left",
)
GENERATION_DROP_REASONS = ("truncated", "incorrect", "prompt_dropped")
# A code generation is correct when it passes every test (open-r1's binary threshold).
CODE_PASS = 0.99


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, str) and not value.strip():
        return False
    return not (isinstance(value, list | tuple | dict) and not value)


def row_kind(solution: Any, verification: Any) -> str | None:
    """``"code"`` if the row has tests, else ``"math"`` if it has a gold, else None.

    >>> row_kind("$12$", None), row_kind(None, {"test_cases": [1]}), row_kind("", None)
    ('math', 'code', None)
    """
    if _present(verification):
        return "code"
    if _present(solution):
        return "math"
    return None


def is_correct(kind: str | None, score: float | None) -> bool | None:
    """Whether a score means a correct generation (None: unscorable)."""
    if score is None or kind is None:
        return None
    if kind == "code":
        return score > CODE_PASS
    return score >= 1.0


def score_generations(
    generations: Sequence[Sequence[str]],
    solutions: Sequence[Any],
    verifications: Sequence[Any],
    cfg: FilterConfig,
    problems: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[list[str | None], list[list[float | None]]]:
    """Per row its kind, and per generation its verifier's score (None where unscorable).

    Math generations go to the math-verify pool in one batch; the sandbox is built only if
    there are code rows (its construction checks that it can run, raising
    :class:`r1.sandbox.SandboxUnavailable` otherwise), and closed afterwards. With
    ``cfg.code_scorer`` ``cf_code`` or ``ioi_code``, ``problems`` gives per row the columns
    of :func:`scorer_columns` (time and memory limits, tests, checker, ...).
    """
    n = len(generations)
    if not (len(solutions) == len(verifications) == n):
        raise ValueError(
            f"{n} rows of generations, {len(solutions)} solutions, {len(verifications)} verifications"
        )
    kinds = [row_kind(s, v) for s, v in zip(solutions, verifications, strict=True)]
    scores: list[list[float | None]] = [[None] * len(g or []) for g in generations]

    math_idx = [(i, j) for i, k in enumerate(kinds) if k == "math" for j in range(len(scores[i]))]
    if math_idx:
        from r1.rewards import score_math

        log.info(
            "math-verify: scoring %d generations of %d prompts",
            len(math_idx),
            sum(k == "math" for k in kinds),
        )
        texts = [generations[i][j] or "" for i, j in math_idx]
        golds = [str(solutions[i]) for i, _ in math_idx]
        results = score_math(
            texts,
            golds,
            workers=cfg.math_workers,
            timeout=cfg.math_timeout,
            hard_timeout=cfg.math_hard_timeout,
        )
        for (i, j), s in zip(math_idx, results, strict=True):
            scores[i][j] = s

    code_idx = [(i, j) for i, k in enumerate(kinds) if k == "code" for j in range(len(scores[i]))]
    if code_idx:
        log.info(
            "%s scorer on the %s sandbox: running %d generations of %d code prompts",
            cfg.code_scorer,
            cfg.code_provider,
            len(code_idx),
            sum(k == "code" for k in kinds),
        )
        texts = [generations[i][j] or "" for i, j in code_idx]
        if cfg.code_scorer == "code":
            columns = {"verification_info": [_verification(verifications[i]) for i, _ in code_idx]}
        else:
            if problems is None:
                raise ValueError(f"code_scorer {cfg.code_scorer!r} needs the rows' problem columns")
            names = sum(scorer_columns(cfg.code_scorer), ())
            columns = {n: [problems[i].get(n) for i, _ in code_idx] for n in names}
        for (i, j), s in zip(code_idx, _score_code(texts, columns, cfg), strict=True):
            scores[i][j] = s
    return kinds, scores


def scorer_columns(code_scorer: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The row columns a competition scorer reads: those it needs, those it may use."""
    from r1.rewards import competitive

    if code_scorer == "cf_code":
        return competitive.CF_COLUMNS, competitive.CF_OPTIONAL
    if code_scorer == "ioi_code":
        return competitive.IOI_COLUMNS, competitive.IOI_OPTIONAL
    return (), ()


def _score_code(
    texts: list[str], columns: dict[str, list], cfg: FilterConfig
) -> list[float | None]:
    # The reward itself, so the filter judges exactly as training rewards: same program
    # extraction, limits, checker and scoring. cf_code scores pass/fail here, so a score of
    # 1.0 means every test passed (is_correct's threshold), whatever the reward's default.
    from r1.rewards import build

    scoring = {"scoring_mode": "pass_fail"} if cfg.code_scorer == "cf_code" else {}
    reward = build(cfg.code_scorer, provider=cfg.code_provider, **scoring, **cfg.code_kwargs)
    try:
        return reward(completions=texts, **columns)
    finally:
        reward.sandbox.close()


def _verification(value: Any) -> Any:
    # Arrow structs arrive as dicts with every field of the column's schema, None where a
    # row lacks it (a stdin test's fn_name, say): drop those, at every depth. JSON text is
    # parsed by the sandbox's schema itself.
    if isinstance(value, dict):
        return {k: _verification(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_verification(v) for v in value]
    return value


def in_range(rate: float, cfg: FilterConfig) -> str | None:
    """None if ``rate`` lies in the configured range, else the reason it does not.

    >>> cfg = FilterConfig(pass_rate_min=0.0, pass_rate_max=1.0, include_min=False, include_max=False)
    >>> in_range(0.0, cfg), in_range(0.5, cfg), in_range(1.0, cfg)
    ('pass_rate_below_min', None, 'pass_rate_above_max')
    """
    lo, hi = cfg.pass_rate_min, cfg.pass_rate_max
    if rate < lo or (rate == lo and not cfg.include_min):
        return "pass_rate_below_min"
    if rate > hi or (rate == hi and not cfg.include_max):
        return "pass_rate_above_max"
    return None


@dataclass
class FilterResult:
    """The decision: which rows stay, which of their generations, and why the rest went."""

    rows: list[int] = field(default_factory=list)  # kept input row indices, in input order
    # per kept row, the indices of its kept generations
    generations: list[list[int]] = field(default_factory=list)
    pass_rates: list[float | None] = field(default_factory=list)  # per kept row
    correct: list[list[bool | None]] = field(default_factory=list)  # per kept generation
    prompts_in: int = 0
    generations_in: int = 0
    prompt_drops: Counter = field(default_factory=Counter)
    generation_drops: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)  # prompts in, by verifier
    unscorable_generations: int = 0
    all_pass_rates: list[float] = field(default_factory=list)  # every scorable prompt's
    # Math verdicts cut short by a timeout (scored 0.0, or None for a gold), and answers
    # refused by the size guards: see r1.rewards.verdict_counts.
    math_timeouts: int = 0
    math_too_complex: int = 0

    @property
    def generations_kept(self) -> int:
        return sum(len(g) for g in self.generations)

    def metrics(self) -> dict[str, Any]:
        rates = self.all_pass_rates
        return {
            "prompts_in": self.prompts_in,
            "prompts_kept": len(self.rows),
            "prompts_dropped": {r: self.prompt_drops.get(r, 0) for r in PROMPT_DROP_REASONS},
            "generations_in": self.generations_in,
            "generations_kept": self.generations_kept,
            "generations_dropped": {
                r: self.generation_drops.get(r, 0) for r in GENERATION_DROP_REASONS
            },
            "prompts_by_verifier": {k: self.by_kind.get(k, 0) for k in ("math", "code", "none")},
            "unscorable_generations": self.unscorable_generations,
            "math_timeouts": self.math_timeouts,
            "math_too_complex": self.math_too_complex,
            "pass_rate_mean": round(sum(rates) / len(rates), 6) if rates else None,
            # Fixed keys without dots, so `dvc metrics diff` lines up runs.
            "prompts_by_pass_rate": {
                "zero": sum(r == 0.0 for r in rates),
                "partial": sum(0.0 < r < 1.0 for r in rates),
                "one": sum(r == 1.0 for r in rates),
            },
        }

    def drop_summary(self) -> str:
        parts = [
            f"{self.prompt_drops[r]} {r}" for r in PROMPT_DROP_REASONS if self.prompt_drops.get(r)
        ]
        return ", ".join(parts) or "none"


def decide(
    kinds: Sequence[str | None],
    scores: Sequence[Sequence[float | None]],
    finish_reasons: Sequence[Sequence[str | None]] | None,
    cfg: FilterConfig,
) -> FilterResult:
    """Apply the module's rules to scored rows (pure: no verifier runs here).

    >>> cfg = FilterConfig(pass_rate_min=0.0, pass_rate_max=1.0, include_min=False, include_max=False)
    >>> r = decide(["math", "math"], [[1.0, 0.0], [1.0, 1.0]], [["stop", "stop"]] * 2, cfg)
    >>> r.rows, r.generations, r.pass_rates, dict(r.prompt_drops)
    ([0], [[0]], [0.5], {'pass_rate_above_max': 1})
    """
    result = FilterResult(prompts_in=len(scores))
    for i, (kind, row_scores) in enumerate(zip(kinds, scores, strict=True)):
        n = len(row_scores)
        result.generations_in += n
        result.by_kind[kind or "none"] += 1
        reasons = list(finish_reasons[i] or []) if finish_reasons is not None else []
        if finish_reasons is not None and len(reasons) != n:
            raise ValueError(f"row {i}: {n} generations but {len(reasons)} finish_reasons")
        correct = [is_correct(kind, s) for s in row_scores]
        result.unscorable_generations += sum(c is None for c in correct)
        scorable = [c for c in correct if c is not None]
        rate = sum(scorable) / len(scorable) if scorable else None
        if rate is not None:
            result.all_pass_rates.append(rate)

        # Generation-level reasons first (each generation gets the first that applies).
        truncated = [
            cfg.drop_truncated and bool(reasons) and reasons[j] == "length" for j in range(n)
        ]
        survivors = []
        gen_reason: list[str | None] = []
        for j in range(n):
            if truncated[j]:
                gen_reason.append("truncated")
            elif cfg.keep == "correct" and rate is not None and correct[j] is not True:
                gen_reason.append("incorrect")
            else:
                gen_reason.append(None)
                survivors.append(j)

        if n == 0:
            drop = "no_generations"
        elif rate is None:
            drop = "unscorable" if cfg.unscorable == "drop" else None
        else:
            drop = in_range(rate, cfg)
        if drop is None and not survivors:
            drop = "no_generations_left"

        for j in range(n):
            if gen_reason[j] is not None:
                result.generation_drops[gen_reason[j]] += 1
            elif drop is not None:
                result.generation_drops["prompt_dropped"] += 1
        if drop is not None:
            result.prompt_drops[drop] += 1
            continue
        result.rows.append(i)
        result.generations.append(survivors)
        result.pass_rates.append(rate)
        result.correct.append([correct[j] for j in survivors])
    return result


def apply(table, result: FilterResult):
    """The kept rows of the arrow ``table``, per-generation columns reduced to the kept
    generations, with ``pass_rate`` (float64, null for a kept unscorable prompt) and
    ``correct`` (list<bool>) set (replaced if the input already had them)."""
    import pyarrow as pa

    # datasets' schema metadata would describe the input's features, without the new columns.
    kept = table.replace_schema_metadata(None).take(pa.array(result.rows, type=pa.int64()))
    for name in PER_GENERATION_COLUMNS:
        if name not in kept.column_names:
            continue
        values = kept.column(name).to_pylist()
        reduced = [[v[j] for j in gens] for v, gens in zip(values, result.generations, strict=True)]
        col = kept.column_names.index(name)
        kept = kept.set_column(
            col, kept.schema.field(name), pa.array(reduced, type=kept.schema.field(name).type)
        )
    for name, array in (
        ("pass_rate", pa.array(result.pass_rates, type=pa.float64())),
        ("correct", pa.array(result.correct, type=pa.list_(pa.bool_()))),
    ):
        if name in kept.column_names:
            kept = kept.set_column(kept.column_names.index(name), name, array)
        else:
            kept = kept.append_column(name, array)
    return kept


def check_lengths(columns: dict[str, list]) -> None:
    """Every per-generation column has, on every row, as many entries as ``generations``."""
    gens = columns["generations"]
    for name, values in columns.items():
        if name == "generations":
            continue
        for i, (g, v) in enumerate(zip(gens, values, strict=True)):
            if len(g or []) != len(v or []):
                raise ValueError(f"row {i}: {len(g or [])} generations but {len(v or [])} {name}")
