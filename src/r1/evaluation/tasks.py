"""lighteval task configs for the benchmarks of `r1.benchmarks`.

Three cases, one function (`build_task`):
- `embedded_math`, the project's own benchmark: a task defined here, with lighteval's math
  prompt (the one its AIME task uses, which asks for a boxed answer) and lighteval's math-verify
  metric `pass@k` (k=1), the same verifier the rewards use;
- a built-in benchmark (aime24, math_500, gpqa_diamond, ...) on a connected machine: lighteval's
  own task config, loaded from its one module (see `registry` for why not the whole registry);
- a built-in benchmark with a local file in `benchmarks.paths`: lighteval's config with the
  same prompt function and metrics, whose dataset is read from the file instead of the Hub.

Local data is read here into memory (`r1.data.load`: no `~/.cache`, no Arrow cache files) and
checked against the columns the benchmark's registry entry and lighteval's prompt function need.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import sys
import types
from pathlib import Path

from r1 import benchmarks
from r1.data import DataError, load

log = logging.getLogger("r1.evaluation")

# Which lighteval 0.13 module defines each built-in task, so only that module is imported.
BUILTIN_MODULES = {
    "aime24": "lighteval.tasks.tasks.aime",
    "aime25": "lighteval.tasks.tasks.aime",
    "math_500": "lighteval.tasks.tasks.math_500",
    "gpqa:diamond": "lighteval.tasks.tasks.gpqa",
    "lcb:codegeneration": "lighteval.tasks.tasks.lcb.main",
}


@dataclasses.dataclass(frozen=True)
class TaskRef:
    """A benchmark's lighteval task, parsed from its registry string ``suite|task|fewshot``."""

    name: str
    num_fewshots: int

    @classmethod
    def of(cls, bench: benchmarks.Benchmark) -> TaskRef:
        parts = bench.lighteval_task.split("|")
        if len(parts) == 3:  # lighteval 0.13 ignores the suite; keep the registry's form readable
            parts = parts[1:]
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"benchmark '{bench.name}': bad lighteval task '{bench.lighteval_task}'")
        return cls(parts[0], int(parts[1]))

    def spec(self, num_generations: int | None = None) -> str:
        """The task string lighteval's registry parses; ``@n=`` sets n on its sampling metrics."""
        params = f"@n={num_generations}" if num_generations else ""
        return f"{self.name}{params}|{self.num_fewshots}"

    @property
    def full_name(self) -> str:
        """The key lighteval uses for this task in its results (``name|fewshot``)."""
        return f"{self.name}|{self.num_fewshots}"


def _embedded_prompt(line: dict, task_name: str | None = None):
    from lighteval.tasks.requests import Doc

    # The bare problem, as the embedded models are trained on it (the teacher on the solver's
    # traces, the student on the teacher's): a tiny model knows no other instruction, and
    # lighteval's math template would be ~60 tokens of text it has never seen.
    return Doc(
        task_name=task_name,
        query=line["problem"],
        choices=[line["solution"]],  # LaTeX such as "$\\frac{7}{5}$": math-verify parses it
        gold_index=0,
    )


def embedded_math_config(source: str, num_generations: int = 1):
    """The project's own math task: lighteval's math prompt and math-verify pass@1 over
    ``num_generations`` samples (its metric name says n, as lighteval's names do)."""
    from lighteval.metrics.metrics import Metrics
    from lighteval.tasks.lighteval_task import LightevalTaskConfig

    return LightevalTaskConfig(
        name="embedded_math",
        prompt_function=_embedded_prompt,
        hf_repo=source,  # recorded in lighteval's results; the data itself is served from memory
        hf_subset="default",
        hf_avail_splits=["test"],
        evaluation_splits=["test"],
        few_shots_split=None,
        few_shots_select=None,
        generation_size=None,
        metrics=[Metrics.pass_at_k_math(sample_params={"k": 1, "n": num_generations})],
        stop_sequence=[],  # chat models stop at EOS
        version=0,
    )


def _stub_tiny_benchmarks() -> None:
    """Stop lighteval's tinyBenchmarks module from downloading a pickle when it is imported.

    Only the fallback (a task missing from BUILTIN_MODULES) imports every task module; the
    stub is an empty task table in its place. tinyBenchmarks is not a benchmark we run.
    """
    name = "lighteval.tasks.tasks.tiny_benchmarks"
    if name not in sys.modules:
        stub = types.ModuleType(name)
        stub.TASKS_TABLE = []
        sys.modules[name] = stub


