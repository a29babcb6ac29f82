"""The request and result types every backend shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

BACKENDS = ("auto", "vllm", "endpoint", "transformers")


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 32768


@dataclass
class BackendSettings:
    """How answers are generated: the backend and what it needs to start."""

    kind: str  # vllm, endpoint or transformers
    gpu_ids: list[int]  # physical indices; a vLLM server gets exactly these
    base_url: str | None = None
    served_model_name: str | None = None
    concurrency: int = 64  # requests in flight (endpoint); the vllm backend keeps its engines full instead
    port: int = 8011
    tensor_parallel: int = 1
    scoring_workers: int = 0  # 0: one per core
    request_timeout_s: float = 3600.0  # one answer's wait before it is retried
    retries: int = 4  # per request, with backoff from 1 s
    max_num_seqs: int = 256  # sequences each vLLM engine batches (vLLM's default)
    max_model_len: int | None = None  # vLLM's context; None: max_new_tokens + room for the prompt
    batch_size: int = 1  # transformers backend: requests generated together (fixed chunks)

    @property
    def in_flight(self) -> int:
        """Requests the client keeps in flight."""
        if self.kind == "vllm":
            replicas = max(1, len(self.gpu_ids) // max(1, self.tensor_parallel))
            return replicas * self.max_num_seqs
        return self.concurrency if self.kind == "endpoint" else 1

    @property
    def server_env(self) -> dict[str, str]:
        return {"CUDA_VISIBLE_DEVICES": ",".join(map(str, self.gpu_ids))}


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
