"""Read rows from a local .jsonl, .json (a list, or {"data": [...]}) or .parquet file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUFFIXES = (".jsonl", ".json", ".parquet")


def read_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        return data if isinstance(data, list) else list(data.get("data", []))
    return [json.loads(line) for line in text.splitlines() if line.strip()]
