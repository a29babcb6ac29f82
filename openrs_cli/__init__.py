"""openrs: GRPO for small reasoning models on competition maths (the Open-RS pipeline)."""

__version__ = "0.1.0"
