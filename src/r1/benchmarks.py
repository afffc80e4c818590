"""The benchmarks the pipeline knows, read by both decontaminate and evaluate.

Each entry says where the benchmark lives on the Hub and which columns hold the question and
the gold answer, and which lighteval task scores it. `benchmarks.paths` in params.yaml can
point any benchmark at a local file or `save_to_disk` folder with the same columns (how
offline machines and the tests use them); `benchmarks.hub` reads it from the Hub at a pinned
revision. Either way the `benchmark` stage writes the normalised rows to
data/benchmarks/<name>/, the only copy decontaminate and evaluate read.
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass
from pathlib import Path

from r1.data import DataError


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


MATERIALISED_ROOT = "data/benchmarks"
ROWS_FILE = "rows.parquet"


def materialised(name: str) -> str:
    """Where the `benchmark-file`/`benchmark-hub` stage writes benchmark ``name``: the only copy
    decontaminate and evaluate read, so DVC hashes exactly what they use."""
    return f"{MATERIALISED_ROOT}/{name}/{ROWS_FILE}"


def require_materialised(name: str) -> str:
    """The path of benchmark ``name``'s materialised rows; a DataError naming the stage that
    writes them if they are not there."""
    path = materialised(name)
    if not Path(path).is_file():
        stages = "benchmark-file" if get(name).hub_id is None else "benchmark-file or benchmark-hub"
        raise DataError(f"benchmark '{name}': {path} does not exist; the {stages} stage writes it "
                        f"(`dvc repro` runs it)")
    return path


def load_materialised(name: str):
    """The normalised rows that the benchmark stage wrote for ``name``."""
    from r1 import data

    return data.load(require_materialised(name))


def answer_text(value, *, where: str) -> str:
    """A gold answer as text, the form lighteval's metrics take (they call ``.strip()``).

    AIME files often store answers as integers (70), some as floats (70.0): both become "70";
    a non-integral float keeps its digits. An empty or missing answer cannot be scored, and a
    list or mapping is not an answer: both are a DataError naming ``where`` (file, column, row).
    """
    if isinstance(value, bool) or value is None or isinstance(value, list | dict | tuple):
        raise DataError(f"{where}: answer {value!r} is not a number or text; every row needs a gold answer")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataError(f"{where}: answer {value!r} is not a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"{where}: the answer is empty; every row needs a gold answer")
        return value
    raise DataError(f"{where}: answer {value!r} ({type(value).__name__}) is not a number or text")


def normalise(ds, name: str, source: str):
    """``ds`` with the registry's columns checked and the answer column as text.

    Checks that the question column holds non-empty text in every row and the answer column a
    usable answer; the first bad row is a DataError naming the source, column and row.
    """
    from r1 import data

    bench = get(name)
    label = f"benchmark '{name}' ({source})"
    data.require_columns(ds, [c for c in (bench.text_column, bench.answer_column) if c], label)
    data.require_rows(ds, label)
    for i, text in enumerate(ds[bench.text_column]):
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{label}: column '{bench.text_column}' row {i}: {text!r} is not a non-empty text")
    if bench.answer_column is None:
        return ds
    answers = [answer_text(v, where=f"{label}: column '{bench.answer_column}' row {i}")
               for i, v in enumerate(ds[bench.answer_column])]
    columns = ds.column_names  # keep the file's column order
    return ds.remove_columns(bench.answer_column).add_column(bench.answer_column, answers).select_columns(columns)


def read_source(name: str, *, path: str | None = None, revision: str | None = None):
    """Benchmark ``name`` read from a local ``path``, or from the Hub at ``revision``; not
    normalised (see `normalise`)."""
    from r1 import data

    bench = get(name)
    if path is not None:
        if not Path(path).exists():
            raise DataError(f"benchmark '{name}': benchmarks.paths.{name} gives {path}, which does not exist")
        return data.load(path, split=bench.split)
    if bench.hub_id is None:
        raise DataError(f"benchmark '{name}' has no Hub source: give its file in benchmarks.paths")
    try:
        return data.load(bench.hub_id, config=bench.hub_config, split=bench.split, revision=revision)
    except Exception as exc:  # noqa: BLE001 - datasets raises many types here; the line names them
        raise DataError(_hub_error(name, bench, revision, exc)) from exc


def _hub_error(name: str, bench: Benchmark, revision: str | None, exc: Exception) -> str:
    import huggingface_hub.constants

    offline = huggingface_hub.constants.HF_HUB_OFFLINE or os.environ.get("HF_DATASETS_OFFLINE") == "1"
    why = ("this machine is offline (HF_HUB_OFFLINE=1)" if offline
           else f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'no message'}")
    return (f"benchmark '{name}': cannot load Hub dataset {bench.hub_id}"
            f"{'/' + bench.hub_config if bench.hub_config else ''} (revision {revision or 'main'}): {why}; "
            f"to use a local copy, move it from benchmarks.hub to benchmarks.paths.{name}: <file or folder>")


def load_texts(name: str) -> list[str]:
    """The question texts of a materialised benchmark, the side decontamination matches against."""
    return [str(t) for t in load_materialised(name)[get(name).text_column]]
