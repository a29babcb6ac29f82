"""The error table: every failure a user can cause or meet maps to one line and one exit code.

Commands raise these; `openrs_cli.cli.app.main` turns them into a message on stderr. A traceback is
shown only when OPENRS_DEBUG=1.
"""

from __future__ import annotations


class OpenrsError(Exception):
    """Base class; `exit_code` is what the process exits with."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.rstrip(".")
        if self.hint:
            text += f": {self.hint}"
        return " ".join(text.split())


class BadInputError(OpenrsError):
    """The user asked for something invalid (unknown name, missing path, bad value)."""

    exit_code = 2


_interrupt_hint: list[str] = []


def on_interrupt(hint: str) -> None:
    """What Ctrl-C should tell the user from now on: what was saved and how to resume."""
    _interrupt_hint[:] = [hint]


def interrupt_hint() -> str:
    return _interrupt_hint[0] if _interrupt_hint else "nothing was left half-written"


class RuntimeFailure(OpenrsError):
    """Valid input, but the work failed (a process died, a server went away)."""

    exit_code = 1
