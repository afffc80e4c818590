"""The project's own config dataclasses, one per params.yaml section.

Trainer fields (learning_rate, num_generations, max_length, ...) are not repeated here:
`r1.config.load_section` routes them to TRL's SFTConfig / GRPOConfig under TRL's own names.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from r1.ranges import (
    AT_LEAST_1,
    AT_LEAST_2,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    Checked,
    OutOfRange,
    Range,
)


@dataclass
class PipelineConfig:
    """Section `pipeline`: which stages the recipe has. dvc.yaml declares each optional stage
    with `foreach` over its list here, and DVC declares no stage for an empty list: so a
    recipe drops stages without dvc.yaml changing. The one item a list may hold names the
    stages: `generate@teacher`, `filter@teacher`, `sft-data@student`, `sft@student`, ..."""

    ITEMS: ClassVar[dict[str, str]] = {"distill": "teacher", "sft": "student", "grpo": "student"}

    distill: list = field(default_factory=lambda: ["teacher"])
    sft: list = field(default_factory=lambda: ["student"])
    grpo: list = field(default_factory=lambda: ["student"])
    # The models the evaluate matrix scores (evaluate@MODEL-BENCHMARK): pipeline models the
    # recipe produces and names from external_models. Here, not in section `evaluate`, so that
    # adding a model adds its evaluations without rerunning the others.
    evaluate: list = field(default_factory=lambda: ["base", "sft", "grpo"])

    def __post_init__(self):
        for key, item in self.ITEMS.items():
            if getattr(self, key) not in ([], [item]):
                raise ValueError(f"{key} = {getattr(self, key)!r}: give [{item}] to run it or [] to leave it out")
        if not all(isinstance(m, str) for m in self.evaluate) or len(set(self.evaluate)) != len(self.evaluate):
            raise ValueError(f"evaluate = {self.evaluate!r}: list each model to evaluate once, by name")

    def has(self, key: str) -> bool:
        return bool(getattr(self, key))

    @property
    def models(self) -> set[str]:
        """The pipeline's own models this recipe produces (pipeline.evaluate may name them).

        `teacher` is the embedded default's teacher (the `teacher` stage, always in the graph);
        a recipe's real teacher is scored as an external model."""
        return {"base", "teacher"} | {k for k in ("sft", "grpo") if self.has(k)}


@dataclass
class EmbeddedConfig(Checked):
    """Section `embedded`: the offline default's problems, solver, teacher and student, from `seed`.

    The `embedded` stage reads the data and student fields; the `teacher` stage the `teacher_*`
    ones (`teacher_training` holds TRL SFTConfig fields under TRL's names).
    """

    RANGES: ClassVar[dict[str, Range]] = {
        "num_math_problems": AT_LEAST_1, "num_code_problems": NON_NEGATIVE, "benchmark_size": AT_LEAST_1,
        "validation_size": NON_NEGATIVE, "planted_contamination": NON_NEGATIVE, "operands": AT_LEAST_2,
        "max_operand": AT_LEAST_1, "solver_traces": AT_LEAST_1, "solver_swap": FRACTION,
        "solver_slip": FRACTION, "vocab_size": AT_LEAST_1, "hidden_size": AT_LEAST_1,
        "intermediate_size": AT_LEAST_1, "num_hidden_layers": AT_LEAST_1, "num_attention_heads": AT_LEAST_1,
        "num_key_value_heads": AT_LEAST_1, "teacher_hidden_size": AT_LEAST_1,
        "teacher_intermediate_size": AT_LEAST_1, "teacher_num_hidden_layers": AT_LEAST_1,
    }

    seed: int = 0
    # The training prompts (distillation and GRPO), the benchmark and a validation split for
    # choosing settings without looking at the benchmark: one seeded draw, so none share a problem.
    num_math_problems: int = 96
    num_code_problems: int = 6
    benchmark_size: int = 32
    validation_size: int = 0
    # Benchmark problems copied into the training set, so decontamination has real work.
    planted_contamination: int = 4
    # The task family: chains of `operands` numbers from 1..max_operand joined by `operators`.
    operands: int = 3
    max_operand: int = 9
    operators: str = "+-"
    # The imperfect solver whose traces the teacher learns from (problems.solver_trace).
    solver_traces: int = 64
    solver_swap: float = 0.1
    solver_slip: float = 0.03
    vocab_size: int = 1024
    # The student (models/embedded, which `base` pins).
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    # The teacher (models/teacher): its shape, and TRL SFTConfig fields for its training. The
    # defaults (what recipes, which never use the teacher, get) train it for seconds.
    teacher_hidden_size: int = 64
    teacher_intermediate_size: int = 128
    teacher_num_hidden_layers: int = 2
    teacher_training: dict = field(default_factory=lambda: {"max_steps": 4})

    def __post_init__(self):
        super().__post_init__()
        if not self.operators or set(self.operators) - set("+-*"):
            raise ValueError(f"operators = {self.operators!r} is out of range: must be a non-empty string of + - *")

    def teacher_shape(self) -> EmbeddedConfig:
        """This config with the teacher's shape in the student's fields (for build_model)."""
        return dataclasses.replace(self, hidden_size=self.teacher_hidden_size,
                                   intermediate_size=self.teacher_intermediate_size,
                                   num_hidden_layers=self.teacher_num_hidden_layers)


