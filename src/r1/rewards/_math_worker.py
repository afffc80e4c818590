"""Worker process of :class:`r1.rewards._math_pool.MathPool`.

Protocol (JSON lines, so no pickle crosses the pipe): each line on stdin is a list of tasks
``[index, completion, gold]``; for each task, in order, one line ``[index, score]`` is
written to the protocol stream. The protocol stream is a private duplicate of stdout; the
real fd 1 is pointed at stderr so that anything a library prints cannot corrupt it.
"""

from __future__ import annotations

import json
import os
import sys

_WARM_UP = (
    ("The answer is $\\boxed{\\frac{7}{5}}$.", "$1.4$"),
    ("So $x = \\sqrt{2} + 3\\pi$", "$3\\pi+\\sqrt{2}$"),
    ("\\boxed{(1, 2]}", "$(1,2]$"),
    ("12", "$12$"),
)


def main() -> None:
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 0.25
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    # Slow import (sympy): after the pipes are safe.
    from r1.rewards._math_verify import install_fractional_timeouts, score_one

    install_fractional_timeouts()  # this is the main thread, where signal timers work
    # Warm the parsers (the ANTLR LaTeX grammar, sympy's lazily built tables) before saying
    # ready, so the first real batch - the first GRPO step - does not pay for them.
    for completion, gold in _WARM_UP:
        score_one(completion, gold, timeout)

    proto.write('["ready", null]\n')
    for line in sys.stdin:
        for index, completion, gold in json.loads(line):
            try:
                result = score_one(completion, gold, timeout)
            except Exception:  # never let one sample take the worker down
                result = 0.0
            proto.write(json.dumps([index, result]) + "\n")


if __name__ == "__main__":
    main()
