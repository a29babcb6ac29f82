"""One output sink for every command: stdout carries only the result (JSON with --json), while progress, notes
and warnings go to stderr, so `openrs ... --json | jq` always reads a whole JSON document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import typer


def say(message: str) -> None:
    """Progress: stderr, prefixed so it reads apart from the result."""
    typer.echo(f"openrs: {message}", err=True)


def warn(message: str) -> None:
    typer.echo(f"openrs: warning: {message}", err=True)


def note(message: str) -> None:
    typer.echo(f"openrs: note: {message}", err=True)


def moved(old: str, new: str) -> None:
    """An old spelling kept one release: it still works, and says where the new command is."""
    note(f"'{old}' is now '{new}'; the old spelling goes in a later release")


def emit(result: Any, json_out: bool, human: str | Callable[[], str] | None = None) -> None:
    """The command's result on stdout: `result` as JSON with --json, else the human text (a string or a function
    that renders it; None: the JSON anyway)."""
    if json_out or human is None:
        typer.echo(json.dumps(result, indent=2, default=str, ensure_ascii=False))
        return
    text = human() if callable(human) else human
    typer.echo(text, nl=not text.endswith("\n"))
