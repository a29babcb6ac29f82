"""Size the process layout to the GPUs: which GPUs run vLLM, how many training ranks, which commands.

Pure: takes the GPUs' physical indices and options, returns a `TrainPlan`; nothing is started here.
Children get CUDA_VISIBLE_DEVICES with physical indices, so `CUDA_VISIBLE_DEVICES=4,5,6,7 openrs
train --gpus 4` keeps every process on cards 4-7.

- server:       vLLM's server (as TRL 1.16's deprecated `trl vllm-serve` runs it) on the last GPU(s), the
                other GPUs training ranks under accelerate + DeepSpeed ZeRO-2 (the paper's layout: 4 GPUs =
                3 ranks + 1 vLLM GPU). Single node.
- colocate:     vLLM inside each of the N training ranks (TRL's vllm_mode=colocate). Any node count.
- vllm-node:    TRL's "N training nodes + a vLLM node": every GPU of the N training nodes trains, and one more
                machine (`--role vllm`) serves generation on all its GPUs (data parallel); the training nodes
                reach it at `--vllm-host`.
- transformers: no vLLM: every GPU a training rank, TRL generates with the training model itself.
- cpu:          no GPU: one plain process, no vLLM; only the smoke recipe is practical.

With `completions_per_step` set (the paper recipes: 72), the split of ranks, per-device batch and
accumulation is chosen to keep it (see `openrs_cli.train.batch`).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from openrs_cli.errors import BadInputError
from openrs_cli.hardware import visible_devices_env
from openrs_cli.processes import ProcessSpec
from openrs_cli.secrets import redact
from openrs_cli.train.batch import BatchSplit, describe, split_batch, training_ranks_for_server
from openrs_cli.vllm_serving import SERVER_MODULE

LayoutName = Literal["auto", "server", "colocate", "vllm-node"]
LAYOUTS: tuple[str, ...] = get_args(LayoutName)
Role = Literal["train", "vllm"]  # what this machine does: train (a node rank) or serve vLLM (the vllm-node layout)
ROLES: tuple[str, ...] = get_args(Role)
VLLM_NODE_BIND = "0.0.0.0"  # the vLLM node listens on every interface: the training nodes are other machines
VLLM_HOST_PLACEHOLDER = "<--vllm-host>"  # a plan (dry run, sbatch script) made before the vLLM node is known
Generation = Literal["vllm", "transformers", "auto"]
GENERATIONS: tuple[str, ...] = get_args(Generation)
ZERO2_CONFIG = "zero2.yaml"
COLOCATE_MEMORY = 0.3  # vLLM's share of each GPU when it lives beside training


@dataclass
class TrainPlan:
    layout: str
    gpus: int
    nodes: int
    node_rank: int
    training_processes: int
    vllm_gpus: list[int]
    processes: list[ProcessSpec]
    config: dict[str, Any]
    config_path: str
    notes: list[str] = field(default_factory=list)
    batch: BatchSplit | None = None
    plan_keys: frozenset[str] = frozenset()  # config keys the plan set or changed (for --sources)
    origins: dict[str, str] = field(default_factory=dict)  # key -> recipe, --set, --model, plan, openrs default
    rendezvous: str | None = None  # several nodes: the main node's address, ip:port, that the others reach
    role: str = "train"  # the vllm-node layout: "vllm" on the machine that serves generation
    gpu_ids: list[int] = field(default_factory=list)  # this node's GPUs (physical indices); every node alike
    vllm_address: str | None = None  # the vllm-node layout: host:port where the training nodes reach vLLM

    @property
    def machines(self) -> int:
        """Every machine the run takes: the training nodes, and the vLLM node in that layout."""
        return self.nodes + (self.layout == "vllm-node")

    @property
    def completions_per_step(self) -> int:
        return (
            int(self.config["per_device_train_batch_size"])
            * int(self.config["gradient_accumulation_steps"])
            * (self.training_processes)
        )

    @property
    def prompts_per_step(self) -> int:
        return self.completions_per_step // int(self.config["num_generations"])

    def node_layout(self) -> list[dict[str, Any]]:
        """What runs on each machine (the same command on every node, with its --node-rank; in the vllm-node
        layout, `--role vllm` on one more): ranks, GPUs, vLLM, the address each reaches."""
        per_node = self.training_processes // max(1, self.nodes)
        vllm = (
            "inside each rank" if self.config.get("use_vllm") and self.config.get("vllm_mode") == "colocate" else "none"
        )
        if self.layout == "vllm-node":
            vllm = f"at the vLLM node {self.vllm_address}"
        elif self.vllm_gpus:
            vllm = f"a server on GPUs {self.vllm_gpus}"
        machines: list[dict[str, Any]] = [
            {
                "node": node,
                "main": node == 0,
                "ranks": [node * per_node, (node + 1) * per_node - 1],
                "gpus": list(self.gpu_ids) if self.gpus else "cpu",
                "vllm": vllm,
                "reaches": self.rendezvous,
            }
            for node in range(self.nodes)
        ]
        if self.layout == "vllm-node":
            port = self.config.get("vllm_server_port")
            tensor = vllm_node_tensor_parallel(self.config)
            split = f"data parallel {len(self.gpu_ids) // tensor}" + (
                f" x tensor parallel {tensor}" if tensor > 1 else ""
            )
            machines.append(
                {
                    "node": "vllm",
                    "main": False,
                    "ranks": None,
                    "gpus": list(self.gpu_ids),
                    "vllm": f"a server ({split}) listening on {VLLM_NODE_BIND}:{port}",
                    "reaches": None,
                }
            )
        return machines

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "gpus": self.gpus,
            "nodes": self.nodes,
            "machines": self.machines,
            "node_rank": self.node_rank,
            "training_processes": self.training_processes,
            "vllm_gpus": self.vllm_gpus,
            "batch": describe(self.batch, int(self.config["num_generations"])) if self.batch else None,
            "completions_per_step": self.completions_per_step,
            "prompts_per_step": self.prompts_per_step,
            "per_device_train_batch_size": self.config["per_device_train_batch_size"],
            "gradient_accumulation_steps": self.config["gradient_accumulation_steps"],
            "commands": [p.argv for p in self.processes],
            "processes": [asdict(p) for p in self.processes],
            "config_path": self.config_path,
            "role": self.role,
            "node_layout": self.node_layout() if self.machines > 1 else None,
            "notes": self.notes,
            "config": redact(self.config),
        }


def accelerate_config_path() -> str:
    return str(resources.files("openrs_cli.configs") / ZERO2_CONFIG)


def choose_layout(
    requested: str,
    gpus: int,
    nodes: int,
    generation: str = "vllm",
    recipe_mode: str | None = None,
    vllm_node: bool = False,
) -> str:
    """The layout to run; `auto` follows a recipe that asks for vLLM colocated (`vllm_mode: colocate`), and
    `vllm_node` (a --vllm-host or --role vllm was given) means the vllm-node layout."""
    if requested not in LAYOUTS:
        raise BadInputError(f"unknown layout '{requested}'", f"choose from {', '.join(LAYOUTS)}")
    if vllm_node and requested not in ("auto", "vllm-node"):
        raise BadInputError(
            f"--vllm-host and --role vllm belong to the vllm-node layout, not '{requested}'",
            "use --layout vllm-node, or drop them",
        )
    named = "vllm-node" if vllm_node else requested
    if gpus == 0:
        if named != "auto":
            raise BadInputError(f"layout '{named}' needs GPUs and none are in use", "drop --layout or add GPUs")
        return "cpu"
    if generation == "transformers":
        if named != "auto":
            raise BadInputError(
                f"--layout {named} places vLLM, but --generation transformers runs without it", "drop --layout"
            )
        return "transformers"
    if named == "vllm-node":
        return "vllm-node"
    if requested == "server":
        if gpus < 2:
            raise BadInputError("layout 'server' needs at least 2 GPUs (1 for vLLM, 1+ for training)")
        if nodes > 1:
            raise BadInputError(
                "layout 'server' runs on one node", "use --layout colocate, or vllm-node (a machine for vLLM)"
            )
        return "server"
    if requested == "colocate" or recipe_mode == "colocate":
        return "colocate"
    return "server" if gpus >= 2 and nodes == 1 else "colocate"


def _batch_target(cfg: dict[str, Any], explicit: frozenset[str]) -> int | None:
    """The completions per step to keep, or None when the user fixed the split themselves."""
    target = cfg.get("completions_per_step")
    if target is None or ({"per_device_train_batch_size", "gradient_accumulation_steps"} & explicit):
        return None
    return int(target)


def _apply_batch(cfg: dict[str, Any], ranks: int, explicit: frozenset[str], notes: list[str]) -> BatchSplit:
    per_device, accumulation = int(cfg["per_device_train_batch_size"]), int(cfg["gradient_accumulation_steps"])
    generations = int(cfg["num_generations"])
    target = _batch_target(cfg, explicit)
    if target is None:
        split = BatchSplit(ranks, per_device, accumulation, None)
        wanted = cfg.get("completions_per_step")
        if wanted is not None and split.completions != int(wanted):
            notes.append(
                f"{split.completions} completions per step from your batch settings; the recipe's "
                f"completions_per_step is {wanted}"
            )
        return split
    split = split_batch(ranks, target, per_device, generations, cfg.get("steps_per_generation"))
    cfg["per_device_train_batch_size"], cfg["gradient_accumulation_steps"] = split.per_device, split.accumulation
    if not split.exact:
        notes.append(
            f"no split of {target} completions fits {ranks} training ranks with whole groups of {generations}: "
            f"using {split.completions} (the nearest)"
        )
    elif split.per_device != per_device:
        notes.append(f"per-device batch {split.per_device} (recipe: {per_device}) keeps {target} completions per step")
    return split


def plan_layout(
    config: dict[str, Any],
    gpu_ids: list[int],
    config_path: Path,
    layout: LayoutName = "auto",
    nodes: int = 1,
    node_rank: int = 0,
    main_process_ip: str | None = None,
    main_process_port: int = 29500,
    vllm_port: int = 8000,
    explicit_keys: frozenset[str] = frozenset(),
    generation: Generation = "vllm",
    continuous: bool = False,
    vllm_host: str | None = None,
    role: Role = "train",
) -> TrainPlan:
    """Decide the layout and build every command; `config` is copied and given the layout's settings.

    `gpu_ids` are the physical indices of the GPUs this node uses (empty: CPU). `continuous`: TRL generates
    with transformers' continuous batching where it generates with the training model. `vllm_host` and `role`
    belong to the vllm-node layout: where the training nodes reach vLLM, and whether this machine serves it.
    """
    if role not in ROLES:
        raise BadInputError(f"unknown role '{role}'", f"choose from {', '.join(ROLES)}")
    if nodes < 1 or not 0 <= node_rank < nodes:
        raise BadInputError(f"--node-rank {node_rank} is not within --nodes {nodes}", "ranks count from 0")
    if role == "vllm" and node_rank:
        raise BadInputError("--role vllm runs no training rank", "drop --node-rank on the vLLM node")
    if nodes > 1 and not main_process_ip and role == "train":
        raise BadInputError("several nodes need --main-process-ip", "give the IP of the node with rank 0")
    gpus = len(gpu_ids)
    vllm_node = bool(vllm_host) or role == "vllm"
    chosen = choose_layout(layout, gpus, nodes, generation, config.get("vllm_mode"), vllm_node)
    cfg = dict(config)
    entry = ["-m", "openrs_cli.train.entry", "--config", str(config_path)]
    if chosen == "cpu":
        if continuous:
            _continuous_batching(cfg, explicit_keys)
        rendezvous = (main_process_ip, main_process_port) if nodes > 1 else None
        return _cpu_plan(cfg, config, entry, nodes, node_rank, config_path, explicit_keys, rendezvous)
    if chosen == "server":
        placed = _server(cfg, gpu_ids, explicit_keys, vllm_port)
    elif chosen == "colocate":
        placed = _colocate(cfg, gpu_ids, nodes, explicit_keys)
    elif chosen == "vllm-node":
        placed = _vllm_node(cfg, gpu_ids, nodes, vllm_host, vllm_port, role)
    else:
        placed = _transformers(cfg, gpu_ids, nodes)
        if continuous:
            _continuous_batching(cfg, explicit_keys)
    notes = placed.notes
    if nodes > 1 and role == "train":
        notes.append(f"run the same command on every node with --node-rank 0..{nodes - 1}")
    split = _apply_batch(cfg, placed.ranks, explicit_keys, notes)
    processes = list(placed.servers)
    if role == "train":
        launch = _accelerate_launch(placed.ranks, nodes, node_rank, main_process_ip, main_process_port)
        processes.append(ProcessSpec("train", [*launch, *entry], visible_devices_env(placed.train_gpus)))
    plan = TrainPlan(
        chosen, gpus, nodes, node_rank, placed.ranks, placed.vllm_gpus, processes, cfg, str(config_path), notes
    )
    plan.gpu_ids, plan.role = list(gpu_ids), role
    plan.rendezvous = f"{main_process_ip}:{main_process_port}" if nodes > 1 and main_process_ip else None
    if chosen == "vllm-node":
        plan.vllm_address = f"{vllm_host or VLLM_HOST_PLACEHOLDER}:{vllm_port}"
    return _finish(plan, config, split)


@dataclass
class _Placement:
    """Where one layout puts the work on this node: the training ranks, their GPUs, vLLM's GPUs and server."""

    ranks: int
    train_gpus: list[int]
    vllm_gpus: list[int] = field(default_factory=list)
    servers: list[ProcessSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# how long a CPU node waits in a collective for a node that has gone (torch's default is 30 minutes)
CPU_NODE_TIMEOUT_S = 120


def _cpu_plan(cfg, config, entry, nodes, node_rank, config_path, explicit_keys, rendezvous=None) -> TrainPlan:
    """One process on the CPU, generating with the policy (no vLLM); with several nodes, one per node, joined by
    torch.distributed's gloo backend at the main node's address (`rendezvous`: its IP and port)."""
    cfg.update(use_vllm=False, use_cpu=True, bf16=False)
    if cfg.get("dtype") == "bfloat16":
        cfg["dtype"] = "float32"
    notes = ["no GPU in use: training runs on the CPU without vLLM (practical only for the smoke recipe)"]
    env: dict[str, str] = {}
    if rendezvous is not None:
        ip, port = rendezvous
        cfg["ddp_backend"] = "gloo"
        if "ddp_timeout" not in explicit_keys:
            cfg["ddp_timeout"] = CPU_NODE_TIMEOUT_S
        env = {
            "RANK": str(node_rank), "WORLD_SIZE": str(nodes), "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1",
            "MASTER_ADDR": str(ip), "MASTER_PORT": str(port), "ACCELERATE_USE_CPU": "true",
        }  # fmt: skip
        notes.append(
            f"{nodes} CPU nodes, one training process each (gloo at {ip}:{port}); this is node {node_rank}. "
            f"A node that stops stops the others within ddp_timeout ({cfg['ddp_timeout']} s); run the same "
            f"commands again to resume from the last checkpoint"
        )
    split = _apply_batch(cfg, nodes, explicit_keys, notes)
    processes = [ProcessSpec("train", [sys.executable, *entry], env)]
    plan = TrainPlan("cpu", 0, nodes, node_rank, nodes, [], processes, cfg, str(config_path), notes)
    plan.rendezvous = f"{rendezvous[0]}:{rendezvous[1]}" if rendezvous else None
    return _finish(plan, config, split)


def _server(cfg: dict[str, Any], gpu_ids: list[int], explicit_keys: frozenset[str], vllm_port: int) -> _Placement:
    """vLLM's server on the last GPU(s) (data parallel when the batch needs fewer ranks), the ranks on the rest."""
    gpus = len(gpu_ids)
    target = _batch_target(cfg, explicit_keys)
    ranks = gpus - 1
    if target is not None:
        ranks = training_ranks_for_server(
            gpus,
            target,
            int(cfg["per_device_train_batch_size"]),
            int(cfg["num_generations"]),
            cfg.get("steps_per_generation"),
        )
    train_gpus, vllm_gpus = gpu_ids[:ranks], gpu_ids[ranks:]
    cfg.update(use_vllm=True, vllm_mode="server", vllm_server_host="127.0.0.1", vllm_server_port=vllm_port)
    server = ProcessSpec(
        "vllm",
        vllm_serve_argv(cfg, vllm_port, data_parallel=len(vllm_gpus)),
        {**visible_devices_env(vllm_gpus), **TRL_SERVER_ENV},
        "vllm-serve.log",
    )
    notes = []
    if len(vllm_gpus) > 1:
        notes.append(f"vLLM serves on {len(vllm_gpus)} GPUs (data parallel) so that {ranks} ranks keep the batch")
    return _Placement(ranks, train_gpus, vllm_gpus, [server], notes)


def _colocate(cfg: dict[str, Any], gpu_ids: list[int], nodes: int, explicit_keys: frozenset[str]) -> _Placement:
    """vLLM inside every training rank, sharing its GPU (a recipe written for colocate keeps its memory share)."""
    written_for_colocate = cfg.get("vllm_mode") == "colocate"
    cfg.update(use_vllm=True, vllm_mode="colocate")
    if "vllm_gpu_memory_utilization" not in explicit_keys and not written_for_colocate:
        cfg["vllm_gpu_memory_utilization"] = COLOCATE_MEMORY
    return _Placement(len(gpu_ids) * nodes, list(gpu_ids))


def vllm_node_tensor_parallel(cfg: dict[str, Any]) -> int:
    """GPUs per model copy on the vLLM node (`vllm_tensor_parallel_size`, TRL's key; 1 when unset)."""
    return int(cfg.get("vllm_tensor_parallel_size") or 1)


def _vllm_node(
    cfg: dict[str, Any], gpu_ids: list[int], nodes: int, host: str | None, port: int, role: str
) -> _Placement:
    """TRL's N training nodes + a vLLM node: every GPU of the training nodes is a rank; the vLLM node serves on
    all of its GPUs (data parallel; `vllm_tensor_parallel_size` GPUs per copy), listening on every interface,
    until it is stopped."""
    cfg.update(use_vllm=True, vllm_mode="server", vllm_server_host=host, vllm_server_port=port)
    ranks = len(gpu_ids) * nodes
    tensor = vllm_node_tensor_parallel(cfg)
    if tensor < 1 or len(gpu_ids) % tensor:
        raise BadInputError(
            f"vllm_tensor_parallel_size {tensor} does not divide the vLLM node's {len(gpu_ids)} GPUs",
            "set it to a divisor of --gpus (1: data parallel over every GPU)",
        )
    if role == "vllm":
        server = ProcessSpec(
            "vllm",
            vllm_serve_argv(cfg, port, len(gpu_ids) // tensor, VLLM_NODE_BIND, tensor),
            {**visible_devices_env(gpu_ids), **TRL_SERVER_ENV},
            "vllm-serve.log",
        )
        note = (
            f"this is the vLLM node: it serves generation to {nodes} training node(s) ({ranks} ranks) on port "
            f"{port} until it is stopped (Ctrl-C, or the end of the Slurm job)"
        )
        return _Placement(ranks, [], list(gpu_ids), [server], [note])
    note = (
        f"generation on the vLLM node at {host or VLLM_HOST_PLACEHOLDER}:{port}: start it there with the same "
        "command and --role vllm (this node waits for it up to --server-timeout)"
    )
    return _Placement(ranks, list(gpu_ids), notes=[note])


def _transformers(cfg: dict[str, Any], gpu_ids: list[int], nodes: int) -> _Placement:
    """No vLLM: TRL generates with the policy itself, on every GPU."""
    cfg.update(use_vllm=False)
    note = (
        "generation with transformers instead of vLLM: expect each step to take several times longer "
        "(the training model generates itself; measured on an H200 with plain generate(), an R1-1.5B-shaped "
        "model took 53.5 s per step for 24 completions of 512 tokens)"
    )
    return _Placement(len(gpu_ids) * nodes, list(gpu_ids), notes=[note])


# TRL 1.16's own default share of free GPU memory for the continuous-batching KV cache (transformers' 0.9 would
# leave the backward pass almost nothing); written into the plan so that the resolved config shows it
CB_TRAINING_MEMORY = 0.5


def _continuous_batching(cfg: dict[str, Any], explicit_keys: frozenset[str]) -> None:
    """TRL generating with transformers' continuous batching (paged attention) instead of `generate()`."""
    if "use_transformers_continuous_batching" not in explicit_keys:
        cfg["use_transformers_continuous_batching"] = True
    if (
        cfg.get("use_transformers_continuous_batching")
        and "transformers_continuous_batching_config" not in explicit_keys
    ):
        cfg["transformers_continuous_batching_config"] = {
            "max_memory_percent": CB_TRAINING_MEMORY,
            **(cfg.get("transformers_continuous_batching_config") or {}),
        }


def _accelerate_launch(ranks: int, nodes: int, node_rank: int, ip: str | None, port: int) -> list[str]:
    launch = ["accelerate", "launch", "--config_file", accelerate_config_path(), "--num_processes", str(ranks)]
    launch += ["--num_machines", str(nodes), "--machine_rank", str(node_rank), "--main_process_port", str(port)]
    return launch + (["--main_process_ip", ip] if ip else [])


def _finish(plan: TrainPlan, before: dict[str, Any], split: BatchSplit) -> TrainPlan:
    plan.batch = split
    plan.plan_keys = frozenset(k for k, v in plan.config.items() if k not in before or before[k] != v)
    return plan


# TRL 1.16 deprecates `trl vllm-serve`: it now only runs vLLM's own server with these additions (its
# `build_command`), which the trainer's VLLMClient needs: the NCCL weight-transfer engine, log-probs after
# temperature, uncapped log-probs, the scale-out routes, and vLLM's dev-mode endpoints (VLLM_SERVER_DEV_MODE=1).
TRL_SERVER_FLAGS = [
    "--kv-cache-dtype",
    "auto",
    "--uvicorn-log-level",
    "info",
    "--enable-scale-out",
    "--weight-transfer-config",
    '{"backend": "nccl"}',
    "--logprobs-mode",
    "processed_logprobs",
    "--max-logprobs",
    "-1",
]
TRL_SERVER_ENV = {"VLLM_SERVER_DEV_MODE": "1"}


def vllm_serve_argv(
    cfg: dict[str, Any], port: int, data_parallel: int = 1, host: str = "127.0.0.1", tensor_parallel: int = 1
) -> list[str]:
    """vLLM's own server as TRL 1.16's `trl vllm-serve` runs it (the same flags, checked against TRL's
    `build_command` in tests), started as `openrs_cli.vllm_serving` says. `host`: the address it listens on
    (this machine only, unless it is the vllm-node layout's vLLM node); `tensor_parallel`: GPUs per model copy
    (the vLLM node's, from `vllm_tensor_parallel_size`)."""
    argv = [
        sys.executable,
        "-m",
        SERVER_MODULE,
        "--model",
        str(cfg["model_name_or_path"]),
        "--host",
        host,
        "--port",
        str(port),
        "--tensor-parallel-size",
        str(tensor_parallel),
        "--data-parallel-size",
        str(data_parallel),
        "--gpu-memory-utilization",
        str(cfg.get("vllm_gpu_memory_utilization", 0.7)),
        "--dtype",
        "bfloat16" if cfg.get("bf16") else "auto",
        "--revision",
        str(cfg.get("model_revision") or "main"),
    ]
    if cfg.get("vllm_max_model_length"):
        argv += ["--max-model-len", str(cfg["vllm_max_model_length"])]
    argv += ["--model-impl", str(cfg.get("vllm_model_impl") or "vllm")]  # TRL's default: vLLM's own model code
    return argv + TRL_SERVER_FLAGS
