"""Options shared by several commands, declared once as `Annotated` aliases.

The default value stays in each command's signature, e.g. `json_out: JsonOpt = False`.
"""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON to stdout.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the plan and exit without starting anything.")]
GpusOpt = Annotated[
    str,
    typer.Option("--gpus", help="Number of GPUs to use, or 'auto' for every visible GPU."),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override any recipe key: --set learning_rate=2e-6.", metavar="KEY=VALUE"),
]
