"""`openrs data`: build training sets like the paper's (prepare) and filter them by difficulty (filter)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from openrs_cli.cli.options import JsonOpt, SeedOpt
from openrs_cli.cli.output import emit, progress, say
from openrs_cli.eval.backends.base import BACKENDS

Backend = StrEnum("Backend", {name: name for name in BACKENDS})

app = typer.Typer(
    help="Build and filter GRPO training sets (open-s1, open-rs, open-deepscaler).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("prepare")
def prepare(
    output: Annotated[
        Path, typer.Option("--output-dir", "--output", help="Folder for train/test parquet, recipe and card.")
    ],
    recipe: Annotated[str, typer.Option("--recipe", help="open-rs, open-s1, open-deepscaler or custom.")] = "custom",
    source: Annotated[
        list[str] | None, typer.Option("--source", help="NAME=PATH_OR_HUB_ID, repeatable.", metavar="NAME=PATH")
    ] = None,
    mix: Annotated[
        list[str] | None, typer.Option("--mix", help="SOURCE[:LEVEL]=COUNT|all (custom mixes).", metavar="SOURCE=N")
    ] = None,
    scale: Annotated[float, typer.Option("--scale", help="Multiply the recipe's counts (e.g. 0.01).")] = 1.0,
    seed: SeedOpt = 42,
    test_size: Annotated[int, typer.Option("--test-size", help="Rows held out as a test split.")] = 0,
    max_chars: Annotated[int, typer.Option("--max-chars", help="Longest problem kept, in characters.")] = 3000,
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", help="Tokenizer for a token limit.")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Longest problem kept, in tokens.")] = None,
    bench_dir: Annotated[
        Path | None, typer.Option("--bench-dir", help="Local benchmark files to decontaminate against.")
    ] = None,
    ngram: Annotated[int, typer.Option("--ngram", help="n-gram size for decontamination.")] = 8,
    min_overlap: Annotated[
        float, typer.Option("--min-overlap", help="Share of n-grams shared with one benchmark problem (0: any).")
    ] = 0.5,
    decontaminate: Annotated[
        bool, typer.Option("--decontaminate/--no-decontaminate", help="Drop benchmark overlaps.")
    ] = True,
    level: Annotated[
        list[str] | None,
        typer.Option("--level", help="SOURCE=easy|hard for a source without levels.", metavar="SOURCE=LEVEL"),
    ] = None,
    hard_difficulty: Annotated[float, typer.Option("--hard-difficulty", help="difficulty >= this is Hard.")] = 4.0,
    push_to_hub: Annotated[
        str | None, typer.Option("--push-to-hub", help="Upload the folder to this dataset repo.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Load sources, normalise, filter (each filter counted), decontaminate, mix, and write parquet + card."""
    from openrs_cli.dataprep.mix import parse_mix
    from openrs_cli.dataprep.prepare import PrepareOptions, run
    from openrs_cli.dataprep.sources import parse_sources
    from openrs_cli.errors import BadInputError

    levels = {}
    for item in level or []:
        name, _, value = item.partition("=")
        if value.lower() not in ("easy", "hard") or not name:
            raise BadInputError(f"--level expects SOURCE=easy|hard, got '{item}'", "e.g. --level s1=hard")
        levels[name] = value.capitalize()
    opts = PrepareOptions(
        recipe=recipe,
        sources=parse_sources(source or []),
        output=output,
        mix=parse_mix(mix or []),
        scale=scale,
        seed=seed,
        test_size=test_size,
        max_chars=max_chars,
        tokenizer=tokenizer,
        max_tokens=max_tokens,
        bench_dir=bench_dir,
        ngram=ngram,
        min_overlap=min_overlap,
        decontaminate=decontaminate,
        levels=levels,
        hard_difficulty=hard_difficulty,
    )
    from openrs_cli.push.upload import push_dataset, token_or_fail

    token = token_or_fail() if push_to_hub else None  # before the work: a missing token fails at once
    report = run(opts, say)
    if push_to_hub and token:
        push_dataset(output, push_to_hub, token)
    if json_out:
        from openrs_cli.dataprep.dataset_card import count_rows

        result = {
            "output": str(output),
            "rows_in": dict(report.rows_in),
            "removed": {f: dict(c) for f, c in report.removed.items()},
            "rows_out": {f"{s}/{lvl}": n for (s, lvl), n in report.rows_out.items()},
            "test_rows": report.test_rows,
            "contaminated": [{"source": s, "problem": p, "benchmarks": b} for s, p, b in report.matches],
            "table": count_rows(opts, report),
        }
        emit(result, json_out)
        return
    _summary(opts, report)


