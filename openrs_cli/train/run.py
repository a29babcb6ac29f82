"""From `openrs train` options to a validated plan, then to running processes (or a dry run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from openrs_cli.atomic import write_text
from openrs_cli.checkpoints import list_checkpoints
from openrs_cli.errors import BadInputError
from openrs_cli.hardware import resolve_gpus
from openrs_cli.train import recipes
from openrs_cli.train.layout import GENERATIONS, Plan, make_plan

CONFIG_NAME = "openrs_config.yaml"


@dataclass
class TrainOptions:
    exp: int | None = None
    recipe: str | None = None
    config: Path | None = None
    model: str | None = None
    dataset: str | None = None
    output_dir: Path | None = None
    loss: str | None = None
    beta: float | None = None
    report_to: str | None = None
    sets: list[str] = field(default_factory=list)
    gpus: str = "auto"
    layout: str = "auto"
    generation: str = "vllm"
    nodes: int = 1
    node_rank: int = 0
    main_process_ip: str | None = None
    main_process_port: int = 29500
    vllm_port: int = 8000
    resume: str = "auto"
    planning_only: bool = False  # --dry-run or --slurm: plan for GPUs that may not be here


def base_config(opts: TrainOptions) -> tuple[dict[str, Any], str]:
    chosen = [x for x in (opts.exp is not None, opts.recipe is not None, opts.config is not None) if x]
    if len(chosen) > 1:
        raise BadInputError("--exp, --recipe and --config are alternatives", "give only one of them")
    if opts.config is not None:
        return recipes.load_config_file(opts.config), str(opts.config)
    if opts.exp is not None:
        if opts.exp not in (1, 2, 3):
            raise BadInputError(f"unknown experiment {opts.exp}", "use --exp 1, 2 or 3 (the paper's experiments)")
        return recipes.load_recipe(f"exp{opts.exp}"), f"exp{opts.exp}"
    name = opts.recipe or "smoke"
    return recipes.load_recipe(name), name


def resolve_config(opts: TrainOptions) -> tuple[dict[str, Any], frozenset[str], dict[str, str]]:
    """The flat config with every override applied and unknown keys rejected.

    Returns the config, the keys the user set on the command line, and where each key came from.
    A `--config` file counts as a recipe: the plan may re-split its batch to keep completions_per_step.
    """
    config, source = base_config(opts)
    known = recipes.known_keys()
    recipes.check_keys(config, known, source)
    origins = dict.fromkeys(config, "recipe")
    explicit: set[str] = set()
    first_class = {
        "model_name_or_path": ("--model", opts.model),
        "dataset_name": ("--dataset", opts.dataset),
        "output_dir": ("--output-dir", str(opts.output_dir) if opts.output_dir else None),
        "loss_type": ("--loss", opts.loss),
        "beta": ("--beta", opts.beta),
        "report_to": ("--report-to", opts.report_to),
    }
    for key, (option, value) in first_class.items():
        if value is not None:
            config[key] = value
            explicit.add(key)
            origins[key] = option
    overrides = recipes.parse_set(opts.sets)
    recipes.check_keys(overrides, known, "--set")
    config.update(overrides)
    explicit.update(overrides)
    origins.update(dict.fromkeys(overrides, "--set"))
    config = recipes.with_openrs_defaults(config)
    for key in config:
        origins.setdefault(key, "openrs default")
    config["output_dir"] = str(Path(config.get("output_dir") or "outputs/openrs-run").expanduser().resolve())
    config["recipe"] = source
    return config, frozenset(explicit), origins


def choose_generation(requested: str) -> tuple[str, list[str]]:
    """vllm, transformers, or auto (vLLM when importable, else transformers with a one-line warning)."""
    import importlib.util

    if requested not in GENERATIONS:
        raise BadInputError(f"unknown generation '{requested}'", f"choose from {', '.join(GENERATIONS)}")
    if requested != "auto":
        return requested, []
    if importlib.util.find_spec("vllm") is not None:
        return "vllm", []
    return "transformers", ["vLLM is not importable here: generating with transformers (slower)"]


def checkpoint_step(path: Path) -> int:
    from openrs_cli.checkpoints import step_of

    return step_of(path) or 0


def last_checkpoint(output_dir: Path) -> Path | None:
    found = list_checkpoints(output_dir, complete=True)
    return found[-1][1] if found else None


def resume_point(resume: str, output_dir: Path) -> Path | None:
    if resume == "never":
        return None
    if resume == "auto":
        return last_checkpoint(output_dir)
    path = Path(resume).expanduser()
    if not (path / "trainer_state.json").is_file():
        raise BadInputError(
            f"--resume {resume} is not a checkpoint folder", "give a checkpoint-N folder, auto or never"
        )
    return path.resolve()


def prepare(opts: TrainOptions) -> Plan:
    """Everything checked, nothing started: the plan a dry run prints and a real run executes."""
    from openrs_cli.train.dataset import check_columns
    from openrs_cli.train.validate import validate

    config, explicit, origins = resolve_config(opts)
    gpu_ids, notes = resolve_gpus(opts.gpus, opts.planning_only)
    generation, generation_notes = choose_generation(opts.generation)
    output_dir = Path(config["output_dir"])
    plan = make_plan(
        config,
        gpu_ids,
        output_dir / CONFIG_NAME,
        layout=opts.layout,
        nodes=opts.nodes,
        node_rank=opts.node_rank,
        main_process_ip=opts.main_process_ip,
        main_process_port=opts.main_process_port,
        vllm_port=opts.vllm_port,
        explicit_keys=explicit,
        generation=generation,
    )
    plan.notes[:0] = notes + generation_notes
    plan.origins = {**origins, **dict.fromkeys(plan.plan_keys, "plan")}
    plan.config = validate(plan.config, plan.training_processes)
    resume = resume_point(opts.resume, output_dir)
    plan.config["resume_from_checkpoint"] = str(resume) if resume else None
    if resume:
        plan.notes.append(f"resuming from {resume.name} in {output_dir}")
        stop = plan.config.get("stop_at_step")
        if stop is not None and checkpoint_step(resume) >= int(stop):
            plan.notes.append(f"{resume.name} is at stop_at_step {stop}: the run will end without training")
    if not opts.planning_only:
        check_columns(
            str(plan.config["dataset_name"]),
            str(plan.config["dataset_prompt_column"]),
            str(plan.config["dataset_solution_column"]),
        )
    if plan.layout == "cpu" and plan.config.get("recipe") not in ("smoke",) and not opts.planning_only:
        plan.notes.append("a full recipe on CPU will take days; use --recipe smoke or a GPU machine")
    return plan


def training_config(plan: Plan) -> dict[str, Any]:
    """What the training entry reads: the plan's config without openrs-only bookkeeping keys."""
    return {k: v for k, v in plan.config.items() if k != "recipe"}


def write_config(plan: Plan) -> Path:
    path = Path(plan.config_path)
    header = f"# resolved by openrs from {plan.config.get('recipe')}; rerun: openrs train --config {path}\n"
    return write_text(path, header + yaml.safe_dump(training_config(plan), sort_keys=False, allow_unicode=True))
