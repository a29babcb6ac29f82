"""What an eval will do, decided before anything starts: models, tasks, samples, backend, servers.

`plan_eval(options)` checks every option and returns an `EvalPlan` that holds everything the run
needs (the runner reads nothing else); a dry run prints the same plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from openrs_cli.atomic import ensure_writable
from openrs_cli.checkpoints import list_checkpoints, pick_checkpoints, step_of
from openrs_cli.checks import at_least, within
from openrs_cli.errors import BadInputError
from openrs_cli.eval.backends.base import (
    BACKENDS,
    BATCHING_MODES,
    DTYPES,
    ENGINE_MODES,
    PROMPT_TOKENS,
    SAMPLING,
    BackendName,
    BackendSettings,
    Batching,
    Dtype,
    Engine,
    PromptTokens,
    Sampling,
    resolve_prompt_tokens,
)
from openrs_cli.eval.prompts import MATH_QUERY_TEMPLATE, load_template
from openrs_cli.eval.tasks import Task, load_problems, parse_tasks
from openrs_cli.locations import locate
from openrs_cli.lora import MERGED_FOLDER, is_adapter

EvalProtocol = Literal["paper", "robust"]
PROTOCOLS: tuple[str, ...] = get_args(EvalProtocol)
Truncation = Literal["require-boxed", "lighteval"]  # how an answer cut at the length limit is scored
TRUNCATION_RULES: tuple[str, ...] = get_args(Truncation)
ScorerName = Literal["lighteval", "math-verify-strict"]  # `openrs rescore --scorer`
SCORERS: tuple[str, ...] = get_args(ScorerName)


@dataclass
class EvalOptions:
    model: str
    tasks: str = "all"
    backend: BackendName = "auto"
    base_url: str | None = None
    served_model_name: str | None = None
    gpus: str = "auto"
    tensor_parallel: int = 1
    protocol: EvalProtocol = "paper"
    samples: int | None = None
    limit: int | None = None
    seed: int = 42
    sampling: Sampling = SAMPLING
    data_dir: Path | None = None
    output_dir: Path | None = None
    checkpoints: str | None = None
    revision: str | None = None
    concurrency: int = 64
    scoring_workers: int = 0  # 0: one per core
    port: int = 8011
    request_timeout: float = 3600.0
    retries: int = 4
    max_num_seqs: int = 256
    max_model_len: int | None = None
    system_prompt: str | None = None
    prompt_template: Path | None = None  # a text file holding {question}
    truncated: Truncation = "require-boxed"  # how an answer cut at the length limit is scored
    batch_size: int | None = None  # transformers backend: the chunk; None: the batching's default
    batching: Batching = "auto"  # transformers backend: one, padded, continuous (auto: see resolve_batching)
    cb_max_batch_tokens: int = 2048
    cb_memory: float = 0.9
    dtype: Dtype = "auto"
    engine: Engine = "auto"  # vllm: eager or compiled; auto decides by device and job size
    prompt_tokens: PromptTokens = (
        "auto"  # auto: paper where openrs tokenizes (vllm, transformers), server for an endpoint
    )
    planning_only: bool = False


@dataclass
class ModelTarget:
    path: str  # Hub id or local folder
    name: str  # name written into the results
    step: int | None
    out_dir: Path
    server_command: list[str] | None = None  # the vLLM server this model is served by (vllm backend)
    adapter: str | None = None  # a LoRA adapter folder, merged into `path` before generating

    @classmethod
    def local(cls, folder: Path, name: str, step: int | None, out_dir: Path) -> ModelTarget:
        """A local model folder; a LoRA adapter is evaluated as its merge, written under `out_dir`."""
        if is_adapter(folder):
            return cls(str(out_dir / MERGED_FOLDER), name, step, out_dir, adapter=str(folder))
        return cls(str(folder), name, step, out_dir)


@dataclass
class EvalPlan:
    backend: BackendSettings
    models: list[ModelTarget]
    tasks: list[Task]
    samples: dict[str, int]
    sampling: Sampling
    seed: int
    problem_counts: dict[str, int | None]
    revision: str | None = None
    data_dir: Path | None = None
    limit: int | None = None
    template: str = MATH_QUERY_TEMPLATE
    system_prompt: str | None = None
    truncated: Truncation = "require-boxed"
    notes: list[str] = field(default_factory=list)

    @property
    def gpu_ids(self) -> list[int]:
        return self.backend.gpu_ids

    @property
    def gpus(self) -> int:
        return len(self.backend.gpu_ids)

    def to_dict(self) -> dict[str, Any]:
        first_server = self.models[0].server_command if self.models else None
        return {
            "backend": self.backend.kind,
            "gpus": self.gpus,
            "gpu_ids": self.gpu_ids,
            "server_command": first_server,
            "server_env": self.backend.server_env if first_server else None,
            "in_flight": self.backend.in_flight,
            "batch_size": self.backend.batch_size if self.backend.kind == "transformers" else None,
            "batching": self.backend.batching if self.backend.kind == "transformers" else None,
            "revision": self.revision,
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "limit": self.limit,
            "prompt": "paper" if self.template == MATH_QUERY_TEMPLATE else "custom template",
            "prompt_tokens": self.backend.prompt_tokens,
            "dtype": self.backend.dtype,
            "engine": self.backend.engine_identity(),
            "system_prompt": self.system_prompt,
            "truncated": self.truncated,
            "models": [
                {
                    "path": m.path,
                    "name": m.name,
                    "step": m.step,
                    "output_dir": str(m.out_dir),
                    "server_command": m.server_command,
                    "adapter": m.adapter,
                }
                for m in self.models
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
            "sampling": {**self.sampling.to_dict(), "seed": self.seed},
            "notes": self.notes,
        }


def expand_models(
    model: str, checkpoints: str | None, output_dir: Path | None, note: Callable[[str], None] | None = None
) -> list[ModelTarget]:
    if locate(model).kind == "hub":
        if checkpoints:
            raise BadInputError("--checkpoints needs a local training output folder", "drop it for Hub models")
        out = output_dir or Path("outputs/eval") / model.replace("/", "__")
        return [ModelTarget(model, model, None, out)]
    folder = Path(model).expanduser().resolve()
    if not folder.is_dir():
        raise BadInputError(f"model folder {model} does not exist", "give a local model folder or a Hub id org/name")
    out_root = output_dir or Path("outputs/eval") / folder.name
    if checkpoints:
        chosen = pick_checkpoints(folder, checkpoints, "drop --checkpoints or point at a training output", note)
        return [
            ModelTarget.local(p, f"{folder.name}/checkpoint-{s}", s, out_root / f"checkpoint-{s}") for s, p in chosen
        ]
    if not (folder / "config.json").is_file() and not is_adapter(folder):
        has = bool(list_checkpoints(folder))
        hint = "use --checkpoints all to evaluate its checkpoints" if has else "give a folder with config.json"
        raise BadInputError(f"model folder {model} has no config.json (nor a LoRA adapter_config.json)", hint)
    return [ModelTarget.local(folder, folder.name, step_of(folder), out_root)]


# the chunk each batching generates at once by default (a resumed run regenerates a cut chunk whole)
CHUNK = {"one": 1, "padded": 16, "continuous": 64}
CPU_CHUNK = {"padded": 4, "continuous": 16}
# what `auto` picks on a CPU, from bench/eval_batching.py (README, Performance): on 2 cores, SmolLM2-135M,
# 16 prompts x 64 tokens, continuous batching ran at 1.11x one at a time (padded chunks 3.1x): not enough to
# give up a seed per answer by default
CPU_AUTO: Batching = "one"


def resolve_batching(requested: str, kind: str, gpu: bool, batch_size: int | None) -> tuple[Batching, int]:
    """(batching, chunk) for the transformers backend: `auto` is continuous batching on a GPU; on a CPU the
    faster of one-at-a-time and continuous batching as measured, padded batches when --batch-size asks for them
    (as before continuous batching existed)."""
    if requested not in BATCHING_MODES:
        raise BadInputError(f"unknown --batching '{requested}'", f"choose from {', '.join(BATCHING_MODES)}")
    if kind != "transformers":
        if requested != "auto":
            raise BadInputError(f"--batching {requested} is for the transformers backend", "drop it")
        return "one", 1
    if requested == "auto":
        requested = "continuous" if gpu else ("padded" if (batch_size or 1) > 1 else CPU_AUTO)
    if requested == "one":
        if (batch_size or 1) > 1:
            raise BadInputError("--batching one generates one answer at a time", "drop --batch-size, or --batching")
        return "one", 1
    return requested, batch_size or (CHUNK if gpu else CPU_CHUNK)[requested]  # type: ignore[return-value]


def samples_for(tasks: list[Task], protocol: str, samples: int | None) -> dict[str, int]:
    if protocol not in PROTOCOLS:
        raise BadInputError(f"unknown protocol '{protocol}'", "choose paper or robust")
    if samples is not None and samples < 1:
        raise BadInputError("--samples must be at least 1")
    if samples is not None:
        return {t.name: samples for t in tasks}
    return {t.name: (t.samples_robust if protocol == "robust" else 1) for t in tasks}


# problems per benchmark (their official sizes), for sizing a job before its files are read
TASK_SIZES = {"aime24": 30, "aime25": 30, "math_500": 500, "amc23": 40, "minerva": 272, "olympiadbench": 675}


def expected_tokens(
    tasks: list[Task], counts: dict[str, int | None], samples: dict[str, int], sampling: Sampling
) -> int | None:
    """A rough size of the job in generated tokens (answers x a typical answer length, capped by the limit)."""
    from openrs_cli.eval.stage import DEFAULT_TOKENS, TYPICAL_TOKENS

    total = 0
    for task in tasks:
        problems = counts.get(task.name) or TASK_SIZES.get(task.name)
        if problems is None:
            return None
        typical = min(sampling.max_new_tokens, TYPICAL_TOKENS.get(task.name, DEFAULT_TOKENS))
        total += problems * samples[task.name] * typical
    return total


def plan_eval(opts: EvalOptions) -> EvalPlan:
    """Check every option and decide the whole run; nothing is started."""
    from openrs_cli.eval.backends.factory import choose_backend
    from openrs_cli.eval.backends.vllm_server import engine_mode, server_command
    from openrs_cli.hardware import resolve_gpus
    from openrs_cli.localmodels import usable_model

    if opts.backend not in BACKENDS:
        raise BadInputError(f"unknown backend '{opts.backend}'", f"choose from {', '.join(BACKENDS)}")
    tasks = parse_tasks(opts.tasks)
    if opts.limit is not None:
        at_least("--limit", opts.limit, 1)
    sampling = opts.sampling.checked()
    for flag, value, allowed in (
        ("--dtype", opts.dtype, DTYPES),
        ("--engine", opts.engine, ENGINE_MODES),
        ("--prompt-tokens", opts.prompt_tokens, PROMPT_TOKENS),
    ):
        if value not in allowed:
            raise BadInputError(f"unknown {flag} '{value}'", f"choose from {', '.join(allowed)}")
    at_least("--concurrency", opts.concurrency, 1)
    at_least("--scoring-workers", opts.scoring_workers, 0)
    at_least("--tensor-parallel", opts.tensor_parallel, 1)
    within("--port", opts.port, 1, 65535)
    at_least("--request-timeout", opts.request_timeout, 0.001)
    within("--retries", opts.retries, 0, 20)
    at_least("--max-num-seqs", opts.max_num_seqs, 1)
    at_least("--seed", opts.seed, 0)
    if opts.max_model_len is not None:
        at_least("--max-model-len", opts.max_model_len, 1)
        if opts.max_model_len <= opts.sampling.max_new_tokens:
            raise BadInputError(
                f"--max-model-len {opts.max_model_len} leaves no room for a prompt before "
                f"--max-new-tokens {opts.sampling.max_new_tokens}",
                "set a larger --max-model-len, or drop it (the default is max new tokens + 2048)",
            )
    if opts.base_url:
        check_base_url(opts.base_url)
    if opts.batch_size is not None:
        at_least("--batch-size", opts.batch_size, 1)
    if opts.data_dir is not None and not opts.data_dir.is_dir():
        raise BadInputError(f"--data-dir {opts.data_dir} is not a folder", "point it at a folder of benchmark files")
    if opts.base_url and opts.backend not in ("auto", "endpoint"):
        raise BadInputError(f"--base-url conflicts with --backend {opts.backend}", "drop one of them")
    gpu_ids, notes = resolve_gpus(opts.gpus, opts.planning_only)
    kind = choose_backend(opts.backend, opts.base_url, len(gpu_ids))
    models = expand_models(opts.model, opts.checkpoints, opts.output_dir, notes.append)
    revision = opts.revision
    for target in models:
        if target.adapter:
            notes.append(
                f"{target.name} is a LoRA adapter: merged into {target.path} before generating (removed after)"
            )
    if not opts.planning_only:  # before any server starts or answer is generated
        for target in models:
            ensure_writable(target.out_dir, "--output-dir")
            if kind != "endpoint":  # an endpoint serves its own model
                target.path = usable_model(target.path, opts.revision, "model", notes.append)
        if kind != "endpoint" and models and locate(models[0].path).kind == "hub":
            from openrs_cli.provenance import hub_commit

            commit = hub_commit(models[0].path, revision)  # every process then loads this one commit
            if commit:
                notes.append(f"{models[0].path} revision {revision or 'main'} is commit {commit[:12]}")
                revision = commit
    counts: dict[str, int | None] = {}
    for task in tasks:
        counts[task.name] = len(load_problems(task, opts.data_dir, opts.limit)) if opts.data_dir else opts.limit
    samples = samples_for(tasks, opts.protocol, opts.samples)
    if kind == "transformers" and not gpu_ids:
        notes.append("generating on CPU with transformers: only practical for small models and --limit")
    prompt_tokens = resolve_prompt_tokens(opts.prompt_tokens, kind)
    cpu = kind == "vllm" and not gpu_ids
    engine = "compiled"
    if kind == "vllm":
        expected = expected_tokens(tasks, counts, samples, sampling)
        engine, why = engine_mode(opts.engine, cpu, expected)
        notes.append(f"vLLM engine {why}")
        if cpu:
            notes.append("vLLM's CPU build: one engine, the model in its process, no chunked prefill, a 2 GiB KV cache")
    batching, chunk = resolve_batching(opts.batching, kind, bool(gpu_ids), opts.batch_size)
    if batching == "continuous":
        at_least("--cb-max-batch-tokens", opts.cb_max_batch_tokens, 1)
        within("--cb-memory", opts.cb_memory, 0, 1, low_open=True)
        limit = f" (at most {opts.cb_memory:.0%} of free GPU memory)" if gpu_ids else ""
        notes.append(
            f"transformers continuous batching: chunks of {chunk} answers, {opts.cb_max_batch_tokens} tokens per "
            f"forward pass, the KV cache sized for a whole chunk at full length{limit}"
        )
    dtype = opts.dtype
    if dtype == "auto" and cpu:
        dtype = "float32"  # bfloat16 is emulated, and slow, on CPUs without AVX-512 BF16
    backend = BackendSettings(
        kind,
        gpu_ids,
        dtype=dtype,
        engine=engine,
        prompt_tokens=prompt_tokens,
        cpu=cpu,
        base_url=opts.base_url,
        served_model_name=opts.served_model_name,
        concurrency=opts.concurrency,
        port=opts.port,
        tensor_parallel=opts.tensor_parallel,
        scoring_workers=opts.scoring_workers,
        request_timeout_s=opts.request_timeout,
        retries=opts.retries,
        max_num_seqs=opts.max_num_seqs,
        max_model_len=opts.max_model_len,
        batch_size=chunk,
        batching=batching,
        cb_max_batch_tokens=opts.cb_max_batch_tokens,
        cb_memory=opts.cb_memory,
    )
    if kind == "vllm":
        for target in models:
            target.server_command = server_command(target.path, backend, sampling, opts.seed, revision)
    return EvalPlan(
        backend,
        models,
        tasks,
        samples,
        sampling,
        opts.seed,
        counts,
        revision=revision,
        data_dir=opts.data_dir,
        limit=opts.limit,
        template=load_template(opts.prompt_template) if opts.prompt_template else MATH_QUERY_TEMPLATE,
        system_prompt=opts.system_prompt or None,
        truncated=opts.truncated,
        notes=notes,
    )


def check_base_url(url: str) -> None:
    """An endpoint is an http(s) URL with a host; anything else could never answer."""
    from urllib.parse import urlsplit

    from openrs_cli.secrets import redact_url

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError(
            f"--base-url {redact_url(url)} is not an http(s) URL with a host",
            "give one like http://localhost:8000/v1",
        )
