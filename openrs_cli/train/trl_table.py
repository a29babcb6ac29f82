"""TRL's recipe fields (GRPOConfig, ModelConfig, ScriptArguments) as a table shipped with openrs.

The command front validates recipes and prints plans without importing TRL (5-6 s): it reads
`trl_fields.json`, generated from the pinned TRL by `python -m openrs_cli.train.trl_table`.
A test regenerates it from the installed TRL and fails when the two differ.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import resources
from typing import Any

TABLE = "trl_fields.json"


def _type_name(annotation: Any) -> str:
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))


def scalar_kind(annotation: Any) -> str | None:
    """'int', 'float', 'bool' or 'str' for a plain (optionally None-able) scalar field, else None.

    >>> scalar_kind(int), scalar_kind(float | None), scalar_kind(list[str]), scalar_kind(dict | str | None)
    ('int', 'float', None, None)
    """
    import types
    import typing

    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType | typing._UnionGenericAlias) and len(args) == 1:  # type: ignore[attr-defined]
        annotation = args[0]
    return annotation.__name__ if annotation in (int, float, bool, str) else None


def _plain(value: Any) -> Any:
    """A default as JSON can hold it (enums by value, anything else exotic as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return getattr(value, "value", str(value))


def _declared(cls: type, name: str, fallback: Any) -> Any:
    """A field's annotation as its class wrote it: transformers' HfArgumentParser narrows `Field.type` in
    place (`dict | str | None` becomes `str`), so a table read after any parse would drift."""
    for klass in cls.__mro__:
        declared = vars(klass).get("__annotations__", {})
        if name in declared:
            return declared[name]
    return fallback


def generate() -> dict[str, Any]:
    """Read the table off the installed TRL (heavy: imports TRL and transformers)."""
    import dataclasses
    import typing

    import trl
    from trl import GRPOConfig, ModelConfig, ScriptArguments

    fields: dict[str, dict[str, Any]] = {}
    for cls in (GRPOConfig, ModelConfig, ScriptArguments):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name in fields or not f.init:
                continue
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = None
            spec = {
                "type": _type_name(_declared(cls, f.name, f.type)),
                "kind": scalar_kind(hints.get(f.name)),
                "default": _plain(default),
            }
            fields[f.name] = {**spec, "class": cls.__name__}
    return {"trl_version": trl.__version__, "fields": fields}


@cache
def _table() -> dict[str, Any]:
    return json.loads((resources.files("openrs_cli.train") / TABLE).read_text())


def trl_version() -> str:
    return str(_table()["trl_version"])


def trl_fields() -> dict[str, str]:
    """Every field of TRL's GRPOConfig, ModelConfig and ScriptArguments, with its type as text."""
    return {name: spec["type"] for name, spec in _table()["fields"].items()}


def trl_kinds() -> dict[str, str | None]:
    """Every TRL field's scalar kind ('int', 'float', 'bool', 'str') or None for anything else."""
    return {name: spec.get("kind") for name, spec in _table()["fields"].items()}


def trl_default(name: str) -> Any:
    return _table()["fields"][name]["default"]


def trl_class(name: str) -> str:
    return _table()["fields"][name]["class"]


if __name__ == "__main__":
    text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if len(sys.argv) > 1:
        from pathlib import Path

        Path(sys.argv[1]).write_text(text)
    else:
        sys.stdout.write(text)
