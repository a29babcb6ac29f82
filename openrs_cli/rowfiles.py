"""Read rows from a local .jsonl, .json (a list, or {"data": [...]}) or .parquet file.

Whatever the file holds, the caller gets a list of objects (dicts) or a one-line BadInputError naming the file
and what is wrong in it: a file that is not what its suffix says, a JSON document that is not a list of rows, a
row that is a list, a number or a string.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openrs_cli.errors import BadInputError

SUFFIXES = (".jsonl", ".json", ".parquet")
HINT = "give JSON lines (one object per line), a JSON list of objects, or a parquet table"


def _parquet(path: Path) -> list:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise BadInputError(f"cannot read {path} as parquet ({type(exc).__name__})", HINT) from exc


def _json(path: Path, text: str) -> list:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInputError(f"{path} is not valid JSON ({str(exc)[:80]})", HINT) from exc
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data["data"]
    if not isinstance(data, list):
        raise BadInputError(f"{path} holds {kind(data)}, not a list of rows", HINT)
    return data


def _jsonl(path: Path, text: str) -> list:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except (ValueError, RecursionError) as exc:
                raise BadInputError(f"{path} line {number} is not valid JSON ({str(exc)[:60]})", HINT) from exc
    return rows


def kind(value: object) -> str:
    """What a JSON value is, in words: 'a list', 'a number', 'a string', 'null'.

    >>> kind([1]), kind(2.5), kind("x"), kind(None), kind(True)
    ('a list', 'a number', 'a string', 'null', 'true/false')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    names = {int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), f"a {type(value).__name__}")


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        rows = _parquet(path)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"{path} is not UTF-8 text ({exc.reason})", HINT) from exc
        rows = _json(path, text) if path.suffix == ".json" else _jsonl(path, text)
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise BadInputError(f"{path} row {number} is {kind(row)}, not an object with fields", HINT)
    return rows
