"""The reward functions' options, with the reference code's defaults (recipe keys of the same names).

Where a default reproduces the Open-RS reference code, the help names the file it comes from
(knoveleng/open-rs at 2889c47, "grpo.py" = src/open_r1/grpo.py). Import-light: plain dataclasses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _help(text: str) -> dict[str, str]:
    return {"help": text}


@dataclass
class RewardOptions:
    # Cosine reward: grpo.py's GRPOScriptArguments defaults, which the released recipes never override.
    cosine_max_len: int = field(default=1000, metadata=_help("Length scale of the cosine reward (grpo.py: 1000)."))
    cosine_min_value_wrong: float = field(
        default=0.0, metadata=_help("Cosine reward for a short wrong answer (grpo.py: 0.0).")
    )
    cosine_max_value_wrong: float = field(
        default=-0.5, metadata=_help("Cosine reward for a long wrong answer (grpo.py: -0.5).")
    )
    cosine_min_value_correct: float = field(
        default=0.5, metadata=_help("Cosine reward for a long right answer (grpo.py: 0.5).")
    )
    cosine_max_value_correct: float = field(
        default=1.0, metadata=_help("Cosine reward for a short right answer (grpo.py: 1.0).")
    )
    repetition_n_grams: int = field(default=3, metadata=_help("n-gram size of the repetition penalty."))
    repetition_max_penalty: float = field(default=-1.0, metadata=_help("Largest repetition penalty (<= 0)."))
    reward_workers: int = field(
        default=1, metadata=_help("Processes scoring answers in parallel (1: in the training process).")
    )


def reward_defaults() -> dict[str, Any]:
    return dataclasses.asdict(RewardOptions())
