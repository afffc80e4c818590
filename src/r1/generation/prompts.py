"""Prompt templates and input checks: fail in seconds, before any model is loaded.

distilabel's `TextGeneration` renders `template` with the row's `columns` and silently renders
a missing field as an empty string (jinja's default `Undefined`). We read the template's
fields ourselves, so a template that refers to a field the dataset lacks is an error that
names the field, and a row whose prompt is missing or not text is an error that names the row.
"""

from __future__ import annotations

import hashlib

import jinja2
from jinja2 import meta

from r1.data import DataError

# A column the stage adds to every input row: the row's position in the input dataset. It
# keys the resumable store and the per-row seed, and is dropped from the output.
INDEX_COLUMN = "_r1_row"
# open-r1's name for the prompt field in templates ("{{ instruction }}").
INSTRUCTION = "instruction"


class TemplateError(ValueError):
    """A prompt template that cannot be rendered with the dataset's fields."""


def template_fields(template: str) -> list[str]:
    """The undeclared variables of a Jinja template, sorted (e.g. ``["instruction"]``)."""
    try:
        ast = jinja2.Environment().parse(template)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"prompt_template is not valid Jinja: {exc}") from exc
    return sorted(meta.find_undeclared_variables(ast))


def task_columns(template: str, prompt_column: str) -> tuple[list[str], dict[str, str]]:
    """distilabel `columns` and `input_mappings` for a template.

    ``{{ instruction }}`` is the prompt column (open-r1's convention); any other field is read
    from the dataset column of the same name.
    """
    fields = template_fields(template)
    if not fields:
        raise TemplateError(
            "prompt_template uses no field; it must refer to the prompt as {{ instruction }}"
        )
    mappings = {INSTRUCTION: prompt_column} if INSTRUCTION in fields else {}
    return fields, mappings


def check_inputs(ds, template: str, prompt_column: str, source: str) -> None:
    """Raise `DataError` for a dataset the template cannot be rendered with."""
    if len(ds) == 0:
        raise DataError(f"{source}: the data set is empty; there is nothing to generate from")
    if prompt_column not in ds.column_names:
        raise DataError(
            f"{source}: no prompt column '{prompt_column}' (generate.prompt_column); "
            f"it has {ds.column_names}"
        )
    fields, mappings = task_columns(template, prompt_column)
    needed = [mappings.get(f, f) for f in fields]
    missing = [f for f, col in zip(fields, needed, strict=True) if col not in ds.column_names]
    if missing:
        raise DataError(
            f"{source}: generate.prompt_template refers to field(s) {missing} that the data set "
            f"lacks; it has {ds.column_names} (use {{{{ instruction }}}} for the prompt column)"
        )
    if INDEX_COLUMN in ds.column_names:
        raise DataError(f"{source}: column '{INDEX_COLUMN}' is reserved by the generate stage")
    for i, value in enumerate(ds[prompt_column]):
        if not isinstance(value, str) or not value.strip():
            raise DataError(
                f"{source}: row {i} has no text in prompt column '{prompt_column}' (got {value!r})"
            )


def row_seed(seed: int, row: int) -> int:
    """A seed for one prompt, from the run's seed and the row's position.

    Per-row seeds make each prompt's samples independent of batching, replicas, Ray placement
    and of which rows a resumed run still has to do: that is what lets a resumed run reproduce
    an uninterrupted one. Kept below 2**31 because some OpenAI-compatible servers read int32.
    """
    digest = hashlib.sha256(f"r1-generate:{seed}:{row}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
