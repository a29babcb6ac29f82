"""Where every effective key of a training plan comes from (`openrs recipes show NAME --sources`).

A shipped recipe tags each line with its source (`key: value   # [ref] ...`); the tags are expanded
here. Keys set on the command line, by the plan (layout, batch split) or by a default say so.
"""

from __future__ import annotations

import re
from typing import Any

from openrs_cli.secrets import redact
from openrs_cli.train.fields import OPENRS_KEYS
from openrs_cli.train.trl_table import trl_class, trl_default, trl_fields, trl_version

TAGS = {
    "ref": "knoveleng/open-rs@2889c47 recipes/grpo.yaml",
    "ref-readme": "knoveleng/open-rs@2889c47 README.md command (Experiment 3: --cosine_max_len 3584)",
    "grpo.py": "knoveleng/open-rs@2889c47 src/open_r1/grpo.py default",
    "trl-old": "paper-era TRL 69ad852 (open-rs setup.py pin)",
    "paper": "the paper (arXiv 2503.16219)",
    "ben": "BenLus/open-rs-GRPO_RL_for_small_LLMs recipes/grpoqwen3.yaml",
    "ben-readme": "BenLus/open-rs-GRPO_RL_for_small_LLMs README.md command (--cosine_max_len 3584)",
    "tina": "shangshang-wang/Tina@c6274cd recipes/DeepSeek-R1-Distill-Qwen-1.5B/grpo/train_model_<run>.yaml",
    "tina-script": "Tina@c6274cd scripts/train/post_train_model_grpo.sh (the launch command)",
    "tina-code": "Tina@c6274cd tina/post_train_hf/grpo.py, tina/config.py, tina/utils/",
    "tina-trainer": "Tina@c6274cd tina/post_train_hf/grpo_trainer.py + grpo_config.py (TRL 0.15.2's GRPO)",
    "openrs": "openrs's choice",
}
_TAGGED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):[^#]*#\s*\[([\w.-]+)\]")


def recipe_tags(text: str) -> dict[str, str]:
    """key -> tag for every top-level line of a recipe that carries one.

    >>> recipe_tags("beta: 0.04   # [trl-old] default\\nseed: 42\\n")
    {'beta': 'trl-old'}
    """
    found = {}
    for line in text.splitlines():
        match = _TAGGED.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def key_sources(
    config: dict[str, Any], origins: dict[str, str], recipe: str, recipe_text: str | None
) -> list[dict[str, Any]]:
    """One row per key of the resolved config, then TRL's keys left at their defaults."""
    tags = recipe_tags(recipe_text) if recipe_text else {}
    rows = []
    for key, value in config.items():
        if key == "recipe":
            continue
        origin = origins.get(key, "plan")
        if origin == "recipe":
            tag = tags.get(key)
            source = f"recipe {recipe}: " + TAGS.get(tag, f"[{tag}]") if tag else f"recipe {recipe}"
        elif origin == "openrs default":
            source = "openrs default" if key in OPENRS_KEYS else origin
        elif origin == "plan":
            source = "openrs plan (layout and batch for these GPUs)"
        else:
            source = f"command line ({origin})"
        rows.append({"key": key, "value": redact({key: value})[key], "source": source})
    for key in sorted(set(trl_fields()) - set(config)):
        source = f"TRL {trl_version()} {trl_class(key)} default"
        rows.append({"key": key, "value": trl_default(key), "source": source})
    return rows


def format_sources(rows: list[dict[str, Any]], all_keys: bool = False) -> str:
    shown = [r for r in rows if all_keys or not r["source"].startswith("TRL ")]
    width = max(len(r["key"]) for r in shown)
    lines = [f"{r['key']:<{width}}  {_short(r['value'])}  <- {r['source']}" for r in shown]
    hidden = len(rows) - len(shown)
    if hidden:
        lines.append(f"... and {hidden} TRL keys at their defaults (--json lists them)")
    return "\n".join(lines)


def _short(value: Any, limit: int = 48) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