@dataclass
class ModelConfig:
    """Section `model`: the student model that sft starts from and evaluate@base scores."""

    name_or_path: str
    revision: str = "main"
    torch_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    attn_implementation: str | None = None
    trust_remote_code: bool = False
    # A .jinja file that replaces the tokenizer's chat template (None keeps the tokenizer's).
    chat_template: str | None = None
    # A token of the vocabulary that ends a turn, replacing the tokenizer's eos (open-r1's
    # `eos_token`, e.g. "<|im_end|>" for a base model trained on a chat template); the saved
    # generation config then stops on it too.
    eos_token: str | None = None


@dataclass
class BenchmarksConfig:
    """Section `benchmarks`: the list that decontaminate and evaluate both read, and where each
    benchmark comes from. Each name is in exactly one of `paths` and `hub`, because dvc.yaml
    makes one materialising stage per entry of each (`benchmark-file@NAME`, `benchmark-hub@NAME`),
    and both write data/benchmarks/NAME."""

    names: list[str] = field(default_factory=list)
    # Local files or save_to_disk folders with the Hub set's columns, by benchmark name.
    paths: dict[str, str] = field(default_factory=dict)
    # Benchmarks read from the Hub (the registry's dataset id), by name: the revision to pin.
    hub: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        from r1 import benchmarks

        if not self.names:
            raise ValueError("names must list at least one benchmark")
        for name in list(self.names) + list(self.paths) + list(self.hub):
            benchmarks.get(name)  # raises UnknownBenchmarkError naming it
        for key in ("paths", "hub"):
            extra = [n for n in getattr(self, key) if n not in self.names]
            if extra:
                raise ValueError(f"{key} has {extra}, which names does not list ({self.names}); "
                                 f"add them to names or remove them from {key}")
            for name, value in getattr(self, key).items():
                if not isinstance(value, str) or not value:
                    raise ValueError(f"{key}.{name} = {value!r}: give a non-empty string "
                                     f"({'a local file or folder' if key == 'paths' else 'a Hub revision such as main'})")
        for name in self.names:
            if name in self.paths and name in self.hub:
                raise ValueError(f"benchmark '{name}' is in both paths and hub; keep it in one "
                                 "(paths: a local file, hub: a Hub revision)")
            if name not in self.paths and name not in self.hub:
                if benchmarks.get(name).hub_id is None:
                    raise ValueError(f"benchmark '{name}' has no Hub source: give its file in benchmarks.paths")
                raise ValueError(f"benchmark '{name}' has no source: give its local file in benchmarks.paths "
                                 f"or its Hub revision in benchmarks.hub (e.g. hub: {{{name}: main}})")
            if name in self.hub and benchmarks.get(name).hub_id is None:
                raise ValueError(f"benchmark '{name}' has no Hub source, so it cannot be in hub: "
                                 "give its file in benchmarks.paths")


@dataclass
class GenerateConfig(Checked):
    """Section `generate`: distillation of reasoning traces from a teacher (distilabel)."""

    RANGES: ClassVar[dict[str, Range]] = {
        "temperature": NON_NEGATIVE, "top_p": PROBABILITY, "max_new_tokens": AT_LEAST_1,
        "num_generations": AT_LEAST_1, "input_batch_size": AT_LEAST_1, "client_replicas": AT_LEAST_1,
        "timeout": POSITIVE, "retries": NON_NEGATIVE, "tensor_parallel_size": AT_LEAST_1,
        "data_parallel_size": AT_LEAST_1,
    }

    model: str
    dataset: str
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    dataset_config: str | None = None
    dataset_split: str = "train"
    prompt_column: str = "problem"
    prompt_template: str = "{{ instruction }}"
    system_prompt: str | None = None
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 8192
    num_generations: int = 4
    input_batch_size: int = 64
    seed: int = 0
    # openai backend: an OpenAI-compatible endpoint; the key comes from OPENAI_API_KEY.
    base_url: str | None = None
    client_replicas: int = 1
    timeout: int = 900
    retries: int = 0
    # vllm backend
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1

    def __post_init__(self):
        super().__post_init__()
        if self.backend == "openai" and not self.base_url:
            raise ValueError("backend 'openai' needs base_url")


