"""The program that runs a LiveCodeBench-style functional (call-based) test.

It is copied next to the solution (``solution.py``) and run as
``python harness.py FN_NAME`` with the test's input on stdin (one JSON value per line, one
per positional argument). It runs the solution with its own stdout sent to /dev/null (so the
solution's prints cannot be mistaken for its answer), calls ``Solution().FN_NAME(*args)``
(or a top-level ``FN_NAME``), and writes the JSON of the return value as the only line of
stdout. Both providers use this same text, so both judge alike.
"""

HARNESS_SOURCE = r'''
import json, os, sys

# LiveCodeBench runs solutions with these names already imported (LeetCode's habit).
PRELUDE = """
from typing import *
from collections import *
from functools import *
from itertools import *
from heapq import *
from bisect import *
from math import *
import collections, functools, itertools, heapq, bisect, math, string, re
"""


def main():
    fn_name = sys.argv[1]
    solution_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "solution.py")
    args = [json.loads(line) for line in sys.stdin.read().split("\n") if line.strip()]
    answer_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    namespace = {"__name__": "solution"}
    exec(compile(PRELUDE, "<prelude>", "exec"), namespace)
    with open(solution_path, encoding="utf-8") as f:
        exec(compile(f.read(), "solution.py", "exec"), namespace)
    if isinstance(namespace.get("Solution"), type) and hasattr(namespace["Solution"], fn_name):
        target = getattr(namespace["Solution"](), fn_name)
    else:
        target = namespace[fn_name]
    result = target(*args)
    sys.stdout.flush()
    os.write(answer_fd, (json.dumps(result) + "\n").encode())


main()
'''


# Runs a problem's checker (see r1.sandbox.schema.Checker) inside the sandbox: the test's
# input, the expected output and the program's output arrive as one JSON object on stdin
# and become the three files a checker takes as arguments, in its working directory.
CHECKER_DRIVER_SOURCE = r"""
import json, os, sys

case = json.load(sys.stdin)
names = ("input.txt", "correct_output.txt", "solution_output.txt")
for name, key in zip(names, ("input", "expected", "actual")):
    with open(name, "w", encoding="utf-8") as f:
        f.write(case[key])
here = os.path.dirname(os.path.abspath(__file__))
if os.path.exists(os.path.join(here, "prog")):
    argv = [os.path.join(here, "prog")]
else:
    argv = [sys.executable, "-I", os.path.join(here, "checker.py")]
sys.stdout.flush()
os.execv(argv[0], argv + list(names))
"""
