"""Progress on long work: a rich bar on a terminal; piped or logged (Slurm, nohup), a plain line every
30 seconds or 10% instead (after the first 5 seconds), as TRL/tqdm users expect in log files.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")
EVERY_S = 30.0
EVERY_FRACTION = 0.1
QUIET_S = 5.0  # nothing is printed in the first seconds


class PlainProgress:
    """Counts done out of a total; prints `openrs: <what>: done/total (pct%), rate, ETA` now and then."""

    def __init__(
        self,
        what: str,
        total: int,
        done: int = 0,
        unit: str = "",
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what, self.total, self.done, self.unit = what, max(0, total), done, unit
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.clock = clock
        self.start = self.last_time = clock()
        self.last_done = done
        self.started_with = done

    def advance(self, n: int = 1, extra: str = "") -> None:
        self.done += n
        now = self.clock()
        if now - self.start < QUIET_S:  # work that ends in seconds needs no progress lines
            return
        step = max(1, int(self.total * EVERY_FRACTION))
        if self.done >= self.total or now - self.last_time >= EVERY_S or self.done - self.last_done >= step:
            self.last_time, self.last_done = now, self.done
            self.write(self.line(now, extra))

    def line(self, now: float, extra: str = "") -> str:
        """>>> p = PlainProgress("eval", 10, clock=lambda: 0.0); p.done = 5; p.line(10.0)
        'openrs: eval: 5/10 (50%), 0.5/s, about 10 s left'
        """
        pct = 100 * self.done / self.total if self.total else 100.0
        rate = (self.done - self.started_with) / max(1e-9, now - self.start)
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = "" if left is None or self.done >= self.total else f", about {duration(left)} left"
        more = f", {extra}" if extra else ""
        return f"openrs: {self.what}: {self.done}/{self.total} ({pct:.0f}%), {rate:.2g}/s{more}{eta}"


def duration(seconds: float) -> str:
    """>>> duration(42), duration(3700)
    ('42 s', '1 h 1 min')
    """
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on a terminal, or plain progress lines when output is not one."""
    if not sys.stderr.isatty():
        if total is None:
            yield from items
            return
        plain = PlainProgress(description, total)
        for item in items:
            yield item
            plain.advance()
        return
    from rich.console import Console
    from rich.progress import track as rich_track

    yield from rich_track(items, description=description, total=total, console=Console(stderr=True), transient=True)


class AnswerProgress(Protocol):
    """What a generate-and-score run reports to as answers arrive."""

    def advance(self, task: str, tokens: int) -> None: ...

    def close(self) -> None: ...


# (answers per task, answers per task already done) -> a progress display; the front chooses which
ProgressFactory = Callable[[dict[str, int], dict[str, int]], AnswerProgress]


class NullProgress:
    """Progress that shows nothing (nothing to generate, or a caller that keeps its own)."""

    def advance(self, task: str, tokens: int) -> None:
        pass

    def close(self) -> None:
        pass


class LineProgress:
    """Piped or logged: a plain line every 30 s or 10% (answers done, tokens/s, time left)."""

    def __init__(self, missing: int) -> None:
        self.tokens, self.start = 0, time.monotonic()
        self.plain = PlainProgress("answers generated", missing)

    def advance(self, task: str, tokens: int) -> None:
        self.tokens += tokens
        self.plain.advance(extra=f"{self.tokens / max(1e-6, time.monotonic() - self.start):.0f} tok/s")

    def close(self) -> None:
        pass


def line_progress(totals: dict[str, int], done: dict[str, int]) -> AnswerProgress:
    """The stages' default display: plain lines on stderr."""
    return LineProgress(sum(totals.values()) - sum(done.values()))
