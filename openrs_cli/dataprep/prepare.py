"""`openrs data prepare`: load, normalise, filter (each counted), decontaminate, mix, write."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from openrs_cli.atomic import check_replaceable, replace_folder, write_bytes_via, write_text
from openrs_cli.checks import at_least, within
from openrs_cli.dataprep import filters as F
from openrs_cli.dataprep.decontam import benchmark_index, contaminated
from openrs_cli.dataprep.mix import RECIPES, Part, assign_levels, take
from openrs_cli.dataprep.sources import load_source
from openrs_cli.errors import BadInputError
from openrs_cli.progress import track

COLUMNS = ["problem", "solution", "answer", "source", "level"]
FILTERS = [
    "field of the wrong type",
    "empty or too long",
    "gold not parseable",
    "multi-part",
    "exact duplicate",
    "near duplicate",
    "contaminated",
]


@dataclass
class PrepareOptions:
    recipe: str
    sources: dict[str, str]
    output: Path
    mix: list[Part] = field(default_factory=list)
    scale: float = 1.0
    seed: int = 42
    test_size: int = 0
    max_chars: int = 3000
    tokenizer: str | None = None
    max_tokens: int | None = None
    bench_dir: Path | None = None
    ngram: int = 8
    min_overlap: float = 0.5
    decontaminate: bool = True
    levels: dict[str, str] = field(default_factory=dict)
    easy_pass_rate: float = 0.5
    hard_difficulty: float = 4.0


@dataclass
class Report:
    rows_in: Counter = field(default_factory=Counter)
    removed: dict[str, Counter] = field(default_factory=lambda: {f: Counter() for f in FILTERS})
    matches: list[tuple[str, str, list[str]]] = field(default_factory=list)  # source, problem, benchmarks
    rows_out: Counter = field(default_factory=Counter)  # (source, level)
    test_rows: int = 0


def check_options(opts: PrepareOptions) -> None:
    """Every option's range, before anything is read."""
    within("--scale", opts.scale, 0, 1, low_open=True)
    at_least("--test-size", opts.test_size, 0)
    at_least("--max-chars", opts.max_chars, 1)
    at_least("--ngram", opts.ngram, 1)
    within("--min-overlap", opts.min_overlap, 0, 1)
    at_least("--seed", opts.seed, 0)
    at_least("--hard-difficulty", opts.hard_difficulty, 0)  # a finite number: nan would label every problem easy
    if opts.bench_dir is not None and not opts.bench_dir.is_dir():
        raise BadInputError(f"--bench-dir {opts.bench_dir} is not a folder", "point it at benchmark files")
    if opts.max_tokens is not None:
        at_least("--max-tokens", opts.max_tokens, 1)
        if opts.tokenizer is None:
            raise BadInputError("--max-tokens needs --tokenizer", "give the tokenizer that counts the tokens")


