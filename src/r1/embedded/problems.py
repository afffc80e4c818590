"""Seeded generators of small problem sets with verifiable answers.

Math problems carry their gold answer in the `solution` column as LaTeX (`$...$`), the
form the accuracy reward and the evaluation parse with math-verify. Coding problems carry
open-r1's `verification_info` schema (stdin/stdout test cases). Everything comes from
`random.Random(seed)`, whose sequence is fixed across platforms and Python versions, so the
files are byte-identical on every machine.
"""

from __future__ import annotations

import random

_APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_LATEX = {"+": "+", "-": "-", "*": "\\times"}


def distinct_chains(operands: int, max_operand: int, ops: str) -> int:
    return max_operand ** operands * len(ops) ** (operands - 1)


def chain_text(values: list[int], ops: list[str]) -> str:
    """The chain as LaTeX, evaluated left to right: `(7 - 2) \\times 3 + 4`.

    Parentheses appear only where precedence would otherwise reorder the steps.
    """
    expr, previous = str(values[0]), None
    for op, value in zip(ops, values[1:], strict=True):
        if op == "*" and previous in ("+", "-"):
            expr = f"({expr})"
        expr = f"{expr} {_LATEX[op]} {value}"
        previous = op
    return expr


def solve(values: list[int], ops: list[str]) -> list[int]:
    """The running values of the chain, left to right (the last one is the answer)."""
    running = [values[0]]
    for op, value in zip(ops, values[1:], strict=True):
        running.append(_APPLY[op](running[-1], value))
    return running


def parse_chain(problem: str) -> tuple[list[int], list[str]]:
    """The operands and operators of a `math_problems` row's text."""
    body = problem[problem.index("$") + 1: problem.rindex("$")]
    tokens = body.replace("(", " ").replace(")", " ").replace("\\times", "*").split()
    return [int(t) for t in tokens[0::2]], list(tokens[1::2])


def math_problems(n: int, seed: int, *, operands: int = 3, max_operand: int = 9, ops: str = "+-") -> list[dict]:
    """`n` distinct arithmetic chains: {problem, solution, source}.

    Short chains of single-digit operands are the embedded default's task family: a tiny model
    learns them from a few thousand step-by-step traces in a minute on a CPU, and math-verify
    checks every answer exactly.
    """
    distinct = distinct_chains(operands, max_operand, ops)
    if n > distinct:
        raise ValueError(f"{n} problems asked for, but only {distinct} distinct {operands}-operand chains of "
                         f"1..{max_operand} with operators {ops!r} exist")
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        values = [rng.randint(1, max_operand) for _ in range(operands)]
        chosen = [rng.choice(ops) for _ in range(operands - 1)]
        problem = f"Compute ${chain_text(values, chosen)}$."
        if problem in seen:
            continue
        seen.add(problem)
        rows.append({"problem": problem, "solution": f"${solve(values, chosen)[-1]}$", "source": "embedded-math/chain"})
    return rows


# The imperfect solver's misconception: the operator it sometimes applies instead.
CONFUSED_OP = {"+": "-", "-": "+", "*": "+"}


def solver_trace(problem: str, rng: random.Random, *, swap: float, slip: float) -> str:
    """A step-by-step solution from a deliberately imperfect solver, in R1's format.

    `swap` is the chance that a step applies the wrong operator (`CONFUSED_OP`: a systematic
    misconception, which the teacher learns and filtering removes); `slip` the chance that a
    step's result is off by one or two (noise). Later steps continue from the wrong value, so
    only the answer reveals the error.
    """
    values, ops = parse_chain(problem)
    current, lines = values[0], []
    for op, value in zip(ops, values[1:], strict=True):
        done = CONFUSED_OP[op] if rng.random() < swap else op
        result = _APPLY[done](current, value)
        if rng.random() < slip:
            result += rng.choice((-2, -1, 1, 2))
        lines.append(f"{current}{op}{value}={result}")
        current = result
    steps = "\n".join(lines)
    return f"<think>\n{steps}\n</think>\n<answer>\n\\boxed{{{current}}}\n</answer>"


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
