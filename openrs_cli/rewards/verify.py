"""Answer checking with math-verify, bounded by timeouts, as the Open-RS reference rewards do it.

The gold is parsed as LaTeX (first match); the completion as LaTeX with \\boxed{} tried first and
no anchor-free extraction. math-verify 0.5's parser installs a SIGALRM handler, which works only in a
main thread: elsewhere every parse fails, so `pool.check_many` sends off-main-thread calls to a worker.
"""

from __future__ import annotations

import logging
import threading

PARSE_TIMEOUT_S = 5
VERIFY_TIMEOUT_S = 5


def _timeouts() -> tuple[int | None, int | None]:
    if threading.current_thread() is threading.main_thread():
        return PARSE_TIMEOUT_S, VERIFY_TIMEOUT_S
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return None, None


def answer_of(completion) -> str:
    """The text of a completion, conversational (`[{"content": ...}]`) or plain."""
    if isinstance(completion, list):
        return completion[0]["content"] if completion else ""
    return str(completion)


def check_answer(content: str, gold: str, gold_first: bool = True) -> bool | None:
    """True/False when the gold parses; None when it does not (the caller decides what that scores).

    `gold_first=False` calls `verify(answer, gold)`, the argument order of the Open-RS reference code.

    >>> check_answer(r"<answer> \\boxed{\\frac{1}{3}} </answer>", r"$\\frac{1}{3}$")
    True
    >>> check_answer(r"<answer> \\boxed{2} </answer>", r"$\\frac{1}{3}$")
    False
    >>> check_answer("anything", "no maths here") is None
    True
    """
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import LatexExtractionConfig, parse, verify

    parse_timeout, verify_timeout = _timeouts()
    try:
        gold_parsed = parse(
            gold,
            extraction_mode="first_match",
            extraction_config=[LatexExtractionConfig()],
            parsing_timeout=parse_timeout,
        )
    except Exception:  # math-verify raises on pathological input; an unparseable gold
        gold_parsed = []
    if not gold_parsed:
        return None
    config = LatexExtractionConfig(
        normalization_config=NormalizationConfig(
            nits=False, malformed_operators=False, basic_latex=True, equations=True, boxed="all", units=True
        ),
        boxed_match_priority=0,
        try_extract_without_anchor=False,
    )
    try:
        answer = parse(
            content, extraction_config=[config], extraction_mode="first_match", parsing_timeout=parse_timeout
        )
        first, second = (gold_parsed, answer) if gold_first else (answer, gold_parsed)
        return bool(verify(first, second, timeout_seconds=verify_timeout))
    except Exception:  # a timeout or a sympy failure counts as wrong, like the reference
        return False
