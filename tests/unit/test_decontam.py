"""Tests for r1.decontam: matching rules, normalisation, duplicates, errors, and the fast
path against a plain-Python reference on random data."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from r1.decontam import decontaminate, find_duplicates, ngrams, normalize_batch, normalize_text

DATA = Path(__file__).parents[2].parent / "shared/data/benchmarks"


# --- reference: the rules written the slow, obvious way ---------------------------------


def _ref_hits(texts, benchmarks, n, mode, min_short):
    """benchmark -> sorted rows, by brute force over word tuples."""
    modes = ["basic"] if mode == "basic" else ["basic", "strict"]
    rows = [[t] if isinstance(t, str) else list(t) for t in texts]
    hits = {name: set() for name in benchmarks}
    for m in modes:
        for name, btexts in benchmarks.items():
            grams, shorts = set(), set()
            for bt in btexts:
                w = normalize_text(bt, m).split()
                grams |= {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}
                if min_short <= len(w) < n:
                    shorts.add(tuple(w))
            for r, strings in enumerate(rows):
                for s in strings:
                    w = normalize_text(s, m).split()
                    windows = {
                        tuple(w[i : i + k])
                        for k in {n, *map(len, shorts)}
                        for i in range(len(w) - k + 1)
                    }
                    if windows & (grams | shorts):
                        hits[name].add(r)
    return {k: sorted(v) for k, v in hits.items()}


def _ref_keep(texts, hits, dedup):
    bad = set().union(*map(set, hits.values()))
    seen, keep, dups = set(), [], 0
    for r, t in enumerate(texts):
        key = tuple(normalize_text(s, "strict") for s in ([t] if isinstance(t, str) else t))
        dup = dedup and key in seen
        seen.add(key)
        if r in bad:
            continue
        if dup:
            dups += 1
        else:
            keep.append(r)
    return keep, dups


def _random_corpus(
    rng, rows, words=("a", "b", "c", "d", "e", "F", "$x$", "\\frac{1}{2}", "-", "g.")
):
    def text():
        seps = [" ", "  ", "\n", "\t"]
        return "".join(rng.choice(words) + rng.choice(seps) for _ in range(rng.randint(0, 12)))

    train = [
        text() if rng.random() < 0.7 else [text() for _ in range(rng.randint(1, 3))]
        for _ in range(rows)
    ]
    benchmarks = {f"b{k}": [text() or "a b" for _ in range(rng.randint(1, 15))] for k in range(3)}
    return train, benchmarks


@pytest.mark.parametrize("mode", ["basic", "strict"])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_matches_reference_on_random_data(mode, n):
    rng = random.Random(n * 7 + len(mode))
    train, benchmarks = _random_corpus(rng, 300)
    res = decontaminate(
        train, benchmarks, ngram_size=n, normalization=mode, num_proc=2, chunk_rows=17
    )
    ref = _ref_hits(train, benchmarks, n, mode, 2)
    assert res.hit_rows == ref
    assert res.hits == {k: len(v) for k, v in ref.items()}
    keep, dups = _ref_keep(train, ref, True)
    assert (res.keep, res.duplicates) == (keep, dups)
    assert res.rows_in == len(train) == len(res.keep) + res.contaminated + res.duplicates


def test_hash_collisions_are_confirmed(monkeypatch):
    # With multiplier 1 a window's hash is the sum of its ids, so permutations collide:
    # only the exact comparison keeps results equal to the reference.
    monkeypatch.setattr(ngrams, "MULT", np.uint64(1))
    rng = random.Random(1)
    train, benchmarks = _random_corpus(rng, 300)
    res = decontaminate(train, benchmarks, ngram_size=3, deduplicate=False, chunk_rows=50)
    assert res.hit_rows == _ref_hits(train, benchmarks, 3, "basic", 2)
    collide = decontaminate(["c b a x"], {"b": ["a b c"]}, ngram_size=3)
    assert collide.contaminated == 0


def test_normalize_batch_equals_normalize_text():
    rng = random.Random(0)
    alphabet = list("aZ 9_\\{}$.,-\t\n\x0b\x0c\r\x1c\x1f") + [
        "\\left(",
        "\\dfrac",
        "\\text{",
        "Σ",
        "ß",
        "İ",
        "ﬁ",
        "\u00a0",
        "\u2003",
    ]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(2000)]
    for mode in ("basic", "strict"):
        assert normalize_batch(texts, mode).to_pylist() == [normalize_text(t, mode) for t in texts]


def test_normalisation_modes():
    assert normalize_text("  What IS\t$\\frac{1}{2}$?  ") == "what is $\\frac{1}{2}$?"
    assert (
        normalize_text("What is $\\dfrac{1}{2}$, \\left(x\\right) \\text{cm}?", "strict")
        == "what is frac 1 2 x cm"
    )
    bench = {"m": ["Compute the value of \\frac{1}{2} plus three quarters today"]}
    latex_free = "please compute the value of frac 1 2 plus three quarters today"
    assert decontaminate([latex_free], bench, ngram_size=8, normalization="basic").contaminated == 0
    strict = decontaminate([latex_free], bench, ngram_size=8, normalization="strict")
    assert strict.hit_rows == {"m": [0]}
    assert strict.examples[0]["ngram"].startswith("compute the value of frac 1 2")


def test_strict_catches_what_basic_catches():
    # Punctuation-only words: 8 words under basic, 4 under strict.
    bench = {"m": ["so $ = $ then - x + y - z ok"]}
    row = ["$ = $ then - x + y - z"]
    assert decontaminate(row, bench, normalization="basic").contaminated == 1
    assert decontaminate(row, bench, normalization="strict").contaminated == 1


def test_ngram_boundaries():
    bench = {"b": ["one two three four five"]}
    assert decontaminate(["xx one two three yy"], bench, ngram_size=3).contaminated == 1
    assert decontaminate(["xx one two yy three"], bench, ngram_size=3).contaminated == 0
    assert decontaminate(["one two three four five"], bench, ngram_size=5).contaminated == 1
    assert (
        decontaminate(["one two three four fivе"], bench, ngram_size=5).contaminated == 0
    )  # Cyrillic е
    # A training text shorter than n that is a fragment of a benchmark text: not a match.
    assert decontaminate(["two three four"], bench, ngram_size=5).contaminated == 0
    # n = 1: any shared word.
    assert decontaminate(["five"], bench, ngram_size=1).contaminated == 1
    # A window may not span two strings of a row, nor two rows.
    assert decontaminate([["a b one two", "three c"]], bench, ngram_size=3).contaminated == 0
    assert decontaminate(["a one two", "three b"], bench, ngram_size=3).contaminated == 0


def test_short_benchmark_text_matches_whole():
    bench = {
        "b": [
            "Simplify $\\sqrt{242}$.",
            "Solve.",
            "a long enough benchmark text of many words here",
        ]
    }
    res = decontaminate(
        [
            "Now: simplify $\\sqrt{242}$. Show work.",
            "simplify $\\sqrt{243}$.",
            "Solve. it",
            "simplify",
        ],
        bench,
        ngram_size=8,
    )
    assert res.hit_rows == {"b": [0]}  # "Solve." (1 word) is below min_short_words=2
    assert decontaminate(["Solve. it"], bench, min_short_words=1).contaminated == 1
    assert (
        decontaminate(["Now: simplify $\\sqrt{242}$."], bench, min_short_words=3).contaminated == 0
    )


def test_multiple_benchmarks_and_row_hitting_two():
    bench = {
        "math": ["alpha beta gamma delta", "zeta eta theta iota"],
        "aime": ["gamma delta epsilon zeta", "kappa lambda mu nu"],
        "gpqa": ["omicron pi rho sigma"],
    }
    train = [
        "x alpha beta gamma delta epsilon zeta y",  # math and aime
        "kappa lambda mu nu",  # aime
        "nothing here at all",
        "zeta eta theta iota",  # math
    ]
    res = decontaminate(train, bench, ngram_size=4)
    assert res.hits == {"math": 2, "aime": 2, "gpqa": 0}
    assert res.hit_rows == {"math": [0, 3], "aime": [0, 1], "gpqa": []}
    assert res.contaminated == 3 and res.keep == [2]
    assert sum(res.hits.values()) > res.contaminated


def test_completions_checked_when_given():
    bench = {"b": ["the answer is forty two for sure"]}
    rows = [
        ["What is six times seven?", "Well, the answer is forty two for sure."],
        ["Prompt?", "Other."],
    ]
    res = decontaminate(rows, bench, ngram_size=5)
    assert res.hit_rows == {"b": [0]}
    assert res.examples[0]["text_index"] == 1
    assert decontaminate([r[0] for r in rows], bench, ngram_size=5).contaminated == 0


def test_duplicates():
    train = [
        "What is $\\frac{1}{2}$ of 10?",
        "what is \\dfrac{1}{2} of 10",  # near-exact: same after strict normalisation
        "What is $\\frac{1}{3}$ of 10?",  # different number: kept
        "WHAT   is $\\frac{1}{2}$ of 10 ?!",  # near-exact
        "bench passage one two three four five six seven eight",
        "Bench passage one two three four five six seven eight.",  # dup of a contaminated row
    ]
    bench = {"b": ["bench passage one two three four five six seven eight"]}
    res = decontaminate(train, bench)
    assert res.keep == [0, 2]
    assert (res.duplicates, res.contaminated) == (2, 2)
    assert decontaminate(train, bench, deduplicate=False).keep == [0, 1, 2, 3]
    assert find_duplicates(train) == [1, 3, 5]
    # Rows compare as a whole: same prompt, different completions are both kept.
    rows = [["P", "answer 1"], ["P", "answer 2"], ["p", "Answer 1!"]]
    assert decontaminate(rows, {"b": ["zz yy"]}).keep == [0, 1]


def test_examples_are_readable_and_bounded():
    bench = {"b": ["intro words then the quick brown fox jumps over the lazy dog and more"]}
    train = [f"row {i}: the quick brown fox jumps over the lazy dog" for i in range(30)]
    res = decontaminate(train, bench, max_examples=5, deduplicate=False)
    assert res.contaminated == 30 and len(res.examples) == 5
    ex = res.examples[0]
    assert ex["row"] == 0 and ex["benchmark"] == "b" and ex["benchmark_row"] == 0
    assert ex["ngram"] == "the quick brown fox jumps over the lazy"
    assert f"«{ex['ngram']}»" in ex["row_excerpt"] and f"«{ex['ngram']}»" in ex["benchmark_excerpt"]
    assert ex["row_excerpt"].startswith("row 0:")
    json.dumps(res.examples)  # plain data, ready for a report
    assert [e["row"] for e in res.examples] == [0, 1, 2, 3, 4]
    assert decontaminate(train, bench, max_examples=0).examples == []
    assert res.metrics() == {
        "rows_in": 30,
        "rows_out": 0,
        "contaminated": 30,
        "duplicates": 0,
        "hits": {"b": 30},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ngram_size": 0}, "ngram_size"),
        ({"ngram_size": 2.5}, "ngram_size"),
        ({"normalization": "lower"}, "unknown normalization 'lower'"),
        ({"benchmarks": {}}, "benchmarks is empty"),
        ({"benchmarks": {"aime": []}}, "'aime' has no texts"),
        ({"benchmarks": {"aime": ["ok text here", 3]}}, "'aime' text 1 is a int"),
        ({"benchmarks": {"aime": ["", "  "]}}, "'aime' yields no n-grams"),
        ({"texts": ["fine", None]}, r"texts\[1\] is a NoneType"),
        ({"texts": [["fine", 7]]}, r"texts\[0\]\[1\] is a int"),
        ({"texts": [[]]}, r"texts\[0\] is an empty list"),
        ({"texts": "a string"}, "texts must be a list"),
        ({"max_examples": -1}, "max_examples"),
        ({"num_proc": 0}, "num_proc"),
        ({"min_short_words": 0}, "min_short_words"),
    ],
)
def test_bad_input(kwargs, message):
    args = {"texts": ["some training text"], "benchmarks": {"b": ["a benchmark text"]}, **kwargs}
    with pytest.raises(ValueError, match=message):
        decontaminate(args.pop("texts"), args.pop("benchmarks"), **args)


def test_empty_training_set():
    res = decontaminate([], {"b": ["a b c"]})
    assert (res.keep, res.hits, res.contaminated, res.duplicates) == ([], {"b": 0}, 0, 0)


@pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not present at {DATA}")
def test_real_data_slice():
    with open(DATA / "math500_test.jsonl") as f:
        math500 = [json.loads(line)["problem"] for line in f][:100]
    with open(DATA / "gsm8k_train.jsonl") as f:
        train = [json.loads(line)["question"] for line in f][:400]
    planted = {10: math500[3], 50: "Intro. " + math500[40].upper(), 90: math500[77] + " Thanks."}
    for i, text in planted.items():
        train[i] = text
    res = decontaminate(train, {"math_500": math500}, max_examples=3)
    ref = _ref_hits(train, {"math_500": math500}, 8, "basic", 2)
    assert res.hit_rows == ref
    assert set(planted) <= set(res.hit_rows["math_500"])
    assert {e["benchmark_row"] for e in res.examples} <= {3, 40, 77} | set(range(100))


def test_string_boundaries_and_long_words_in_byte_scan():
    # Strings sit back to back in one buffer: a word must not run from one string into
    # the next, nor a window. Words over 8 and 16 bytes are hashed in several reads.
    long_a, long_b = "x" * 8 + "abcdefghij" + "y" * 9, "x" * 8 + "abcdefghiJ" + "y" * 9 + "z"
    train = [
        ["one two", "three four"],  # "two three" spans two strings
        "onetwo three",
        f"p {long_a} q r",
        f"p {long_b[:-1]}Q q r",  # same length as long_a, differs in the middle only
        ["", "a", "", "b c"],
        "Ünïcode ÀB one\u00a0two",
    ]
    benchmarks = {"b": ["two three", f"P {long_a.upper()} q", "àb one two", "a b"]}
    for n in (2, 3):
        res = decontaminate(train, benchmarks, ngram_size=n, deduplicate=False, chunk_rows=2)
        assert res.hit_rows == _ref_hits(train, benchmarks, n, "basic", 2)
    assert decontaminate(train, benchmarks, ngram_size=2).hit_rows["b"] == [0, 2, 5]
