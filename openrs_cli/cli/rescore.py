"""`openrs rescore DIR`: score an eval folder's saved answers again with a chosen scorer; generate nothing."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli.options import DryRunOpt, JsonOpt
from openrs_cli.eval.plan import SCORERS

Scorer = StrEnum("Scorer", {name: name for name in SCORERS})


def rescore_command(
    folder: Annotated[Path, typer.Argument(help="An eval output folder (openrs's or lighteval's).")],
    scorer: Annotated[
        Scorer, typer.Option("--scorer", help="lighteval (the paper's) or math-verify-strict.")
    ] = Scorer.lighteval,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Score every saved answer in an eval folder again; new results go beside the old, never over them."""
    run_rescore(folder, scorer.value, dry_run, json_out)


def run_rescore(folder: Path, scorer: str, dry_run: bool, json_out: bool) -> None:
    from openrs_cli.eval.rescore import plan_rescore, rescore

    if dry_run:
        items = plan_rescore(folder, scorer)
        if json_out:
            typer.echo(json.dumps([i.to_dict() for i in items], indent=2))
            return
        for item in items:
            typer.echo(f"{item.model} {item.task}: would rescore {item.details} with {scorer}")
        return
    changes = rescore(folder, scorer)
    if json_out:
        typer.echo(json.dumps([c.to_dict() for c in changes], indent=2))
        return
    for change in changes:
        typer.echo(
            f"{change.task}: {change.answers} answers rescored with {scorer}: {len(change.up)} wrong -> right, "
            f"{len(change.down)} right -> wrong; new results: {change.results_file}"
        )
        for label, examples in (("wrong -> right", change.up), ("right -> wrong", change.down)):
            for example in examples[:3]:
                typer.echo(f"  {label}: ...{example['answer_end'][-80:]!r}")
