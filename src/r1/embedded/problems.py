"""Seeded generators of small problem sets with verifiable answers.

Math problems carry their gold answer in the `solution` column as LaTeX (`$...$`), the
form the accuracy reward and the evaluation parse with math-verify. Coding problems carry
open-r1's `verification_info` schema (stdin/stdout test cases). Everything comes from
`random.Random(seed)`, whose sequence is fixed across platforms and Python versions, so the
files are byte-identical on every machine.
"""

from __future__ import annotations

import random
from fractions import Fraction


def _arith(rng: random.Random) -> tuple[str, str]:
    a, b = rng.randint(2, 60), rng.randint(2, 60)
    op = rng.choice(["+", "-", "\\times"])
    value = {"+": a + b, "-": a - b, "\\times": a * b}[op]
    return f"Compute ${a} {op} {b}$.", f"${value}$"


def _linear(rng: random.Random) -> tuple[str, str]:
    x, a, b = rng.randint(-9, 12), rng.randint(2, 9), rng.randint(1, 30)
    return f"Solve for $x$: ${a}x + {b} = {a * x + b}$.", f"${x}$"


def _fraction(rng: random.Random) -> tuple[str, str]:
    a, b, c, d = rng.randint(1, 5), rng.randint(2, 7), rng.randint(1, 5), rng.randint(2, 7)
    s = Fraction(a, b) + Fraction(c, d)
    answer = str(s.numerator) if s.denominator == 1 else f"\\frac{{{s.numerator}}}{{{s.denominator}}}"
    return (
        f"Add $\\frac{{{a}}}{{{b}}}$ and $\\frac{{{c}}}{{{d}}}$; reduce the result.",
        f"${answer}$",
    )


def _word(rng: random.Random) -> tuple[str, str]:
    name = rng.choice(["Ada", "Brahmagupta", "Noether", "Ramanujan", "Hypatia", "Euler"])
    item = rng.choice(["apples", "pencils", "marbles", "books", "coins"])
    have, buy, give = rng.randint(3, 40), rng.randint(1, 25), rng.randint(1, 10)
    return (
        f"{name} has {have} {item}, buys {buy}, gives {give} away. How many {item} remain?",
        f"${have + buy - give}$",
    )


def _remainder(rng: random.Random) -> tuple[str, str]:
    n, m = rng.randint(50, 999), rng.randint(3, 13)
    return f"What is the remainder when ${n}$ is divided by ${m}$?", f"${n % m}$"


_MATH_KINDS = (_arith, _linear, _fraction, _word, _remainder)


def math_problems(n: int, seed: int) -> list[dict]:
    """`n` distinct math problems: {problem, solution, source}."""
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        kind = rng.choice(_MATH_KINDS)
        problem, solution = kind(rng)
        if problem in seen:
            continue
        seen.add(problem)
        rows.append({"problem": problem, "solution": solution, "source": f"embedded-math/{kind.__name__[1:]}"})
    return rows


# (statement, reference solution) pairs; the tests are made by running the reference on seeded
# inputs, so every test case is correct by construction.
_CODE_TASKS = {
    "sum": ("Read two integers a and b from one line of standard input and print a + b.",
            lambda a, b: str(a + b), lambda r: (r.randint(-1000, 1000), r.randint(-1000, 1000))),
    "max": ("Read two integers a and b from one line of standard input and print the larger one.",
            lambda a, b: str(max(a, b)), lambda r: (r.randint(-99, 99), r.randint(-99, 99))),
    "reverse": ("Read one word from standard input and print it reversed.",
                lambda w: w[::-1], lambda r: ("".join(r.choice("abcdefgh") for _ in range(r.randint(1, 9))),)),
    "parity": ("Read an integer n and print EVEN if n is even, otherwise ODD.",
               lambda n: "EVEN" if n % 2 == 0 else "ODD", lambda r: (r.randint(-500, 500),)),
    "count": ("Read an integer n and print the numbers 1 to n, one per line.",
              lambda n: "\n".join(str(i) for i in range(1, n + 1)), lambda r: (r.randint(1, 6),)),
    "square": ("Read an integer n and print n squared.",
               lambda n: str(n * n), lambda r: (r.randint(-300, 300),)),
}


def code_problems(n: int, seed: int, tests_per_problem: int = 3) -> list[dict]:
    """`n` stdin/stdout coding problems in open-r1's `verification_info` schema."""
    rng = random.Random(seed)
    names = sorted(_CODE_TASKS)
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        statement, solve, make_input = _CODE_TASKS[name]
        cases = []
        for _ in range(tests_per_problem):
            args = make_input(rng)
            cases.append({"type": "stdin_stdout", "input": " ".join(map(str, args)) + "\n",
                          "output": solve(*args) + "\n"})
        rows.append({
            "problem": f"{statement} Write a Python 3 program.",
            "verification_info": {"language": "python", "test_cases": cases},
            "source": f"embedded-code/{name}",
        })
    return rows
