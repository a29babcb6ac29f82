"""GRPO reward functions with TRL's signature, `(completions, **kwargs) -> list[float | None]`.

`registry.build_rewards(names, options)` turns recipe names into callables. Names without a suffix
behave exactly as the Open-RS reference code (for reproduction); names ending in `_fixed` correct
its known flaws. See `registry.REWARDS` for the side-by-side list.
"""
