"""The reward functions. Each takes TRL's arguments and returns one float (or None) per completion.

Reference behaviour (Open-RS, for reproduction) and corrected behaviour side by side:

| name | reference flaw kept | `_fixed` variant |
|---|---|---|
| accuracy | unparseable gold scores 1.0 | unparseable gold -> None (TRL skips it) |
| format | only checks "\\n</think>\\n" appears once | whole think/answer structure required |
| cosine | length in characters vs a token max_len, no clamp | length in tokens, clamped to max_len |
| length | unparseable gold counts as correct | unparseable gold -> None |

`accuracy_tina` is Tina's own accuracy reward (shangshang-wang/Tina@c6274cd): the gold parsed as LaTeX or a
plain expression, verify(gold, answer), unparseable gold and failed checks skipped (None).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from openrs_cli.boxed import has_boxed
from openrs_cli.rewards.pool import check_many
from openrs_cli.rewards.verify import (
    FIXED,
    REFERENCE_ACCURACY,
    REFERENCE_LENGTH,
    TINA_ACCURACY,
    CheckRule,
    answer_of,
)

Reward = Callable[..., list[float | None]]


def _correctness(completions, solution, workers: int, rule: CheckRule) -> list[bool | None]:
    return check_many([answer_of(c) for c in completions], list(solution), workers, rule)


class AccuracyReward:
    r"""1.0 when the answer equals the gold (math-verify), else 0.0.

    >>> accuracy = AccuracyReward()
    >>> accuracy([[{"content": r"<answer> \boxed{\frac{1}{2}} </answer>"}], [{"content": r"\boxed{3}"}]],
    ...          solution=[r"$\frac{1}{2}$", r"$\frac{1}{2}$"])
    [1.0, 0.0]
    >>> accuracy([r"\boxed{7}"], solution=["no maths"])  # unparseable gold: 1.0 in the reference
    [1.0]
    >>> AccuracyReward(fixed=True)([r"\boxed{7}"], solution=["no maths"])
    [None]
    >>> AccuracyReward(rule=TINA_ACCURACY)([r"\boxed{12}", r"\boxed{7}"], solution=["12", "no maths"])
    [1.0, None]
    """

    def __init__(self, fixed: bool = False, workers: int = 1, rule: CheckRule | None = None) -> None:
        self.workers = workers
        self.rule = rule or (FIXED if fixed else REFERENCE_ACCURACY)
        self.bad_gold = 1.0 if self.rule is REFERENCE_ACCURACY else None  # None: TRL skips the completion
        names = {REFERENCE_ACCURACY: "accuracy", FIXED: "accuracy_fixed", TINA_ACCURACY: "accuracy_tina"}
        self.__name__ = names.get(self.rule, "accuracy_custom")

    def __call__(self, completions, solution, **kwargs) -> list[float | None]:
        scores = _correctness(completions, solution, self.workers, self.rule)
        return [self.bad_gold if ok is None else float(ok) for ok in scores]


def format_reward(completions, **kwargs) -> list[float | None]:
    r"""Reference: 1.0 when "\n</think>\n" occurs exactly once (the prompt opens <think> itself).

    >>> format_reward(["<think>\nsteps\n</think>\n<answer>4</answer>", "no tags at all"])
    [1.0, 0.0]
    """
    return [1.0 if answer_of(c).count("\n</think>\n") == 1 else 0.0 for c in completions]


_STRUCTURE = re.compile(
    r"^\s*(?:<think>)?(?:(?!</?think>).)*</think>\s*<answer>(?:(?!</?answer>).)*</answer>\s*$", re.DOTALL
)


def format_fixed_reward(completions, **kwargs) -> list[float | None]:
    r"""Corrected: one reasoning block closed by </think>, then one <answer>...</answer>, nothing after.

    >>> format_fixed_reward(["<think> a </think> <answer> 4 </answer>", "\n</think>\n trailing junk"])
    [1.0, 0.0]
    """
    return [1.0 if _STRUCTURE.match(answer_of(c)) else 0.0 for c in completions]


format_fixed_reward.__name__ = "format_fixed"
format_reward.__name__ = "format"


def tag_count_reward(completions, **kwargs) -> list[float | None]:
    r"""0.5 for exactly one "<think>\n" and 0.5 for exactly one "\n</think>\n" (reference).

    >>> tag_count_reward(["<think>\nx\n</think>\n", "<think>\nx"])
    [1.0, 0.5]
    """

    def score(text: str) -> float:
        return 0.5 * (text.count("<think>\n") == 1) + 0.5 * (text.count("\n</think>\n") == 1)

    return [score(answer_of(c)) for c in completions]


tag_count_reward.__name__ = "tag_count"


class CosineReward:
    r"""Length-scaled correctness: short right answers earn most, long wrong ones lose least.

    Reference: length is characters against a token-sized `max_len`, with no clamp (so it
    oscillates past max_len) and an unparseable gold scores 1.0. Fixed: length is the completion's
    token count (TRL's `completion_ids`), clamped at `max_len`; an unparseable gold gives None.

    >>> cos = CosineReward(max_len=100)
    >>> [round(x, 3) for x in cos([r"\boxed{2}", r"\boxed{3}"], solution=["$2$", "$2$"])]
    [0.99, -0.99]
    >>> long_wrong = r"\boxed{3}" + "x" * 191   # 200 characters: past max_len, cosine wraps around
    >>> round(cos([long_wrong], solution=["$2$"])[0], 3), round(CosineReward(max_len=100, fixed=True)(
    ...     [long_wrong], solution=["$2$"], completion_ids=[[0] * 200])[0], 3)
    (-1.0, -0.5)
    """

    def __init__(
        self,
        max_len: int = 1000,
        min_value_wrong: float = -1.0,
        max_value_wrong: float = -0.5,
        min_value_correct: float = 0.5,
        max_value_correct: float = 1.0,
        fixed: bool = False,
        workers: int = 1,
    ) -> None:
        self.max_len, self.fixed, self.workers = max_len, fixed, workers
        self.wrong = (min_value_wrong, max_value_wrong)
        self.correct = (min_value_correct, max_value_correct)
        self.__name__ = "cosine_fixed" if fixed else "cosine"

    def __call__(self, completions, solution, completion_ids=None, **kwargs) -> list[float | None]:
        scores = _correctness(completions, solution, self.workers, FIXED if self.fixed else REFERENCE_LENGTH)
        rewards: list[float | None] = []
        for i, (completion, ok) in enumerate(zip(completions, scores, strict=True)):
            if ok is None:
                rewards.append(None if self.fixed else 1.0)
                continue
            if self.fixed:
                length = len(completion_ids[i]) if completion_ids is not None else len(answer_of(completion))
                progress = min(1.0, length / self.max_len)
            else:
                progress = len(answer_of(completion)) / self.max_len
            cosine = math.cos(progress * math.pi)
            low, high = self.correct if ok else (self.wrong[1], self.wrong[0])
            rewards.append(float(low + 0.5 * (high - low) * (1.0 + cosine)))
        return rewards


class LengthReward:
    r"""Kimi 1.5 length reward: within the batch, shorter is better; wrong answers never gain.

    >>> LengthReward()([r"\boxed{2}", r"\boxed{2} and more words"], solution=["$2$", "$2$"])
    [0.5, -0.5]
    """

    def __init__(self, fixed: bool = False, workers: int = 1) -> None:
        self.fixed, self.workers = fixed, workers
        self.__name__ = "length_fixed" if fixed else "length"

    def __call__(self, completions, solution, **kwargs) -> list[float | None]:
        scores = _correctness(completions, solution, self.workers, FIXED if self.fixed else REFERENCE_LENGTH)
        lengths = [len(answer_of(c)) for c in completions]
        shortest, longest = min(lengths), max(lengths)
        if shortest == longest:
            return [0.0] * len(completions)
        rewards: list[float | None] = []
        for length, ok in zip(lengths, scores, strict=True):
            if ok is None and self.fixed:
                rewards.append(None)
                continue
            value = 0.5 - (length - shortest) / (longest - shortest)
            rewards.append(float(value if ok is None or ok else min(0.0, value)))
        return rewards


class RepetitionPenalty:
    r"""Penalise repeated word n-grams: `max_penalty * (1 - distinct / total)`.

    >>> rep = RepetitionPenalty(ngram_size=2, max_penalty=-1.0)
    >>> rep(["a b a b a b", "one two three four"])
    [-0.6, 0.0]
    """

    def __init__(self, ngram_size: int = 3, max_penalty: float = -1.0) -> None:
        if max_penalty > 0:
            raise ValueError(f"repetition max_penalty must be <= 0, got {max_penalty}")
        self.ngram_size, self.max_penalty = ngram_size, max_penalty
        self.__name__ = "repetition"

    def __call__(self, completions, **kwargs) -> list[float | None]:
        rewards: list[float | None] = []
        for completion in completions:
            words = answer_of(completion).lower().split()
            if len(words) < self.ngram_size:
                rewards.append(0.0)
                continue
            grams = list(zip(*[words[i:] for i in range(self.ngram_size)], strict=False))
            rewards.append(float((1 - len(set(grams)) / len(grams)) * self.max_penalty) + 0.0)  # no -0.0
        return rewards


_STEPS = re.compile(r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)")


def reasoning_steps_reward(completions, **kwargs) -> list[float | None]:
    r"""Reward visible step-by-step structure: full marks from three markers on.

    >>> reasoning_steps_reward(["Step 1: a\nStep 2: b\nStep 3: c", "First, guess."])
    [1.0, 0.3333333333333333]
    """
    return [min(1.0, len(_STEPS.findall(answer_of(c))) / 3) for c in completions]


reasoning_steps_reward.__name__ = "reasoning_steps"


def boxed_reward(completions, **kwargs) -> list[float | None]:
    r"""1.0 when the completion gives a complete \boxed{...} answer (openrs's shaping for small models).

    >>> boxed_reward([r"so \boxed{\frac{1}{2}}", "the answer is 4", r"\boxed{12"])
    [1.0, 0.0, 0.0]
    """
    return [1.0 if has_boxed(answer_of(c)) else 0.0 for c in completions]


boxed_reward.__name__ = "boxed"


class TerminatedReward:
    """1.0 when the completion ended on its own, before `max_len` tokens (openrs's shaping for small models:
    a 135M model rambles to the limit; finishing is the first thing GRPO teaches it).

    >>> TerminatedReward(4)(["a", "b"], completion_ids=[[1, 2, 3], [1, 2, 3, 4]])
    [1.0, 0.0]
    """

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self.__name__ = "terminated"

    def __call__(self, completions, completion_ids=None, **kwargs) -> list[float | None]:
        if completion_ids is None:
            return [None] * len(completions)
        return [1.0 if len(ids) < self.max_len else 0.0 for ids in completion_ids]
