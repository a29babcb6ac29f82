"""What an eval will do, decided before anything starts: models, tasks, samples, backend, server."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openrs_cli.checkpoints import list_checkpoints, pick_checkpoints, step_of
from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import Sampling
from openrs_cli.eval.tasks import Task, load_problems, parse_tasks

BACKENDS = ("auto", "vllm", "endpoint", "transformers")
PROTOCOLS = ("paper", "robust")


@dataclass
class EvalOptions:
    model: str
    tasks: str = "all"
    backend: str = "auto"
    base_url: str | None = None
    served_model_name: str | None = None
    gpus: str = "auto"
    tensor_parallel: int = 1
    protocol: str = "paper"
    samples: int | None = None
    limit: int | None = None
    seed: int = 42
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 32768
    data_dir: Path | None = None
    output_dir: Path | None = None
    checkpoints: str | None = None
    revision: str | None = None
    concurrency: int = 64
    scoring_workers: int = 0  # 0: one per core
    port: int = 8011
    planning_only: bool = False


@dataclass
class ModelTarget:
    path: str  # Hub id or local folder
    name: str  # name written into the results
    step: int | None
    out_dir: Path


@dataclass
class EvalPlan:
    backend: str
    gpu_ids: list[int]  # physical indices; a vLLM server gets exactly these
    models: list[ModelTarget]
    tasks: list[Task]
    samples: dict[str, int]
    sampling: Sampling
    seed: int
    server_command: list[str] | None
    problem_counts: dict[str, int | None]
    notes: list[str] = field(default_factory=list)

    @property
    def gpus(self) -> int:
        return len(self.gpu_ids)

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "gpus": self.gpus,
            "gpu_ids": self.gpu_ids,
            "server_command": self.server_command,
            "server_env": {"CUDA_VISIBLE_DEVICES": ",".join(map(str, self.gpu_ids))} if self.server_command else None,
            "models": [
                {"path": m.path, "name": m.name, "step": m.step, "output_dir": str(m.out_dir)} for m in self.models
            ],
            "tasks": [
                {
                    "name": t.name,
                    "source": t.hub_id,
                    "problems": self.problem_counts.get(t.name),
                    "samples": self.samples[t.name],
                }
                for t in self.tasks
            ],
            "samples": self.samples,
            "sampling": {**asdict(self.sampling), "seed": self.seed},
            "notes": self.notes,
        }


def _is_local(model: str) -> bool:
    return model.startswith((".", "/", "~")) or Path(model).expanduser().exists() or model.count("/") != 1


def expand_models(model: str, checkpoints: str | None, output_dir: Path | None) -> list[ModelTarget]:
    if not _is_local(model):
        if checkpoints:
            raise BadInputError("--checkpoints needs a local training output folder", "drop it for Hub models")
        out = output_dir or Path("outputs/eval") / model.replace("/", "__")
        return [ModelTarget(model, model, None, out)]
    folder = Path(model).expanduser().resolve()
    if not folder.is_dir():
        raise BadInputError(f"model folder {model} does not exist", "give a local model folder or a Hub id org/name")
    out_root = output_dir or Path("outputs/eval") / folder.name
    if checkpoints:
        chosen = pick_checkpoints(folder, checkpoints, "drop --checkpoints or point at a training output")
        return [
            ModelTarget(str(p), f"{folder.name}/checkpoint-{s}", s, out_root / f"checkpoint-{s}") for s, p in chosen
        ]
    if not (folder / "config.json").is_file():
        has = bool(list_checkpoints(folder))
        hint = "use --checkpoints all to evaluate its checkpoints" if has else "give a folder with config.json"
        raise BadInputError(f"model folder {model} has no config.json", hint)
    return [ModelTarget(str(folder), folder.name, step_of(folder), out_root)]


def samples_for(tasks: list[Task], protocol: str, samples: int | None) -> dict[str, int]:
    if protocol not in PROTOCOLS:
        raise BadInputError(f"unknown protocol '{protocol}'", "choose paper or robust")
    if samples is not None and samples < 1:
        raise BadInputError("--samples must be at least 1")
    if samples is not None:
        return {t.name: samples for t in tasks}
    return {t.name: (t.samples_robust if protocol == "robust" else 1) for t in tasks}


def make_plan(opts: EvalOptions) -> EvalPlan:
    from openrs_cli.eval.backends.factory import choose_backend
    from openrs_cli.eval.backends.vllm_server import server_command
    from openrs_cli.hardware import resolve_gpus

    if opts.backend not in BACKENDS:
        raise BadInputError(f"unknown backend '{opts.backend}'", f"choose from {', '.join(BACKENDS)}")
    tasks = parse_tasks(opts.tasks)
    if opts.limit is not None and opts.limit < 1:
        raise BadInputError("--limit must be at least 1")
    if opts.max_new_tokens < 1:
        raise BadInputError("--max-new-tokens must be at least 1")
    if opts.data_dir is not None and not opts.data_dir.is_dir():
        raise BadInputError(f"--data-dir {opts.data_dir} is not a folder", "point it at a folder of benchmark files")
    if opts.base_url and opts.backend not in ("auto", "endpoint"):
        raise BadInputError(f"--base-url conflicts with --backend {opts.backend}", "drop one of them")
    gpu_ids, notes = resolve_gpus(opts.gpus, opts.planning_only)
    gpus = len(gpu_ids)
    backend = choose_backend(opts.backend, opts.base_url, gpus)
    models = expand_models(opts.model, opts.checkpoints, opts.output_dir)
    sampling = Sampling(opts.temperature, opts.top_p, opts.max_new_tokens)
    server = None
    if backend == "vllm":
        server = server_command(
            models[0].path,
            gpus,
            sampling,
            opts.port,
            "openrs-eval",
            opts.seed,
            opts.revision,
            opts.tensor_parallel,
        )
    counts: dict[str, int | None] = {}
    for task in tasks:
        counts[task.name] = len(load_problems(task, opts.data_dir, opts.limit)) if opts.data_dir else opts.limit
    if backend == "transformers" and gpus == 0:
        notes.append("generating on CPU with transformers: only practical for small models and --limit")
    return EvalPlan(
        backend,
        gpu_ids,
        models,
        tasks,
        samples_for(tasks, opts.protocol, opts.samples),
        sampling,
        opts.seed,
        server,
        counts,
        notes,
    )
