"""A fault hook for tests: openrs kills itself (or its server) at a named point, not after a guessed sleep.

    OPENRS_FAULT=answers:3          SIGKILL openrs itself once 3 answers are cached in this run
    OPENRS_FAULT=answers:3:server   SIGKILL the generation server instead (openrs carries on and must cope)

Unset (every real run), `reached` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

ENV = "OPENRS_FAULT"


def reached(point: str, count: int, targets: dict[str, Callable[[], None]] | None = None) -> None:
    """Act when OPENRS_FAULT names this point and this count; the action is `self` (default) or a target."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, rest = spec.partition(":")
    wanted, _, action = rest.partition(":")
    if name != point or not wanted.isdigit() or count != int(wanted):
        return
    if (action or "self") == "self":
        os.kill(os.getpid(), signal.SIGKILL)
    elif targets and action in targets:
        targets[action]()
