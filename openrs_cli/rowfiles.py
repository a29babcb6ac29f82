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


def _parquet(path: Path, hint: str = HINT) -> list:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise BadInputError(f"cannot read {path} as parquet ({type(exc).__name__})", hint) from exc


def _json(path: Path, text: str, hint: str = HINT) -> list:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadInputError(f"{path} is not valid JSON ({str(exc)[:80]})", hint) from exc
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        return data["data"]
    if not isinstance(data, list):
        raise BadInputError(f"{path} holds {kind(data)}, not a list of rows", hint)
    return data


def _jsonl(path: Path, text: str, hint: str = HINT) -> list:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except (ValueError, RecursionError) as exc:
                raise BadInputError(f"{path} line {number} is not valid JSON ({str(exc)[:60]})", hint) from exc
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


def read_rows(path: Path, hint: str = HINT) -> list[dict[str, Any]]:
    """Every row of a .jsonl, .json or .parquet file, each checked to be an object; one-line errors name the file
    and end with `hint`."""
    if path.suffix == ".parquet":
        rows = _parquet(path, hint)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadInputError(f"{path} is not UTF-8 text ({exc.reason})", hint) from exc
        except OSError as exc:
            raise BadInputError(f"cannot read {path}: {exc.strerror or type(exc).__name__}", hint) from exc
        rows = _json(path, text, hint) if path.suffix == ".json" else _jsonl(path, text, hint)
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise BadInputError(f"{path} row {number} is {kind(row)}, not an object with fields", hint)
    return rows
