"""Stage `teacher`: train the embedded default's teacher on an imperfect solver's traces.

The R1 story needs a teacher that is good but not perfect, so that some distilled traces are
wrong and filtering matters. This stage builds a Qwen2 of the `teacher_*` shape from
`embedded.seed` (with the tokenizer of models/embedded) and trains it with TRL's SFTTrainer
on data/embedded/solver.jsonl, whose traces come from a solver that sometimes applies the
wrong operator or slips. Writes models/teacher and metrics/teacher.json.

Why a stage of its own rather than part of `embedded`: `embedded`'s outputs are byte-identical
on every machine, which the reproducibility test checks exactly, while a trained model depends
on the CPU's floating-point kernels and is checked through its metrics. Changing how the
teacher trains then reruns neither the data nor the student's initial weights.

The training takes about a minute, so it keeps no checkpoints: a killed run starts again, and
its output appears only once complete (atomic rename).
"""

from __future__ import annotations

import logging
import tempfile

from r1 import stage
from r1.atomic import atomic_dir
from r1.config import ConfigError, load_section
from r1.configs import EmbeddedConfig
from r1.data import DataError, load, require_rows
from r1.embedded.model import build_model
from r1.runinfo import write_run_info
from r1.training.models import one_thread_for_tiny_cpu_model

log = logging.getLogger("r1.teacher")

DATA = "data/embedded/solver.jsonl"
TOKENIZER = "models/embedded"
OUT = "models/teacher"


def main(params: dict) -> None:
    from trl import SFTConfig

    cfg, _ = load_section(params, "embedded", "teacher", EmbeddedConfig)
    with tempfile.TemporaryDirectory(prefix="r1-teacher-") as tmp:
        try:
            args = SFTConfig(output_dir=tmp, report_to="none", save_strategy="no", **cfg.teacher_training)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"stage 'teacher': params.yaml embedded.teacher_training is not a valid "
                              f"SFTConfig: {exc}") from exc
        from datasets import Dataset
        from transformers import AutoTokenizer
        from trl import SFTTrainer

        tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
        rows = load(DATA)
        require_rows(rows, DATA)
        if "generation" not in rows.column_names:
            raise DataError(f"{DATA} has no 'generation' column (rebuild it: dvc repro embedded)")
        # The same conversation the student is distilled on: the bare problem, then the trace.
        train = Dataset.from_list([{"messages": [{"role": "user", "content": r["problem"]},
                                                 {"role": "assistant", "content": r["generation"]}]}
                                   for r in rows])
        # A different seed from the student's: the teacher is another model, not a bigger copy.
        model = build_model(tokenizer, EmbeddedConfig(**{**vars(cfg), "seed": cfg.seed + 1}).teacher_shape())
        log.info("training a %d-parameter teacher on %d solver traces",
                 sum(p.numel() for p in model.parameters()), len(train))
        trainer = SFTTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
        one_thread_for_tiny_cpu_model(trainer.model)
        result = trainer.train()
        losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
        with atomic_dir(OUT) as out:
            trainer.model.config.use_cache = True
            trainer.save_model(str(out))
            tokenizer.save_pretrained(out)
            (out / "training_args.bin").unlink(missing_ok=True)
            write_run_info(out, "teacher", {"embedded": cfg, "teacher_training": args.to_dict()})
    stage.write_metrics("teacher", {
        "train_loss": round(result.training_loss, 6),
        "final_loss": round(losses[-1], 6) if losses else None,
        "steps": result.global_step,
        "examples": len(train),
    })


if __name__ == "__main__":
    stage.run("teacher", main)
