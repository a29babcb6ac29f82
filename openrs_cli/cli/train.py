"""`openrs train`: the paper's GRPO experiments and other recipes, sized to the GPUs found."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.cli.options import DryRunOpt, GpusOpt, JsonOpt, SetOpt
from openrs_cli.train.fields import LOSS_TYPES
from openrs_cli.train.layout import GENERATIONS, LAYOUTS, ROLES

# Choices come from the lists the training stage owns.
Loss = StrEnum("Loss", {name: name for name in LOSS_TYPES})
Layout = StrEnum("Layout", {name: name for name in LAYOUTS})
Generation = StrEnum("Generation", {name: name for name in GENERATIONS})
Role = StrEnum("Role", {name: name for name in ROLES})


def train(
    exp: Annotated[
        int | None, typer.Option("--exp", help="The paper's experiment 1, 2 or 3 (= --recipe expN).")
    ] = None,
    recipe: Annotated[str | None, typer.Option("--recipe", help="A shipped recipe ('openrs recipes list').")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Your own recipe YAML file.")] = None,
    list_recipes: Annotated[bool, typer.Option("--list", help="Old spelling of 'openrs recipes list'.")] = False,
    show: Annotated[str | None, typer.Option("--show", help="Old spelling of 'openrs recipes show NAME'.")] = None,
    sources: Annotated[
        bool, typer.Option("--sources", help="Old spelling of 'openrs recipes show NAME --sources'.")
    ] = False,
    model: Annotated[str | None, typer.Option("--model", help="Hub model id or local folder.")] = None,
    revision: Annotated[
        str | None, typer.Option("--revision", help="Hub revision of the model (resolved to a commit before start).")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Hub dataset id, local file, or 'openrs data prepare' folder."),
    ] = None,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Checkpoints and logs go here.")] = None,
    loss: Annotated[Loss | None, typer.Option("--loss", help="GRPO loss aggregation (paper: bnpo).")] = None,
    beta: Annotated[float | None, typer.Option("--beta", help="KL coefficient (paper: 0.04).")] = None,
    report_to: Annotated[
        str | None, typer.Option("--report-to", help="none, wandb, tensorboard or trackio (as TRL).")
    ] = None,
    sets: SetOpt = None,
    gpus: GpusOpt = "auto",
    layout: Annotated[
        Layout,
        typer.Option(
            "--layout",
            help="server: vLLM on its own GPU; colocate: vLLM inside each rank; vllm-node: N training nodes + a "
            "machine for vLLM.",
        ),
    ] = Layout.auto,
    generation: Annotated[
        Generation,
        typer.Option(
            "--generation",
            help="vllm; transformers (no vLLM, every GPU trains); auto: vllm on GPUs when importable, else "
            "transformers.",
        ),
    ] = Generation.auto,
    nodes: Annotated[int, typer.Option("--nodes", help="Number of machines.")] = 1,
    node_rank: Annotated[int, typer.Option("--node-rank", help="This machine's rank (0 = main).")] = 0,
    main_process_ip: Annotated[str | None, typer.Option("--main-process-ip", help="IP of node rank 0.")] = None,
    main_process_port: Annotated[int, typer.Option("--main-process-port", help="Rendezvous port.")] = 29500,
    vllm_port: Annotated[int, typer.Option("--vllm-port", help="Port of the vLLM generation server.")] = 8000,
    vllm_host: Annotated[
        str | None,
        typer.Option("--vllm-host", help="vllm-node layout: the vLLM node's address, as the training nodes reach it."),
    ] = None,
    role: Annotated[
        Role,
        typer.Option("--role", help="vllm-node layout: train (a node rank) or vllm (this machine serves generation)."),
    ] = Role.train,
    server_timeout: Annotated[
        float, typer.Option("--server-timeout", help="Seconds to wait for the vLLM server.")
    ] = 900.0,
    resume: Annotated[str, typer.Option("--resume", help="auto (last checkpoint), never, or a path.")] = "auto",
    force_cpu: Annotated[
        bool, typer.Option("--force-cpu", help="Run a GPU recipe on the CPU anyway (days; normally refused).")
    ] = False,
    slurm: Annotated[Path | None, typer.Option("--slurm", help="Write an sbatch script here; run nothing.")] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Train with GRPO (TRL) on a paper recipe: vLLM generation, accelerate + DeepSpeed ranks."""
    from openrs_cli.cli import recipes as recipes_command

    if list_recipes:
        output.moved("train --list", "openrs recipes list")
        recipes_command.list_command(json_out)
        return
    if show is not None and not sources:
        output.moved("train --show NAME", "openrs recipes show NAME")
        recipes_command.show_command(show)
        return
    if sources and show is None:
        raise typer.BadParameter("--sources goes with --show NAME", param_hint="--sources")
    from openrs_cli.train.plan import TrainOptions, plan_training

    opts = TrainOptions(
        exp=exp,
        recipe=recipe,
        config=config,
        model=model,
        revision=revision,
        dataset=dataset,
        output_dir=output_dir,
        loss=loss.value if loss else None,
        beta=beta,
        report_to=report_to,
        sets=sets or [],
        gpus=gpus,
        layout=layout.value,
        generation=generation.value,
        nodes=nodes,
        node_rank=node_rank,
        main_process_ip=main_process_ip,
        main_process_port=main_process_port,
        vllm_port=vllm_port,
        vllm_host=vllm_host,
        role=role.value,
        resume=resume,
        force_cpu=force_cpu,
        server_timeout=server_timeout,
        planning_only=dry_run or slurm is not None or sources,
    )
    if sources:
        output.moved("train --show NAME --sources", "openrs recipes show NAME --sources")
        opts.recipe = show
        recipes_command.print_sources(opts, json_out)
        return
    plan = plan_training(opts)
    if dry_run:
        output.emit(plan.to_dict(), json_out, lambda: describe_plan(plan))
        return
    from openrs_cli.train.runner import run_training, write_slurm

    if slurm is not None:
        script, config_path = write_slurm(plan, slurm)
        typer.echo(f"wrote {script} (config: {config_path}); submit it with: sbatch {script}")
        return
    from openrs_cli.errors import on_interrupt

    if plan.role == "vllm":
        on_interrupt("the vLLM node stopped: training nodes still running cannot generate until it is back")
    else:
        on_interrupt(
            f"checkpoints in {plan.config['output_dir']} are kept: run the same command to resume from the last"
        )
    run_training(plan, server_timeout, say=output.say)


