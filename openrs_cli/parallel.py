"""Work spread over processes with a time bound per job, results in submission order.

Workers are spawned (never forked: the parent may hold CUDA state or threads) and, on Linux, die
with their parent (a watchdog thread in each notices when it is orphaned), so a killed openrs leaves no worker
behind. A job that overruns its bound gets the caller's fallback value; its worker is killed with the
pool and the jobs still pending are resubmitted to a fresh pool, so one pathological input cannot
stall a batch.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
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


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # the parent is gone (killed, even with SIGKILL): nothing to work for


def _die_with_parent(initializer: Callable[[], None] | None) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it (and stops the pool); a worker
    # that also raised KeyboardInterrupt would print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A watchdog rather than PR_SET_PDEATHSIG: that signal follows the *thread* that started the
    # worker, and pools are started from short-lived threads too (a reward called off the main thread).
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    if initializer is not None:
        initializer()


def _noop() -> None:
    pass


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
                initializer=_die_with_parent,
                initargs=(self.initializer,),
            )
        return self._executor

    def start(self) -> None:
        """Start every worker now (they warm up while the caller does other work): the executor spawns
        a worker per job submitted while none is idle, so one no-op job each starts them all."""
        if self._executor is None:
            pool = self._pool()
            for _ in range(self.workers):
                pool.submit(_noop)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Job:
        job = Job(fn, args)
        try:
            job.future = self._pool().submit(fn, *args)
        except BrokenProcessPool:  # a worker died since the last batch: start a fresh pool
            self.shutdown()
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
