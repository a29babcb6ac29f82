"""`openrs data filter`: each problem's pass rate under a model, and the paper's "minus what it solves".

Generation goes through the eval backends (vllm, endpoint, transformers) with the eval prompt, and the
same lighteval scoring. Answers are cached, so a killed filter run resumes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openrs_cli.errors import BadInputError
from openrs_cli.eval.stage import (
    AnswerCache,
    BackendSettings,
    Job,
    Sampling,
    choose_backend,
    generate_and_score,
    make_backend,
    request_key,
    sample_seed,
)

# A port apart from eval's (8011), so a filter and an eval can each start a vLLM server on one machine.
FILTER_PORT = 8012


@dataclass
class FilterOptions:
    dataset: Path
    model: str
    samples: int = 4
    backend: str = "auto"
    base_url: str | None = None
    gpu_ids: list[int] = field(default_factory=list)  # physical indices
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 4096
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
    import pyarrow.parquet as pq

    path = dataset / "train.parquet" if dataset.is_dir() else dataset
    if not path.is_file() or path.suffix != ".parquet":
        raise BadInputError(f"{dataset} is not an 'openrs data prepare' output", "give the folder with train.parquet")
    rows = pq.read_table(path).to_pylist()
    if not rows or "problem" not in rows[0] or "answer" not in rows[0]:
        raise BadInputError(f"{path} needs 'problem' and 'answer' columns")
    return rows


def run_filter(opts: FilterOptions, say: Callable[[str], None]) -> dict:
    if opts.samples < 1:
        raise BadInputError("--samples must be at least 1")
    rows = _read(opts.dataset)
    if opts.limit:
        rows = rows[: opts.limit]
    out = opts.output or (opts.dataset if opts.dataset.is_dir() else opts.dataset.parent)
    cache = AnswerCache(out / "filter_cache.jsonl")
    sampling = Sampling(opts.temperature, opts.top_p, opts.max_new_tokens)
    jobs = []
    for i, row in enumerate(rows):
        for s in range(opts.samples):
            key = request_key(model=opts.model, problem=row["problem"], sample=s, seed=opts.seed, **vars(sampling))
            seed = sample_seed(opts.seed, "filter", row["problem"], s)
            jobs.append(Job(key, "filter", i, s, row["problem"], (f"${row['answer']}$",), "latex", seed))
    cached = sum(cache.get(job.key) is not None for job in jobs)
    say(f"{len(rows)} problems x {opts.samples} samples: {cached} cached, {len(jobs) - cached} to generate")

    def start_backend():
        settings = BackendSettings(
            choose_backend(opts.backend, opts.base_url, len(opts.gpu_ids)),
            opts.gpu_ids,
            base_url=opts.base_url,
            port=FILTER_PORT,
        )
        return make_backend(settings, opts.model, sampling, out, seed=opts.seed)

    stage = generate_and_score(jobs, cache, start_backend, sampling, workers=1)
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
    _write(kept, opts.dataset, out)
    return {
        "problems": len(rows),
        "kept": len(kept),
        "removed": len(rows) - len(kept),
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
