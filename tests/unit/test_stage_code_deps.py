"""Every library module a stage runs is one of its DVC deps, so an experiment that edits
library code (`dvc exp run --queue` included) reruns the stages that code changes.

"Runs" means the module-level import closure of the stage's script: what is imported
lazily inside a function (config validation's reward registry, for instance) only checks
params and would make every stage depend on nearly the whole library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _module_file(name: str) -> Path | None:
    path = SRC.joinpath(*name.split("."))
    if (path / "__init__.py").exists():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else None


def _top_level_statements(tree: ast.Module):
    """Import nodes outside function bodies (module level, class bodies, if/try blocks)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        todo.extend(ast.iter_child_nodes(node))


def _imported_modules(path: Path) -> set[str]:
    package = list(path.relative_to(SRC).parent.parts) if path.is_relative_to(SRC) else []
    found = set()
    for node in _top_level_statements(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "r1"}
            continue
        base = package[: len(package) - node.level + 1] if node.level else []
        module = ".".join(base + ([node.module] if node.module else []))
        if module.split(".")[0] != "r1":
            continue
        found.add(module)
        found |= {f"{module}.{alias.name}" for alias in node.names if _module_file(f"{module}.{alias.name}")}
    return found


def _code_closure(script: Path) -> set[Path]:
    files: set[Path] = set()
    todo, seen = list(_imported_modules(script)), set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            path = _module_file(".".join(parts[:depth]))
            if path and path not in files:
                files.add(path)
                todo.extend(_imported_modules(path))
    return files - {SRC / "r1" / "__init__.py"}  # only the version string


STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_deps_cover_the_code_it_imports(name):
    body = STAGES[name].get("do", STAGES[name])
    script = ROOT / "stages" / f"{body['cmd'].split()[1]}.py"
    deps = [str(dep).rstrip("/") for dep in body.get("deps", [])]
    assert f"stages/{script.name}" in deps, f"{name}: its own script {script.name} is not a dep"
    covered = lambda rel: any(rel == dep or rel.startswith(dep + "/") for dep in deps)  # noqa: E731
    missing = sorted(str(p.relative_to(ROOT)) for p in _code_closure(script) if not covered(str(p.relative_to(ROOT))))
    assert not missing, f"stage {name} imports library code that is not among its deps: {missing}"


def test_the_closure_finds_imports_through_packages_and_relative_imports():
    closure = {str(p.relative_to(ROOT)) for p in _code_closure(ROOT / "stages" / "grpo.py")}
    assert {"src/r1/stage.py", "src/r1/training/__init__.py", "src/r1/rewards/__init__.py"} <= closure, closure
