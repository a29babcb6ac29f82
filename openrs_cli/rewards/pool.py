"""Score answers across CPU cores with results identical to serial scoring.

Each answer is checked in a worker process's main thread, so math-verify's SIGALRM timeouts hold;
a worker that still overruns `hard_timeout_s` is abandoned and that answer scores as wrong.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool

from openrs_cli.rewards.verify import check_answer

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def default_workers() -> int:
    return max(1, min(16, (os.cpu_count() or 1)))


def _pool(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or workers != _POOL_SIZE:
        shutdown()
        # spawn: never fork a process that may hold CUDA state or threads
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        _POOL_SIZE = workers
    return _POOL


def shutdown() -> None:
    global _POOL
    if _POOL is not None:
        for process in list((getattr(_POOL, "_processes", None) or {}).values()):
            process.terminate()  # a worker stuck in sympy would otherwise outlive the pool
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def _check_chunk(pairs: list[tuple[str, str]], gold_first: bool) -> list[bool | None]:
    return [check_answer(content, gold, gold_first) for content, gold in pairs]


def check_many(
    contents: list[str],
    golds: list[str],
    workers: int = 1,
    gold_first: bool = True,
    hard_timeout_s: float = 60.0,
) -> list[bool | None]:
    """`check_answer` over a batch; `workers > 1` spreads it over processes in order-preserving chunks."""
    pairs = list(zip(contents, golds, strict=True))
    if workers <= 1 or len(pairs) <= 1:
        return _check_chunk(pairs, gold_first)
    size = max(1, -(-len(pairs) // (workers * 2)))
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    results: list[list[bool | None] | None] = [None] * len(chunks)
    pending = list(range(len(chunks)))
    broken: dict[int, int] = {}
    while pending:
        futures = {i: _pool(workers).submit(_check_chunk, chunks[i], gold_first) for i in pending}
        pending = []
        for i, future in futures.items():
            try:
                results[i] = future.result(timeout=hard_timeout_s * len(chunks[i]))
            except FuturesTimeout:
                results[i] = [False] * len(chunks[i])  # the stuck chunk scores wrong
                shutdown()  # drop the stuck worker with its pool
                pending = [j for j in futures if j > i]  # resubmit the rest to a fresh pool
                break
            except BrokenProcessPool:  # a worker died; a chunk that kills two pools scores wrong
                shutdown()
                broken[i] = broken.get(i, 0) + 1
                if broken[i] >= 2:
                    results[i] = [False] * len(chunks[i])
                pending = [j for j in futures if j > i or (j == i and broken[i] < 2)]
                break
    return [score for chunk in results for score in (chunk or [])]
