"""`openrs data filter`: each problem's pass rate under a model, and the paper's "minus what it solves".

Generation goes through the eval backends (vllm, endpoint, transformers) with the eval prompt, and the
same lighteval scoring. Answers are cached under the model's identity (its content, not its path), so a
killed filter run resumes and a rebuilt model is asked again. A failed generation is never a pass rate:
the filter stops (exit 1) and the data stays as it was. `--limit N` scores the first N problems and keeps
the others, unscored, in the output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openrs_cli.atomic import ensure_writable
from openrs_cli.checks import at_least, within
from openrs_cli.errors import BadInputError, RuntimeFailure
from openrs_cli.eval.stage import (
    AnswerCache,
    BackendSettings,
    Job,
    Sampling,
    answer_key,
    choose_backend,
    generate_and_score,
    make_backend,
    resolve_prompt_tokens,
    sample_seed,
)
from openrs_cli.progress import ProgressFactory, line_progress
from openrs_cli.rowfiles import read_rows

# A port apart from eval's (8011), so a filter and an eval can each start a vLLM server on one machine.
FILTER_PORT = 8012


@dataclass
class FilterOptions:
    dataset: Path
    model: str
    samples: int = 4
    backend: str = "auto"
    base_url: str | None = None
    gpu_ids: list[int] | None = None  # physical indices; None: the GPUs found here
    sampling: Sampling = Sampling(max_new_tokens=4096)
    seed: int = 42
    drop_solved: bool = False
    keep_range: tuple[float, float] | None = None
    output: Path | None = None
    limit: int | None = None


def parse_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(x) for x in text.split("-", 1))
    except ValueError:
        raise BadInputError(f"--keep-range must look like 0.1-0.9, got '{text}'") from None
    if not 0 <= low <= high <= 1:
        raise BadInputError(f"--keep-range {text}: need 0 <= low <= high <= 1")
    return low, high


def _read(dataset: Path) -> list[dict]:
    path = dataset / "train.parquet" if dataset.is_dir() else dataset
    if not path.is_file() or path.suffix != ".parquet":
        raise BadInputError(f"{dataset} is not an 'openrs data prepare' output", "give the folder with train.parquet")
    rows = read_rows(path)
    if not rows or "problem" not in rows[0] or "answer" not in rows[0]:
        raise BadInputError(f"{path} needs 'problem' and 'answer' columns")
    return rows


def run_filter(opts: FilterOptions, say: Callable[[str], None], progress: ProgressFactory = line_progress) -> dict:
    from openrs_cli.eval.stage import MATH_QUERY_TEMPLATE, prompt_id
    from openrs_cli.provenance import endpoint_identity, model_identity

    within("--samples", opts.samples, 1, 1024)  # samples per problem: more only fills the disk
    at_least("--seed", opts.seed, 0)
    if opts.limit is not None:
        at_least("--limit", opts.limit, 1)
    sampling = opts.sampling.checked()
    all_rows = _read(opts.dataset)
    rows = all_rows[: opts.limit] if opts.limit else all_rows
    out = opts.output or (opts.dataset if opts.dataset.is_dir() else opts.dataset.parent)
    ensure_writable(out, "--output")  # before any answer is generated
    if opts.gpu_ids is None:
        from openrs_cli.hardware import detect_gpus

        opts.gpu_ids = [g.physical_index for g in detect_gpus()[0]]
    kind = choose_backend(opts.backend, opts.base_url, len(opts.gpu_ids))
    prompt_tokens = resolve_prompt_tokens("auto", kind)
    settings = BackendSettings(
        kind, opts.gpu_ids, base_url=opts.base_url, port=FILTER_PORT, prompt_tokens=prompt_tokens
    )
    endpoint = kind == "endpoint"
    identity = endpoint_identity(opts.base_url or "", opts.model) if endpoint else model_identity(opts.model)
    cache = AnswerCache(out / "filter_cache.jsonl")
    prompt = f"{prompt_id(MATH_QUERY_TEMPLATE, None)}|{settings.prompt_tokens}"
    engine = settings.engine_identity()
    jobs = []
    for i, row in enumerate(rows):
        for s in range(opts.samples):
            key = answer_key(identity, engine, sampling, prompt, "filter", row["problem"], i, s, opts.seed)
            seed = sample_seed(opts.seed, "filter", row["problem"], s)
            jobs.append(Job(key, "filter", i, s, row["problem"], (f"${row['answer']}$",), "latex", seed))
    cached = sum(cache.get(job.key) is not None for job in jobs)
    say(f"{len(rows)} problems x {opts.samples} samples: {cached} cached, {len(jobs) - cached} to generate")

    def start_backend():
        return make_backend(settings, opts.model, sampling, out, seed=opts.seed)

    stage = generate_and_score(jobs, cache, start_backend, sampling, workers=1, progress=progress)
    if stage.failures:
        reason = next(iter(stage.failures.values()))[:120]
        raise RuntimeFailure(
            f"{len(stage.failures)} of {len(jobs)} generations failed ({reason}); no pass rate was written",
            "run the same command again to retry them (answers so far are cached)",
        )
    correct: dict[int, list[float]] = {}
    for answer in stage.answers.values():
        correct.setdefault(answer.job.index, []).append(answer.score.correct)
    for i, row in enumerate(rows):
        scores = correct.get(i, [])
        row["pass_rate"] = sum(scores) / len(scores) if scores else None
    kept = rows
    if opts.drop_solved:
        kept = [r for r in kept if r["pass_rate"] is None or r["pass_rate"] < 1.0]
    if opts.keep_range:
        low, high = opts.keep_range
        kept = [r for r in kept if r["pass_rate"] is not None and low <= r["pass_rate"] <= high]
    unscored = all_rows[len(rows) :]  # past --limit: kept as they were, with no pass rate
    for row in unscored:
        row.setdefault("pass_rate", None)
    _write(kept + unscored, opts.dataset, out)
    return {
        "problems": len(rows),
        "kept": len(kept),
        "removed": len(rows) - len(kept),
        "not_scored": len(unscored),
        "output": str(out),
        "mean_pass_rate": sum(r["pass_rate"] or 0 for r in rows) / max(1, len(rows)),
    }


def _write(rows: list[dict], source: Path, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from openrs_cli.atomic import write_bytes_via

    columns = list(dict.fromkeys([*(rows[0].keys() if rows else ["problem", "answer"]), "pass_rate"]))
    table = pa.table({c: [r.get(c) for r in rows] for c in columns})
    write_bytes_via(out / "train.parquet", lambda tmp: pq.write_table(table, tmp))
    if source.is_dir() and source.resolve() != out.resolve():
        for name in ("test.parquet", "README.md", "openrs_data.yaml"):
            if (source / name).is_file():
                shutil.copy2(source / name, out / name)
