"""`vllm serve` sized to the GPUs (data parallel over all of them), then used as an endpoint."""

from __future__ import annotations

from pathlib import Path

from openrs_cli.errors import RuntimeFailure
from openrs_cli.eval.backends.base import GenRequest, OnResult, Sampling
from openrs_cli.eval.backends.endpoint import EndpointBackend
from openrs_cli.processes import ProcessSpec, http_ready, start_process, stop, wait_ready

PROMPT_ROOM = 2048  # tokens kept for the prompt on top of max_new_tokens
MAX_NUM_SEQS = 256  # vLLM's own default, stated so the client can keep every engine full


# The server is openrs's own, on its own port: the name only has to match what the client asks for,
# so the dry run and the real run show the same command.
SERVED_NAME = "openrs-eval"


def data_parallel_size(gpus: int, tensor_parallel: int = 1) -> int:
    return max(1, gpus // max(1, tensor_parallel))


def in_flight(gpus: int, tensor_parallel: int = 1, max_num_seqs: int = MAX_NUM_SEQS) -> int:
    """Requests to keep in flight: every engine (data-parallel replica) batches max_num_seqs sequences.

    >>> in_flight(8), in_flight(8, tensor_parallel=2), in_flight(1, max_num_seqs=64)
    (2048, 1024, 64)
    """
    return data_parallel_size(gpus, tensor_parallel) * max_num_seqs


def server_command(
    model: str,
    gpus: int,
    sampling: Sampling,
    port: int,
    name: str,
    seed: int,
    revision: str | None = None,
    tensor_parallel: int = 1,
    max_num_seqs: int = MAX_NUM_SEQS,
    max_model_len: int | None = None,
) -> list[str]:
    data_parallel = data_parallel_size(gpus, tensor_parallel)
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
        str(max_model_len or sampling.max_new_tokens + PROMPT_ROOM),
        "--max-num-seqs",
        str(max_num_seqs),
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
        concurrency: int = MAX_NUM_SEQS,
        request_timeout_s: float = 3600.0,
        retries: int = 4,
    ) -> None:
        self.proc = start_process(ProcessSpec("vllm", argv, env or {}, "vllm-serve.log"), log_dir)
        self.log = log_dir / "vllm-serve.log"
        try:
            wait_ready([("vllm", self.proc, self.log)], http_ready(f"http://127.0.0.1:{port}/health"), ready_timeout_s)
        except BaseException:
            stop(self.proc)
            raise
        self.endpoint = EndpointBackend(
            f"http://127.0.0.1:{port}/v1",
            model=name,
            concurrency=concurrency,
            timeout_s=request_timeout_s,
            retries=retries,
        )

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

    def close(self) -> None:
        self.endpoint.close()
        stop(self.proc)
