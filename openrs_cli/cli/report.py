"""`openrs report`: the summary table and figures, regenerated from result files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    markdown = "markdown"
    csv = "csv"
    json = "json"
    latex = "latex"


def report(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="More results folders (same as --results).", show_default=False)
    ] = None,
    results: Annotated[
        list[Path] | None, typer.Option("--results", help="Folders (or files) of lighteval results / openrs summaries.")
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
        list[str] | None, typer.Option("--gpu-hours", help="NAME=HOURS for a row, repeatable.")
    ] = None,
    price: Annotated[float | None, typer.Option("--price-per-gpu-hour", help="Price of one GPU-hour.")] = None,
) -> None:
    """Regenerate the paper's summary table and figures, adding measured rows from result files."""
    from openrs_cli.report.build import apply_costs, collect_rows, parse_gpu_hours, write_outputs
    from openrs_cli.report.table import render

    warn = lambda message: typer.echo(f"openrs: warning: {message}", err=True)  # noqa: E731
    rows, footnote = collect_rows([*(results or []), *(paths or [])], quoted, warn)
    if costs:
        apply_costs(rows, parse_gpu_hours(list(gpu_hours or [])), price)
    written = write_outputs(rows, footnote, output_dir, costs, figures, train_dir)
    typer.echo(render(fmt.value, rows, footnote, costs), nl=False)
    typer.echo(f"openrs: wrote {len(written)} files to {output_dir}", err=True)
