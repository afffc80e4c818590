"""Worker process of :class:`r1.rewards._math_pool.MathPool`.

Protocol (JSON lines, so no pickle crosses the pipe): each line on stdin is a list of tasks
``[index, completion, gold]``; for each task, in order, one line ``[index, score, status]``
is written to the protocol stream (``status``: None, "timeout" or "too_complex", see
:func:`r1.rewards._math_verify.judge`). The protocol stream is a private duplicate of
stdout; the real fd 1 is pointed at stderr so that anything a library prints cannot
corrupt it.
"""

from __future__ import annotations

import json
import os
import sys

# One of each kind of answer sympy handles through its own lazily built code (polynomial
# expansion, relations as sets, intervals, sets, equations, matrices, functions, units,
# percentages, complex numbers, text): the first use of each costs tenths of a CPU second,
# later ones milliseconds. Paid here, before "ready", they never count against a budget.
# None of these is boxed as the gold is written, so each goes through sympy.
_WARM_UP = (
    ("The answer is $\\boxed{\\frac{7}{5}}$.", "$1.4$"),
    ("So $x = \\sqrt{2} + 3\\pi$", "$3\\pi+\\sqrt{2}$"),
    ("\\boxed{(x+1)^2}", "$x^2+2x+1$"),
    ("\\boxed{(1, \\infty)}", "$x > 1$"),
    ("\\boxed{[-2, 3)}", "$-2 \\le x < 3$"),
    ("\\boxed{(-\\infty, 0) \\cup (1, \\infty)}", "$(-\\infty,0)\\cup(1,\\infty)$"),
    ("\\boxed{(1, 2]}", "$(1,2]$"),
    ("\\boxed{\\{3, 1\\}}", "$\\{1,3\\}$"),
    ("\\boxed{3, -1}", "$-1, 3$"),
    ("\\boxed{x = 2}", "$2$"),
    ("\\boxed{y = 2x + 1}", "$y=1+2x$"),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"),
    ("\\boxed{\\frac{\\sqrt{3}}{2}}", "$\\sin 60^\\circ$"),
    ("\\boxed{2\\log 2}", "$\\ln 4$"),
    ("\\boxed{25\\%}", "$0.25$"),
    ("\\boxed{1 - i}", "$1-i$"),
    ("\\boxed{\\textbf{(B)}}", "$\\text{(B)}$"),
    ("\\boxed{10 \\text{ cm}}", "$10$"),
    ("\\boxed{\\dfrac{1}{3}}", "$0.\\overline{3}$"),
    ("The final answer is $12$", "12"),
)
_WARM_UP_BUDGET = 120.0  # CPU s: the warm-up is ours, it must finish whatever the cost


def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    # Slow import (sympy): after the pipes are safe.
    from r1.rewards._math_verify import install_budget, judge

    install_budget()  # this is the main thread, where signal timers work
    for completion, gold in _WARM_UP:
        judge(completion, gold, _WARM_UP_BUDGET)

    proto.write('["ready", null, null]\n')
    for line in sys.stdin:
        for index, completion, gold in json.loads(line):
            try:
                score, status = judge(completion, gold, timeout)
            except Exception:  # never let one sample take the worker down
                score, status = 0.0, None
            proto.write(json.dumps([index, score, status]) + "\n")


if __name__ == "__main__":
    main()
