"""Chat templates a recipe can name (`chat_template: r1-no-think`) instead of spelling out Jinja.

A recipe's `chat_template` replaces the tokenizer's own before any prompt is rendered, for training's
prompts and for the length filter alike. A value holding "{%" or "{{" is taken as a Jinja template
itself; any other value must be one of the names below.
"""

from __future__ import annotations

from openrs_cli.errors import BadInputError

# DeepSeek-R1's prompt layout (begin-of-sentence, the last system message, then the turns) without the
# "<think>\n" the R1-Distill tokenizers add after the final assistant tag. Tina trained with such a
# template (tina/utils/chat_template.py REASON_CHAT_TEMPLATE); tests compare the two renders.
R1_NO_THINK = (
    "{%- set ns = namespace(system='') -%}"
    "{%- for m in messages if m['role'] == 'system' -%}{%- set ns.system = m['content'] -%}{%- endfor -%}"
    "{{- bos_token ~ ns.system -}}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'user' -%}{{- '<｜User｜>' ~ m['content'] -}}"
    "{%- elif m['role'] == 'assistant' -%}{{- '<｜Assistant｜>' ~ m['content'] ~ '<｜end▁of▁sentence｜>' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<｜Assistant｜>' -}}{%- endif -%}"
)

BUILTIN: dict[str, tuple[str, str]] = {
    "r1-no-think": (R1_NO_THINK, "DeepSeek-R1's layout, the answer not opened with <think> (Tina's recipes)"),
}


def is_jinja(value: str) -> bool:
    return "{%" in value or "{{" in value


def resolve_chat_template(value: str) -> str:
    """The Jinja text for a recipe's `chat_template` value (a built-in name or Jinja itself)."""
    if is_jinja(value):
        return value
    if value not in BUILTIN:
        raise BadInputError(
            f"chat_template '{value}' is neither a built-in template nor Jinja",
            f"use one of {', '.join(BUILTIN)}, a Jinja template, or null for the model's own",
        )
    return BUILTIN[value][0]
