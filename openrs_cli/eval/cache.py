"""Every generated answer, appended to a JSON-lines file as it arrives, so a killed eval loses nothing.

A record is keyed by model, revision, task, problem, sample index and generation settings. A line
cut short by a kill is ignored on load (and rewritten when that answer is generated again).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any


def request_key(**fields: Any) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def sample_seed(base: int, key: str) -> int:
    """One seed per sample, from the run's seed and the sample's key: results do not depend on batching."""
    return (base * 1_000_003 + int(key[:8], 16)) % (2**31 - 1)


class AnswerCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        if path.is_file():
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line cut short by a kill
                    if isinstance(record, dict) and "key" in record:
                        self._records[record["key"]] = record

    def __len__(self) -> int:
        return len(self._records)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._records.get(key)

    def put(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                if fh.tell() > 0 and not self._ends_with_newline():
                    fh.write("\n")  # close a line a kill left open
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            self._records[record["key"]] = record

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
