"""`openrs eval`: AIME24, MATH-500, AMC23, Minerva, OlympiadBench (+ AIME25) with the paper's protocol."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli import output
from openrs_cli.cli.options import DryRunOpt, GpusOpt, JsonOpt, SeedOpt
from openrs_cli.eval.backends.base import (
    BACKENDS,
    BATCHING_MODES,
    DTYPES,
    ENGINE_MODES,
    PROMPT_TOKENS,
    SAMPLING,
    sampling_fields,
)
from openrs_cli.eval.plan import PROTOCOLS, SCORERS, TRUNCATION_RULES
from openrs_cli.eval.tasks import TASKS

# Choices come from the lists the eval stage owns.
Scorer = StrEnum("Scorer", {name: name for name in SCORERS})
Truncated = StrEnum("Truncated", {name.replace("-", "_"): name for name in TRUNCATION_RULES})
Backend = StrEnum("Backend", {name: name for name in BACKENDS})
Protocol = StrEnum("Protocol", {name: name for name in PROTOCOLS})
Dtype = StrEnum("Dtype", {name: name for name in DTYPES})
Engine = StrEnum("Engine", {name: name for name in ENGINE_MODES})
Batching = StrEnum("Batching", {name: name for name in BATCHING_MODES})
PromptTokens = StrEnum("PromptTokens", {name: name for name in PROMPT_TOKENS})
_FIELDS = sampling_fields()
_OTHER_SAMPLING = ", ".join(
    f"{n} ({f.metadata['help']})" for n, f in _FIELDS.items() if "sampling" in f.metadata["flag"]
)


def eval_command(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help="Hub id, local model folder, or training output folder.")
    ] = None,
    tasks: Annotated[
        str,
        typer.Option(
            "--tasks",
            help=f"all (the paper's five), recent (aime25, hmmt25) or names: {', '.join(TASKS)}.",
        ),
    ] = "all",
    backend: Annotated[
        Backend, typer.Option("--backend", help="auto: endpoint with --base-url, vllm with GPUs, else transformers.")
    ] = Backend.auto,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server (endpoint).")] = None,
    served_model_name: Annotated[
        str | None, typer.Option("--served-model-name", help="Model name the endpoint expects.")
    ] = None,
    gpus: GpusOpt = "auto",
    tensor_parallel: Annotated[int, typer.Option("--tensor-parallel", help="GPUs per vLLM replica.")] = 1,
    protocol: Annotated[
        Protocol, typer.Option("--protocol", help="paper (1 sample) or robust (16 on AIME/AMC, 4 elsewhere).")
    ] = Protocol.paper,
    samples: Annotated[
        int | None, typer.Option("--samples", help="Samples per problem (overrides the protocol).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N problems of each task.")] = None,
    seed: SeedOpt = 42,
    temperature: Annotated[
        float, typer.Option("--temperature", help=_FIELDS["temperature"].metadata["help"])
    ] = SAMPLING.temperature,
    top_p: Annotated[float, typer.Option("--top-p", help=_FIELDS["top_p"].metadata["help"])] = SAMPLING.top_p,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help=_FIELDS["max_new_tokens"].metadata["help"])
    ] = SAMPLING.max_new_tokens,
    sampling: Annotated[
        list[str] | None,
        typer.Option("--sampling", help=f"NAME=VALUE for any other sampling field: {_OTHER_SAMPLING}."),
    ] = None,
    dtype: Annotated[
        Dtype, typer.Option("--dtype", help="Weights and compute: auto (the model's; float32 on vLLM's CPU build).")
    ] = Dtype.auto,
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="vLLM: compiled (CUDA graphs, as the paper's vLLM) or eager (as lighteval 0.13); auto: compiled "
            "on GPUs, on CPU by the job's size.",
        ),
    ] = Engine.auto,
    prompt_tokens: Annotated[
        PromptTokens,
        typer.Option(
            "--prompt-tokens",
            help="paper: the chat template tokenized with the tokenizer's special tokens, as the paper's lighteval "
            "(R1-Distill: two BOS); template: the template's tokens only; server: the endpoint templates the chat. "
            "auto: paper, server for an endpoint.",
        ),
    ] = PromptTokens.auto,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Local benchmark files instead of the Hub.")
    ] = None,
    output_dir: Annotated[Path | None, typer.Option("--output-dir", help="Results, details, cache.")] = None,
    checkpoints: Annotated[
        str | None, typer.Option("--checkpoints", help="all or 50,100: the checkpoint-N folders of --model.")
    ] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Hub revision of the model.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Requests in flight (endpoint backend).")] = 64,
    request_timeout: Annotated[
        float, typer.Option("--request-timeout", help="Seconds to wait for one answer before retrying it.")
    ] = 3600.0,
    retries: Annotated[int, typer.Option("--retries", help="Retries per request (backoff from 1 s).")] = 4,
    max_num_seqs: Annotated[
        int, typer.Option("--max-num-seqs", help="Sequences each vLLM engine batches; requests in flight follow.")
    ] = 256,
    system_prompt: Annotated[
        str | None, typer.Option("--system-prompt", help="A system message before the prompt (paper: none).")
    ] = None,
    prompt_template: Annotated[
        Path | None,
        typer.Option("--prompt-template", help="A text file holding {question}, instead of the paper's prompt."),
    ] = None,
    max_model_len: Annotated[
        int | None, typer.Option("--max-model-len", help="vLLM context length (default: max new tokens + 2048).")
    ] = None,
    scoring_workers: Annotated[
        int,
        typer.Option(
            "--scoring-workers", help="Scoring processes (0: one per core, or in-process when this CPU generates)."
        ),
    ] = 0,
    port: Annotated[int, typer.Option("--port", help="Port for the vLLM server openrs starts.")] = 8011,
    truncated: Annotated[
        Truncated,
        typer.Option(
            "--truncated",
            help="An answer cut at the length limit: require-boxed (wrong unless boxed before the cut) "
            "or lighteval (scored like any answer).",
        ),
    ] = Truncated.require_boxed,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            help="transformers backend: answers generated together, the unit a resumed run regenerates "
            "(default: 64 continuous / 16 padded on a GPU, 16 / 4 on CPU).",
        ),
    ] = None,
    batching: Annotated[
        Batching,
        typer.Option(
            "--batching",
            help="transformers backend: one (a seed per answer), padded, or continuous (transformers' continuous "
            "batching); auto: continuous on a GPU, the faster measured on CPU.",
        ),
    ] = Batching.auto,
    cb_max_batch_tokens: Annotated[
        int, typer.Option("--cb-max-batch-tokens", help="Continuous batching: tokens per forward pass.")
    ] = 2048,
    cb_memory: Annotated[
        float, typer.Option("--cb-memory", help="Continuous batching: share of free GPU memory for the KV cache.")
    ] = 0.9,
    rescore: Annotated[
        Path | None, typer.Option("--rescore", help="Old spelling of 'openrs rescore DIR'.", metavar="DIR")
    ] = None,
    scorer: Annotated[
        Scorer | None, typer.Option("--scorer", help="With --rescore: old spelling of 'openrs rescore --scorer'.")
    ] = None,
    slurm: Annotated[
        Path | None,
        typer.Option(
            "--slurm", help="Write an sbatch array job (one task per checkpoint) instead of running.", metavar="FILE"
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate a model (or a training run's checkpoints) on the paper's maths benchmarks."""
    if rescore is not None or scorer is not None:
        _old_rescore(ctx, rescore, scorer, dry_run, json_out)
        return
    if model is None:
        from openrs_cli.errors import BadInputError

        raise BadInputError("missing option --model", "give a Hub id or a local model folder")
    from openrs_cli.eval.plan import EvalOptions, plan_eval

    opts = EvalOptions(
        model=model,
        tasks=tasks,
        backend=backend.value,
        base_url=base_url,
        served_model_name=served_model_name,
        gpus=gpus,
        tensor_parallel=tensor_parallel,
        protocol=protocol.value,
        samples=samples,
        limit=limit,
        seed=seed,
        sampling=parse_sampling(temperature, top_p, max_new_tokens, sampling or []),
        data_dir=data_dir,
        output_dir=output_dir,
        checkpoints=checkpoints,
        revision=revision,
        concurrency=concurrency,
        scoring_workers=scoring_workers,
        port=port,
        request_timeout=request_timeout,
        retries=retries,
        max_num_seqs=max_num_seqs,
        max_model_len=max_model_len,
        system_prompt=system_prompt,
        prompt_template=prompt_template,
        truncated=truncated.value,
        batch_size=batch_size,
        batching=batching.value,
        cb_max_batch_tokens=cb_max_batch_tokens,
        cb_memory=cb_memory,
        dtype=dtype.value,
        engine=engine.value,
        prompt_tokens=prompt_tokens.value,
        planning_only=dry_run or slurm is not None,
    )
    plan = plan_eval(opts)
    if slurm is not None:
        from openrs_cli.eval.slurm import write_array
        from openrs_cli.locations import locate

        model_path = model if locate(model).kind == "hub" else str(Path(model).expanduser().resolve())
        shared = shared_options(ctx, {"model", "output_dir", "checkpoints", "slurm"})
        script = write_array(slurm, plan, model_path, shared, sweep=checkpoints is not None)
        output.emit(
            {
                "script": str(script),
                "tasks": len(plan.models),
                "models": [{"model": m.adapter or m.path, "output_dir": str(m.out_dir)} for m in plan.models],
                "gpus_per_task": len(plan.gpu_ids),
            },
            json_out,
            f"wrote {script}: an array of {len(plan.models)} task(s), one per model; submit it with: sbatch {script}",
        )
        return
    if dry_run:
        output.emit(plan.to_dict(), json_out, lambda: _plan_text(plan))
        return
    from openrs_cli.errors import on_interrupt
    from openrs_cli.eval.runner import run

    folders = ", ".join(str(m.out_dir) for m in plan.models[:2]) + (" ..." if len(plan.models) > 2 else "")
    on_interrupt(f"every answer so far is cached in {folders}: run the same command again to resume")
    summaries = run(plan, output.say, output.progress)
    output.emit(summaries if len(summaries) > 1 else summaries[0], json_out, lambda: _results_text(summaries))


