"""Range checks for option values, each a one-line error naming the option (exit 2), and the two questions
every file reader asks of a value read from JSON (where `true` is an int to Python, and NaN parses).

>>> at_least("--limit", 3, 1)
3
>>> within("--top-p", 0.95, 0, 1, low_open=True)
0.95
>>> is_number(True), is_number(0.5), is_number(float("nan")), is_number(float("nan"), finite=False)
(False, True, False, True)
>>> is_whole(3), is_whole(True), is_whole(3.0)
(True, False, False)
"""

from __future__ import annotations

import math

from openrs_cli.errors import BadInputError


def is_number(value: object, finite: bool = True) -> bool:
    """An int or a float, not a bool (and, with `finite`, not NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not finite or math.isfinite(value)


def is_whole(value: object) -> bool:
    """An int, not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _number(option: str, value: float) -> float:
    if not is_number(value):
        raise BadInputError(f"{option} must be a finite number, got {value!r}")
    return value


def at_least(option: str, value: float, low: float):
    """`value` when it is >= low, else a one-line error."""
    if _number(option, value) < low:
        raise BadInputError(f"{option} must be at least {low:g}, got {value:g}")
    return value


def within(option: str, value: float, low: float, high: float, low_open: bool = False):
    """`value` when it lies in [low, high] ((low, high] with low_open), else a one-line error."""
    v = _number(option, value)
    if v > high or v < low or (low_open and v == low):
        bracket = "(" if low_open else "["
        raise BadInputError(f"{option} must be in {bracket}{low:g}, {high:g}], got {value:g}")
    return value
