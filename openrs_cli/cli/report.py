"""`openrs report`: the summary table and figures, regenerated from result files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.checks import at_least
from openrs_cli.cli import output
from openrs_cli.report.table import FORMATS

Format = StrEnum("Format", {name: name for name in FORMATS})


def report(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="More results folders (same as --results).", show_default=False, hidden=True),
    ] = None,
    results: Annotated[
        list[Path] | None,
        typer.Option("--results", help="Folders (or files) of lighteval results / openrs summaries.", metavar="DIR"),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="What is printed to stdout.")] = Format.markdown,
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Where tables and figures are written.")] = Path(
        "openrs-report"
    ),
    train_dir: Annotated[
        Path | None, typer.Option("--train-dir", help="A training output: adds reward/length/KL/loss curves.")
    ] = None,
    quoted: Annotated[bool, typer.Option("--quoted/--no-quoted", help="Include the paper's quoted rows.")] = True,
    figures: Annotated[bool, typer.Option("--figures/--no-figures", help="Draw the figures.")] = True,
    costs: Annotated[bool, typer.Option("--costs", help="Add a cost column (needs the two options below).")] = False,
    gpu_hours: Annotated[
        list[str] | None, typer.Option("--gpu-hours", help="NAME=HOURS for a row, repeatable.", metavar="NAME=HOURS")
    ] = None,
    price: Annotated[float | None, typer.Option("--price-per-gpu-hour", help="Price of one GPU-hour.")] = None,
    names: Annotated[
        list[str] | None,
        typer.Option("--name", help="PATH=LABEL: name the measured row read from PATH.", metavar="PATH=LABEL"),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the table as JSON (= --format json).")] = False,
) -> None:
    """Regenerate the paper's summary table and figures, adding measured rows from result files.

    Results folders may also be given as plain arguments: openrs report outputs/eval logs/evals
    """
    from openrs_cli.report.build import (
        apply_costs,
        apply_names,
        collect_rows,
        parse_gpu_hours,
        parse_names,
        write_outputs,
    )
    from openrs_cli.report.table import render

    if price is not None:
        at_least("--price-per-gpu-hour", price, 0)
    warn = output.warn
    labels = parse_names(list(names or []))
    rows, footnote = collect_rows([*(results or []), *(paths or [])], quoted, warn)
    apply_names(rows, labels)
    if costs:
        if gpu_hours or train_dir is None:  # quoted or named rows: hours given by hand, a price needed
            apply_costs(rows, parse_gpu_hours(list(gpu_hours or [])), price)
        if train_dir is not None:
            from openrs_cli.report.costs import apply_run_costs

            for step, gpu_hours, cost in apply_run_costs(rows, train_dir, price):
                spent = f", {cost:.2f} at {price:g} per GPU-hour" if cost is not None else ""
                output.say(f"{train_dir.name} step {step}: {gpu_hours:.3f} GPU-hours{spent}")
    written = write_outputs(rows, footnote, output_dir, costs, figures, train_dir)
    typer.echo(render("json" if json_out else fmt.value, rows, footnote, costs), nl=False)
    output.say(f"wrote {len(written)} files to {output_dir}")
