"""The filters, each a pure function returning (kept, removed with reasons) so counts can be reported."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

ProblemRow = dict[str, Any]  # one training problem: problem, solution, answer, source, level, ...
_MULTIPART = [
    (re.compile(r"\(a\)"), re.compile(r"\(b\)")),
    (re.compile(r"\(i\)"), re.compile(r"\(ii\)")),
    (re.compile(r"(?m)^\s*a[.)]\s"), re.compile(r"(?m)^\s*b[.)]\s")),
    (re.compile(r"(?i)part\s*\(?1\)?"), re.compile(r"(?i)part\s*\(?2\)?")),
]


def normalised(text: str) -> str:
    """Lower case, letters and digits only, single spaces: what near-duplicates share.

    >>> normalised("What is  $2+2$?\\n")
    'what is 2 2'
    """
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def is_multipart(problem: str) -> bool:
    """Questions with sub-parts (a)/(b), (i)/(ii), Part 1/Part 2 have no single answer to verify.

    >>> is_multipart("(a) Find x. (b) Find y."), is_multipart("Find $f(a)$ when $a=2$.")
    (True, False)
    """
    return any(first.search(problem) and second.search(problem) for first, second in _MULTIPART)


def answer_parses(answer: str | None) -> bool:
    if not answer:
        return False
    from math_verify import parse

    try:
        return bool(parse(f"${answer}$", parsing_timeout=5)) or bool(parse(answer, parsing_timeout=5))
    except Exception:
        return False


def split(
    rows: list[ProblemRow], drop: Callable[[ProblemRow], str | None]
) -> tuple[list[ProblemRow], list[tuple[ProblemRow, str]]]:
    kept, removed = [], []
    for row in rows:
        reason = drop(row)
        if reason is None:
            kept.append(row)
        else:
            removed.append((row, reason))
    return kept, removed


def length_filter(max_chars: int, tokenizer=None, max_tokens: int | None = None) -> Callable[[ProblemRow], str | None]:
    def drop(row: ProblemRow) -> str | None:
        text = row["problem"]
        if not text.strip():
            return "empty problem"
        if len(text) > max_chars:
            return f"longer than {max_chars} characters"
        if tokenizer is not None and max_tokens and len(tokenizer(text)["input_ids"]) > max_tokens:
            return f"longer than {max_tokens} tokens"
        return None

    return drop


def dedup(
    rows: list[ProblemRow],
) -> tuple[list[ProblemRow], list[tuple[ProblemRow, str]], list[tuple[ProblemRow, str]]]:
    """(kept, exact duplicates, near duplicates); the first occurrence is kept."""
    seen_exact: set[str] = set()
    seen_near: dict[str, str] = {}
    kept, exact, near = [], [], []
    for row in rows:
        raw = row["problem"].strip()
        key = normalised(raw)
        if raw in seen_exact:
            exact.append((row, "exact duplicate"))
        elif key in seen_near:
            near.append((row, f"near duplicate of a {seen_near[key]} problem"))
        else:
            seen_exact.add(raw)
            seen_near[key] = row["source"]
            kept.append(row)
    return kept, exact, near