@dataclass
class DecontaminateConfig(Checked):
    """Section `decontaminate`: n-gram matching of training rows against `benchmarks.names`."""

    RANGES: ClassVar[dict[str, Range]] = {"ngram_size": AT_LEAST_1, "max_examples": NON_NEGATIVE}

    ngram_size: int = 8
    normalization: Literal["basic", "strict"] = "basic"
    check_completions: bool = False
    deduplicate: bool = True
    max_examples: int = 20


@dataclass
class TrainingStageConfig(Checked):
    """What both training stages add to TRL's config: a held-out split, LoRA, publishing."""

    RANGES: ClassVar[dict[str, Range]] = {"test_split_size": Range(0, 1, high_open=True)}

    # A share of the training rows held out (seeded by `data_seed`) and scored as TRL's
    # eval_dataset at `eval_strategy`/`eval_steps` (open-r1's test split); 0: none.
    test_split_size: float = 0.0
    # LoRA through peft (`uv sync --extra peft`): peft.LoraConfig's fields, e.g.
    # {r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: all-linear}. The adapter is
    # merged into the saved model, so later stages load an ordinary model folder.
    peft: dict | None = None
    # TRL's Hub fields, taken over by the stage: it pushes the FINAL model folder, with a model
    # card holding the resolved params, once training succeeded (the Trainer would push its
    # checkpoints folder on every save). The token comes from HF_TOKEN or `hf auth login`.
    push_to_hub: bool = False
    hub_model_id: str | None = None
    hub_revision: str | None = None
    hub_private_repo: bool | None = None
    # auto: attention kernel, liger, fused AdamW, gradient checkpointing and the micro-batch
    # split chosen from the GPU and the model where params do not pin them (never the
    # effective batch, optimizer or precision; r1.training.performance); off: as params say.
    performance: Literal["auto", "off"] = "auto"

    # The training data (open-r1's dataset_mixture, sources named in section `datasets` or
    # `distilled`): see r1.trainsets.spec. The `sft-data@`/`grpo-data@` stage builds it.
    dataset_mixture: dict = field(default_factory=lambda: {
        "datasets": [{"source": "distilled", "columns": {"prompt": "problem"}}]})

    def __post_init__(self):
        super().__post_init__()
        if self.push_to_hub and not self.hub_model_id:
            raise ValueError("push_to_hub needs hub_model_id (the Hub repo, e.g. my-org/my-model)")
        from r1.trainsets.spec import parse_mixture

        self.mixture = parse_mixture(self.dataset_mixture, self.STAGE)


@dataclass
class SFTStageConfig(TrainingStageConfig):
    """Section `sft` (the project's part; the rest is TRL's SFTConfig)."""

    STAGE: ClassVar[str] = "sft"
    system_prompt: str | None = None
    # Rows with a list of `generations` (the distilled data): "all" trains on every one as its
    # own example (open-r1's Mixture-of-Thoughts style), "first" on one per prompt.
    generations: Literal["all", "first"] = "all"


@dataclass
class GRPOStageConfig(TrainingStageConfig):
    """Section `grpo` (the project's part; the rest is TRL's GRPOConfig)."""

    STAGE: ClassVar[str] = "grpo"

    reward_funcs: list[str] = field(default_factory=lambda: ["accuracy", "format"])
    reward_kwargs: dict = field(default_factory=dict)
    system_prompt: str | None = None
    # The model GRPO starts from: the sft stage's (distil, then RL) or the pinned base model
    # (R1-Zero / DeepScaleR style RL straight from a base or distilled model). dvc.yaml
    # templates it into the stage's deps, so DVC links grpo to whichever it is.
    init_model: Literal["sft", "base"] = "sft"


