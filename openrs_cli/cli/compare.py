"""`openrs compare A B [C...]`: is B really better than A? Paired tests over problems where answers exist."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.report.table import COMPARE_FORMATS as FORMATS

Format = StrEnum("Format", {name: name for name in FORMATS})


def compare(
    sides: Annotated[
        list[str],
        typer.Argument(help="A, then B and more.", metavar="A B...", hidden=True, show_default=False),
    ],
    against: Annotated[
        str | None, typer.Option("--against", help="Compare A with a quoted row of the paper's table (e.g. open-rs3).")
    ] = None,
    results: Annotated[
        list[Path] | None,
        typer.Option("--results", help="Folders to find model names in (default: outputs/eval).", metavar="DIR"),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="What is printed.")] = Format.markdown,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
) -> None:
    """Difference of B minus A per task and on average: 95% interval, p-value, problems that flipped.

    A, B, ...: eval output folders, result files, or model names evaluated under --results. B, C, ... are each
    compared with A: paired over problems where per-sample details exist, unpaired from standard errors
    otherwise (the output says which).
    """
    from openrs_cli.report.compare import compare_named, render

    rows, loaded = compare_named(sides, list(results or [Path("outputs/eval")]), against, resamples, seed, output.warn)
    typer.echo(render(rows, fmt.value), nl=False)
    from openrs_cli.provenance import differences

    for other in loaded[1:] if against is None else []:
        for line in differences(loaded[0].provenance, other.provenance):
            # beside the table for a reader; on stderr where stdout is data (json, csv)
            typer.echo(f"provenance differs ({loaded[0].name} vs {other.name}): {line}", err=fmt.value != "markdown")
