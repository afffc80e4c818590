"""What params say about training data: the external sources and each training stage's mixture.

Sources (section `datasets`) are pinned and materialised one per stage, as benchmarks are:
`dataset-path@NAME` copies a local file or folder (a DVC dep, so edits rerun it) and
`dataset-hub@NAME` downloads a Hub dataset at a revision; both write data/sources/NAME. The
filter stage writes the pipeline's own distilled data to data/sources/distilled.

Each training stage's `dataset_mixture` (open-r1's field, with sources named instead of Hub
ids so DVC hashes exactly what is read) picks sources, a share of each (`weight`), and maps
their columns onto the stage's schema. The `sft-data@` / `grpo-data@` stages build it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

DISTILLED = "distilled"  # the filter's output: data/sources/distilled
SOURCES_DIR = "data/sources"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# The columns a mapping may produce, per stage. SFT trains on `messages`, or builds them from
# a prompt and a `completion` (one answer) or `generations` (the distilled rows' list); GRPO
# prompts with `prompt`, and every other column reaches the rewards as a keyword argument.
SFT_COLUMNS = ("messages", "prompt", "completion", "generations")


def check_name(name, where: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"{where}: {name!r} is not a usable name (letters, digits, '_', '.', '-'; "
                         "it names a folder and a DVC stage)")
    return name


@dataclass(frozen=True)
class Member:
    """One dataset of a mixture."""

    source: str
    weight: float = 1.0
    # the stage's column <- the source's column, e.g. {prompt: problem}
    columns: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mixture:
    members: tuple[Member, ...]
    seed: int = 42

    @property
    def sources(self) -> list[str]:
        return [m.source for m in self.members]


def parse_mixture(value, stage: str) -> Mixture:
    """The `dataset_mixture` of section ``stage``; ValueError naming the key for bad input."""
    where = f"{stage}.dataset_mixture"  # the full key, whichever section it is read from
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a mapping with 'datasets' (and optionally 'seed')")
    unknown = sorted(set(value) - {"datasets", "seed"})
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; keys are datasets, seed")
    seed = value.get("seed", 42)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"{where}.seed = {seed!r}: give an integer")
    entries = value.get("datasets")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{where}.datasets must list at least one dataset")
    members, seen = [], set()
    for i, entry in enumerate(entries):
        at = f"{where}.datasets[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{at} must be a mapping with source, weight and columns")
        unknown = sorted(set(entry) - {"source", "weight", "columns"})
        if unknown:
            raise ValueError(f"{at}: unknown key(s) {unknown}; keys are source, weight, columns")
        source = check_name(entry.get("source"), f"{at}.source")
        if source in seen:
            raise ValueError(f"{at}.source = {source!r} is listed twice; give it once with its weight")
        seen.add(source)
        weight = entry.get("weight", 1.0)
        # open-r1's semantics: the share of the dataset's rows that enters the mixture.
        if (isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight)
                or not 0 < weight <= 1):
            raise ValueError(f"{at}.weight = {weight!r} is out of range: must be > 0 and <= 1 "
                             "(the share of the dataset's rows that is used)")
        columns = entry.get("columns") or {}
        if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in columns.items()):
            raise ValueError(f"{at}.columns must map the stage's column names to the dataset's, "
                             "e.g. {prompt: problem}")
        if stage == "sft":
            bad = sorted(set(columns) - set(SFT_COLUMNS))
            if bad:
                raise ValueError(f"{at}.columns maps to {bad}, which sft does not read; "
                                 f"its columns are {', '.join(SFT_COLUMNS)}")
        members.append(Member(source, float(weight), dict(columns)))
    return Mixture(tuple(members), seed)


@dataclass
class DatasetsConfig:
    """Section `datasets`: the external training data sources, by name.

    paths: NAME -> {path, split}: a local .jsonl/.json/.parquet file, a folder of them, or a
        save_to_disk folder (split picks from a DatasetDict).
    hub:   NAME -> {id, config, split, revision}: a Hub dataset pinned at a revision.
    """

    paths: dict = field(default_factory=dict)
    hub: dict = field(default_factory=dict)

    def __post_init__(self):
        for kind, required, optional in (("paths", ("path",), ("split",)),
                                         ("hub", ("id", "revision"), ("config", "split"))):
            entries = getattr(self, kind)
            if not isinstance(entries, dict):
                raise ValueError(f"{kind} must be a mapping of names to sources")
            for name, spec in entries.items():
                at = f"{kind}.{name}"
                check_name(name, at)
                if name == DISTILLED:
                    raise ValueError(f"{at}: '{DISTILLED}' is the name of the pipeline's own distilled data")
                if not isinstance(spec, dict):
                    raise ValueError(f"{at} must be a mapping with {', '.join(required)}")
                unknown = sorted(set(spec) - set(required) - set(optional))
                if unknown:
                    raise ValueError(f"{at}: unknown key(s) {unknown}; keys are {', '.join(required + optional)}")
                for key in required:
                    if not isinstance(spec.get(key), str) or not spec[key]:
                        raise ValueError(f"{at}.{key} is required (a non-empty string)")
                for key in optional:
                    if spec.get(key) is not None and not isinstance(spec[key], str):
                        raise ValueError(f"{at}.{key} = {spec[key]!r}: give a string")
        both = sorted(set(self.paths) & set(self.hub))
        if both:
            raise ValueError(f"{both} are in both paths and hub; each source is in one")

    @property
    def names(self) -> list[str]:
        return [*self.paths, *self.hub]

    def source(self, name: str) -> dict:
        if name in self.paths:
            return {"kind": "path", "split": "train", **self.paths[name]}
        if name in self.hub:
            return {"kind": "hub", "split": "train", "config": None, **self.hub[name]}
        raise KeyError(name)
