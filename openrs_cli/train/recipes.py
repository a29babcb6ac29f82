"""Shipped recipes (package data) and the resolution of a run's flat config.

Order of precedence, lowest first: the recipe (or `--config FILE`), first-class options
(`--model`, `--dataset`, `--output-dir`, `--loss`, `--beta`), then `--set key=value`.
"""

from __future__ import annotations

import contextlib
import difflib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from openrs_cli.errors import BadInputError
from openrs_cli.train.fields import OPENRS_KEYS, openrs_defaults
from openrs_cli.train.trl_table import trl_fields

RECIPE_PACKAGE = "openrs_cli.recipes"


def recipe_names() -> list[str]:
    files = resources.files(RECIPE_PACKAGE).iterdir()
    return sorted(p.name[:-5] for p in files if p.name.endswith(".yaml"))


def recipe_text(name: str) -> str:
    if name not in recipe_names():
        close = difflib.get_close_matches(name, recipe_names(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see 'openrs recipes list'"
        raise BadInputError(f"unknown recipe '{name}'", hint)
    return (resources.files(RECIPE_PACKAGE) / f"{name}.yaml").read_text()


def _parse_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadInputError(f"{where} is not valid YAML{line}", "fix the file and try again") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{where} must be a YAML mapping of key: value", "see 'openrs recipes show smoke'")
    return data


def load_recipe(name: str) -> dict[str, Any]:
    return _parse_yaml(recipe_text(name), f"recipe {name}")


def load_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise BadInputError(f"config file {path} does not exist", "pass a YAML file, e.g. from 'openrs recipes copy'")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"config file {path} is not UTF-8 text ({exc.reason})", "pass a YAML file") from exc
    return _parse_yaml(text, str(path))


def recipe_summaries() -> list[tuple[str, str]]:
    return [(name, str(load_recipe(name).get("recipe_description", ""))) for name in recipe_names()]


def known_keys() -> set[str]:
    """Every key a recipe may hold: TRL's fields and openrs's own."""
    return set(trl_fields()) | set(OPENRS_KEYS)


def check_keys(config: dict[str, Any], known: set[str], where: str) -> None:
    for key in config:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "see 'openrs recipes show smoke' for valid keys"
            raise BadInputError(f"unknown key '{key}' in {where}", hint)


def parse_set(items: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs; values are read as YAML (numbers, booleans, lists)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise BadInputError(f"--set expects key=value, got '{item}'", "e.g. --set learning_rate=2e-6")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as exc:
            raise BadInputError(f"--set {key}: cannot read value '{raw}'", "quote lists like '[a, b]'") from exc
        if isinstance(value, str):  # YAML 1.1 reads 1e-6 as a string
            with contextlib.suppress(ValueError):
                value = float(value) if any(c in value.lower() for c in ".e") else int(value)
        out[key.strip()] = value
    return out


def with_openrs_defaults(config: dict[str, Any]) -> dict[str, Any]:
    return {**openrs_defaults(), **config}
