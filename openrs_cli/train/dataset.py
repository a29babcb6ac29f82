"""Training data: find it (Hub id, local file or folder, built-in set) and turn rows into prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openrs_cli.errors import BadInputError
from openrs_cli.locations import data_files, locate
from openrs_cli.rowfiles import kind, read_rows


def resolve_source(name: str) -> tuple[str, Path | None]:
    """('builtin'|'file'|'folder'|'hub', local path or None). Raises when a local path is missing."""
    where = locate(name)
    if where.kind == "missing":
        raise BadInputError(
            f"dataset '{name}' was not found",
            "give a Hub id like knoveleng/open-rs, a local .jsonl/.parquet file or an 'openrs data prepare' folder",
        )
    return where.kind, where.path


def _local_rows(kind: str, path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """The rows the trainer will read from a local dataset (a folder: its train file), each checked to be an
    object with fields."""
    files = data_files(path) if kind == "folder" else [path]
    if not files:
        raise BadInputError(f"no .jsonl/.json/.parquet files in {path}", "point --dataset at the data files")
    file = next((f for f in files if "train" in f.name), files[0])
    return file, read_rows(file)


def _wrong_type(row: dict[str, Any], prompt_column: str, solution_column: str) -> str | None:
    if not isinstance(row.get(prompt_column), str):
        return f"its '{prompt_column}' is {kind(row.get(prompt_column))}, not text"
    gold = solution_column if row.get(solution_column) is not None else "answer"
    value = row.get(gold)
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
        return f"its '{gold}' is {kind(value)}, not text or a number"
    return None


def check_columns(name: str, prompt_column: str, solution_column: str) -> None:
    """For local data, check before training starts that every row has the needed columns, of the right type
    (the trainer would otherwise die on the first bad row with a traceback)."""
    source_kind, path = resolve_source(name)
    if path is None:
        return
    file, rows = _local_rows(source_kind, path)
    if not rows:
        raise BadInputError(f"dataset {file} is empty", "give a file with at least one problem")
    for number, row in enumerate(rows, 1):
        if prompt_column not in row:
            raise BadInputError(
                f"dataset {file} has no '{prompt_column}' column in row {number} (it has: {', '.join(row)})",
                "set dataset_prompt_column or rename the column",
            )
        if solution_column not in row and "answer" not in row:
            raise BadInputError(
                f"dataset {file} row {number} has neither '{solution_column}' nor 'answer'", "add a gold column"
            )
        problem = _wrong_type(row, prompt_column, solution_column)
        if problem:
            raise BadInputError(f"dataset {file} row {number}: {problem}", "fix the row or drop it")


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