@dataclass
class EvaluateConfig(Checked):
    """Section `evaluate`: lighteval generation settings shared by every model × benchmark.

    max_new_tokens must fit within max_model_length: see r1.ranges.CROSS_FIELD_RULES.
    """

    RANGES: ClassVar[dict[str, Range]] = {
        "max_new_tokens": AT_LEAST_1, "temperature": NON_NEGATIVE, "top_p": PROBABILITY,
        "max_samples": AT_LEAST_1, "batch_size": AT_LEAST_1, "num_generations": AT_LEAST_1,
        "max_model_length": AT_LEAST_1, "tensor_parallel_size": AT_LEAST_1, "data_parallel_size": AT_LEAST_1,
        "gpu_memory_utilization": PROBABILITY,
    }

    backend: Literal["transformers", "vllm"] = "transformers"
    max_new_tokens: int = 32768
    temperature: float = 0.6
    top_p: float = 0.95
    max_samples: int | None = None
    batch_size: int = 8
    system_prompt: str | None = None
    seed: int = 0
    # Generations per problem for pass@1 (lighteval's metric parameter `n`); None keeps the
    # lighteval task's own n (1 for every benchmark in r1.benchmarks).
    num_generations: int | None = None
    # Context length (prompt + generation); None: the model's max_position_embeddings.
    max_model_length: int | None = None
    # vllm backend (lighteval's VLLMModelConfig names)
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    gpu_memory_utilization: float = 0.8
    # Per benchmark, generation settings that replace the shared ones above, e.g.
    # {aime24: {num_generations: 64}}: DeepSeek estimates pass@1 from 64 samples per query.
    per_benchmark: dict[str, dict] = field(default_factory=dict)

    PER_BENCHMARK_KEYS: ClassVar[tuple[str, ...]] = (
        "num_generations", "max_new_tokens", "temperature", "top_p", "max_samples")

    def __post_init__(self):
        super().__post_init__()
        for name in self.per_benchmark:
            self.for_benchmark(name)  # checks the name, the keys and the resulting settings

    def for_benchmark(self, name: str) -> EvaluateConfig:
        """The settings for benchmark ``name``: the shared ones with its per_benchmark entry."""
        overrides = self.per_benchmark.get(name)
        if overrides is None:
            return self
        from r1 import benchmarks
        from r1.config import matches_type

        where = f"per_benchmark.{name}"
        try:
            benchmarks.get(name)
        except benchmarks.UnknownBenchmarkError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if not isinstance(overrides, dict):
            raise ValueError(f"{where} = {overrides!r}: give a mapping of {', '.join(self.PER_BENCHMARK_KEYS)}")
        hints = typing.get_type_hints(EvaluateConfig)
        for key, value in overrides.items():
            if key not in self.PER_BENCHMARK_KEYS:
                raise ValueError(f"{where}: unknown key '{key}'; allowed: {', '.join(self.PER_BENCHMARK_KEYS)}")
            if not matches_type(value, hints[key]):
                raise ValueError(f"{where}.{key} = {value!r} does not match the expected type {hints[key]}")
        try:
            return dataclasses.replace(self, **overrides, per_benchmark={})
        except OutOfRange as exc:
            raise OutOfRange(f"{where}.{exc.key}", exc.value, exc.allowed) from None


@dataclass
class ExternalModelsConfig:
    """Section `external_models`: models the pipeline does not train, pinned to be evaluated.

    `paths`: NAME -> a local model folder (dvc.yaml's `model-path@NAME` copies it, and its
    content is a dep, so an edited folder reruns its evaluations); `hub`: NAME -> {id,
    revision} (`model-hub@NAME` downloads it at that revision). Either writes models/NAME,
    which `pipeline.evaluate` then names like a pipeline model.
    """

    paths: dict[str, str] = field(default_factory=dict)
    hub: dict[str, dict] = field(default_factory=dict)

    # The folders under models/ that other stages write.
    RESERVED: ClassVar[tuple[str, ...]] = ("base", "sft", "grpo", "embedded", "teacher")
    NAME: ClassVar[re.Pattern] = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

    def __post_init__(self):
        for key in ("paths", "hub"):
            for name in getattr(self, key):
                if not isinstance(name, str) or not self.NAME.fullmatch(name):
                    raise ValueError(f"external_models.{key}: name {name!r} must be letters, digits, '_', '.' "
                                     "or '-' (it names models/NAME and the stages)")
                if name in self.RESERVED:
                    raise ValueError(f"external_models.{key}.{name}: '{name}' is a pipeline model's name "
                                     f"(reserved: {', '.join(self.RESERVED)}); choose another")
        both = sorted(set(self.paths) & set(self.hub))
        if both:
            raise ValueError(f"external_models: '{both[0]}' is in both paths and hub; keep it in one "
                             f"(both would write models/{both[0]})")
        for name, path in self.paths.items():
            where = f"external_models.paths.{name}"
            if not isinstance(path, str) or not path:
                raise ValueError(f"{where} = {path!r}: give a local model folder")
            if not Path(path).expanduser().is_dir():
                raise ValueError(f"{where} = '{path}': no such folder; give a local model folder "
                                 "(a Hub model goes in external_models.hub)")
        for name, entry in self.hub.items():
            where = f"external_models.hub.{name}"
            if not isinstance(entry, dict) or set(entry) != {"id", "revision"} or not all(
                    isinstance(v, str) and v for v in entry.values()):
                raise ValueError(f"{where} = {entry!r}: give {{id: ORG/MODEL, revision: COMMIT or main}}, "
                                 "both non-empty strings and nothing else")

    def names(self) -> list[str]:
        return [*self.paths, *self.hub]


