"""The recipe keys openrs adds to TRL's (GRPOConfig, ModelConfig, ScriptArguments), with defaults.

Kept free of heavy imports: the command front validates against it, and the training entry turns
it into a dataclass for TRL's own TrlParser.
"""

from __future__ import annotations

from typing import Any

# name -> (default, help)
OPENRS_FIELDS: dict[str, tuple[Any, str]] = {
    "recipe_description": ("", "One line saying what the recipe is."),
    "reward_funcs": (["accuracy", "format"], "Reward names (openrs_cli.rewards) or dotted import paths."),
    "system_prompt": (None, "System message put before each problem; none when null."),
    "max_prompt_length": (512, "Prompts longer than this many tokens are dropped (null: keep all)."),
    "dataset_prompt_column": ("problem", "Column holding the problem text."),
    "dataset_solution_column": ("solution", "Gold column; falls back to \\boxed{answer} when missing."),
    "cosine_max_len": (1000, "Length scale of the cosine reward."),
    "cosine_min_value_wrong": (-1.0, "Cosine reward for a short wrong answer."),
    "cosine_max_value_wrong": (-0.5, "Cosine reward for a long wrong answer."),
    "cosine_min_value_correct": (0.5, "Cosine reward for a long right answer."),
    "cosine_max_value_correct": (1.0, "Cosine reward for a short right answer."),
    "repetition_n_grams": (3, "n-gram size of the repetition penalty."),
    "repetition_max_penalty": (-1.0, "Largest repetition penalty (<= 0)."),
    "reward_workers": (1, "Processes scoring answers in parallel (1: in the training process)."),
}

LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo")
