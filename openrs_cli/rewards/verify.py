"""Answer checking with math-verify, bounded by timeouts, as the Open-RS reference rewards do it.

The gold is parsed as LaTeX (first match); the completion as LaTeX with \\boxed{} tried first and
no anchor-free extraction. math-verify 0.5's parser installs a SIGALRM handler, which works only in a
main thread: elsewhere every parse fails, so `pool.check_many` sends off-main-thread calls to a worker.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckRule:
    """How a completion is checked against its gold answer.

    `gold_first`: `verify(gold, answer)` (math-verify's documented order) or `verify(answer, gold)`, the
    reference's. `boxed`: latex2sympy2_extended's `NormalizationConfig.boxed`; the reference `len_reward` and
    `cosine_scaled_reward` pass `True`, which latex2sympy2_extended 1.0.6 treats as "no boxed extraction" (only
    "all" and "last" extract), while its `accuracy_reward` passes "all". `timeout_s`: math-verify's parse and
    verify timeouts (its default, 3 s, in the reference). `gold_expr`: the gold is parsed with math-verify's
    default extraction (LaTeX and plain expressions, so a bare "12" parses) instead of LaTeX only.
    `on_error`: what a timeout or sympy failure while verifying gives (False: wrong; None: skipped).
    """

    gold_first: bool
    boxed: str | bool
    timeout_s: int
    gold_expr: bool = False
    on_error: bool | None = False


REFERENCE_ACCURACY = CheckRule(gold_first=False, boxed="all", timeout_s=3)
REFERENCE_LENGTH = CheckRule(gold_first=False, boxed=True, timeout_s=3)  # len_reward, cosine_scaled_reward
FIXED = CheckRule(gold_first=True, boxed="all", timeout_s=5)
# shangshang-wang/Tina@c6274cd tina/post_train_hf/rewards.py accuracy_reward: the gold parsed with
# math-verify's default extraction, verify(gold, answer), a failed verify skipped (None)
TINA_ACCURACY = CheckRule(gold_first=True, boxed="all", timeout_s=3, gold_expr=True, on_error=None)


def _timeouts(rule: CheckRule) -> tuple[int | None, int | None]:
    if threading.current_thread() is threading.main_thread():
        return rule.timeout_s, rule.timeout_s
    for name in ("math_verify.parser", "math_verify.grader"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return None, None


def answer_of(completion) -> str:
    """The text of a completion, conversational (`[{"content": ...}]`) or plain."""
    if isinstance(completion, list):
        return completion[0]["content"] if completion else ""
    return str(completion)


def check_answer(content: str, gold: str, rule: CheckRule = FIXED) -> bool | None:
    """True/False when the gold parses; None when it does not (the caller decides what that scores).

    The rule says how (see `CheckRule`): the reference rewards each have theirs.

    >>> check_answer(r"<answer> \\boxed{\\frac{1}{3}} </answer>", r"$\\frac{1}{3}$")
    True
    >>> check_answer(r"<answer> \\boxed{2} </answer>", r"$\\frac{1}{3}$")
    False
    >>> check_answer("anything", "no maths here") is None
    True
    """
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    parse_timeout, verify_timeout = _timeouts(rule)
    gold_configs = [LatexExtractionConfig(), ExprExtractionConfig()] if rule.gold_expr else [LatexExtractionConfig()]
    try:
        gold_parsed = parse(
            gold, extraction_mode="first_match", extraction_config=gold_configs, parsing_timeout=parse_timeout
        )
    except Exception:  # math-verify raises on pathological input; an unparseable gold
        gold_parsed = []
    if not gold_parsed:
        return None
    config = LatexExtractionConfig(
        normalization_config=NormalizationConfig(
            nits=False, malformed_operators=False, basic_latex=True, equations=True, boxed=rule.boxed, units=True
        ),
        boxed_match_priority=0,
        try_extract_without_anchor=False,
    )
    try:
        answer = parse(
            content, extraction_config=[config], extraction_mode="first_match", parsing_timeout=parse_timeout
        )
        first, second = (gold_parsed, answer) if rule.gold_first else (answer, gold_parsed)
        return bool(verify(first, second, timeout_seconds=verify_timeout))
    except Exception:  # a timeout or a sympy failure: wrong in the open-rs reference, skipped in Tina's
        return rule.on_error
