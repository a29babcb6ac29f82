"""`openrs demo`: the whole pipeline on CPU with SmolLM2-135M-Instruct in a few minutes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli.options import JsonOpt, SeedOpt


def demo(
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Where everything goes.")] = Path("openrs-demo"),
    steps: Annotated[int, typer.Option("--steps", help="GRPO steps.", min=1)] = 4,
    heldout: Annotated[int, typer.Option("--heldout", help="Held-out problems scored before and after.", min=1)] = 12,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Per eval answer.", min=8)] = 160,
    train_tokens: Annotated[int, typer.Option("--train-tokens", help="Per training completion.", min=8)] = 96,
    seed: SeedOpt = 42,
    json_out: JsonOpt = False,
) -> None:
    """Prepare data, evaluate, train a few GRPO steps, evaluate again, report: all on CPU, no Hub needed."""
    from openrs_cli.demo import DemoOptions, run_demo

    say = lambda m: typer.echo(f"openrs demo: {m}", err=True)  # noqa: E731
    result = run_demo(DemoOptions(output_dir, steps, heldout, max_new_tokens, train_tokens, seed), say)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"\nopenrs demo finished in {result['minutes']} min")
    typer.echo(f"  held-out accuracy: before {result['before'] * 100:.1f}%, after {result['after'] * 100:.1f}%")
    typer.echo(f"  model:       {result['model']}")
    typer.echo(f"  data:        {result['data']} (held out: {result['heldout']})")
    typer.echo(f"  training:    {result['train']}")
    typer.echo(f"  evals:       {result['eval_before']}  {result['eval_after']}")
    typer.echo(f"  report:      {Path(result['report'][0]).parent} ({len(result['report'])} files)")
