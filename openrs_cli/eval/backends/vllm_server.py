"""vLLM's OpenAI server sized to the GPUs (data parallel over all of them), then used as an endpoint.

Started as `openrs_cli.vllm_serving` says (the module `vllm serve` runs; on vLLM's CPU build, its CPU settings).
The server is told `--generation-config vllm`, so a model folder's generation_config.json never changes
sampling, and openrs sends the prompt as token ids it chose (`BackendSettings.prompt_tokens`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from openrs_cli.errors import RuntimeFailure
from openrs_cli.eval.backends.base import BackendSettings, GenRequest, OnResult, Sampling
from openrs_cli.eval.backends.endpoint import EndpointBackend
from openrs_cli.processes import ProcessSpec, http_ready, start_process, stop, wait_ready
from openrs_cli.vllm_serving import CPU_ENV, SERVER_MODULE, cpu_flags

PROMPT_ROOM = 2048  # tokens kept for the prompt on top of max_new_tokens
# Compiling (torch.compile, CUDA graphs) costs a minute or more at start-up and pays on long jobs only. On vLLM's
# CPU build it never paid here (2 cores, SmolLM2, float32: 3 min to start, 45 tok/s vs 60 eager, same texts).
GPU_COMPILE_WORTH_TOKENS = 200_000


# The server is openrs's own, on its own port: the name only has to match what the client asks for,
# so the dry run and the real run show the same command.
SERVED_NAME = "openrs-eval"


def engine_mode(requested: str, cpu: bool, expected_tokens: int | None) -> tuple[str, str]:
    """eager or compiled, and why. GPUs: compiled (CUDA graphs, as the paper's vLLM 0.7 ran) unless the job is
    too short to repay the capture; vLLM's CPU build: eager.

    >>> [engine_mode("auto", False, n)[0] for n in (None, 10**7, 1000)], engine_mode("auto", True, 10**7)[0]
    (['compiled', 'compiled', 'eager'], 'eager')
    """
    if requested != "auto":
        return requested, f"{requested} (--engine {requested})"
    if cpu:
        return "eager", "eager: on vLLM's CPU build compiling costs minutes and did not speed decoding"
    if expected_tokens is not None and expected_tokens < GPU_COMPILE_WORTH_TOKENS:
        return "eager", f"eager: about {expected_tokens:,} tokens to generate do not repay CUDA-graph capture"
    return "compiled", "compiled: CUDA graphs, as the paper's vLLM 0.7 ran"


def server_command(
    model: str, settings: BackendSettings, sampling: Sampling, seed: int, revision: str | None
) -> list[str]:
    """The server the plan starts for `model` (shown by --dry-run as it will run)."""
    max_model_len = settings.max_model_len or sampling.max_new_tokens + PROMPT_ROOM
    argv = [sys.executable, "-m", SERVER_MODULE, "--model", model, "--served-model-name", SERVED_NAME]
    argv += ["--host", "127.0.0.1", "--port", str(settings.port), "--seed", str(seed), "--dtype", settings.dtype]
    argv += ["--max-model-len", str(max_model_len), "--max-num-seqs", str(settings.max_num_seqs)]
    argv += ["--generation-config", "vllm", "--enable-prefix-caching"]
    if settings.cpu:
        argv += cpu_flags(max_model_len)
    else:
        argv += ["--data-parallel-size", str(settings.replicas)]
        argv += ["--tensor-parallel-size", str(settings.tensor_parallel)]
    if settings.engine == "eager":
        argv.append("--enforce-eager")
    if revision:
        argv += ["--revision", revision]
    return argv


def server_env(settings: BackendSettings) -> dict[str, str]:
    return dict(CPU_ENV) if settings.cpu else settings.server_env


class VllmBackend:
    name = "vllm"

    def __init__(
        self,
        argv: list[str],
        settings: BackendSettings,
        model: str,
        log_dir: Path,
        ready_timeout_s: float = 1800,
    ) -> None:
        from openrs_cli.eval.backends.tokenizer import load_tokenizer

        self.proc = start_process(ProcessSpec("vllm", argv, server_env(settings), "vllm-serve.log"), log_dir)
        self.log = log_dir / "vllm-serve.log"
        try:  # the tokenizer loads while the server starts; a bad model stops both within seconds
            tokenizer = load_tokenizer(model, _revision(argv))
            url = f"http://127.0.0.1:{settings.port}"
            wait_ready([("vllm", self.proc, self.log)], http_ready(f"{url}/health"), ready_timeout_s)
        except BaseException:
            stop(self.proc)
            raise
        self.endpoint = EndpointBackend.for_settings(f"{url}/v1", SERVED_NAME, settings, tokenizer)
        self.notes = self.endpoint.notes

    def generate(self, requests: list[GenRequest], sampling: Sampling, on_result: OnResult) -> None:
        try:
            self.endpoint.generate(requests, sampling, on_result)
        except RuntimeFailure:
            if self.proc.poll() is not None:
                raise RuntimeFailure(
                    f"the vLLM server died with code {self.proc.returncode} during the eval",
                    f"see {self.log}; answers so far are cached: run the same command again to resume",
                ) from None
            raise

    def kill_server(self) -> None:
        """SIGKILL the whole server (API server, engine core, workers): the fault hook's `server` action."""
        import os
        import signal

        os.killpg(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        self.endpoint.close()
        stop(self.proc)


def _revision(argv: list[str]) -> str | None:
    return argv[argv.index("--revision") + 1] if "--revision" in argv else None
