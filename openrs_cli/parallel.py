"""Work spread over processes with a time bound per job, results in submission order.

Workers are spawned (never forked: the parent may hold CUDA state or threads). A job that overruns
its bound gets the caller's fallback value; its worker is killed with the pool and the jobs still
pending are resubmitted to a fresh pool, so one pathological input cannot stall a batch.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any


@dataclass
class Job:
    fn: Callable[..., Any]
    args: tuple
    future: Future | None = None
    broken: int = 0


class BoundedPool:
    def __init__(self, workers: int, initializer: Callable[[], None] | None = None) -> None:
        self.workers = max(1, workers)
        self.initializer = initializer
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=self.initializer,
            )
        return self._executor

    def submit(self, fn: Callable[..., Any], *args: Any) -> Job:
        job = Job(fn, args)
        job.future = self._pool().submit(fn, *args)
        return job

    def results(self, jobs: list[Job], timeout_s: float, fallback: Callable[[Job], Any]) -> list[Any]:
        """Wait for every job; an overrunning job, or one that breaks two pools, yields `fallback(job)`."""
        out: list[Any] = [None] * len(jobs)
        done = [False] * len(jobs)
        i = 0
        while i < len(jobs):
            job = jobs[i]
            try:
                out[i] = job.future.result(timeout=timeout_s)
                done[i] = True
                i += 1
            except FuturesTimeout:
                out[i], done[i] = fallback(job), True
                self._restart(jobs, done)
                i += 1
            except BrokenProcessPool:  # a worker died (killed, out of memory): retry once elsewhere
                job.broken += 1
                if job.broken >= 2:
                    out[i], done[i] = fallback(job), True
                    i += 1
                self._restart(jobs, done)
        return out

    def _restart(self, jobs: list[Job], done: list[bool]) -> None:
        self.shutdown()
        for j, job in enumerate(jobs):
            finished_ok = (
                job.future is not None
                and job.future.done()
                and not job.future.cancelled()
                and job.future.exception() is None
            )
            if not done[j] and not finished_ok:
                job.future = self._pool().submit(job.fn, *job.args)

    def shutdown(self) -> None:
        if self._executor is not None:
            for process in list((getattr(self._executor, "_processes", None) or {}).values()):
                process.terminate()  # a worker stuck in sympy would otherwise outlive the pool
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