def _results_text(summaries: list[dict]) -> str:
    """One line per model and task: the score with its interval, or why there is none."""
    lines = []
    for summary in summaries:
        for task, entry in summary["tasks"].items():
            if not entry.get("complete"):
                lines.append(f"{summary['name']} {task}: incomplete")
                continue
            low, high = entry["ci95_low"] * 100, entry["ci95_high"] * 100
            lines.append(
                f"{summary['name']} {task}: {entry['avg_at_k'] * 100:.1f}% (95% CI {low:.1f}-{high:.1f}, "
                f"{entry['n_problems']} problems x {entry['k']} samples)"
            )
        if summary.get("average") is not None:
            lines.append(f"{summary['name']} average of the paper's five: {summary['average'] * 100:.1f}%")
    return "\n".join(lines)


def parse_sampling(temperature: float, top_p: float, max_new_tokens: int, items: list[str]):
    """The named flags plus `--sampling NAME=VALUE` items, as one `Sampling` (ranges checked by the plan)."""
    from dataclasses import replace

    from openrs_cli.errors import BadInputError
    from openrs_cli.eval.backends.base import Sampling

    values: dict[str, float | int] = {"temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or name not in _FIELDS:
            raise BadInputError(
                f"--sampling expects NAME=VALUE, got '{item}'", f"use one of {', '.join(_FIELDS)}, e.g. top_k=20"
            )
        kind = int if _FIELDS[name].type in ("int", int) else float
        try:
            values[name] = kind(raw)
        except ValueError:
            word = "a whole number" if kind is int else "a number"
            raise BadInputError(f"--sampling {name}: '{raw}' is not {word}", f"give {word}, e.g. {name}=1") from None
    return replace(Sampling(), **values)


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave option `name` (Click's ParameterSource, read by name: no Click import at --help)."""
    return getattr(ctx.get_parameter_source(name), "name", "") != "DEFAULT"


def shared_options(ctx: typer.Context, skip: set[str]) -> list[str]:
    """The options this command was given (not left at their defaults), as command-line words, less `skip`."""
    words: list[str] = []
    for param in ctx.command.params:
        name = param.name or ""
        if name in skip or not getattr(param, "opts", None):
            continue
        if not given(ctx, name):
            continue
        value = ctx.params.get(name)
        flag = param.opts[0]
        if getattr(param, "is_flag", False):
            secondary = getattr(param, "secondary_opts", None) or []
            if value:
                words.append(flag)
            elif secondary:
                words.append(secondary[0])
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            text = str(item.resolve()) if isinstance(item, Path) else str(getattr(item, "value", item))
            words += [flag, text]  # paths absolute: a job starts wherever sbatch was run
    return words


def _old_rescore(ctx: typer.Context, folder: Path | None, scorer, dry_run: bool, json_out: bool) -> None:
    """`eval --rescore DIR [--scorer S]`, kept one release: only those options mean anything with it."""
    from openrs_cli.cli.rescore import run_rescore
    from openrs_cli.errors import BadInputError

    if folder is None:
        raise BadInputError("--scorer goes with rescoring saved answers", "run 'openrs rescore DIR --scorer NAME'")
    kept = {"rescore", "scorer", "dry_run", "json_out"}
    extra = [f"--{name.replace('_', '-')}" for name in ctx.params if name not in kept and given(ctx, name)]
    if extra:
        raise BadInputError(
            f"--rescore generates nothing, so {', '.join(extra)} cannot apply", "run 'openrs rescore DIR [--scorer S]'"
        )
    output.moved("eval --rescore DIR", "openrs rescore DIR")
    run_rescore(folder, (scorer or Scorer.lighteval).value, dry_run, json_out)


def _plan_text(plan) -> str:
    data = plan.to_dict()
    lines = [f"backend:  {data['backend']} ({data['gpus']} GPU(s), {data['in_flight']} request(s) in flight)"]
    if data["server_command"]:
        lines.append(f"server:   {' '.join(data['server_command'])}")
    lines += [f"model:    {model['path']} -> {model['output_dir']}" for model in data["models"]]
    for task in data["tasks"]:
        count = task["problems"] if task["problems"] is not None else "all"
        lines.append(f"task:     {task['name']:14s} problems: {count}  samples: {task['samples']}")
    lines.append("sampling: " + ", ".join(f"{k} {v}" for k, v in data["sampling"].items()))
    lines.append(f"prompt:   {data['prompt']}, tokens: {data['prompt_tokens']}, dtype: {data['dtype']}")
    if data["batching"]:
        lines.append(f"batching: {data['batching']}, {data['batch_size']} answer(s) per chunk")
    lines += [f"note:     {note}" for note in data["notes"]]
    return "\n".join(lines)
