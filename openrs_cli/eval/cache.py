"""Every generated answer, appended to a JSON-lines file as it arrives, so a killed eval loses nothing.

A record is keyed (`answer_key`) by everything that changes the answer: the model's identity (its content
or resolved commit, not its path), the engine, every sampling field, the prompt, the task, problem and
sample, and the run's seed. A line
that cannot be read (cut short by a kill or a full disk, even inside a multi-byte character, or not
UTF-8 at all) is ignored on load, and that answer is generated again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from openrs_cli.checks import is_whole


def request_key(**fields: Any) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def answer_key(
    model: dict[str, Any],
    engine: dict[str, Any],
    sampling: Any,
    prompt: str,
    task: str,
    problem: str,
    index: int,
    sample: int,
    seed: int,
) -> str:
    """The cache key of one answer. `model` is a `provenance.model_identity` (or endpoint identity),
    `sampling` a `Sampling` (every field counts, so a new field can never be left out of the key)."""
    from dataclasses import asdict

    return request_key(
        model=model,
        engine=engine,
        sampling=asdict(sampling),
        prompt=prompt,
        task=task,
        problem=problem,
        index=index,
        sample=sample,
        seed=seed,
    )


def _has_text(record: dict[str, Any]) -> bool:
    """A record that is an answer: its text, and fields of the types openrs wrote (anything else, from a hand
    edit or another tool, is generated again rather than read wrong)."""
    tokens, reason = record.get("completion_tokens"), record.get("finish_reason")
    return (
        isinstance(record.get("text"), str)
        and (reason is None or (isinstance(reason, str) and reason != "error"))
        and (tokens is None or (is_whole(tokens) and tokens >= 0))
    )


class AnswerCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        if path.is_file():
            with open(path, "rb") as fh:
                for raw in fh:
                    try:
                        record = json.loads(raw.decode("utf-8"))
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        continue  # unreadable: generated again
                    # a record without text (a null a server sent, an older openrs's) is generated again
                    if isinstance(record, dict) and isinstance(record.get("key"), str) and _has_text(record):
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
                fh.flush()  # in the OS once written: a killed openrs loses nothing (no fsync per answer)
            self._records[record["key"]] = record

    def _ends_with_newline(self) -> bool:
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
