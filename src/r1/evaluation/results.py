"""The stage's metrics record from lighteval's results, and the summary table.

`metrics/eval/<model>-<benchmark>.json` is compared across runs (`dvc metrics diff`), so it holds
only values that follow from the config: no timestamps, no durations, no host names.
"""

from __future__ import annotations

import logging
import math

log = logging.getLogger("r1.evaluation")


class ResultsError(RuntimeError):
    """lighteval's results lack the score the stage reports."""


def primary_metric(config) -> str:
    """The name of a task's headline metric: its first one (lighteval lists it first)."""
    name = config.metrics[0].metric_name
    return name[0] if isinstance(name, list | tuple) else name


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def metrics_record(results: dict, *, task_full_name: str, metric: str, benchmark: str, model: str,
                   num_samples: int, num_generations: int) -> dict:
    """``{benchmark, model, metric, score, stderr, num_samples, num_generations}``.

    ``results`` is lighteval's final dict (`Pipeline.get_results()`); ``num_samples`` is the
    number of problems scored, ``num_generations`` the generations per problem.
    """
    by_task = results.get("results", {})
    # lighteval 0.13 keys results by "name:fewshot" in its final dict ("name|fewshot" elsewhere)
    per_task = by_task.get(task_full_name, by_task.get(task_full_name.replace("|", ":")))
    if per_task is None or metric not in per_task:
        have = {k: sorted(v) for k, v in results.get("results", {}).items()}
        raise ResultsError(f"lighteval's results have no '{metric}' for task '{task_full_name}' (have {have})")
    return {
        "benchmark": benchmark,
        "model": model,
        "metric": metric,
        "score": _number(per_task[metric]),
        # lighteval leaves the stderr out for a single sample; null says "not defined"
        "stderr": _number(per_task.get(f"{metric}_stderr")),
        "num_samples": int(num_samples),
        "num_generations": int(num_generations),
    }


def format_table(records: list[dict]) -> str:
    """A small fixed-width table: model, benchmark, metric, score ± stderr, n."""
    header = ("model", "benchmark", "metric", "score", "n")
    rows = []
    for r in records:
        score = "n/a" if r["score"] is None else f"{r['score']:.4f}"
        if r["stderr"] is not None:
            score += f" ± {r['stderr']:.4f}"
        rows.append((r["model"], r["benchmark"], r["metric"], score, str(r["num_samples"])))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def log_table(records: list[dict]) -> None:
    log.info("evaluation results\n%s", format_table(records))
