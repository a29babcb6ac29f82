"""The root `openrs` app: wires the command groups together and maps errors to exit codes.

Nothing heavy is imported here or in any command module at import time: `openrs --help` must stay fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import typer

from openrs_cli import __version__
from openrs_cli.cli import compare, data, demo, doctor, evaluate, push, recipes, report, rescore, train
from openrs_cli.errors import OpenrsError, interrupt_hint

app = typer.Typer(
    name="openrs",
    help="GRPO for small reasoning models on competition maths: data, train, eval, push, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rich help rendering alone costs ~0.12 s of startup
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openrs {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """GRPO for small reasoning models on competition maths: data, train, eval, push, report."""


app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)
app.add_typer(data.app, name="data")
app.command("train")(train.train)
app.command("eval")(evaluate.eval_command)
app.command("rescore")(rescore.rescore_command)
app.add_typer(recipes.app, name="recipes")
app.command("report")(report.report)
app.command("compare")(compare.compare)
app.command("push")(push.push)


def _debug() -> bool:
    return os.environ.get("OPENRS_DEBUG", "") not in ("", "0", "false", "False")


def _fail(message: str, code: int) -> None:
    typer.echo(f"openrs: error: {message}", err=True)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `openrs` console script."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="openrs", standalone_mode=False)
    except OpenrsError as exc:
        if _debug():  # the traceback too, and the same exit code
            traceback.print_exc()
        _fail(exc.one_line(), exc.exit_code)
    except typer.TyperException as exc:  # usage errors from the parser (unknown option, bad value)
        if _debug():
            traceback.print_exc()
        ctx = getattr(exc, "ctx", None)
        where = getattr(ctx, "command_path", "openrs") if ctx is not None else "openrs"
        message = " ".join(exc.format_message().split())
        _fail(f"{message} (see '{where} --help')", getattr(exc, "exit_code", 2))
    except (KeyboardInterrupt, typer.Abort):
        typer.echo(f"openrs: interrupted: {interrupt_hint()}", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # an unexpected failure: one line, naming what it was doing, unless debugging
        if _debug():
            raise
        from openrs_cli.secrets import redact

        doing = " ".join(redact(list(sys.argv[1:] if argv is None else argv)))[:200]
        detail = " ".join(str(exc).split())[:300]
        _fail(
            f"unexpected {type(exc).__name__}: {detail} while running 'openrs {doing}' "
            "(set OPENRS_DEBUG=1 for the traceback)",
            1,
        )
    if code == 130:  # Typer turns Ctrl-C into a plain 130: say what was saved and how to resume
        typer.echo(f"openrs: interrupted: {interrupt_hint()}", err=True)
    sys.exit(code if isinstance(code, int) else 0)
