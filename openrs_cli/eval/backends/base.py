"""The request and result types every backend shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 32768


@dataclass(frozen=True)
class GenRequest:
    key: str
    task: str
    index: int
    sample: int
    messages: tuple  # of {"role", "content"} dicts
    seed: int


@dataclass
class GenResult:
    text: str
    finish_reason: str  # "stop", "length", or "error"
    completion_tokens: int = 0
    error: str | None = None


OnResult = Callable[[GenRequest, GenResult], None]


class Backend(Protocol):
    name: str

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None: ...

    def close(self) -> None: ...
