"""The two distilabel steps of the generate pipeline.

`R1TextGeneration` is distilabel's `TextGeneration` (Jinja template, system prompt, column
mappings, replicas, load/unload of the LLM) with its `process` replaced so that each row's
seed reaches the LLM and each row gets the stage's columns: the rendered prompt, its
generations, finish reasons and token counts. `PersistRows` saves every finished row to the
resumable store as soon as its batch is done.
"""

# No `from __future__ import annotations`: distilabel inspects the `StepInput` hint of
# `process` at run time to wire the steps.
from typing import TYPE_CHECKING

from distilabel.steps import Step, StepInput
from distilabel.steps.tasks import TextGeneration
from pydantic import PrivateAttr

from r1.generation import llm_common
from r1.generation.prompts import INDEX_COLUMN, row_seed
from r1.generation.store import RowStore

if TYPE_CHECKING:
    from distilabel.typing import StepColumns, StepOutput

# The fields of a finished row that the store keeps (input columns stay in the input dataset).
STORED_COLUMNS = (INDEX_COLUMN, *llm_common.OUTPUT_COLUMNS, llm_common.INVALID_UTF8_COLUMN)


class R1TextGeneration(TextGeneration):
    """TextGeneration whose rows carry per-row seeds, finish reasons and token counts."""

    seed: int = 0

    @property
    def outputs(self) -> "StepColumns":
        return [*llm_common.OUTPUT_COLUMNS, llm_common.INVALID_UTF8_COLUMN, llm_common.ERROR_COLUMN]

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        messages = self._format_inputs(inputs)
        seeds = [row_seed(self.seed, row[INDEX_COLUMN]) for row in inputs]
        try:
            records = self.llm.r1_generate(
                messages, seeds=seeds, num_generations=self.num_generations,
                **self.llm.get_generation_kwargs(),
            )
        except Exception as exc:  # noqa: BLE001 - reported per row, the run goes on
            # distilabel would fill the batch with Nones and drop the reason; keep it.
            self._logger.exception("generation failed for rows %s", [r[INDEX_COLUMN] for r in inputs])
            records = [llm_common.failure(f"{type(exc).__name__}: {exc}")] * len(inputs)
        yield [
            {**row, "prompt": msgs[-1]["content"], **rec, "model_name": self.llm.model_name}
            for row, msgs, rec in zip(inputs, messages, records, strict=True)
        ]


class PersistRows(Step):
    """Save the finished rows of each batch to the `RowStore`; pass every row on."""

    store_dir: str
    total: int = 0  # prompts in this run, for the progress line

    _saved: int = PrivateAttr(default=0)

    @property
    def inputs(self) -> "StepColumns":
        return [INDEX_COLUMN, "generations"]

    @property
    def outputs(self) -> "StepColumns":
        return []

    def process(self, inputs: StepInput) -> "StepOutput":  # type: ignore[override]
        done = [{k: row[k] for k in STORED_COLUMNS} for row in inputs if row["generations"] is not None]
        RowStore(self.store_dir).add(done)
        self._saved += len(done)
        self._logger.info("saved %d/%d prompts of this run (%d failed in this batch)",
                          self._saved, self.total, len(inputs) - len(done))
        yield inputs
