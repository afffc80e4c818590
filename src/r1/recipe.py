"""Recipes: complete params files for real runs, checked and switched to in one command.

    python -m r1.recipe apply recipes/Qwen2.5-1.5B-Instruct/math.yaml
    python -m r1.recipe check params.yaml recipes/**/*.yaml
    python -m r1.recipe import open-r1/recipes/.../config_demo.yaml -o recipes/mine.yaml

`apply` validates every section with the same loaders the stages use, then writes the recipe
as params.yaml, so DVC tracks the real values and `dvc repro` reruns what they change. The
old params.yaml is kept as params.yaml.bak.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import yaml

from r1 import pipeline_rules
from r1.config import ConfigError, load_section, read_params
from r1.configs import (
    BenchmarksConfig,
    DecontaminateConfig,
    EmbeddedConfig,
    EvaluateConfig,
    FilterConfig,
    GenerateConfig,
    GRPOStageConfig,
    ModelConfig,
    SFTStageConfig,
)


def validate(params: dict) -> None:
    """Raise ConfigError for the first section a stage of the recipe would refuse.

    Sections of stages the recipe leaves out (`pipeline`) may be absent; when present they
    are checked all the same, so a typo never waits for the day the stage is switched on.
    """
    from trl import GRPOConfig, SFTConfig

    from r1 import rewards

    pipeline = pipeline_rules.check(params)
    load_section(params, "embedded", "embedded", EmbeddedConfig)
    load_section(params, "model", "base", ModelConfig)
    needed = {"generate": pipeline.has("distill"), "filter": pipeline.has("distill"),
              "sft": pipeline.has("sft"), "grpo": pipeline.has("grpo")}
    for section, stage_name, own, trainer in (("generate", "generate", GenerateConfig, None),
                                              ("filter", "filter", FilterConfig, None),
                                              ("sft", "sft", SFTStageConfig, SFTConfig),
                                              ("grpo", "grpo", GRPOStageConfig, GRPOConfig)):
        if section not in params and not needed[section]:
            continue
        cfg, _ = load_section(params, section, stage_name, own, trainer)
        if section == "grpo":
            try:
                rewards.validate(cfg.reward_funcs, cfg.reward_kwargs)
            except ValueError as exc:
                raise ConfigError(f"stage 'grpo': {exc}") from exc
    load_section(params, "benchmarks", "decontaminate", BenchmarksConfig)
    load_section(params, "decontaminate", "decontaminate", DecontaminateConfig)
    load_section(params, "evaluate", "evaluate", EvaluateConfig)
    check_dvc_templating(params)
    known = {"pipeline", "datasets", "embedded", "model", "generate", "filter", "benchmarks", "decontaminate",
             "sft", "grpo", "evaluate", "external_models"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(f"params: unknown section(s) {unknown}; sections are {sorted(known)}")


DVC_YAML = Path(__file__).resolve().parents[2] / "dvc.yaml"
_TEMPLATED = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*\}")


def _lookup(params: dict, dotted: str):
    value = params
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def check_dvc_templating(params: dict, dvc_yaml: Path = DVC_YAML) -> None:
    """Every `${...}` that dvc.yaml reads from params for the stages the recipe has must be
    set, or DVC refuses the whole file (e.g. `datasets.paths` must be given, `{}` for none).
    A stage whose `foreach` list is empty is never expanded, so its body's keys may be absent."""
    if not dvc_yaml.is_file():
        return  # not run from the project's checkout: nothing to check against

    def refs(node) -> set[str]:
        found = set(_TEMPLATED.findall(yaml.safe_dump(node)))
        # A params dep on a key (`sft.dataset_mixture`) must exist too: DVC reports it missing.
        for dep in (node or {}).get("params") or [] if isinstance(node, dict) else []:
            if isinstance(dep, str) and "." in dep and "$" not in dep:
                found.add(dep)
        return {r for r in found if r.split(".")[0] not in ("key", "item")}

    def require(names: set[str], stage: str) -> None:
        for name in sorted(names):
            try:
                _lookup(params, name)
            except KeyError:
                section, _, rest = name.partition(".")
                raise ConfigError(f"params: dvc.yaml stage '{stage}' reads ${{{name}}}, which the recipe does not "
                                  f"set; give {name} in section '{section}' (an empty list or {{}} for none)") from None

    for stage, body in (yaml.safe_load(dvc_yaml.read_text(encoding="utf-8")).get("stages") or {}).items():
        if "foreach" in body:
            require(refs(body["foreach"]), stage)
            items = body["foreach"]
            if isinstance(items, str) and _TEMPLATED.fullmatch(items.strip()):
                items = _lookup(params, _TEMPLATED.fullmatch(items.strip()).group(1))
            if items:
                require(refs(body.get("do")), stage)
        else:
            require(refs(body), stage)


def apply(recipe: Path, params_path: Path = Path("params.yaml")) -> None:
    validate(read_params(recipe))
    if params_path.exists():
        shutil.copy2(params_path, params_path.with_suffix(".yaml.bak"))
    text = f"# Applied from {recipe} with `python -m r1.recipe apply`.\n" + recipe.read_text(encoding="utf-8")
    from r1.atomic import write_text_atomic

    write_text_atomic(params_path, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m r1.recipe", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("apply", help="validate a recipe and write it as params.yaml").add_argument("recipe", type=Path)
    sub.add_parser("check", help="validate params files").add_argument("files", type=Path, nargs="+")
    imp = sub.add_parser("import", help="turn an open-r1 recipe (its sft or grpo config) into a params file")
    imp.add_argument("config", type=Path)
    imp.add_argument("-o", "--output", type=Path, help="the params file to write (default: print it)")
    imp.add_argument("--stage", choices=["sft", "grpo"], help="default: from the path (.../grpo/...) and keys")
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            return _import(args.config, args.output, args.stage)
        if args.command == "apply":
            apply(args.recipe)
            print(f"params.yaml now holds {args.recipe}; run `dvc repro` (or `dvc status` to see what reruns)")
        else:
            for f in args.files:
                validate(read_params(f))
                print(f"{f}: ok")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _import(config: Path, output: Path | None, stage: str | None) -> int:
    from r1 import recipe_import

    try:
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        imported = recipe_import.convert(raw, config, stage)
        text = recipe_import.write(imported, config, output, validate)
    except (OSError, yaml.YAMLError, recipe_import.RecipeImportError) as exc:
        print(f"error: {config}: {exc}", file=sys.stderr)
        return 2
    for key in imported.unknown:
        print(f"not mapped: {key}", file=sys.stderr)
    if output:
        print(f"{output}: written ({len(imported.unknown)} key(s) not mapped); `make recipe RECIPE={output}` applies it")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