@dataclass
class FilterConfig(Checked):
    """Section `filter`: pass-rate and correctness filtering of the distilled generations.

    Each generation is scored by the verifier of its row: math-verify against
    ``solution_column`` (the accuracy reward's verifier), or the code sandbox against
    ``verification_column`` (the row is a code row when that value is non-null), or, with
    ``code_scorer`` ``cf_code`` / ``ioi_code``, the scorer of those rewards. A prompt's
    pass rate is the fraction of its scorable generations judged correct (a code generation
    is correct when it passes every test). A prompt is kept when its pass rate lies in the
    range from ``pass_rate_min`` to ``pass_rate_max``; ``include_min`` / ``include_max``
    say whether each bound belongs to the range (open-r1 keeps 0 < rate < 1: set both false).
    See :mod:`r1.filtering` for the full rules.
    """

    RANGES: ClassVar[dict[str, Range]] = {
        "pass_rate_min": FRACTION, "pass_rate_max": FRACTION, "math_timeout": POSITIVE,
        "math_hard_timeout": POSITIVE, "math_workers": AT_LEAST_1,
    }

    pass_rate_min: float = 0.0
    pass_rate_max: float = 1.0
    include_min: bool = True
    include_max: bool = True
    # Which generations of a kept prompt go on to SFT: only the correct ones, or all.
    keep: Literal["correct", "all"] = "correct"
    # Drop generations whose finish_reason is "length" (they never finished their answer).
    drop_truncated: bool = True
    # Prompts no verifier can judge (no gold and no tests, an unparseable gold, sandbox
    # errors on every generation): "drop" them (open-r1), or "keep" them unfiltered.
    unscorable: Literal["drop", "keep"] = "drop"
    # Input columns; null means the data set has no such column.
    solution_column: str | None = "solution"
    verification_column: str | None = "verification_info"
    # math-verify: CPU seconds per generation (its parse and verify), and the wall-clock cap
    # per generation. Generous, so that no real answer is cut short on a loaded machine
    # (a verdict must not depend on the machine); those cut short count in math_timeouts.
    math_timeout: float = 5.0
    math_hard_timeout: float = 30.0
    math_workers: int | None = None
    # Which reward's scorer judges the code rows: "code" (the tests in verification_column,
    # r1.sandbox's schema), or the competition scorers of the `cf_code` / `ioi_code` rewards,
    # which read the row's own columns in open-r1/codeforces or open-r1/ioi form (time and
    # memory limits, checker, graders); verification_column then names the column whose
    # value makes a row a code row (official_tests, test_cases).
    code_scorer: Literal["code", "cf_code", "ioi_code"] = "code"
    # The sandbox: provider and its options (those of the code_scorer reward's kwargs).
    code_provider: str = "local"
    code_kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        if self.solution_column is None and self.verification_column is None:
            raise ValueError("solution_column and verification_column cannot both be null")
        if self.code_scorer != "code" and self.verification_column is None:
            raise ValueError(
                f"code_scorer {self.code_scorer!r} needs verification_column: the column whose "
                "value makes a row a code row (official_tests for cf_code, test_cases for ioi_code)"
            )
        # A generation is correct when it passes every test (pass_fail): a reward's own
        # scoring would change what "correct" means.
        scoring = [k for k in ("scoring_mode", "compile_error_reward", "no_code_reward")
                   if self.code_scorer == "cf_code" and k in self.code_kwargs]
        if scoring:
            raise ValueError(
                f"code_kwargs.{scoring[0]} cannot be set: the filter counts a generation correct "
                "when it passes every test; give only the sandbox options (and patch_code, language)"
            )
        from r1.rewards import validate

        validate([self.code_scorer],
                 {self.code_scorer: {"provider": self.code_provider, **self.code_kwargs}})
