"""The benchmarks the pipeline knows, read by both decontaminate and evaluate.

Each entry says where the benchmark lives on the Hub and which columns hold the question and
the gold answer, and which lighteval task scores it. `benchmarks.paths` in params.yaml can
point any benchmark at a local file or `save_to_disk` folder with the same columns, which is
how offline machines (and the tests) use them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    kind: str                      # "math", "mcq" or "code": how answers are checked
    text_column: str               # the question, matched by decontamination
    answer_column: str | None
    lighteval_task: str            # "suite|task|fewshot" as lighteval names it
    hub_id: str | None = None
    hub_config: str | None = None
    split: str = "test"


REGISTRY: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("embedded_math", "math", "problem", "solution", "r1|embedded_math|0"),
    Benchmark("aime24", "math", "problem", "answer", "lighteval|aime24|0",
              hub_id="HuggingFaceH4/aime_2024", split="train"),
    Benchmark("aime25", "math", "problem", "answer", "lighteval|aime25|0",
              hub_id="yentinglin/aime_2025", split="train"),
    Benchmark("math_500", "math", "problem", "answer", "lighteval|math_500|0",
              hub_id="HuggingFaceH4/MATH-500", split="test"),
    Benchmark("gpqa_diamond", "mcq", "Question", "Correct Answer", "lighteval|gpqa:diamond|0",
              hub_id="Idavidrein/gpqa", hub_config="gpqa_diamond", split="train"),
    Benchmark("lcb_codegeneration", "code", "question_content", None, "extended|lcb:codegeneration|0",
              # The set lighteval's lcb:codegeneration scores (v4_v5), so that decontamination
              # checks exactly the problems that are evaluated.
              hub_id="lighteval/code_generation_lite", hub_config="v4_v5", split="test"),
)}


class UnknownBenchmarkError(ValueError):
    pass


def get(name: str) -> Benchmark:
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UnknownBenchmarkError(
            f"unknown benchmark '{name}'{hint} (known: {', '.join(sorted(REGISTRY))})"
        ) from None


def load_rows(name: str, paths: dict):
    """The benchmark as a `datasets.Dataset`, from `paths[name]` if given, else the Hub."""
    from r1 import data

    bench = get(name)
    source = paths.get(name) or bench.hub_id
    if source is None:
        raise UnknownBenchmarkError(f"benchmark '{name}' has no Hub source: give its file in benchmarks.paths")
    ds = data.load(str(source), config=None if name in paths else bench.hub_config, split=bench.split)
    data.require_columns(ds, [bench.text_column], f"benchmark '{name}' ({source})")
    data.require_rows(ds, f"benchmark '{name}' ({source})")
    return ds


def load_texts(name: str, paths: dict) -> list[str]:
    """The question texts of a benchmark, the side decontamination matches against."""
    return [str(t) for t in load_rows(name, paths)[get(name).text_column]]
