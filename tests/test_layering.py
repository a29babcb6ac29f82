"""ARCHITECTURE.md's layering holds: every import (module level or inside functions) is checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "openrs_cli"
STAGES = {"train", "eval", "dataprep", "report", "push", "rewards"}
FRONT = {"cli", "demo", "doctor", "__main__"}
# what a stage may use of eval: its public stage and the benchmark definitions
EVAL_PUBLIC = {"openrs_cli.eval.stage", "openrs_cli.eval.tasks", "openrs_cli.eval.details"}
ALLOWED = {("train", "rewards"), ("push", "report")}  # training scores with rewards; a model card holds a table


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return out


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {name for name in found if name.startswith("openrs_cli.")}


def layer_of(module: str) -> str:
    top = module.split(".")[1] if "." in module else ""
    if top in FRONT:
        return "front"
    if top in STAGES:
        return top
    return "shared"


def is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def violations() -> list[str]:
    bad = []
    for module, path in modules():
        mine = layer_of(module)
        for name in imports(path):
            if not is_module(name):
                continue  # `from openrs_cli.x import attribute`: the module itself is checked
            theirs = layer_of(name)
            if mine == theirs or theirs == "shared":
                continue
            if mine == "front":
                continue  # the front may call any stage
            if theirs == "front":
                bad.append(f"{module} imports the front ({name})")
            elif mine == "shared":
                bad.append(f"shared module {module} imports stage {name}")
            elif {mine, theirs} == {"train", "eval"}:
                bad.append(f"{module} imports {name}: train and eval are siblings")
            elif (mine, theirs) in ALLOWED:
                continue
            elif theirs == "eval" and name not in EVAL_PUBLIC:
                bad.append(f"{module} imports eval internals ({name}); use openrs_cli.eval.stage or eval.tasks")
            elif theirs not in ("eval",):
                bad.append(f"{module} ({mine}) imports {name} ({theirs})")
    return bad


def test_the_layering_of_architecture_md_holds():
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "source", "needle"),
    [
        ("openrs_cli.train.x", "from openrs_cli.eval.plan import plan_eval", "siblings"),
        ("openrs_cli.dataprep.x", "from openrs_cli.eval.cache import AnswerCache", "eval internals"),
        ("openrs_cli.report.x", "from openrs_cli.cli.options import JsonOpt", "imports the front"),
        ("openrs_cli.hub", "from openrs_cli.train.plan import plan_training", "shared module"),
    ],
)
def test_the_check_catches_each_kind_of_violation(tmp_path, monkeypatch, module, source, needle):
    """The checker itself fails on a planted import of each forbidden kind."""
    planted = tmp_path / "planted.py"
    planted.write_text(source + "\n")
    real = modules
    monkeypatch.setitem(globals(), "modules", lambda: [*real(), (module, planted)])
    assert any(needle in v for v in violations())
