"""Training data: find it (Hub id, local file or folder, built-in set) and turn rows into prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openrs_cli.errors import BadInputError
from openrs_cli.locations import data_files, locate


def resolve_source(name: str) -> tuple[str, Path | None]:
    """('builtin'|'file'|'folder'|'hub', local path or None). Raises when a local path is missing."""
    where = locate(name)
    if where.kind == "missing":
        raise BadInputError(
            f"dataset '{name}' was not found",
            "give a Hub id like knoveleng/open-rs, a local .jsonl/.parquet file or an 'openrs data prepare' folder",
        )
    return where.kind, where.path


def _first_row(kind: str, path: Path) -> dict[str, Any] | None:
    files = data_files(path) if kind == "folder" else [path]
    if not files:
        raise BadInputError(f"no .jsonl/.json/.parquet files in {path}", "point --dataset at the data files")
    first = next((f for f in files if "train" in f.name), files[0])
    if first.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(first).slice(0, 1).to_pylist()
        return table[0] if table else None
    with open(first, encoding="utf-8") as fh:
        if first.suffix == ".json":
            data = json.load(fh)
            return data[0] if isinstance(data, list) and data else None
        for line in fh:
            if line.strip():
                return json.loads(line)
    return None


def check_columns(name: str, prompt_column: str, solution_column: str) -> None:
    """For local data, check before training starts that the needed columns exist."""
    kind, path = resolve_source(name)
    if path is None:
        return
    try:
        row = _first_row(kind, path)
    except (OSError, ValueError) as exc:
        raise BadInputError(f"cannot read dataset {path}: {exc}", "check the file format") from exc
    if not row:
        raise BadInputError(f"dataset {path} is empty", "give a file with at least one problem")
    if prompt_column not in row:
        raise BadInputError(
            f"dataset {path} has no '{prompt_column}' column (it has: {', '.join(row)})",
            "set dataset_prompt_column or rename the column",
        )
    if solution_column not in row and "answer" not in row:
        raise BadInputError(f"dataset {path} has neither '{solution_column}' nor 'answer'", "add a gold column")


def load_rows(name: str, split: str = "train", config: str | None = None):
    """A `datasets.Dataset` for the split, from any supported source."""
    from datasets import load_dataset

    kind, path = resolve_source(name)
    if kind in ("builtin", "file"):
        builder = "parquet" if path.suffix == ".parquet" else "json"
        return load_dataset(builder, data_files=str(path), split="train")
    if kind == "folder":
        return load_dataset(str(path), split=split)
    return load_dataset(name, config, split=split)


def gold_of(row: dict[str, Any], solution_column: str) -> str:
    if row.get(solution_column):
        return str(row[solution_column])
    return f"\\boxed{{{row['answer']}}}"


def to_prompt(row: dict[str, Any], system_prompt: str | None, prompt_column: str, solution_column: str):
    messages = [{"role": "user", "content": row[prompt_column]}]
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt})
    return {"prompt": messages, "solution": gold_of(row, solution_column)}