def builtin_config(task_name: str):
    """lighteval's own config for a built-in task, importing as few task modules as possible."""
    module_name = BUILTIN_MODULES.get(task_name)
    if module_name is not None:
        module = importlib.import_module(module_name)
        for config in module.TASKS_TABLE:
            if config.name == task_name:
                return config
    # Unknown to the table above: fall back to lighteval's full registry (imports ~100 modules,
    # some of which reach the network at import time; tinyBenchmarks is stubbed out).
    from lighteval.tasks.registry import Registry

    _stub_tiny_benchmarks()
    configs = Registry.load_all_task_configs()
    if task_name not in configs:
        raise ValueError(f"lighteval 0.13 has no task '{task_name}'")
    return configs[task_name]


def _read_local(bench: benchmarks.Benchmark, source: str):
    """The benchmark's rows from a local file or folder, checked and normalised (`benchmarks.normalise`)."""
    if not Path(source).exists():
        raise DataError(f"benchmark '{bench.name}': benchmarks.paths gives {source}, which does not exist")
    return benchmarks.normalise(load(source, split=bench.split), bench.name, source)


def check_rows(config, ds, bench_name: str, source: str) -> None:
    """Run the task's prompt function on every row and check the Doc it builds, so a column
    lighteval's prompt needs beyond the registry's (math_500 reads `solution`, gpqa the
    incorrect answers) or a value of the wrong type fails now, naming the row, not after the
    model has loaded or deep inside a lighteval metric."""
    label = f"benchmark '{bench_name}' ({source})"
    for i, row in enumerate(ds):
        row = {**row, "__few_shots": False, "__index": i}
        try:
            doc = config.prompt_function(row, config.name)
        except KeyError as exc:
            raise DataError(f"{label}: lighteval's prompt for '{config.name}' needs column {exc}; "
                            f"the file has {ds.column_names}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{label}: row {i}: lighteval's prompt for '{config.name}' cannot use it: "
                            f"{type(exc).__name__}: {exc}") from None
        bad = [c for c in (doc.choices or []) if not isinstance(c, str)]
        if not isinstance(doc.query, str) or bad:
            what, value = ("query", doc.query) if not isinstance(doc.query, str) else ("gold answer", bad[0])
            raise DataError(f"{label}: row {i}: lighteval's prompt for '{config.name}' built the {what} "
                            f"{value!r} ({type(value).__name__}); lighteval needs text there")


@dataclasses.dataclass
class BuiltTask:
    """What the pipeline needs for one benchmark."""

    ref: TaskRef
    config: object           # lighteval's LightevalTaskConfig
    dataset: object | None   # a DatasetDict for a local file; None: lighteval loads from the Hub
    spec: str                # the task string given to lighteval's registry


def build_task(bench_name: str, paths: dict, max_new_tokens: int | None,
               num_generations: int | None = None) -> BuiltTask:
    """The lighteval task for one benchmark, its data if local, and its task string.

    ``max_new_tokens`` becomes the task's generation_size: lighteval's transformers backend
    takes the generation budget from the task, not from the model's generation parameters (its
    vLLM backend takes it from the model), so setting both makes `evaluate.max_new_tokens` mean
    the same on both backends. ``num_generations`` sets n of the task's pass@k: built into the
    embedded task's metric, and through lighteval's own ``task@n=N`` syntax for built-in tasks.
    """
    bench = benchmarks.get(bench_name)
    ref = TaskRef.of(bench)
    source = paths.get(bench_name)
    # Read and check a local file first: a bad file fails before the slow lighteval import.
    ds = _read_local(bench, str(source)) if source is not None else None
    config, spec = task_config(bench_name, None if source is None else str(source), max_new_tokens, num_generations)
    if ds is None:
        return BuiltTask(ref, config, None, spec)
    from datasets import DatasetDict

    check_rows(config, ds, bench_name, str(source))
    split = list(config.evaluation_splits)[0]
    log.info("benchmark %s: %d rows from %s (served to lighteval as split '%s')", bench_name, len(ds), source, split)
    return BuiltTask(ref, config, DatasetDict({split: ds}), spec)


def task_config(bench_name: str, source: str | None, max_new_tokens: int | None = None,
                num_generations: int | None = None):
    """lighteval's config for one benchmark and its task string; ``source``: a local file the
    rows come from (None: lighteval loads the registry's Hub id)."""
    bench = benchmarks.get(bench_name)
    ref = TaskRef.of(bench)
    if bench_name == "embedded_math" and source is None:
        raise DataError("benchmark 'embedded_math' has no Hub source: give its file in benchmarks.paths")
    if bench_name == "embedded_math":
        config = embedded_math_config(source, num_generations or 1)
        spec = ref.spec()
    else:
        config = builtin_config(ref.name)
        spec = ref.spec(num_generations)
        if source is not None:
            # Same prompt function and metrics; only where the rows come from changes.
            config = dataclasses.replace(config, hf_repo=source, hf_subset="default", hf_revision=None)
    return dataclasses.replace(config, generation_size=max_new_tokens), spec
