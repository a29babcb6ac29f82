"""A fault hook for tests: openrs kills itself (or its server) at a named point, not after a guessed sleep.

    OPENRS_FAULT=answers:3            SIGKILL openrs itself once 3 answers are cached in this run
    OPENRS_FAULT=answers:3:server     SIGKILL the generation server instead (openrs carries on and must cope)
    OPENRS_FAULT=answers:3:interrupt  raise KeyboardInterrupt there, as a Ctrl-C would
    OPENRS_FAULT=write:2              SIGKILL at the 2nd atomic file write, its temporary whole but not renamed
    OPENRS_FAULT=swap:2               SIGKILL in a folder swap: 1 staging filled, 2 the old set moved aside,
                                      3 the new set in place before the old is deleted

Unset (every real run), `reached` and `tick` cost one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

ENV = "OPENRS_FAULT"
_passes: dict[str, int] = {}


def reached(point: str, count: int, targets: dict[str, Callable[[], None]] | None = None) -> None:
    """Act when OPENRS_FAULT names this point and this count; the action is `self` (default), `interrupt` or
    a target."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, rest = spec.partition(":")
    wanted, _, action = rest.partition(":")
    if name != point or not wanted.isdigit() or count != int(wanted):
        return
    if (action or "self") == "self":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "interrupt":
        raise KeyboardInterrupt
    elif targets and action in targets:
        targets[action]()


def tick(point: str) -> None:
    """One more pass through `point` in this process; acts when OPENRS_FAULT names that pass."""
    if os.environ.get(ENV):
        _passes[point] = _passes.get(point, 0) + 1
        reached(point, _passes[point])
