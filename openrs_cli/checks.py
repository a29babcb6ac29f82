"""Range checks for option values, each a one-line error naming the option (exit 2).

>>> at_least("--limit", 3, 1)
3
>>> within("--top-p", 0.95, 0, 1, low_open=True)
0.95
"""

from __future__ import annotations

import math

from openrs_cli.errors import BadInputError


def _number(option: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
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
