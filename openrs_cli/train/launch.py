"""Carry out a plan: print it (dry run), write an sbatch script, or run the processes."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer

from openrs_cli.train.batch import describe
from openrs_cli.train.run import TrainOptions, prepare, write_config
from openrs_cli.train.supervisor import http_ready, run_together


def _describe(plan) -> str:
    lines = [
        f"layout:     {plan.layout} ({plan.training_processes} training process(es), "
        f"vLLM GPUs: {plan.vllm_gpus or '-'})",
        f"batch:      {describe(plan.batch, int(plan.config['num_generations']))} "
        f"(completions_per_step {plan.completions_per_step}, prompts_per_step {plan.prompts_per_step})",
        f"recipe:     {plan.config.get('recipe')}  model: {plan.config['model_name_or_path']}",
        f"dataset:    {plan.config['dataset_name']}",
        f"rewards:    {', '.join(plan.config['reward_funcs'])} weights {plan.config.get('reward_weights')}",
        f"output:     {plan.config['output_dir']}",
        f"config:     {plan.config_path}",
    ]
    for proc in plan.processes:
        env = " ".join(f"{k}={v}" for k, v in proc.env.items())
        lines.append(f"{proc.role + ':':11s} {env + ' ' if env else ''}{shlex.join(proc.argv)}")
    lines += [f"note:       {note}" for note in plan.notes]
    return "\n".join(lines)


def show_sources(opts: TrainOptions, json_out: bool) -> None:
    from openrs_cli.train import recipes
    from openrs_cli.train.provenance import format_sources, key_sources

    plan = prepare(opts)
    text = recipes.recipe_text(opts.recipe) if opts.recipe else None
    rows = key_sources(plan.config, plan.origins, str(plan.config.get("recipe")), text)
    typer.echo(json.dumps(rows, indent=2, default=str) if json_out else format_sources(rows))


def launch(opts: TrainOptions, dry_run: bool, json_out: bool, slurm: Path | None, server_timeout: float) -> None:
    plan = prepare(opts)
    if dry_run:
        typer.echo(json.dumps(plan.to_json(), indent=2, default=str) if json_out else _describe(plan))
        return
    if slurm is not None:
        from openrs_cli.train.slurm import sbatch_script, write_sbatch

        config_path = write_config(plan)
        gpus_per_node = plan.gpus or 1
        text = sbatch_script(plan, config_path, gpus_per_node, Path(plan.config["output_dir"]).name)
        written = write_sbatch(slurm, text)
        typer.echo(f"wrote {written} (config: {config_path}); submit it with: sbatch {written}")
        return
    for note in plan.notes:
        typer.echo(f"openrs: {note}", err=True)
    config_path = write_config(plan)
    typer.echo(f"openrs: resolved config written to {config_path}", err=True)
    ready = None
    if plan.layout == "server":
        port = plan.config.get("vllm_server_port", 8000)
        ready = http_ready(f"http://127.0.0.1:{port}/health")
    log_dir = Path(plan.config["output_dir"])
    code = run_together(
        plan.processes, log_dir, ready, server_timeout, say=lambda m: typer.echo(f"openrs: {m}", err=True)
    )
    typer.echo(f"openrs: training finished; outputs in {log_dir}", err=True)
    if code:
        sys.exit(code)
