"""One output sink for every command: stdout carries only the result (JSON with --json), while progress, notes
and warnings go to stderr, so `openrs ... --json | jq` always reads a whole JSON document."""

from __future__ import annotations

import json
import time
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


def progress(totals: dict[str, int], done: dict[str, int]):
    """How a command shows answers being generated: a bar per task on a terminal, plain lines when piped."""
    import sys

    from openrs_cli.progress import line_progress

    return BarProgress(totals, done) if sys.stderr.isatty() else line_progress(totals, done)


class BarProgress:
    """A rich progress bar per task and overall, on a terminal."""

    def __init__(self, totals: dict[str, int], done: dict[str, int]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.tokens, self.start = 0, time.monotonic()
        self.bar = Progress(
            TextColumn("{task.description:14s}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.ids = {t: self.bar.add_task(t, total=n, completed=done.get(t, 0), rate="") for t, n in totals.items()}
        self.overall = self.bar.add_task("overall", total=sum(totals.values()), completed=sum(done.values()), rate="")
        self.bar.start()

    def advance(self, task: str, tokens: int) -> None:
        self.tokens += tokens
        rate = f"{self.tokens / max(1e-6, time.monotonic() - self.start):.0f} tok/s"
        self.bar.update(self.ids[task], advance=1, rate=rate)
        self.bar.update(self.overall, advance=1, rate=rate)

    def close(self) -> None:
        self.bar.stop()
