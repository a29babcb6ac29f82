"""`openrs compare A B [C...]`: is B really better than A? Paired tests over problems where answers exist."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

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
    from openrs_cli.checks import within
    from openrs_cli.errors import BadInputError
    from openrs_cli.report.compare import against_quoted, render
    from openrs_cli.report.compare import compare as compare_sides
    from openrs_cli.report.evidence import load_side
    from openrs_cli.report.rows import quoted_row

    within("--resamples", resamples, 100, 1_000_000)  # a million resamples take minutes; more is a typo
    roots = list(results or [Path("outputs/eval")])
    loaded = [load_side(_resolve(name, roots)) for name in sides]
    if against is not None:
        if len(loaded) != 1:
            raise BadInputError("--against compares one side with the quoted row", "give only A")
        label, scores = quoted_row(against)
        rows = against_quoted(loaded[0], scores, label, resamples, seed)
        if not rows:
            raise BadInputError(f"{sides[0]} shares no task with the quoted row {label}", "evaluate the paper's tasks")
    else:
        if len(loaded) < 2:
            raise BadInputError("compare needs A and B (or A with --against)", "e.g. openrs compare runs/a runs/b")
        rows = [row for other in loaded[1:] for row in compare_sides(loaded[0], other, resamples, seed)]
        if not rows:
            raise BadInputError(f"{sides[0]} and {sides[1]} share no task", "evaluate the same tasks on both")
    typer.echo(render(rows, fmt.value), nl=False)
    from openrs_cli.provenance import differences

    for other in loaded[1:] if against is None else []:
        for line in differences(loaded[0].provenance, other.provenance):
            # beside the table for a reader; on stderr where stdout is data (json, csv)
            typer.echo(f"provenance differs ({loaded[0].name} vs {other.name}): {line}", err=fmt.value != "markdown")


def _resolve(name: str, roots: list[Path]) -> Path:
    """A path as given, else the eval folder under `roots` whose summary names this model."""
    import json

    from openrs_cli.errors import BadInputError

    path = Path(name).expanduser()
    if path.exists():
        return path
    for root in roots:
        for summary in sorted(root.rglob("summary.json")) if root.is_dir() else []:
            try:
                data = json.loads(summary.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
                typer.echo(f"openrs: warning: skipped {summary}: not valid JSON ({type(exc).__name__})", err=True)
                continue
            names = [data.get(k) for k in ("name", "model")] if isinstance(data, dict) else [0]
            if not all(n is None or isinstance(n, str) for n in names):
                typer.echo(f"openrs: warning: skipped {summary}: not a summary with a text name", err=True)
                continue
            if name in names:
                return summary.parent
    where = ", ".join(str(r) for r in roots)
    raise BadInputError(f"'{name}' is neither a path nor a model evaluated under {where}", "give an eval folder")