def _summary(opts, report) -> None:
    from rich.console import Console
    from rich.table import Table

    from openrs_cli.dataprep.dataset_card import count_rows

    table = Table(title=f"openrs data prepare: {opts.output}")
    for col in ["source", "rows in", *report.removed.keys(), "rows out"]:
        table.add_column(col, justify="left" if col == "source" else "right")
    for row in count_rows(opts, report):
        table.add_row(*row)
    Console().print(table)
    levels = ", ".join(f"{s}/{lvl}: {n}" for (s, lvl), n in sorted(report.rows_out.items()))
    typer.echo(f"train rows by source/level: {levels}; test rows: {report.test_rows}")


@app.command("filter")
def filter_command(
    dataset: Annotated[Path, typer.Option("--dataset", help="An 'openrs data prepare' output folder.")],
    model: Annotated[str, typer.Option("--model", help="Model whose pass rate is measured.")],
    samples: Annotated[int, typer.Option("--samples", help="Samples per problem.")] = 4,
    backend: Annotated[
        Backend, typer.Option("--backend", help="auto: endpoint with --base-url, vllm with GPUs, else transformers.")
    ] = Backend.auto,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server.")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Per answer.")] = 4096,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature.")] = 0.6,
    drop_solved: Annotated[bool, typer.Option("--drop-solved", help="Drop problems solved in every sample.")] = False,
    keep_range: Annotated[
        str | None, typer.Option("--keep-range", help="Keep pass rates in LOW-HIGH, e.g. 0.1-0.9.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output-dir", "--output", help="Write here instead of in place.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N problems.")] = None,
    seed: SeedOpt = 42,
    json_out: JsonOpt = False,
) -> None:
    """Score each problem with a model (eval backends and scoring) and write a pass_rate column."""
    from openrs_cli.dataprep.difficulty import FilterOptions, parse_range, run_filter
    from openrs_cli.eval.backends.base import Sampling

    opts = FilterOptions(
        dataset=dataset,
        model=model,
        samples=samples,
        backend=backend.value,
        base_url=base_url,
        sampling=Sampling(temperature=temperature, max_new_tokens=max_new_tokens),
        seed=seed,
        drop_solved=drop_solved,
        keep_range=parse_range(keep_range) if keep_range else None,
        output=output,
        limit=limit,
    )
    result = run_filter(opts, say, progress)
    emit(
        result,
        json_out,
        f"{result['problems']} problems, mean pass rate {result['mean_pass_rate']:.2f}, kept {result['kept']}, "
        f"removed {result['removed']}; written to {result['output']}/train.parquet",
    )


@app.command("bench")
def bench(
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Folder to write <task>.jsonl files into.")],
    tasks: Annotated[
        str,
        typer.Option(
            "--tasks", help="all (the paper's five, aime25, hmmt25) or names and groups (recent), comma-separated."
        ),
    ] = "all",
    revision: Annotated[str | None, typer.Option("--revision", help="Dataset revision on the Hub.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Download the benchmarks from the Hub once, in the layout `openrs eval --data-dir` reads."""
    from openrs_cli.eval.download import download, tasks_for

    done = download(tasks_for(tasks), output_dir, revision)
    rows = [{"task": d.task, "source": d.source, "file": str(d.path), "rows": d.rows} for d in done]
    lines = [f"{d.task:14s} {d.rows:5d} rows  {d.path}  (from {d.source})" for d in done]
    emit(rows, json_out, "\n".join([*lines, f"use it offline: openrs eval --data-dir {output_dir} ..."]))
