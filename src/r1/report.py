"""The evaluation table printed at the end of `scripts/repro.sh`, with DeepSeek's numbers.

    python -m r1.report [FOLDER ...]     (default: metrics/eval outputs/adhoc)

Scores come from the evaluate stage's `metrics/eval/<model>-<benchmark>.json` (pipeline and
external models alike) and from ad-hoc evaluations' `outputs/adhoc/<model>/<benchmark>/metrics.json`
(`make evaluate MODEL=<Hub id or folder>`); the reference
columns are the pass@1 figures DeepSeek published for R1 and its Qwen distillations
(DeepSeek-R1 paper, Table 5), each with the run's distance from it in standard errors, so a
real run shows at a glance how close it comes and whether the gap is more than noise.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from r1.evaluation.adhoc import METRICS_FILE as ADHOC_METRICS

# pass@1 in percent (DeepSeek-AI, "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs
# via Reinforcement Learning", 2025, Table 5; LiveCodeBench 2024-08..2025-01).
REFERENCE = {
    "DeepSeek-R1-Distill-Qwen-1.5B": {"aime24": 28.9, "math_500": 83.9, "gpqa_diamond": 33.8, "lcb_codegeneration": 16.9},
    "DeepSeek-R1-Distill-Qwen-7B": {"aime24": 55.5, "math_500": 92.8, "gpqa_diamond": 49.1, "lcb_codegeneration": 37.6},
    "DeepSeek-R1": {"aime24": 79.8, "math_500": 97.3, "gpqa_diamond": 71.5, "lcb_codegeneration": 65.9},
}
MODEL_ORDER = {"base": 0, "sft": 1, "grpo": 2}  # then external and ad-hoc models, by name


DEFAULT_FOLDERS = ("metrics/eval", "outputs/adhoc")


def load(*folders: Path) -> list[dict]:
    files = [p for folder in map(Path, folders) for pattern in ("*.json", f"*/*/{ADHOC_METRICS}")
             for p in sorted(folder.glob(pattern))]
    records = [json.loads(p.read_text()) for p in files]
    return sorted(records, key=lambda r: (r.get("benchmark", ""), MODEL_ORDER.get(r.get("model"), 9), r.get("model")))


def sigmas(record: dict, reference: float) -> float | None:
    """How many of our standard errors the score lies from a published pass@1 (in %).

    DeepSeek published no error bars, so the run's own standard error is the yardstick: a
    gap within about 2 sigma is what sampling noise alone produces.
    """
    stderr = record.get("stderr") or 0
    return (100 * record["score"] - reference) / (100 * stderr) if stderr > 0 else None


def reference_cell(record: dict, reference: float | None) -> str:
    if reference is None:
        return "-"
    gap = sigmas(record, reference)
    return f"{reference:.1f}" + ("" if gap is None else f" ({gap:+.1f}σ)")


def render(records: list[dict]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Evaluation (pass@1, %)")
    for column in ("benchmark", "model", "score", "± stderr", "n", "samples", *REFERENCE):
        table.add_column(column, justify="left" if column in ("benchmark", "model") else "right")
    for r in records:
        refs = [reference_cell(r, REFERENCE[m].get(r["benchmark"])) for m in REFERENCE]
        table.add_row(r["benchmark"], r["model"], f"{100 * r['score']:.1f}", f"{100 * (r.get('stderr') or 0):.1f}",
                      str(r.get("num_samples", "")), str(r.get("num_generations", "")), *refs)
    buffer = io.StringIO()
    # wide enough that a Hub id in the model column is not cut short
    longest = max((len(str(r["model"])) for r in records), default=0)
    Console(width=max(160, 130 + longest), file=buffer).print(table)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    folders = argv or sys.argv[1:] or list(DEFAULT_FOLDERS)
    records = load(*folders)
    if not records:
        print(f"no evaluation metrics in {', '.join(map(str, folders))}; run `dvc repro` first", file=sys.stderr)
        return 1
    sys.stdout.write(render(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
