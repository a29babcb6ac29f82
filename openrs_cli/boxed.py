r"""The one pattern for a complete ``\boxed{...}`` answer (one level of nested braces), shared by the
format reward and eval's truncation rule."""

from __future__ import annotations

import re

BOXED = re.compile(r"\\boxed\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def has_boxed(text: str) -> bool:
    r"""True when `text` holds a complete \boxed{} answer.

    >>> has_boxed(r"so \boxed{\frac{1}{2}}"), has_boxed(r"\boxed{12"), has_boxed("4")
    (True, False, False)
    """
    return BOXED.search(text) is not None