def run(opts: PrepareOptions, say: Callable[[str], None]) -> Report:
    if opts.recipe not in RECIPES:
        raise BadInputError(f"unknown data recipe '{opts.recipe}'", f"choose from {', '.join(RECIPES)}")
    if not opts.sources:
        raise BadInputError("no sources given", "add --source NAME=PATH_OR_HUB_ID (e.g. s1=..., deepscaler=...)")
    check_options(opts)
    check_replaceable(opts.output, OUTPUT_FILES, "--output")  # before the rows: no work lost to a bad folder
    tokenizer = None
    if opts.tokenizer:  # before the rows: a bad one fails at once
        from openrs_cli.eval.stage import load_tokenizer

        tokenizer = load_tokenizer(opts.tokenizer, option="--tokenizer")
    report = Report()
    rows: list[dict[str, Any]] = []
    for name, where in opts.sources.items():
        loaded = load_source(name, where)
        report.rows_in[name] += len(loaded)
        rows.extend(loaded)
    say(f"loaded {len(rows)} rows from {len(opts.sources)} source(s)")

    steps: list[tuple[str, Callable]] = [
        ("field of the wrong type", lambda r: r.get("wrong_type")),
        ("empty or too long", F.length_filter(opts.max_chars, tokenizer, opts.max_tokens)),
        ("gold not parseable", lambda r: None if F.answer_parses(r["answer"]) else f"answer {r['answer']!r}"),
        ("multi-part", lambda r: "sub-parts" if F.is_multipart(r["problem"]) else None),
    ]
    for label, drop in steps:
        rows, removed = F.split(list(track(rows, f"filter: {label}", total=len(rows))), drop)
        for row, _ in removed:
            report.removed[label][row["source"]] += 1
    if not rows:
        removed = "; ".join(f"{label}: {sum(by.values())}" for label, by in report.removed.items() if by)
        raise BadInputError(f"every row was removed by the filters ({removed})", "check the sources' fields")
    rows, exact, near = F.dedup(rows)
    for label, removed in (("exact duplicate", exact), ("near duplicate", near)):
        for row, _ in removed:
            report.removed[label][row["source"]] += 1
    if opts.decontaminate:
        index = benchmark_index(opts.bench_dir, opts.ngram)
        kept = []
        for row in track(rows, "decontaminating", total=len(rows)):
            hits = contaminated(row, index, opts.min_overlap)
            if hits:
                report.removed["contaminated"][row["source"]] += 1
                report.matches.append((row["source"], row["problem"], hits))
            else:
                kept.append(row)
        rows = kept
        for source, problem, hits in report.matches:
            say(f"decontamination: removed a {source} problem matching {', '.join(hits)}: {problem[:70]!r}")

    assign_levels(rows, opts.levels, opts.easy_pass_rate, opts.hard_difficulty)
    parts = opts.mix or RECIPES[opts.recipe][1] or [Part(name, None, None) for name in opts.sources]
    mixed = take(rows, parts, opts.scale, opts.seed, set(opts.sources))
    random.Random(opts.seed).shuffle(mixed)
    if opts.test_size >= len(mixed):
        raise BadInputError(f"--test-size {opts.test_size} leaves no training rows ({len(mixed)} in the mix)")
    test, train = mixed[: opts.test_size], mixed[opts.test_size :]
    report.test_rows = len(test)
    for row in train:
        report.rows_out[(row["source"], row["level"] or "-")] += 1
    write_outputs(opts, train, test, report)
    return report


def _parquet(rows: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = COLUMNS + [c for c in ("pass_rate",) if any(r.get(c) is not None for r in rows)]
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    write_bytes_via(path, lambda tmp: pq.write_table(table, tmp))


# what a prepared dataset folder holds (`data filter` adds its cache): a rerun replaces exactly these
OUTPUT_FILES = {"train.parquet", "test.parquet", "openrs_data.yaml", "README.md", "filter_cache.jsonl"}


def write_outputs(opts: PrepareOptions, train: list, test: list, report: Report) -> None:
    """The whole set or nothing: written into a staging folder, then swapped in with one rename."""
    with replace_folder(opts.output, OUTPUT_FILES) as staging:
        _write_set(staging, opts, train, test, report)


def _write_set(out: Path, opts: PrepareOptions, train: list, test: list, report: Report) -> None:
    _parquet(train, out / "train.parquet")
    if test:
        _parquet(test, out / "test.parquet")
    resolved = {
        "recipe": opts.recipe,
        "description": RECIPES[opts.recipe][0],
        "sources": opts.sources,
        "mix": [vars(p) for p in (opts.mix or RECIPES[opts.recipe][1])],
        "scale": opts.scale,
        "seed": opts.seed,
        "test_size": opts.test_size,
        "max_chars": opts.max_chars,
        "tokenizer": opts.tokenizer,
        "max_tokens": opts.max_tokens,
        "decontaminate": opts.decontaminate,
        "ngram": opts.ngram,
        "min_overlap": opts.min_overlap,
        "bench_dir": str(opts.bench_dir) if opts.bench_dir else "Hub",
        "levels": opts.levels,
    }
    write_text(out / "openrs_data.yaml", yaml.safe_dump(resolved, sort_keys=False))
    from openrs_cli.dataprep.dataset_card import dataset_card

    write_text(out / "README.md", dataset_card(opts, report))
