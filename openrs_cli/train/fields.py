"""The recipe keys openrs adds to TRL's (GRPOConfig, ModelConfig, ScriptArguments), with defaults.

One typed dataclass, kept free of heavy imports: the command front reads its defaults and types to
validate a config, and the training entry hands it to TRL's own TrlParser as one more dataclass.
Where a default reproduces the Open-RS reference code, the comment names the file it comes from
(knoveleng/open-rs at 2889c47, "grpo.py" = src/open_r1/grpo.py).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openrs_cli.rewards.options import RewardOptions


def _help(text: str) -> dict[str, str]:
    return {"help": text}


# TRL 1.16's GRPOConfig.loss_type values (checked against TRL's documented list in tests/test_train_fields.py).
LOSS_TYPES = ("grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo")


@dataclass
class OpenrsArguments(RewardOptions):
    """Recipe keys that are openrs's own (TRL's TrlParser reads them beside GRPOConfig and ModelConfig).

    The reward functions' options come first, from `RewardOptions`.
    """

    recipe_description: str = field(default="", metadata=_help("One line saying what the recipe is."))
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy", "format"],
        metadata=_help("Reward names (openrs_cli.rewards) or dotted import paths."),
    )
    system_prompt: str | None = field(default=None, metadata=_help("System message put before each problem."))
    chat_template: str | None = field(
        default=None,
        metadata=_help("The tokenizer's chat template: a built-in name (r1-no-think) or Jinja; null: keeps it."),
    )
    pad_token: str | None = field(
        default=None, metadata=_help("Replaces the tokenizer's padding token (null: keep it, or eos when it has none).")
    )
    max_prompt_length: int | None = field(
        default=512, metadata=_help("Prompts longer than this many tokens are dropped (null: keep all).")
    )
    dataset_prompt_column: str = field(default="problem", metadata=_help("Column holding the problem text."))
    dataset_solution_column: str = field(
        default="solution", metadata=_help("Gold column; falls back to \\boxed{answer} when missing.")
    )
    logprobs_temperature: float | None = field(
        default=None,
        metadata=_help(
            "Temperature the logits are divided by before the per-token log-probs of the loss and KL. "
            "1.0 reproduces the paper's TRL (raw logits); null keeps TRL 1.x (the sampling temperature)."
        ),
    )
    stop_at_step: int | None = field(
        default=None,
        metadata=_help("Save a checkpoint and end the run at this step; the schedule still spans max_steps."),
    )
    completions_per_step: int | None = field(
        default=None,
        metadata=_help(
            "Completions per optimizer step that the plan keeps on any GPU count by choosing the "
            "accumulation, per-device batch and training/vLLM split (null: scale with the GPUs)."
        ),
    )


OPENRS_KEYS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(OpenrsArguments))


def openrs_defaults() -> dict[str, Any]:
    """Every openrs key with its default value."""
    return dataclasses.asdict(OpenrsArguments())


@cache
def openrs_types() -> dict[str, Any]:
    """Every openrs key with its resolved type annotation."""
    return typing.get_type_hints(OpenrsArguments)
