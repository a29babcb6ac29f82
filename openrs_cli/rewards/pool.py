"""Score answers across CPU cores with results identical to serial scoring.

Each answer is checked in a worker process's main thread, so math-verify's SIGALRM timeouts hold;
a worker that still overruns `hard_timeout_s` is abandoned and that answer scores as wrong. Called
off the main thread (where math-verify 0.5 cannot install its alarm and every parse fails), even one
answer goes to a worker, so a reward gives the same value from any thread.
"""

from __future__ import annotations

import threading

from openrs_cli.parallel import BoundedPool
from openrs_cli.rewards.verify import FIXED, CheckRule, check_answer

_POOL: BoundedPool | None = None


def _pool(workers: int) -> BoundedPool:
    global _POOL
    if _POOL is None or _POOL.workers != workers:
        shutdown()
        _POOL = BoundedPool(workers)
    return _POOL


def shutdown() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown()
        _POOL = None


def _check_chunk(pairs: list[tuple[str, str]], rule: CheckRule) -> list[bool | None]:
    return [check_answer(content, gold, rule) for content, gold in pairs]


def check_many(
    contents: list[str],
    golds: list[str],
    workers: int = 1,
    rule: CheckRule = FIXED,
    hard_timeout_s: float = 60.0,
) -> list[bool | None]:
    """`check_answer` over a batch; `workers > 1` spreads it over processes in order-preserving chunks."""
    pairs = list(zip(contents, golds, strict=True))
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread and (workers <= 1 or len(pairs) <= 1):
        return _check_chunk(pairs, rule)
    workers = max(1, workers)
    size = max(1, -(-len(pairs) // (workers * 2)))
    chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
    pool = _pool(workers)
    jobs = [pool.submit(_check_chunk, chunk, rule) for chunk in chunks]
    # a chunk that overruns its bound scores wrong, as a math-verify timeout does
    results = pool.results(jobs, hard_timeout_s, fallback=lambda job: [False] * len(job.args[0]))
    return [score for chunk in results for score in chunk]