def describe_lora(config: dict) -> str:
    """One line for a LoRA run: rank, alpha, dropout, the modules it adapts (TRL's ModelConfig keys; a key the
    config leaves out has TRL's default, read from TRL's field table)."""
    from openrs_cli.train.trl_table import trl_default

    def value(key: str):
        return config[key] if config.get(key) is not None else trl_default(key)

    modules = value("lora_target_modules") or "TRL's default modules"
    if isinstance(modules, list):
        modules = ", ".join(modules)
    return (
        f"r {value('lora_r')}, alpha {value('lora_alpha')}, dropout {value('lora_dropout')} on {modules}; "
        "the run saves a LoRA adapter"
    )


def describe_plan(plan) -> str:
    """The dry run's text: layout, batch, inputs, every process's command, notes."""
    import shlex

    from openrs_cli.train.batch import describe

    vllm = "inside each rank" if plan.config.get("vllm_mode") == "colocate" and plan.config.get("use_vllm") else "-"
    if plan.layout == "vllm-node":
        vllm = f"the vLLM node's, at {plan.vllm_address}"
    lines = [
        f"layout:     {plan.layout} ({plan.training_processes} training process(es), "
        f"vLLM GPUs: {plan.vllm_gpus or vllm})",
        f"batch:      {describe(plan.batch, int(plan.config['num_generations']))} "
        f"(completions_per_step {plan.completions_per_step}, prompts_per_step {plan.prompts_per_step})",
        f"recipe:     {plan.config.get('recipe')}  model: {plan.config['model_name_or_path']}",
        f"dataset:    {plan.config['dataset_name']}",
        f"rewards:    {', '.join(plan.config['reward_funcs'])} weights {plan.config.get('reward_weights')}",
        *([f"lora:       {describe_lora(plan.config)}"] if plan.config.get("use_peft") else []),
        f"output:     {plan.config['output_dir']}",
        f"config:     {plan.config_path}",
    ]
    for proc in plan.processes:
        env = " ".join(f"{k}={v}" for k, v in proc.env.items())
        lines.append(f"{proc.role + ':':11s} {env + ' ' if env else ''}{shlex.join(proc.argv)}")
    for node in plan.node_layout() if plan.machines > 1 else []:
        lines.append(describe_node(node, plan))
    lines += [f"note:       {note}" for note in plan.notes]
    return "\n".join(lines)


def describe_node(node: dict, plan) -> str:
    """One machine of a several-machine plan: its ranks and GPUs, its vLLM, the address it reaches or is reached at."""
    gpus = "the CPU" if node["gpus"] == "cpu" else f"GPUs {','.join(map(str, node['gpus']))}"
    if node["node"] == "vllm":
        this = " (this node)" if plan.role == "vllm" else ""
        return f"vLLM node{this}: {node['vllm']} on {gpus}; the training nodes reach it at {plan.vllm_address}"
    first, last = node["ranks"]
    name = f"node {node['node']}" + (" (this node)" if plan.role == "train" and node["node"] == plan.node_rank else "")
    line = f"{name}: ranks {first}-{last} on {gpus}, vLLM {node['vllm']}"
    if node["reaches"] is None:
        return line
    role = f"main: the others reach it at {node['reaches']}" if node["main"] else f"reaches {node['reaches']}"
    return f"{line}; {role}"
