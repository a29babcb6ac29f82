"""Reward names used in recipes, and how each is built from the recipe's options.

A name not in `REWARDS` may be a dotted import path to a user function, e.g. `my_pkg.rewards.mine`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from openrs_cli.errors import BadInputError
from openrs_cli.rewards import functions as f
from openrs_cli.rewards.options import reward_defaults


def _cosine(fixed: bool) -> Callable[[dict[str, Any]], f.Reward]:
    def build(o: dict[str, Any]) -> f.Reward:
        return f.CosineReward(
            max_len=o["cosine_max_len"],
            min_value_wrong=o["cosine_min_value_wrong"],
            max_value_wrong=o["cosine_max_value_wrong"],
            min_value_correct=o["cosine_min_value_correct"],
            max_value_correct=o["cosine_max_value_correct"],
            fixed=fixed,
            workers=o["reward_workers"],
        )

    return build


# name -> (builder taking the recipe options, one-line description)
REWARDS: dict[str, tuple[Callable[[dict[str, Any]], f.Reward], str]] = {
    "accuracy": (
        lambda o: f.AccuracyReward(False, o["reward_workers"]),
        "math-verify match of the answer; unparseable gold scores 1.0 (reference)",
    ),
    "accuracy_fixed": (
        lambda o: f.AccuracyReward(True, o["reward_workers"]),
        "math-verify match; unparseable gold is skipped (None)",
    ),
    "accuracy_tina": (
        lambda o: f.AccuracyReward(workers=o["reward_workers"], rule=f.TINA_ACCURACY),
        "Tina's accuracy: gold as LaTeX or a plain expression, unparseable gold skipped (None)",
    ),
    "format": (lambda o: f.format_reward, 'one "\\n</think>\\n" in the completion (reference)'),
    "format_fixed": (
        lambda o: f.format_fixed_reward,
        "whole <think>...</think> <answer>...</answer> structure",
    ),
    "tag_count": (lambda o: f.tag_count_reward, '0.5 each for one "<think>\\n" and one "\\n</think>\\n"'),
    "cosine": (_cosine(False), "length-scaled correctness, characters vs max_len, no clamp (reference)"),
    "cosine_fixed": (_cosine(True), "length-scaled correctness, tokens clamped at cosine_max_len"),
    "length": (
        lambda o: f.LengthReward(False, o["reward_workers"]),
        "Kimi 1.5 length reward; unparseable gold counts as correct (reference)",
    ),
    "length_fixed": (
        lambda o: f.LengthReward(True, o["reward_workers"]),
        "Kimi 1.5 length reward; unparseable gold is skipped",
    ),
    "repetition": (
        lambda o: f.RepetitionPenalty(o["repetition_n_grams"], o["repetition_max_penalty"]),
        "n-gram repetition penalty (repetition_n_grams, repetition_max_penalty)",
    ),
    "reasoning_steps": (lambda o: f.reasoning_steps_reward, "step markers, full marks from three"),
    "boxed": (lambda o: f.boxed_reward, "a complete \\boxed{} answer (openrs's shaping for small models)"),
    "terminated": (
        lambda o: f.TerminatedReward(int(o.get("max_completion_length") or 256)),
        "the answer ended before max_completion_length (openrs's shaping for small models)",
    ),
}


def is_known(name: str) -> bool:
    return name in REWARDS or "." in name


def build_reward(name: str, options: dict[str, Any]) -> f.Reward:
    """One reward callable from its recipe name (or a dotted import path); missing options take openrs's defaults."""
    if name in REWARDS:
        return REWARDS[name][0]({**reward_defaults(), **options})
    if "." in name:
        module, _, attr = name.rpartition(".")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise BadInputError(f"cannot import reward function {name!r} ({exc})") from exc
    raise BadInputError(f"unknown reward {name!r}", f"choose from {', '.join(REWARDS)} or a dotted path")


def build_rewards(names: list[str], options: dict[str, Any]) -> list[f.Reward]:
    return [build_reward(name, options) for name in names]
