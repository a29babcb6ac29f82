"""`vllm serve` sized to the GPUs (data parallel over all of them), then used as an endpoint."""

from __future__ import annotations

import uuid
from pathlib import Path

from openrs_cli.errors import RuntimeFailure
from openrs_cli.eval.backends.base import GenRequest, OnResult, Sampling
from openrs_cli.eval.backends.endpoint import EndpointBackend
from openrs_cli.train.layout import ProcessSpec
from openrs_cli.train.supervisor import http_ready, start_process, stop, wait_ready

PROMPT_ROOM = 2048  # tokens kept for the prompt on top of max_new_tokens


def served_name(model: str) -> str:
    return f"openrs-eval-{Path(model).name or 'model'}-{uuid.uuid4().hex[:8]}"


def server_command(
    model: str,
    gpus: int,
    sampling: Sampling,
    port: int,
    name: str,
    seed: int,
    revision: str | None = None,
    tensor_parallel: int = 1,
) -> list[str]:
    data_parallel = max(1, gpus // max(1, tensor_parallel))
    argv = [
        "vllm",
        "serve",
        model,
        "--served-model-name",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-parallel-size",
        str(data_parallel),
        "--tensor-parallel-size",
        str(tensor_parallel),
        "--max-model-len",
        str(sampling.max_new_tokens + PROMPT_ROOM),
        "--seed",
        str(seed),
        "--dtype",
        "auto",
        "--enable-prefix-caching",
    ]
    if revision:
        argv += ["--revision", revision]
    return argv


class VllmBackend:
    name = "vllm"

    def __init__(
        self,
        argv: list[str],
        port: int,
        name: str,
        log_dir: Path,
        ready_timeout_s: float = 1800,
        env: dict[str, str] | None = None,
    ) -> None:
        self.proc = start_process(ProcessSpec("vllm", argv, env or {}, "vllm-serve.log"), log_dir)
        self.log = log_dir / "vllm-serve.log"
        try:
            wait_ready([("vllm", self.proc, self.log)], http_ready(f"http://127.0.0.1:{port}/health"), ready_timeout_s)
        except BaseException:
            stop(self.proc)
            raise
        self.endpoint = EndpointBackend(f"http://127.0.0.1:{port}/v1", model=name, concurrency=256)

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        try:
            self.endpoint.generate(requests, sampling, on_result)
        except RuntimeFailure:
            if self.proc.poll() is not None:
                raise RuntimeFailure(
                    f"vllm serve died with code {self.proc.returncode} during the eval",
                    f"see {self.log}; answers so far are cached: run the same command again to resume",
                ) from None
            raise

    @property
    def failed(self) -> int:
        return self.endpoint.failed

    def close(self) -> None:
        self.endpoint.close()
        stop(self.proc)
