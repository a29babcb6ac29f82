"""`openrs rescore DIR`: score an eval folder's saved answers again with a chosen scorer; generate nothing."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
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
        lines = [f"{item.model} {item.task}: would rescore {item.details} with {scorer}" for item in items]
        output.emit([i.to_dict() for i in items], json_out, "\n".join(lines))
        return
    changes = rescore(folder, scorer)
    output.emit([c.to_dict() for c in changes], json_out, lambda: _changes_text(changes, scorer))


def _changes_text(changes, scorer: str) -> str:
    lines = []
    for change in changes:
        lines.append(
            f"{change.task}: {change.answers} answers rescored with {scorer}: {len(change.up)} wrong -> right, "
            f"{len(change.down)} right -> wrong; new results: {change.results_file}"
        )
        for label, examples in (("wrong -> right", change.up), ("right -> wrong", change.down)):
            lines += [f"  {label}: ...{example['answer_end'][-80:]!r}" for example in examples[:3]]
    return "\n".join(lines)
