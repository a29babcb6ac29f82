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
from openrs_cli.eval.backends.base import GenRequest, GenResult, Sampling
from openrs_cli.eval.backends.factory import choose_backend, make_backend
from openrs_cli.eval.cache import AnswerCache, request_key, sample_seed
from openrs_cli.eval.prompts import messages_for
from openrs_cli.eval.scoring import ParallelScorer


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
    keys: dict[str, int] = {}
    missing = []
    for i, row in enumerate(rows):
        for s in range(opts.samples):
            key = request_key(model=opts.model, problem=row["problem"], sample=s, seed=opts.seed, **vars(sampling))
            keys[key] = i
            if cache.get(key) is None:
                missing.append(
                    GenRequest(key, "filter", i, s, tuple(messages_for(row["problem"])), sample_seed(opts.seed, key))
                )
    say(f"{len(rows)} problems x {opts.samples} samples: {len(keys) - len(missing)} cached, {len(missing)} to generate")

    def on_result(request: GenRequest, result: GenResult) -> None:
        if result.finish_reason != "error":
            cache.put(
                {
                    "key": request.key,
                    "index": request.index,
                    "sample": request.sample,
                    "text": result.text,
                    "finish_reason": result.finish_reason,
                }
            )

    if missing:
        kind = choose_backend(opts.backend, opts.base_url, len(opts.gpu_ids))
        backend = make_backend(
            kind, opts.model, sampling, out, base_url=opts.base_url, gpu_ids=opts.gpu_ids, port=8012, seed=opts.seed
        )
        try:
            backend.generate(missing, sampling, on_result)
        finally:
            backend.close()
    scorer = ParallelScorer(1)
    order = [k for k in keys if cache.get(k) is not None]
    for key in order:
        scorer.submit(cache.get(key)["text"], [f"${rows[keys[key]]['answer']}$"], "latex")
    correct: dict[int, list[float]] = {}
    for key, score in zip(order, scorer.results(), strict=True):
        correct.setdefault(keys[key], []).append(score.correct)
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
