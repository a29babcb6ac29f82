"""Size the process layout to the GPUs: which GPU runs vLLM, how many training ranks, which commands.

Pure: takes the GPU count and options, returns a `Plan`; nothing is started here.

- server:   `trl vllm-serve` on the last GPU, N-1 training ranks under accelerate + DeepSpeed ZeRO-2
            (the paper's layout: 4 GPUs = 3 ranks + 1 vLLM GPU). Single node only.
- colocate: vLLM inside each of the N training ranks (TRL's vllm_mode=colocate). Any node count.
- cpu:      no GPU: one plain process, no vLLM; only the smoke recipe is practical.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from openrs_cli.errors import BadInputError

LAYOUTS = ("auto", "server", "colocate")
ZERO2_CONFIG = "zero2.yaml"
COLOCATE_MEMORY = 0.3  # vLLM's share of each GPU when it lives beside training


@dataclass
class ProcessSpec:
    role: str  # "vllm" or "train"
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: str | None = None


@dataclass
class Plan:
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

    def to_json(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "gpus": self.gpus,
            "nodes": self.nodes,
            "node_rank": self.node_rank,
            "training_processes": self.training_processes,
            "vllm_gpus": self.vllm_gpus,
            "commands": [p.argv for p in self.processes],
            "processes": [asdict(p) for p in self.processes],
            "config_path": self.config_path,
            "notes": self.notes,
            "config": self.config,
        }


def accelerate_config_path() -> str:
    return str(resources.files("openrs_cli.configs") / ZERO2_CONFIG)


def choose_layout(requested: str, gpus: int, nodes: int) -> str:
    if requested not in LAYOUTS:
        raise BadInputError(f"unknown layout '{requested}'", f"choose from {', '.join(LAYOUTS)}")
    if gpus == 0:
        if requested != "auto":
            raise BadInputError(f"layout '{requested}' needs GPUs and none are in use", "drop --layout or add GPUs")
        return "cpu"
    if requested == "server":
        if gpus < 2:
            raise BadInputError("layout 'server' needs at least 2 GPUs (1 for vLLM, 1+ for training)")
        if nodes > 1:
            raise BadInputError("layout 'server' runs on one node", "use --layout colocate for several nodes")
        return "server"
    if requested == "colocate":
        return "colocate"
    return "server" if gpus >= 2 and nodes == 1 else "colocate"


def make_plan(
    config: dict[str, Any],
    gpus: int,
    config_path: Path,
    layout: str = "auto",
    nodes: int = 1,
    node_rank: int = 0,
    main_process_ip: str | None = None,
    main_process_port: int = 29500,
    vllm_port: int = 8000,
    explicit_keys: frozenset[str] = frozenset(),
) -> Plan:
    """Decide the layout and build every command; `config` is copied and given the layout's settings."""
    if nodes < 1 or not 0 <= node_rank < nodes:
        raise BadInputError(f"--node-rank {node_rank} is not within --nodes {nodes}", "ranks count from 0")
    if nodes > 1 and not main_process_ip:
        raise BadInputError("several nodes need --main-process-ip", "give the IP of the node with rank 0")
    chosen = choose_layout(layout, gpus, nodes)
    cfg = dict(config)
    notes: list[str] = []
    processes: list[ProcessSpec] = []
    entry = ["-m", "openrs_cli.train.entry", "--config", str(config_path)]
    vllm_gpus: list[int] = []

    if chosen == "cpu":
        cfg.update(use_vllm=False, use_cpu=True, bf16=False)
        if cfg.get("dtype") == "bfloat16":
            cfg["dtype"] = "float32"
        notes.append("no GPU in use: training runs on the CPU without vLLM (practical only for the smoke recipe)")
        processes.append(ProcessSpec("train", [sys.executable, *entry]))
        return Plan(chosen, 0, nodes, node_rank, 1, [], processes, cfg, str(config_path), notes)

    if chosen == "server":
        train_gpus = list(range(gpus - 1))
        vllm_gpus = [gpus - 1]
        cfg.update(use_vllm=True, vllm_mode="server", vllm_server_host="127.0.0.1", vllm_server_port=vllm_port)
        model_len = cfg.get("vllm_max_model_length")
        vllm_argv = [
            "trl",
            "vllm-serve",
            "--model",
            str(cfg["model_name_or_path"]),
            "--revision",
            str(cfg.get("model_revision") or "main"),
            "--tensor_parallel_size",
            "1",
            "--data_parallel_size",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            str(vllm_port),
            "--gpu_memory_utilization",
            str(cfg.get("vllm_gpu_memory_utilization", 0.7)),
            "--dtype",
            "bfloat16" if cfg.get("bf16") else "auto",
        ]
        if model_len:
            vllm_argv += ["--max_model_len", str(model_len)]
        processes.append(ProcessSpec("vllm", vllm_argv, {"CUDA_VISIBLE_DEVICES": str(vllm_gpus[0])}, "vllm-serve.log"))
        ranks = len(train_gpus)
    else:
        train_gpus = list(range(gpus))
        cfg.update(use_vllm=True, vllm_mode="colocate")
        if "vllm_gpu_memory_utilization" not in explicit_keys:
            cfg["vllm_gpu_memory_utilization"] = COLOCATE_MEMORY
        ranks = gpus * nodes
        if nodes > 1:
            notes.append(f"run the same command on every node with --node-rank 0..{nodes - 1}")

    launch = [
        "accelerate",
        "launch",
        "--config_file",
        accelerate_config_path(),
        "--num_processes",
        str(ranks),
        "--num_machines",
        str(nodes),
        "--machine_rank",
        str(node_rank),
        "--main_process_port",
        str(main_process_port),
    ]
    if main_process_ip:
        launch += ["--main_process_ip", main_process_ip]
    env = {"CUDA_VISIBLE_DEVICES": ",".join(map(str, train_gpus))}
    processes.append(ProcessSpec("train", [*launch, *entry], env))
    return Plan(chosen, gpus, nodes, node_rank, ranks, vllm_gpus, processes, cfg, str(config_path), notes)
