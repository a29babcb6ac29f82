"""Reading what an eval left per answer: openrs details (jsonl, one row per sample) and lighteval details
(parquet, one row per problem). Used by `openrs compare` (through report) and `openrs eval --rescore`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from openrs_cli.errors import BadInputError

ALIASES = {
    "math500": "math_500",
    "math": "math_500",
    "aime_2024": "aime24",
    "aime2024": "aime24",
    "amc_23": "amc23",
    "amc2023": "amc23",
    "minerva_math": "minerva",
    "olympiad_bench": "olympiadbench",
    "aime_2025": "aime25",
}


def task_name(key: str) -> str:
    """'custom|aime24|0' -> 'aime24'; strips suites, few-shot counts and 'openrs_' prefixes.

    >>> task_name("custom|math_500|0"), task_name("lighteval|openrs_aime24|0"), task_name("olympiad_bench")
    ('math_500', 'aime24', 'olympiadbench')
    """
    parts = [p for p in key.split("|") if p and not p.isdigit()]
    name = parts[1] if len(parts) > 1 else parts[0]
    name = name.split(":")[0].lower().removeprefix("openrs_").removeprefix("openrs-")
    return ALIASES.get(name, name)


def problem_key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def details_rows(path: Path) -> list[dict]:
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = type(exc).__name__
        raise BadInputError(f"cannot read details file {path}: {reason}", "is it an eval's details?") from exc


def details_task(path: Path) -> str:
    """`details_aime24_<stamp>.jsonl` (openrs) or `details_custom|aime24|0_<stamp>.parquet` (lighteval)."""
    stem = path.stem.removeprefix("details_")
    name = stem.rsplit("_", 1)[0] if "|" not in stem else stem.split("|")[1]
    return task_name(name)


def read_details(path: Path) -> dict[str, list[float]]:
    """Problem key -> sample scores, from an openrs details jsonl or a lighteval details parquet."""
    problems: dict[str, list[float]] = {}
    for i, row in enumerate(details_rows(path)):
        if not isinstance(row, dict):
            raise BadInputError(f"{path} row {i} is not an object", "is it an eval's details file?")
        if "correct" in row:  # openrs: one row per sample
            text = row.get("question") or row.get("prompt") or str(row.get("index", i))
            problems.setdefault(problem_key(str(text)), []).append(float(row["correct"]))
        elif isinstance(row.get("doc"), dict) and isinstance(row.get("metric"), dict):  # lighteval: one row per doc
            metric = row["metric"]
            value = next((v for k, v in metric.items() if "extractive_match" in k or "pass@" in k), None)
            if value is None:
                raise BadInputError(f"{path} row {i} has no extractive_match metric", "rescore it first")
            texts = (row.get("model_response") or {}).get("text") or [None]
            problems.setdefault(problem_key(str(row["doc"].get("query", i))), []).extend([float(value)] * len(texts))
        else:
            raise BadInputError(f"{path} row {i} is neither an openrs nor a lighteval detail", "is it a details file?")
    if not problems:
        raise BadInputError(f"{path} holds no answers", "give an eval folder with per-sample details")
    return problems


def newest_by_task(files: list[Path]) -> dict[str, Path]:
    newest: dict[str, Path] = {}
    for path in sorted(files, key=lambda p: p.name):
        newest[details_task(path)] = path  # names end in a timestamp: the last sorted is the newest
    return newest
